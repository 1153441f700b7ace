//! Leases on accounts (`scan_leases`): how daemons sharing a store split a schedule, on
//! SQLite and on a real PostgreSQL server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod support;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use posture_model::{AccountId, Region};
use posture_store::{Reach, SnapshotSummary, Store, StoreLocation};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn accounts(ids: &[&str]) -> Vec<AccountId> {
    ids.iter().map(|a| AccountId::new(*a).unwrap()).collect()
}

/// Commits an empty snapshot of `scanned`, started at `started`.
fn scan(store: &mut Store, started: DateTime<Utc>, scanned: &[AccountId]) {
    let writer = store.begin_snapshot(started).unwrap();
    writer
        .commit(SnapshotSummary {
            finished_at: started + chrono::Duration::seconds(5),
            accounts: scanned.to_vec(),
            regions: vec![Region::new("us-east-1").unwrap()],
            services: vec!["ec2".into()],
            api_calls: Default::default(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
}

const LONG: Duration = Duration::from_secs(600);

fn claims_split_the_accounts_and_skip_the_covered(location: &StoreLocation) {
    let all = accounts(&[
        "111111111111",
        "222222222222",
        "333333333333",
        "444444444444",
    ]);
    let mut a = Store::open(location).unwrap();
    let mut b = Store::open(location).unwrap();
    // Account 1 was scanned in this cycle already (a snapshot started after the tick); 2 was
    // scanned in the previous cycle only.
    scan(&mut a, t(-100), &all[1..2]);
    scan(&mut a, t(10), &all[0..1]);

    let first = a
        .claim_accounts("replica-a", &all, t(0), LONG, 2, true)
        .unwrap();
    assert_eq!(
        first,
        all[1..3],
        "the covered account is skipped, two are taken"
    );
    let second = b
        .claim_accounts("replica-b", &all, t(0), LONG, 2, true)
        .unwrap();
    assert_eq!(
        second,
        all[3..4],
        "held accounts are not taken by another replica"
    );
    let again = a
        .claim_accounts("replica-a", &all, t(0), LONG, 10, true)
        .unwrap();
    assert_eq!(
        again,
        all[1..3],
        "a holder re-claims its own (a restart under the same name)"
    );

    // Replica A scans its two and releases them: B finds nothing left in the cycle.
    scan(&mut a, t(20), &all[1..3]);
    a.release_leases("replica-a", &all[1..3]).unwrap();
    let left = b
        .claim_accounts("replica-b", &all, t(0), LONG, 10, true)
        .unwrap();
    assert_eq!(
        left,
        all[3..4],
        "only B's own lease; the scanned accounts are done"
    );
    // Asked for explicitly, covered accounts are claimed too.
    let asked = a
        .claim_accounts("replica-a", &all[0..2], t(0), LONG, 10, false)
        .unwrap();
    assert_eq!(asked, all[0..2]);

    let last = a.last_scanned(&all, Reach::Tried).unwrap();
    assert_eq!(last.get(&all[0]), Some(&t(10)));
    assert_eq!(last.get(&all[1]), Some(&t(20)));
    assert_eq!(last.get(&all[3]), None, "never scanned");
    // The next cycle makes every account due again.
    a.release_leases("replica-a", &all).unwrap();
    b.release_leases("replica-b", &all).unwrap();
    let next = b
        .claim_accounts("replica-b", &all, t(3600), LONG, 10, true)
        .unwrap();
    assert_eq!(next, all);
}

fn an_expired_lease_is_taken_over_and_its_holder_learns_it(location: &StoreLocation) {
    let all = accounts(&["111111111111", "222222222222"]);
    let mut a = Store::open(location).unwrap();
    let mut b = Store::open(location).unwrap();
    let short = Duration::from_millis(300);
    assert_eq!(
        a.claim_accounts("a", &all, t(0), short, 10, true).unwrap(),
        all
    );
    assert!(
        b.claim_accounts("b", &all, t(0), LONG, 10, true)
            .unwrap()
            .is_empty()
    );
    // A keeps one lease alive, lets the other lapse.
    std::thread::sleep(Duration::from_millis(150));
    assert!(a.renew_leases("a", &all[0..1], LONG).unwrap().is_empty());
    std::thread::sleep(Duration::from_millis(400));
    let leases = a.leases().unwrap();
    assert_eq!(leases.len(), 2);
    assert!(leases[0].expires_in_ms > 60_000, "{leases:?}");
    assert!(leases[1].expires_in_ms < 0, "{leases:?}");
    assert_eq!(
        b.claim_accounts("b", &all, t(0), LONG, 10, true).unwrap(),
        all[1..2],
        "the lapsed lease is taken over, the renewed one is not"
    );
    assert_eq!(
        a.renew_leases("a", &all, LONG).unwrap(),
        all[1..2],
        "A learns it lost the account and must stop scanning it"
    );
    // A's release of what it no longer holds leaves B's lease alone.
    a.release_leases("a", &all).unwrap();
    let leases = b.leases().unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(
        (leases[0].account.as_str(), leases[0].holder.as_str()),
        ("222222222222", "b")
    );
    assert_eq!(leases[0].cycle, t(0));
}

/// A daemon that stalled past its lease, whose account another replica claimed meanwhile,
/// cannot commit that account: the snapshot rolls back with the accounts named. With its
/// lease alive the same commit goes through.
fn a_commit_needs_its_leases_alive(location: &StoreLocation) {
    let all = accounts(&["111111111111"]);
    let mut a = Store::open(location).unwrap();
    let mut b = Store::open(location).unwrap();
    let summary = || SnapshotSummary {
        finished_at: t(30),
        accounts: all.clone(),
        regions: vec![Region::new("us-east-1").unwrap()],
        services: vec!["ec2".into()],
        api_calls: Default::default(),
        baseline: ("test baseline".into(), "1".into()),
    };
    assert_eq!(
        a.claim_accounts("a", &all, t(0), Duration::from_millis(300), 1, true)
            .unwrap(),
        all
    );
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        b.claim_accounts("b", &all, t(0), LONG, 1, true).unwrap(),
        all,
        "taken over"
    );
    let mut writer = a.begin_snapshot(t(10)).unwrap();
    writer.require_leases("a");
    let err = writer.commit(summary()).unwrap_err();
    assert!(
        matches!(&err, posture_store::StoreError::LeaseLost { accounts } if accounts == &["111111111111".to_owned()]),
        "{err}"
    );
    assert!(a.snapshots().unwrap().is_empty(), "rolled back");
    // B, holding the lease, commits.
    let mut writer = b.begin_snapshot(t(11)).unwrap();
    writer.require_leases("b");
    writer.commit(summary()).unwrap();
    assert_eq!(b.snapshots().unwrap().len(), 1);
}

/// An account whose role could not be assumed settles the cycle (its scan holds `error`
/// findings and is not retried until the next tick) but is no successful scan: metrics and
/// readiness, which read `Reach::Entered`, do not count it.
fn an_account_not_entered_settles_the_cycle_but_is_no_success(location: &StoreLocation) {
    let all = accounts(&["111111111111", "222222222222"]);
    let mut s = Store::open(location).unwrap();
    scan(&mut s, t(-50), &all[0..1]);
    let mut writer = s.begin_snapshot(t(10)).unwrap();
    writer
        .put_gap(&posture_model::Gap {
            account: all[0].clone(),
            region: Region::global(),
            service: "sts".into(),
            operation: posture_model::ACCOUNT_UNREACHABLE_OPERATION.into(),
            resource: None,
            kind: posture_model::UnavailableKind::Denied,
            code: Some("AccessDenied".into()),
            message: "not authorized to perform sts:AssumeRole".into(),
        })
        .unwrap();
    writer
        .commit(SnapshotSummary {
            finished_at: t(11),
            accounts: all[1..2].to_vec(),
            regions: vec![Region::new("us-east-1").unwrap()],
            services: vec!["ec2".into()],
            api_calls: Default::default(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
    let tried = s.last_scanned(&all, Reach::Tried).unwrap();
    assert_eq!(
        (tried.get(&all[0]), tried.get(&all[1])),
        (Some(&t(10)), Some(&t(10)))
    );
    let entered = s.last_scanned(&all, Reach::Entered).unwrap();
    assert_eq!(
        (entered.get(&all[0]), entered.get(&all[1])),
        (Some(&t(-50)), Some(&t(10))),
        "the unreachable account's last success is its scan before"
    );
    assert!(
        s.claim_accounts("a", &all, t(0), LONG, 10, true)
            .unwrap()
            .is_empty(),
        "both are settled for the cycle that began at t(0)"
    );
}

fn size_and_current_counts_answer(location: &StoreLocation) {
    let mut s = Store::open(location).unwrap();
    assert!(s.size_bytes().unwrap() > 0);
    assert!(s.current_finding_counts().unwrap().is_empty());
}

type Case = fn(&StoreLocation);
const CASES: &[(&str, Case)] = &[
    (
        "claims_split_the_accounts_and_skip_the_covered",
        claims_split_the_accounts_and_skip_the_covered,
    ),
    (
        "an_expired_lease_is_taken_over_and_its_holder_learns_it",
        an_expired_lease_is_taken_over_and_its_holder_learns_it,
    ),
    (
        "a_commit_needs_its_leases_alive",
        a_commit_needs_its_leases_alive,
    ),
    (
        "an_account_not_entered_settles_the_cycle_but_is_no_success",
        an_account_not_entered_settles_the_cycle_but_is_no_success,
    ),
    (
        "size_and_current_counts_answer",
        size_and_current_counts_answer,
    ),
];

#[test]
fn sqlite_leases() {
    for (name, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        eprintln!("sqlite: {name}");
        case(&StoreLocation::Sqlite(dir.path().join("posture.sqlite")));
    }
}

#[test]
fn postgres_leases() {
    let pg = support::Postgres::start();
    for (name, case) in CASES {
        eprintln!("postgres: {name}");
        case(&StoreLocation::Postgres(pg.fresh_database()));
    }
}

/// Four replicas work through one cycle as the daemon does (claim a batch, commit its
/// snapshot, release, claim again) from threads racing on the same accounts: every account
/// is scanned by exactly one of them.
#[test]
fn postgres_racing_replicas_scan_each_account_once() {
    let pg = support::Postgres::start();
    let location = StoreLocation::Postgres(pg.fresh_database());
    let all: Vec<AccountId> = (0..40)
        .map(|i| AccountId::new(format!("{:012}", 100_000_000_000u64 + i)).unwrap())
        .collect();
    Store::open(&location).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (location, all) = (location.clone(), all.clone());
            std::thread::spawn(move || {
                let holder = format!("r{i}");
                let mut s = Store::open(&location).unwrap();
                let mut mine = Vec::new();
                loop {
                    let got = s
                        .claim_accounts(&holder, &all, t(0), LONG, 3, true)
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    // Snapshot ids are their start to the microsecond: keep them apart.
                    let at = t(1)
                        + chrono::Duration::microseconds(i64::from(i) * 1000 + mine.len() as i64);
                    scan(&mut s, at, &got);
                    s.release_leases(&holder, &got).unwrap();
                    mine.extend(got);
                }
            })
        })
        .collect();
    let mut claimed: Vec<AccountId> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    claimed.sort();
    assert_eq!(claimed, all, "each account exactly once");
}

/// Replicas starting together open (and so create) a fresh PostgreSQL store at the same
/// time: every one succeeds. Before the migration lock, the losers failed with a duplicate
/// key in `pg_type` (`CREATE TABLE IF NOT EXISTS` racing itself).
#[test]
fn postgres_replicas_create_the_store_at_once() {
    let pg = support::Postgres::start();
    let location = StoreLocation::Postgres(pg.fresh_database());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (location, barrier) = (location.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                Store::open(&location).map(|_| ())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
}
