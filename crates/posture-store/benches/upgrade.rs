//! How long the in-place upgrade of a store takes, and verifying it after.
//!
//! `cargo bench -p posture-store --bench upgrade -- PATH|URL` opens the store (which applies
//! the pending migrations in place) and then verifies the whole history, timing both. Work on
//! a copy: the upgrade cannot be undone. The figures in docs/performance.md come from a
//! schema-6 store of 5 snapshots × 100 accounts × 1,000 findings written by the schema-6
//! code (commit 40247ca).

use std::time::Instant;

use posture_store::{Store, StoreLocation};

fn main() {
    let Some(target) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench -p posture-store --bench upgrade -- PATH|URL");
        std::process::exit(2);
    };
    let location = StoreLocation::parse(&target);
    let t = Instant::now();
    let mut store = Store::open(&location).expect("open and upgrade the store");
    println!("opened and upgraded in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let report = store.verify().expect("verify");
    println!(
        "verified {} snapshots in {:.1} s: {} problem(s)",
        report.snapshots,
        t.elapsed().as_secs_f64(),
        report.problems.len()
    );
}
