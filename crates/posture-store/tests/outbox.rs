//! The alert outbox (`alert_outbox`, `alert_deliveries`): alerts exist exactly when their
//! snapshot does, are claimed by one deliverer at a time, in order per route, and are
//! neither lost nor sent twice across restarts; on SQLite and on a real PostgreSQL server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod support;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use posture_model::{AccountId, Region};
use posture_store::{DeliveryState, SnapshotSummary, SnapshotWriter, Store, StoreLocation};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn summary(started: DateTime<Utc>) -> SnapshotSummary {
    SnapshotSummary {
        finished_at: started + chrono::Duration::seconds(5),
        accounts: vec![AccountId::new("111111111111").unwrap()],
        regions: vec![Region::new("us-east-1").unwrap()],
        services: vec!["s3".into()],
        api_calls: Default::default(),
        baseline: ("test baseline".into(), "1".into()),
    }
}

/// Commits a snapshot with one alert per route in `routes`; returns the alerts' keys.
fn scan_with_alerts(store: &mut Store, started: DateTime<Utc>, routes: &[&str]) -> Vec<String> {
    let mut writer = store.begin_snapshot(started).unwrap();
    let keys = stage(&mut writer, routes);
    writer.commit(summary(started)).unwrap();
    keys
}

fn stage(writer: &mut SnapshotWriter<'_>, routes: &[&str]) -> Vec<String> {
    routes
        .iter()
        .map(|r| {
            writer
                .put_alert(r, "regressions", &format!(r#"{{"route":"{r}"}}"#))
                .unwrap()
        })
        .collect()
}

fn deliverer(location: &StoreLocation) -> Store {
    let mut s = Store::open(location).unwrap();
    s.attach_deliveries().unwrap();
    s
}

const LEASE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

fn routes(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn alerts_exist_exactly_when_their_snapshot_does(location: &StoreLocation) {
    let mut store = Store::open(location).unwrap();
    {
        let mut writer = store.begin_snapshot(t(0)).unwrap();
        stage(&mut writer, &["default"]);
        // Dropped without a commit: the scan was killed or failed.
    }
    let mut d = deliverer(location);
    assert!(
        d.outbox(None, 100, DAY).unwrap().is_empty(),
        "a rolled-back scan leaves no alert"
    );
    let keys = scan_with_alerts(&mut store, t(10), &["default", "payments"]);
    let all = d.outbox(None, 100, DAY).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|e| e.state == DeliveryState::Pending));
    assert!(all.iter().all(|e| e.snapshot_id.is_some()));
    let mut listed: Vec<_> = all.iter().map(|e| e.key.clone()).collect();
    listed.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(keys[0].ends_with("/default/regressions"), "{}", keys[0]);
}

fn one_deliverer_at_a_time_and_delivered_once(location: &StoreLocation) {
    let mut store = Store::open(location).unwrap();
    let keys = scan_with_alerts(&mut store, t(0), &["default"]);
    let mut a = deliverer(location);
    let mut b = deliverer(location);
    let got = a
        .claim_alerts("a", &routes(&["default"]), LEASE, DAY)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key, keys[0]);
    assert_eq!(got[0].attempts, 1, "the claim counts the attempt");
    assert_eq!(got[0].body, r#"{"route":"default"}"#);
    assert!(
        b.claim_alerts("b", &routes(&["default"]), LEASE, DAY)
            .unwrap()
            .is_empty(),
        "an alert being sent is not sent by another deliverer"
    );
    a.mark_delivered(&keys[0]).unwrap();
    for (who, s) in [("a", &mut a), ("b", &mut b)] {
        assert!(
            s.claim_alerts(who, &routes(&["default"]), LEASE, DAY)
                .unwrap()
                .is_empty(),
            "a delivered alert is never claimed again"
        );
    }
    // After a restart (a new connection), still delivered.
    let mut again = deliverer(location);
    let listed = again.outbox(None, 10, DAY).unwrap();
    assert_eq!(listed[0].state, DeliveryState::Delivered);
    assert!(listed[0].delivered_at.is_some());
    assert!(
        again
            .claim_alerts("c", &routes(&["default"]), LEASE, DAY)
            .unwrap()
            .is_empty()
    );
}

fn a_deliverer_killed_mid_send_leaves_the_alert_to_another(location: &StoreLocation) {
    let mut store = Store::open(location).unwrap();
    let keys = scan_with_alerts(&mut store, t(0), &["default"]);
    let mut a = deliverer(location);
    // A short claim, then "killed": never marked.
    let got = a
        .claim_alerts("a", &routes(&["default"]), Duration::from_millis(200), DAY)
        .unwrap();
    assert_eq!(got.len(), 1);
    drop(a);
    let mut b = deliverer(location);
    assert!(
        b.claim_alerts("b", &routes(&["default"]), LEASE, DAY)
            .unwrap()
            .is_empty(),
        "not while the claim lasts"
    );
    std::thread::sleep(Duration::from_millis(400));
    let got = b
        .claim_alerts("b", &routes(&["default"]), LEASE, DAY)
        .unwrap();
    assert_eq!(got.len(), 1, "the expired claim is taken over");
    assert_eq!(got[0].key, keys[0]);
    assert_eq!(got[0].attempts, 2);
}

fn retries_wait_and_routes_keep_their_order(location: &StoreLocation) {
    let mut store = Store::open(location).unwrap();
    let first = scan_with_alerts(&mut store, t(0), &["default", "payments"]);
    std::thread::sleep(Duration::from_millis(20));
    let second = scan_with_alerts(&mut store, t(100), &["default"]);
    let mut d = deliverer(location);
    let all = routes(&["default", "payments"]);
    let got = d.claim_alerts("d", &all, LEASE, DAY).unwrap();
    let mut got_keys: Vec<_> = got.iter().map(|e| e.key.clone()).collect();
    got_keys.sort();
    let mut want = first.clone();
    want.sort();
    assert_eq!(got_keys, want, "the oldest alert of each route");
    // default's first alert fails with a retry in 300 ms: its second waits behind it.
    d.mark_retry(
        &first[0],
        "HTTP 500: internal_error",
        Duration::from_millis(300),
    )
    .unwrap();
    d.mark_delivered(&first[1]).unwrap();
    assert!(
        d.claim_alerts("d", &all, LEASE, DAY).unwrap().is_empty(),
        "a route's later alert does not overtake one waiting for its retry"
    );
    let pending = d.outbox(Some(DeliveryState::Pending), 10, DAY).unwrap();
    let retried = pending.iter().find(|e| e.key == first[0]).unwrap();
    assert_eq!(
        retried.last_error.as_deref(),
        Some("HTTP 500: internal_error")
    );
    assert!(retried.next_attempt_at.is_some());
    std::thread::sleep(Duration::from_millis(400));
    let got = d.claim_alerts("d", &all, LEASE, DAY).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key, first[0]);
    assert_eq!(got[0].attempts, 2);
    d.mark_failed(&first[0], "HTTP 400: invalid_blocks")
        .unwrap();
    let got = d.claim_alerts("d", &all, LEASE, DAY).unwrap();
    assert_eq!(got.len(), 1, "after a failure for good, the next one goes");
    assert_eq!(got[0].key, second[0]);
    let failed = d.outbox(Some(DeliveryState::Failed), 10, DAY).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("HTTP 400: invalid_blocks")
    );
    let counts = d.outbox_counts(DAY).unwrap();
    assert_eq!(
        counts.get(&("default".to_owned(), DeliveryState::Failed)),
        Some(&1)
    );
    assert_eq!(
        counts.get(&("payments".to_owned(), DeliveryState::Delivered)),
        Some(&1)
    );
}

fn old_alerts_expire_and_digests_are_written_once(location: &StoreLocation) {
    let mut store = Store::open(location).unwrap();
    scan_with_alerts(&mut store, t(0), &["default"]);
    std::thread::sleep(Duration::from_millis(50));
    let mut d = deliverer(location);
    let young = Duration::from_millis(10);
    assert!(
        d.claim_alerts("d", &routes(&["default"]), LEASE, young)
            .unwrap()
            .is_empty(),
        "older than the age limit: not sent"
    );
    let expired = d.outbox(Some(DeliveryState::Expired), 10, young).unwrap();
    assert_eq!(expired.len(), 1);
    assert!(
        d.enqueue_alert(
            "digest/2026-12-07/default",
            "default",
            "overdue_digest",
            "{}"
        )
        .unwrap()
    );
    assert!(
        !d.enqueue_alert(
            "digest/2026-12-07/default",
            "default",
            "overdue_digest",
            "{}"
        )
        .unwrap(),
        "the same digest is written once"
    );
    let got = d
        .claim_alerts("d", &routes(&["default"]), LEASE, young)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].kind, "overdue_digest");
    assert_eq!(got[0].snapshot_id, None);
}

fn alerts_are_pruned_with_the_snapshots(location: &StoreLocation) {
    let mut store = Store::open(location).unwrap();
    scan_with_alerts(&mut store, t(0), &["default"]);
    scan_with_alerts(&mut store, t(100), &["default"]);
    let mut d = deliverer(location);
    let got = d
        .claim_alerts("d", &routes(&["default"]), LEASE, DAY)
        .unwrap();
    d.mark_delivered(&got[0].key).unwrap();
    // Everything written before now + 1 h goes; the newest snapshot always stays, but the
    // outbox follows the retention's time.
    store
        .prune(Utc::now() + chrono::Duration::hours(1))
        .unwrap();
    assert!(d.outbox(None, 10, DAY).unwrap().is_empty());
    assert_eq!(
        d.prune_deliveries().unwrap(),
        1,
        "its delivery state goes too"
    );
}

type Case = (&'static str, fn(&StoreLocation));

const CASES: &[Case] = &[
    (
        "alerts_exist_exactly_when_their_snapshot_does",
        alerts_exist_exactly_when_their_snapshot_does,
    ),
    (
        "one_deliverer_at_a_time_and_delivered_once",
        one_deliverer_at_a_time_and_delivered_once,
    ),
    (
        "a_deliverer_killed_mid_send_leaves_the_alert_to_another",
        a_deliverer_killed_mid_send_leaves_the_alert_to_another,
    ),
    (
        "retries_wait_and_routes_keep_their_order",
        retries_wait_and_routes_keep_their_order,
    ),
    (
        "old_alerts_expire_and_digests_are_written_once",
        old_alerts_expire_and_digests_are_written_once,
    ),
    (
        "alerts_are_pruned_with_the_snapshots",
        alerts_are_pruned_with_the_snapshots,
    ),
];

#[test]
fn sqlite_outbox() {
    for (name, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        eprintln!("sqlite: {name}");
        case(&StoreLocation::Sqlite(dir.path().join("posture.sqlite")));
    }
}

#[test]
fn postgres_outbox() {
    let pg = support::Postgres::start();
    for (name, case) in CASES {
        eprintln!("postgres: {name}");
        case(&StoreLocation::Postgres(pg.fresh_database()));
    }
}

/// The reason the delivery state lives beside a SQLite store: a scan holds the store's
/// write lock from begin to commit, and deliveries must still be claimed and marked
/// meanwhile (with the state in the store itself, this waits for the scan and then fails
/// with "database is locked").
#[test]
fn sqlite_deliveries_are_recorded_while_a_scan_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let location = StoreLocation::Sqlite(dir.path().join("posture.sqlite"));
    let mut store = Store::open(&location).unwrap();
    let keys = scan_with_alerts(&mut store, t(0), &["default"]);
    let mut d = deliverer(&location);
    assert!(d.deliveries_path().unwrap().is_file());

    // The next scan begins and stages an alert: it holds the write lock.
    let mut scanning = Store::open(&location).unwrap();
    let mut writer = scanning.begin_snapshot(t(100)).unwrap();
    stage(&mut writer, &["default"]);

    let started = std::time::Instant::now();
    let got = d
        .claim_alerts("d", &routes(&["default"]), LEASE, DAY)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key, keys[0]);
    d.mark_delivered(&keys[0]).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "claim and mark did not wait for the scan's lock (the busy timeout is 30 s)"
    );
    writer.commit(summary(t(100))).unwrap();
    let listed = d.outbox(None, 10, DAY).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed
            .iter()
            .filter(|e| e.state == DeliveryState::Delivered)
            .count(),
        1
    );
}

/// `posture alerts list` on a store whose alerts were never delivered (no delivery file):
/// every alert reads as pending, and nothing is created.
#[test]
fn sqlite_outbox_reads_without_a_delivery_file() {
    let dir = tempfile::tempdir().unwrap();
    let location = StoreLocation::Sqlite(dir.path().join("posture.sqlite"));
    let mut store = Store::open(&location).unwrap();
    scan_with_alerts(&mut store, t(0), &["default"]);
    let mut reader = Store::open_existing(&location).unwrap();
    reader.attach_deliveries_if_present().unwrap();
    let listed = reader.outbox(None, 10, DAY).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, DeliveryState::Pending);
    assert!(!reader.deliveries_path().unwrap().exists());
}
