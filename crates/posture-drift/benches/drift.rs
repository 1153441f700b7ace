//! Drift between two large snapshots.
//!
//! `cargo bench -p posture-drift --bench drift -- [--resources N] [--changed-percent P]`
//! builds two synthetic snapshots of N resources (default 1,000,000) in which P% (default
//! 1%) differ, times `diff_resources` over them, and reports the peak memory of the process.

use std::time::Instant;

use posture_drift::{Scope, diff_resources};
use posture_model::{AccountId, Region};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let n: u64 = arg("--resources", "1000000")
        .parse()
        .expect("--resources N");
    let pct: f64 = arg("--changed-percent", "1")
        .parse()
        .expect("--changed-percent P");
    let account = AccountId::new("111122223333").expect("valid");
    let regions = [
        Region::new("us-east-1").expect("valid"),
        Region::new("us-west-2").expect("valid"),
    ];
    let every = (100.0 / pct).round().max(1.0) as u64;
    let t = Instant::now();
    let old: Vec<_> = (0..n)
        .map(|i| posture_model::synthetic::resource(&account, &regions, i, 0))
        .collect();
    let new: Vec<_> = (0..n)
        .map(|i| {
            posture_model::synthetic::resource(&account, &regions, i, u64::from(i % every == 0))
        })
        .collect();
    let built = t.elapsed().as_secs_f64();
    let scope = Scope::new(&[account], &regions, &["ec2".to_owned()]);
    let mut times = Vec::new();
    let mut changes = 0;
    for _ in 0..3 {
        let t = Instant::now();
        changes = diff_resources(&old, &new, &scope).len();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!("resources per snapshot: {n}, changed: {changes} ({pct}%)");
    println!("built both snapshots in {built:.1} s");
    println!(
        "diff_resources: median {:.2} s, min {:.2} s, max {:.2} s (3 runs)",
        times[1], times[0], times[2]
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory of the process: {peak:.0} MiB (both snapshots held in memory)");
    }
}
