//! Upgrading a store written by the first schema (SQLite only: PostgreSQL support arrived
//! with schema 2).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use posture_store::{Store, StoreLocation};

#[allow(
    dead_code,
    reason = "the migration tests use part of the support module"
)]
mod support;

const V1: &str = "
CREATE TABLE snapshots (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
  accounts TEXT NOT NULL, regions TEXT NOT NULL, coverage TEXT NOT NULL, resource_count INTEGER NOT NULL);
CREATE TABLE bodies (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE snapshot_resources (snapshot_id TEXT NOT NULL, kind TEXT NOT NULL, arn TEXT NOT NULL,
  account TEXT NOT NULL, region TEXT NOT NULL, hash TEXT NOT NULL REFERENCES bodies(hash),
  PRIMARY KEY (snapshot_id, kind, arn));
CREATE TABLE findings (snapshot_id TEXT NOT NULL REFERENCES snapshots(id), seq INTEGER NOT NULL,
  rule_id TEXT NOT NULL, arn TEXT NOT NULL, status TEXT NOT NULL, severity TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, seq));
CREATE INDEX findings_by_rule ON findings (rule_id, arn);
PRAGMA user_version = 1;
";

/// The coverage statement as the header held it before schema 4.
const LEGACY_COVERAGE: &str = r#"{"collected":[{"account":"111122223333","region":"us-east-1","service":"ec2","resources":1,"complete":false}],"failed":[{"account":"111122223333","region":"us-east-1","service":"ec2","operation":"ec2:DescribeFlowLogs","resource":null,"kind":"denied","code":"UnauthorizedOperation","message":"not authorized"}],"api_calls":{"ec2:DescribeVpcs":2}}"#;

#[test]
fn a_schema_1_store_is_upgraded_in_place_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let vpc = |cidr: &str| {
        format!(
            r#"{{"arn":"arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1","account":"111122223333","region":"us-east-1","tags":{{"state":"collected","value":{{}}}},"body":{{"kind":"aws_ec2_vpc","config":{{"vpc_id":"vpc-1","cidr_block":"{cidr}","is_default":false,"state":null}}}}}}"#
        )
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(V1).unwrap();
        for (i, cidr) in ["10.0.0.0/16", "10.0.0.0/16", "10.1.0.0/16"]
            .iter()
            .enumerate()
        {
            let body = vpc(cidr);
            let hash = posture_store::content_hash(&serde_json::from_str(&body).unwrap()).0;
            conn.execute(
                "INSERT OR IGNORE INTO bodies VALUES (?1, ?2)",
                rusqlite::params![hash, body],
            )
            .unwrap();
            let id = format!("2026010{}T000000000Z", i + 1);
            conn.execute(
                "INSERT INTO snapshots VALUES (?1, ?2, ?2, '[\"111122223333\"]', '[\"us-east-1\"]', ?3, 1)",
                rusqlite::params![id, format!("2026-01-0{}T00:00:00.000000Z", i + 1), LEGACY_COVERAGE],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO snapshot_resources VALUES (?1, 'aws_ec2_vpc', 'arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1', '111122223333', 'us-east-1', ?2)",
                rusqlite::params![id, hash],
            )
            .unwrap();
            // Schema 1 findings had no account column; schema 3 fills it from the body.
            conn.execute(
                "INSERT INTO findings VALUES (?1, 0, 'vpc_flow_logs_enabled', 'arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1', 'fail', 'medium', ?2)",
                rusqlite::params![
                    id,
                    r#"{"rule_id":"vpc_flow_logs_enabled","resource":{"arn":"arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1","account":"111122223333"}}"#
                ],
            )
            .unwrap();
        }
    }
    // A read-only command leaves an old store alone: it asks for a scan, and the file is
    // unchanged (no migration, no schema_migrations table).
    let before = std::fs::read(&path).unwrap();
    let err = Store::open_existing(&StoreLocation::Sqlite(path.clone())).unwrap_err();
    assert!(
        matches!(err, posture_store::StoreError::Outdated { found: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("run `posture scan` once"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "not migrated");

    let mut store = Store::open(&StoreLocation::Sqlite(path.clone())).unwrap();
    let snaps = store.snapshots().unwrap();
    assert_eq!(snaps.len(), 3);
    drop(store);
    // Once a scan upgraded it, read-only commands open it.
    let mut store = Store::open_existing(&StoreLocation::Sqlite(path.clone())).unwrap();
    assert_eq!(store.snapshots().unwrap().len(), 3);
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM resource_versions")
            .unwrap(),
        2,
        "two distinct versions"
    );
    let r = store.resources(&snaps[2].id).unwrap();
    assert_eq!(r.len(), 1);
    assert!(
        serde_json::to_string(&r[0])
            .unwrap()
            .contains("10.1.0.0/16")
    );
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM findings WHERE account = '111122223333'")
            .unwrap(),
        3,
        "every finding has its account"
    );
    // The coverage statement kept in the header reads back like the rows of later
    // snapshots.
    assert_eq!(snaps[0].coverage.collections, 1);
    assert_eq!(snaps[0].coverage.incomplete, 1);
    assert_eq!(snaps[0].coverage.failed_calls, 1);
    assert_eq!(
        snaps[0].coverage.api_calls.get("ec2:DescribeVpcs"),
        Some(&2)
    );
    let gaps = store.gaps_page(&snaps[0].id, None, 10).unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].1.operation, "ec2:DescribeFlowLogs");
    assert!(
        store
            .gaps_page(&snaps[0].id, Some(0), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .collections_page(&snaps[0].id, None, 10)
            .unwrap()
            .len(),
        1
    );
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // Tampering with the old statement is still caught.
    store
        .execute_raw(&format!(
            "UPDATE snapshots SET coverage = REPLACE(coverage, 'not authorized', 'fine') WHERE id = '{}'",
            snaps[1].id
        ))
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].message.contains("coverage"),
        "{:?}",
        report.problems
    );
    drop(store);
    // Opening again is a no-op.
    let mut store = Store::open(&StoreLocation::Sqlite(path)).unwrap();
    assert_eq!(store.snapshots().unwrap().len(), 3);
}

#[test]
fn a_store_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    drop(Store::open(&StoreLocation::Sqlite(path.clone())).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future')", [])
        .unwrap();
    drop(conn);
    let err = Store::open(&StoreLocation::Sqlite(path)).unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

/// Issue 13: a store written by the previous schema (6: a row per finding per snapshot,
/// `finding_status`) is upgraded in place to findings as intervals. The fixture
/// `fixtures/schema6.sqlite` was written by the schema-6 store (`fixtures/make_v6.rs.txt`,
/// run at commit 40247ca): three daily scans of account 1111…, the first also of 4444…,
/// with one passing and one failing VPC per account.
#[test]
fn a_schema_6_store_is_upgraded_in_place_and_keeps_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.sqlite");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema6.sqlite"),
        &path,
    )
    .unwrap();
    schema_6_upgrade_keeps_the_history(&StoreLocation::Sqlite(path));
}

/// The same on PostgreSQL: `fixtures/schema6.postgres.sql` is a `pg_dump --inserts` of the
/// same three scans written by the schema-6 store into PostgreSQL 15 (the `\restrict` lines,
/// psql commands, taken out).
#[test]
fn a_schema_6_postgres_store_is_upgraded_in_place_and_keeps_its_history() {
    let pg = support::Postgres::start();
    let url = pg.fresh_database();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(include_str!("fixtures/schema6.postgres.sql"))
        .unwrap();
    drop(client);
    schema_6_upgrade_keeps_the_history(&StoreLocation::Postgres(url));
}

fn schema_6_upgrade_keeps_the_history(location: &StoreLocation) {
    use chrono::{TimeZone, Utc};
    use posture_model::{AccountId, CollectionRecord, Region, Status};
    use posture_store::{FindingCursor, SnapshotSummary};

    let location = location.clone();
    let err = Store::open_existing(&location).unwrap_err();
    assert!(err.to_string().contains("schema version 6"), "{err}");
    let mut store = Store::open(&location).unwrap();
    let snaps = store.snapshots().unwrap();
    assert_eq!(snaps.len(), 3);
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The old snapshots read back as they were written, whole and a page at a time.
    let first = store.findings(&snaps[0].id).unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(store.findings(&snaps[2].id).unwrap().len(), 2);
    let page = store.findings_page(&snaps[0].id, None, 3).unwrap();
    assert_eq!(page.len(), 3);
    assert!(matches!(page[2].0, FindingCursor::Seq(2)));
    let rest = store
        .findings_page(&snaps[0].id, Some(page[2].0.clone()), 3)
        .unwrap();
    assert_eq!(rest.len(), 1);
    // Filtered pages of an old snapshot (status, severity and rule in SQL; account and
    // region, which its rows lack, as they are read): exactly the matching findings, in
    // order, whatever the page size, a short page going on from where the read stopped.
    let b_id = AccountId::new("444455556666").unwrap();
    let filters = [
        posture_store::FindingFilter {
            statuses: vec![Status::Fail],
            ..Default::default()
        },
        posture_store::FindingFilter {
            account: Some(b_id.clone()),
            ..Default::default()
        },
        posture_store::FindingFilter {
            statuses: vec![Status::Fail],
            account: Some(b_id.clone()),
            region: Some(first[0].resource.region.clone()),
            ..Default::default()
        },
        posture_store::FindingFilter {
            rule: Some(first[0].rule_id.clone()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let expected: Vec<_> = first
            .iter()
            .filter(|f| filter.matches(f))
            .cloned()
            .collect();
        for limit in [1, 2, 10] {
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .findings_page_filtered(&snaps[0].id, filter, after, limit)
                    .unwrap();
                got.extend(page.findings.into_iter().map(|(_, f)| f));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(got, expected, "{filter:?}, pages of {limit}");
        }
    }
    assert_eq!(
        first.iter().filter(|f| filters[1].matches(f)).count(),
        2,
        "the fixture's second account has two findings"
    );
    assert_eq!(first.iter().filter(|f| filters[2].matches(f)).count(), 1);
    // Each account's last scan is known, the one that entered it.
    let a = AccountId::new("111122223333").unwrap();
    let b = AccountId::new("444455556666").unwrap();
    assert_eq!(
        store.last_scan_of(&a, None).unwrap().unwrap().id,
        snaps[2].id
    );
    assert_eq!(
        store.last_scan_of(&b, None).unwrap().unwrap().id,
        snaps[0].id
    );
    // Each account's newest findings are its open versions; finding_status is gone.
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_versions WHERE valid_to IS NULL")
            .unwrap(),
        4
    );
    assert!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_status")
            .is_err()
    );
    // Failure episodes know their account.
    let episodes = store
        .failure_episodes(
            "vpc_flow_logs_enabled",
            "arn:aws:ec2:us-east-1:444455556666:vpc/vpc-bad",
        )
        .unwrap();
    assert_eq!(episodes.len(), 1);
    assert_eq!(episodes[0].account, "444455556666");
    assert!(episodes[0].resolved_at.is_none(), "{episodes:?}");

    // A scan of account 1111… that finds what the last one found: first-seen times carry
    // over from the old history, no finding version is written, and the chain goes on.
    let latest = store.findings(&snaps[2].id).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 11, 4, 0, 0, 0).unwrap();
    let mut w = store.begin_snapshot(t).unwrap();
    w.put_collection(&CollectionRecord {
        account: a.clone(),
        region: Region::new("us-east-1").unwrap(),
        service: "ec2".into(),
        resources: 0,
        complete: true,
    })
    .unwrap();
    let mut findings: Vec<_> = latest
        .iter()
        .cloned()
        .map(|mut f| {
            f.first_seen = None;
            f
        })
        .collect();
    let finished = t + chrono::Duration::minutes(1);
    w.put_findings(&mut findings, finished).unwrap();
    let failing = findings.iter().find(|f| f.status == Status::Fail).unwrap();
    assert_eq!(
        failing.first_seen,
        Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 1, 0).unwrap()),
        "the failure goes on from the first scan"
    );
    let meta = w
        .commit(SnapshotSummary {
            finished_at: finished,
            accounts: vec![a.clone()],
            regions: vec![Region::new("us-east-1").unwrap()],
            services: vec!["ec2".into()],
            api_calls: Default::default(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_versions")
            .unwrap(),
        4,
        "unchanged findings extend their versions"
    );
    // Read back in the canonical order (account, rule, region, ARN).
    findings.sort_by(|x, y| x.resource.arn.cmp(&y.resource.arn));
    assert_eq!(store.findings(&meta.id).unwrap(), findings);
    assert_eq!(store.last_scan_of(&a, None).unwrap().unwrap().id, meta.id);
    assert_eq!(
        store.last_scan_of(&b, None).unwrap().unwrap().id,
        snaps[0].id
    );
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.snapshots, 4);
}
