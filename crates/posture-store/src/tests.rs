use chrono::TimeZone;
use posture_model::resources::Vpc;
use posture_model::{Arn, Observed, ResourceBody};

use super::*;

fn vpc(id: &str, cidr: &str) -> Resource {
    let account = AccountId::new("111122223333").unwrap();
    let region = Region::new("us-east-1").unwrap();
    Resource {
        arn: Arn::new(format!("arn:aws:ec2:us-east-1:111122223333:vpc/{id}")).unwrap(),
        account,
        region,
        tags: Observed::Collected(Default::default()),
        body: ResourceBody::Vpc(Vpc {
            vpc_id: id.into(),
            cidr_block: Some(cidr.into()),
            is_default: false,
            state: None,
        }),
    }
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + secs, 0).single().unwrap()
}

fn summary(findings: &[Finding]) -> SnapshotSummary<'_> {
    SnapshotSummary {
        finished_at: t(10),
        accounts: vec![AccountId::new("111122223333").unwrap()],
        regions: vec![Region::new("us-east-1").unwrap()],
        coverage: Coverage::default(),
        findings,
    }
}

#[test]
fn a_committed_snapshot_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("nested/posture.sqlite")).unwrap();
    let mut w = store.begin_snapshot(t(0)).unwrap();
    w.put_resource(&vpc("vpc-2", "10.1.0.0/16")).unwrap();
    w.put_resource(&vpc("vpc-1", "10.0.0.0/16")).unwrap();
    let meta = w.commit(summary(&[])).unwrap();
    assert_eq!(meta.resource_count, 2);

    let back = store.resources(&meta.id).unwrap();
    assert_eq!(
        back,
        vec![vpc("vpc-1", "10.0.0.0/16"), vpc("vpc-2", "10.1.0.0/16")]
    );
    assert_eq!(store.latest_snapshot().unwrap().unwrap(), meta);
}

#[test]
fn an_uncommitted_snapshot_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("posture.sqlite");
    let mut store = Store::open(&path).unwrap();
    let mut w = store.begin_snapshot(t(0)).unwrap();
    w.put_resource(&vpc("vpc-1", "10.0.0.0/16")).unwrap();
    drop(w); // the scan died before commit
    assert!(store.snapshots().unwrap().is_empty());
    let bodies: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM bodies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bodies, 0, "no orphan bodies are left behind");
}

#[test]
fn identical_bodies_are_stored_once_across_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("p.sqlite")).unwrap();
    for i in 0..3 {
        let mut w = store.begin_snapshot(t(i * 100)).unwrap();
        w.put_resource(&vpc("vpc-1", "10.0.0.0/16")).unwrap();
        w.commit(summary(&[])).unwrap();
    }
    let bodies: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM bodies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bodies, 1);
    assert_eq!(store.snapshots().unwrap().len(), 3);
}

#[test]
fn reopening_keeps_data_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sqlite");
    {
        let mut store = Store::open(&path).unwrap();
        let w = store.begin_snapshot(t(0)).unwrap();
        w.commit(summary(&[])).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.snapshots().unwrap().len(), 1);
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    let err = Store::open(&path).unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[test]
fn content_hash_is_stable() {
    let (h1, _) = content_hash(&vpc("vpc-1", "10.0.0.0/16"));
    let (h2, _) = content_hash(&vpc("vpc-1", "10.0.0.0/16"));
    let (h3, _) = content_hash(&vpc("vpc-1", "10.9.0.0/16"));
    assert_eq!(h1, h2);
    assert_ne!(h1, h3);
    assert_eq!(h1.len(), 64);
}
