//! Storage cost and write throughput of a long history.
//!
//! `cargo bench -p posture-store --bench history -- [--resources N] [--snapshots N]
//!  [--churn-percent P] [--store URL]` writes N daily snapshots of a synthetic estate in
//! which P% of the resources change each day, then reports the time per snapshot, the
//! write throughput (resources per second), and the size of the store. The defaults are
//! the figures in docs/performance.md: 100,000 resources, 365 snapshots, 1% churn, SQLite.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use posture_model::{AccountId, Region};
use posture_store::{SnapshotSummary, Store, StoreLocation};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn main() {
    let resources: u64 = arg("--resources", "100000").parse().expect("--resources N");
    let snapshots: u64 = arg("--snapshots", "365").parse().expect("--snapshots N");
    let churn: f64 = arg("--churn-percent", "1")
        .parse()
        .expect("--churn-percent P");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.sqlite");
    let location = match arg("--store", "") {
        s if s.is_empty() => StoreLocation::Sqlite(path.clone()),
        s => StoreLocation::parse(&s),
    };
    let account = AccountId::new("111122223333").expect("valid");
    let regions = [
        Region::new("us-east-1").expect("valid"),
        Region::new("us-west-2").expect("valid"),
    ];
    let mut store = Store::open(&location).expect("open store");
    // Version of each resource; churn bumps a deterministic, rotating slice of them.
    let mut versions = vec![0u64; resources as usize];
    let per_day = ((resources as f64) * churn / 100.0).round() as u64;
    let t0 = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let started = Instant::now();
    let mut slowest = 0f64;
    for day in 0..snapshots {
        if day > 0 {
            for k in 0..per_day {
                let i = (day * per_day + k * 7919) % resources;
                versions[i as usize] += 1;
            }
        }
        let t = Instant::now();
        let mut w = store
            .begin_snapshot(t0 + chrono::Duration::days(day as i64))
            .expect("begin");
        for i in 0..resources {
            let r = posture_model::synthetic::resource(&account, &regions, i, versions[i as usize]);
            w.put_resource(&r).expect("put");
        }
        w.commit(SnapshotSummary {
            finished_at: t0 + chrono::Duration::days(day as i64) + chrono::Duration::minutes(5),
            accounts: vec![account.clone()],
            regions: regions.to_vec(),
            services: vec!["ec2".into()],
            api_calls: Default::default(),
            baseline: ("bench".into(), "1".into()),
        })
        .expect("commit");
        let secs = t.elapsed().as_secs_f64();
        slowest = slowest.max(secs);
        if day % 30 == 0 || day + 1 == snapshots {
            eprintln!(
                "day {day:>4}: {secs:.2} s ({:.0} resources/s)",
                resources as f64 / secs
            );
        }
    }
    let total = started.elapsed().as_secs_f64();
    let bodies = store
        .count_raw("SELECT COUNT(*) FROM bodies")
        .expect("count");
    let versions_rows = store
        .count_raw("SELECT COUNT(*) FROM resource_versions")
        .expect("count");
    drop(store);
    let size: u64 = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("backend: {location}");
    println!(
        "resources per snapshot: {resources}, snapshots: {snapshots}, churn: {churn}% per snapshot"
    );
    println!(
        "write: {total:.1} s in all, {:.2} s per snapshot on average ({:.0} resources/s), slowest {slowest:.2} s",
        total / snapshots as f64,
        (resources * snapshots) as f64 / total
    );
    println!("rows: {bodies} bodies, {versions_rows} resource versions");
    if matches!(location, StoreLocation::Sqlite(_)) {
        println!(
            "store size: {:.1} MiB (database file and WAL)",
            size as f64 / 1048576.0
        );
    }
}
