//! What the daemon's leases cost over one cycle of an organization: `--accounts N` accounts
//! (default 1,000) claimed `--batch B` at a time (default 4, `accounts.max_parallel`'s
//! default), each batch committed as an empty snapshot of its accounts and released, until
//! the cycle is covered; then one more claim that finds nothing left.
//!
//! `cargo bench -p posture-store --bench leases -- [--accounts N] [--batch B] [PATH|URL]`
//! (default: a SQLite file in a temporary directory). Prints the time spent claiming and
//! releasing, apart from the snapshots' own commits.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use posture_model::{AccountId, Region};
use posture_store::{SnapshotSummary, Store, StoreLocation};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let n: u64 = arg("--accounts").map_or(1000, |v| v.parse().expect("--accounts N"));
    let batch: usize = arg("--batch").map_or(4, |v| v.parse().expect("--batch B"));
    let dir = tempfile::tempdir().expect("temp dir");
    let target = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .find(|a| a.contains('/') || a.starts_with("postgres"));
    let location = target.map_or_else(
        || StoreLocation::Sqlite(dir.path().join("leases.sqlite")),
        |t| StoreLocation::parse(&t),
    );
    let accounts: Vec<AccountId> = (0..n)
        .map(|i| AccountId::new(format!("{:012}", 100_000_000_000 + i)).expect("account id"))
        .collect();
    let mut store = Store::open(&location).expect("open the store");
    let cycle = Utc.timestamp_opt(1_800_000_000, 0).single().expect("time");
    let lease = Duration::from_secs(120);
    let (mut claiming, mut committing) = (Duration::ZERO, Duration::ZERO);
    let (mut claims, mut scanned) = (0u64, 0usize);
    loop {
        let t = Instant::now();
        let got = store
            .claim_accounts("bench", &accounts, cycle, lease, batch, true)
            .expect("claim");
        claiming += t.elapsed();
        claims += 1;
        if got.is_empty() {
            break;
        }
        let t = Instant::now();
        let started = cycle + chrono::Duration::seconds(claims as i64);
        let writer = store.begin_snapshot(started).expect("begin");
        writer
            .commit(SnapshotSummary {
                finished_at: started,
                accounts: got.clone(),
                regions: vec![Region::new("us-east-1").expect("region")],
                services: vec!["ec2".into()],
                api_calls: Default::default(),
                baseline: ("bench".into(), "1".into()),
            })
            .expect("commit");
        committing += t.elapsed();
        let t = Instant::now();
        store.release_leases("bench", &got).expect("release");
        claiming += t.elapsed();
        scanned += got.len();
    }
    assert_eq!(scanned, accounts.len(), "every account once");
    println!(
        "{} accounts, batches of {batch}, {}: {claims} claims; leases {:.2} s in all ({:.2} ms a batch); empty snapshot commits {:.2} s",
        n,
        store.location(),
        claiming.as_secs_f64(),
        claiming.as_secs_f64() * 1000.0 / claims as f64,
        committing.as_secs_f64(),
    );
}
