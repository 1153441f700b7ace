//! Evaluation speed: the whole baseline over a synthetic snapshot.
//!
//! `cargo bench -p posture-check --bench evaluate -- [--resources N]` (default 1,000,000)
//! builds a snapshot of VPCs, subnets, security groups and volumes across two regions,
//! evaluates every rule of the HIPAA baseline over it, and reports the time and the peak
//! memory of the process.

use std::time::Instant;

use chrono::Utc;
use posture_check::{Baseline, Input, PhiScope, evaluate};
use posture_model::{AccountId, Coverage, Region};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let n: u64 = arg("--resources", "1000000")
        .parse()
        .expect("--resources N");
    let account = AccountId::new("111122223333").expect("valid");
    let regions = [
        Region::new("us-east-1").expect("valid"),
        Region::new("us-west-2").expect("valid"),
    ];
    let t = Instant::now();
    let resources: Vec<_> = (0..n)
        .map(|i| posture_model::synthetic::resource(&account, &regions, i, 0))
        .collect();
    let built = t.elapsed().as_secs_f64();
    let baseline = Baseline::hipaa().expect("shipped baseline");
    let coverage = Coverage::default();
    let phi = PhiScope::default();
    let mut times = Vec::new();
    let mut findings = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let evaluation = evaluate(&Input {
            resources: &resources,
            coverage: &coverage,
            baseline: &baseline,
            waivers: None,
            attestations: None,
            phi: &phi,
            now: Utc::now(),
        });
        times.push(t.elapsed().as_secs_f64());
        findings = evaluation.findings.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "resources: {n} (built in {built:.1} s); rules: {}; findings: {findings}",
        baseline.rules.len()
    );
    println!(
        "evaluate: median {:.2} s, min {:.2} s, max {:.2} s (3 runs)",
        times[1], times[0], times[2]
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory of the process: {peak:.0} MiB");
    }
}
