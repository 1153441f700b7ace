//! Evaluation speed: the whole baseline over a large snapshot.
//!
//! `cargo bench -p posture-check --bench evaluate -- [--resources N] [--estate seeded|synthetic]`
//! (defaults 1,000,000 and `seeded`) evaluates every rule of the HIPAA baseline and reports
//! the time and the peak memory of the process.
//!
//! `seeded` replicates `benches/seeded-account.jsonl` — the 161 resources of 49 kinds that a
//! real scan collected from the end-to-end suite's seeded moto account (two regions) — into
//! as many accounts as it takes to reach N resources, so every rule has subjects and the
//! joins between resources (trails and their buckets, instances and their security groups,
//! alarms and their log groups) are exercised per account. `synthetic` is the VPC / subnet /
//! security group / volume estate of `posture_model::synthetic` that the drift and history
//! benches use.

use std::time::Instant;

use chrono::Utc;
use posture_check::{Baseline, Input, PhiScope, evaluate};
use posture_model::{AccountId, Coverage, Region, Resource};

/// The account id of the seeded templates.
const SEEDED_ACCOUNT: &str = "123456789012";

/// `n` resources: copies of the seeded account, each under its own account id.
fn seeded(n: u64) -> Vec<Resource> {
    let templates = include_str!("seeded-account.jsonl");
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    'copies: for copy in 0u64.. {
        let account = format!("{:012}", 100_000_000_000 + copy);
        for line in templates.lines() {
            if out.len() as u64 >= n {
                break 'copies;
            }
            let text = line.replace(SEEDED_ACCOUNT, &account);
            out.push(serde_json::from_str(&text).expect("a template resource"));
        }
    }
    out
}

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
    let estate = arg("--estate", "seeded");
    let t = Instant::now();
    let resources: Vec<Resource> = match estate.as_str() {
        "synthetic" => (0..n)
            .map(|i| posture_model::synthetic::resource(&account, &regions, i, 0))
            .collect(),
        "seeded" => seeded(n),
        other => panic!("--estate {other}: expected seeded or synthetic"),
    };
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
    let kinds: std::collections::BTreeSet<_> = resources.iter().map(Resource::kind).collect();
    let accounts: std::collections::BTreeSet<_> = resources.iter().map(|r| &r.account).collect();
    println!(
        "estate: {estate}; resources: {} of {} kinds in {} account(s) (built in {built:.1} s); \
         rules: {}; findings: {findings}",
        resources.len(),
        kinds.len(),
        accounts.len(),
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
