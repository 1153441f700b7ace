//! One store test suite, run against SQLite and against a real PostgreSQL server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod support;

use chrono::{DateTime, TimeZone, Utc};
use posture_model::resources::Vpc;
use posture_model::{
    AccountId, Arn, Citation, CollectionRecord, Finding, Gap, Observed, Region, Resource,
    ResourceBody, ResourceRef, RuleId, Severity, SnapshotMeta, Status, Unread,
};
use posture_store::{SnapshotSummary, Store, StoreLocation, for_each_page};

type Case = fn(&StoreLocation);

const CASES: &[(&str, Case)] = &[
    (
        "a_shared_arn_is_a_resource_in_each_account",
        a_shared_arn_is_a_resource_in_each_account,
    ),
    (
        "a_committed_snapshot_round_trips",
        a_committed_snapshot_round_trips,
    ),
    (
        "an_uncommitted_snapshot_leaves_the_store_as_it_was",
        an_uncommitted_snapshot_leaves_the_store_as_it_was,
    ),
    (
        "an_unchanged_estate_costs_one_row_per_resource",
        an_unchanged_estate_costs_one_row_per_resource,
    ),
    (
        "changes_open_new_versions_and_old_snapshots_keep_theirs",
        changes_open_new_versions_and_old_snapshots_keep_theirs,
    ),
    (
        "a_scan_of_other_regions_does_not_retire_resources",
        a_scan_of_other_regions_does_not_retire_resources,
    ),
    (
        "history_tracks_first_seen_and_failure_episodes",
        history_tracks_first_seen_and_failure_episodes,
    ),
    (
        "verify_passes_on_an_intact_history",
        verify_passes_on_an_intact_history,
    ),
    ("verify_names_an_altered_body", verify_names_an_altered_body),
    (
        "verify_names_a_removed_snapshot",
        verify_names_a_removed_snapshot,
    ),
    (
        "verify_names_an_altered_evaluation",
        verify_names_an_altered_evaluation,
    ),
    (
        "pruning_keeps_the_chain_verifiable",
        pruning_keeps_the_chain_verifiable,
    ),
    (
        "drift_events_are_stored_with_their_snapshot",
        drift_events_are_stored_with_their_snapshot,
    ),
    (
        "an_open_snapshot_is_read_back_one_account_at_a_time",
        an_open_snapshot_is_read_back_one_account_at_a_time,
    ),
    (
        "the_coverage_record_streams_in_and_reads_back_in_order",
        the_coverage_record_streams_in_and_reads_back_in_order,
    ),
    (
        "verify_names_an_altered_coverage_record",
        verify_names_an_altered_coverage_record,
    ),
    (
        "an_unread_kind_keeps_its_resources_and_its_failures_open",
        an_unread_kind_keeps_its_resources_and_its_failures_open,
    ),
    (
        "filtered_finding_pages_hold_exactly_the_matching_findings",
        filtered_finding_pages_hold_exactly_the_matching_findings,
    ),
    (
        "snapshot_pages_walk_the_history_newest_first",
        snapshot_pages_walk_the_history_newest_first,
    ),
];

#[test]
fn sqlite_backend() {
    for (name, case) in CASES {
        let dir = tempfile::tempdir().expect("temp dir");
        let location = StoreLocation::Sqlite(dir.path().join("nested").join("posture.sqlite"));
        eprintln!("sqlite: {name}");
        case(&location);
    }
}

#[test]
fn postgres_backend() {
    let pg = support::Postgres::start();
    for (name, case) in CASES {
        let location = StoreLocation::Postgres(pg.fresh_database());
        eprintln!("postgres: {name}");
        case(&location);
    }
}

// ---- fixtures ---------------------------------------------------------------------------

fn account() -> AccountId {
    AccountId::new("111122223333").unwrap()
}

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn vpc(region: &str, id: &str, cidr: &str) -> Resource {
    Resource {
        arn: Arn::new(format!("arn:aws:ec2:{region}:111122223333:vpc/{id}")).unwrap(),
        account: account(),
        region: Region::new(region).unwrap(),
        tags: Observed::Collected(Default::default()),
        body: ResourceBody::Vpc(Vpc {
            vpc_id: id.into(),
            cidr_block: Some(cidr.into()),
            is_default: false,
            state: None,
        }),
    }
}

fn finding(r: &Resource, status: Status) -> Finding {
    Finding {
        rule_id: RuleId::new("vpc_flow_logs_enabled").unwrap(),
        title: "VPC has flow logs".into(),
        status,
        severity: Severity::Medium,
        resource: ResourceRef {
            arn: r.arn.clone(),
            kind: r.kind(),
            account: r.account.clone(),
            region: r.region.clone(),
            tags: Default::default(),
        },
        citations: vec![Citation {
            id: "164.312(b)".into(),
            title: "Audit controls".into(),
        }],
        evidence: Default::default(),
        reason: "test".into(),
        first_seen: None,
        phi: false,
        waiver: None,
    }
}

struct Scan<'a> {
    at: i64,
    regions: &'a [&'a str],
    resources: Vec<Resource>,
    findings: Vec<Finding>,
    drift: Vec<(String, Option<String>, String, serde_json::Value)>,
}

/// The coverage record of a scan of EC2 in `regions`: one collection per region (in
/// reverse order: the store sorts them), the flow logs of the first region not listable.
fn coverage_of(regions: &[&str]) -> (Vec<CollectionRecord>, Vec<Gap>) {
    let collected = regions
        .iter()
        .rev()
        .map(|r| CollectionRecord {
            account: account(),
            region: Region::new(*r).unwrap(),
            service: "ec2".into(),
            resources: 1,
            complete: r != &regions[0],
        })
        .collect();
    let failed = vec![Gap {
        account: account(),
        region: Region::new(regions[0]).unwrap(),
        service: "ec2".into(),
        operation: "ec2:DescribeFlowLogs".into(),
        resource: None,
        kind: posture_model::UnavailableKind::Denied,
        code: Some("UnauthorizedOperation".into()),
        message: "not authorized".into(),
    }];
    (collected, failed)
}

fn scan(store: &mut Store, s: Scan<'_>) -> (SnapshotMeta, Vec<Finding>) {
    let mut w = store.begin_snapshot(t(s.at)).unwrap();
    for r in &s.resources {
        w.put_resource(r).unwrap();
    }
    let (collected, failed) = coverage_of(s.regions);
    for c in &collected {
        w.put_collection(c).unwrap();
    }
    for g in &failed {
        w.put_gap(g).unwrap();
    }
    let mut findings = s.findings;
    let finished_at = t(s.at) + chrono::Duration::seconds(30);
    w.put_findings(&mut findings, finished_at).unwrap();
    w.put_drift(s.drift).unwrap();
    let meta = w
        .commit(SnapshotSummary {
            finished_at,
            accounts: vec![account()],
            regions: s.regions.iter().map(|r| Region::new(*r).unwrap()).collect(),
            services: vec!["ec2".into()],
            api_calls: [("ec2:DescribeVpcs".to_owned(), 1)].into(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
    (meta, findings)
}

fn simple(at: i64, resources: Vec<Resource>) -> Scan<'static> {
    Scan {
        at,
        regions: &["us-east-1"],
        resources,
        findings: vec![],
        drift: vec![],
    }
}

// ---- cases ------------------------------------------------------------------------------

/// An AWS managed policy has one ARN in every account, and each account's copy (how often
/// it is attached there) is its own resource with its own findings: before schema 7 the
/// store kept one account's copy, and the other account's rules could not find it.
fn a_shared_arn_is_a_resource_in_each_account(loc: &StoreLocation) {
    use posture_model::resources::IamPolicy;
    let mut store = Store::open(loc).unwrap();
    let policy = |account: &str, attachments: i32| Resource {
        arn: Arn::new("arn:aws:iam::aws:policy/AdministratorAccess").unwrap(),
        account: AccountId::new(account).unwrap(),
        region: Region::global(),
        tags: Observed::Absent,
        body: ResourceBody::IamPolicy(IamPolicy {
            name: "AdministratorAccess".into(),
            aws_managed: true,
            attachment_count: attachments,
            document: Observed::Collected(serde_json::json!({"Statement": []})),
        }),
    };
    let a = policy("111122223333", 2);
    let b = policy("444455556666", 1);
    let accounts = vec![a.account.clone(), b.account.clone()];
    // Both accounts' copies fail at first (two failure episodes, not one row both share);
    // then B's passes, which ends B's episode only.
    for minute in [0, 60, 120] {
        let mut w = store.begin_snapshot(t(minute)).unwrap();
        w.put_resource(&a).unwrap();
        w.put_resource(&b).unwrap();
        let b_status = if minute == 0 {
            Status::Fail
        } else {
            Status::Pass
        };
        let mut findings = vec![finding(&a, Status::Fail), finding(&b, b_status)];
        w.put_findings(&mut findings, t(minute)).unwrap();
        let meta = w
            .commit(SnapshotSummary {
                finished_at: t(minute),
                accounts: accounts.clone(),
                regions: vec![Region::new("us-east-1").unwrap()],
                services: vec!["iam".into()],
                api_calls: Default::default(),
                baseline: ("test baseline".into(), "1".into()),
            })
            .unwrap();
        let resources = store.resources(&meta.id).unwrap();
        assert_eq!(resources.len(), 2, "{resources:?}");
        assert!(resources.contains(&a) && resources.contains(&b));
        let stored: Vec<(String, Status)> = store
            .findings(&meta.id)
            .unwrap()
            .iter()
            .map(|f| (f.resource.account.to_string(), f.status))
            .collect();
        assert_eq!(
            stored,
            vec![
                ("111122223333".to_owned(), Status::Fail),
                ("444455556666".to_owned(), b_status)
            ]
        );
    }
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM resource_versions")
            .unwrap(),
        2
    );
    // A's finding never changed; B's changed once.
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_versions")
            .unwrap(),
        3
    );
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", a.arn.as_str())
        .unwrap();
    let by_account: Vec<(&str, bool)> = episodes
        .iter()
        .map(|e| (e.account.as_str(), e.resolved_at.is_some()))
        .collect();
    assert_eq!(
        by_account,
        vec![("111122223333", false), ("444455556666", true)],
        "{episodes:?}"
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

fn a_committed_snapshot_round_trips(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let a = vpc("us-east-1", "vpc-2", "10.1.0.0/16");
    let b = vpc("us-east-1", "vpc-1", "10.0.0.0/16");
    let f = finding(&a, Status::Fail);
    let (meta, findings) = scan(
        &mut store,
        Scan {
            at: 0,
            regions: &["us-east-1"],
            resources: vec![a.clone(), b.clone()],
            findings: vec![f],
            drift: vec![],
        },
    );
    assert_eq!(meta.resource_count, 2);
    assert_eq!(
        findings[0].first_seen,
        Some(t(0) + chrono::Duration::seconds(30))
    );
    drop(store);

    let mut store = Store::open(loc).unwrap();
    assert_eq!(store.resources(&meta.id).unwrap(), vec![b, a]);
    assert_eq!(store.findings(&meta.id).unwrap(), findings);
    assert_eq!(store.latest_snapshot().unwrap().unwrap(), meta);
    assert_eq!(store.snapshots().unwrap(), vec![meta]);
}

fn an_uncommitted_snapshot_leaves_the_store_as_it_was(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    scan(
        &mut store,
        simple(0, vec![vpc("us-east-1", "vpc-1", "10.0.0.0/16")]),
    );
    let mut w = store.begin_snapshot(t(10)).unwrap();
    w.put_resource(&vpc("us-east-1", "vpc-9", "10.9.0.0/16"))
        .unwrap();
    drop(w); // the scan died before commit
    assert_eq!(store.snapshots().unwrap().len(), 1);
    assert_eq!(
        store.count_raw("SELECT COUNT(*) FROM bodies").unwrap(),
        1,
        "no orphan bodies are left behind"
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

fn an_unchanged_estate_costs_one_row_per_resource(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    for i in 0..5 {
        scan(
            &mut store,
            simple(
                i * 60,
                vec![
                    vpc("us-east-1", "vpc-1", "10.0.0.0/16"),
                    vpc("us-east-1", "vpc-2", "10.1.0.0/16"),
                ],
            ),
        );
    }
    assert_eq!(store.snapshots().unwrap().len(), 5);
    assert_eq!(store.count_raw("SELECT COUNT(*) FROM bodies").unwrap(), 2);
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM resource_versions")
            .unwrap(),
        2
    );
    for s in store.snapshots().unwrap() {
        assert_eq!(store.resources(&s.id).unwrap().len(), 2);
    }
}

fn changes_open_new_versions_and_old_snapshots_keep_theirs(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let a1 = vpc("us-east-1", "vpc-a", "10.0.0.0/16");
    let a2 = vpc("us-east-1", "vpc-a", "10.2.0.0/16");
    let b = vpc("us-east-1", "vpc-b", "10.1.0.0/16");
    let c = vpc("us-east-1", "vpc-c", "10.3.0.0/16");
    let (s1, _) = scan(&mut store, simple(0, vec![a1.clone(), b.clone()]));
    let (s2, _) = scan(&mut store, simple(60, vec![a2.clone(), c.clone()]));
    let (s3, _) = scan(
        &mut store,
        simple(120, vec![a2.clone(), b.clone(), c.clone()]),
    );
    assert_eq!(store.resources(&s1.id).unwrap(), vec![a1, b.clone()]);
    assert_eq!(
        store.resources(&s2.id).unwrap(),
        vec![a2.clone(), c.clone()]
    );
    assert_eq!(store.resources(&s3.id).unwrap(), vec![a2, b, c]);
    assert!(store.verify().unwrap().problems.is_empty());
}

fn a_scan_of_other_regions_does_not_retire_resources(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let east = vpc("us-east-1", "vpc-e", "10.0.0.0/16");
    let west = vpc("us-west-2", "vpc-w", "10.1.0.0/16");
    let (s1, _) = scan(&mut store, simple(0, vec![east.clone()]));
    let (s2, _) = scan(
        &mut store,
        Scan {
            at: 60,
            regions: &["us-west-2"],
            resources: vec![west.clone()],
            findings: vec![],
            drift: vec![],
        },
    );
    let (s3, _) = scan(&mut store, simple(120, vec![east.clone()]));
    assert_eq!(store.resources(&s1.id).unwrap(), vec![east.clone()]);
    assert_eq!(store.resources(&s2.id).unwrap(), vec![west]);
    assert_eq!(store.resources(&s3.id).unwrap(), vec![east]);
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM resource_versions")
            .unwrap(),
        2,
        "the east VPC kept one row"
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

fn history_tracks_first_seen_and_failure_episodes(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let a = vpc("us-east-1", "vpc-a", "10.0.0.0/16");
    let scan_with = |store: &mut Store, at: i64, status: Status| {
        scan(
            store,
            Scan {
                at,
                regions: &["us-east-1"],
                resources: vec![a.clone()],
                findings: vec![finding(&a, status)],
                drift: vec![],
            },
        )
        .1
    };
    let opened = t(0) + chrono::Duration::seconds(30);
    assert_eq!(
        scan_with(&mut store, 0, Status::Fail)[0].first_seen,
        Some(opened)
    );
    assert_eq!(
        scan_with(&mut store, 60, Status::Fail)[0].first_seen,
        Some(opened),
        "still failing since the first scan"
    );
    let resolved = scan_with(&mut store, 120, Status::Pass);
    assert_eq!(
        resolved[0].first_seen,
        Some(t(120) + chrono::Duration::seconds(30))
    );
    let stamp = |minutes: i64| {
        (t(minutes) + chrono::Duration::seconds(30))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    // The first episode was last seen failing by the scan before the one that resolved it.
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", a.arn.as_str())
        .unwrap();
    assert_eq!(episodes[0].last_seen, stamp(60), "{episodes:?}");
    assert_eq!(
        episodes[0].resolved_at.as_deref(),
        Some(stamp(120).as_str())
    );
    scan_with(&mut store, 180, Status::Fail);
    scan_with(&mut store, 200, Status::Fail);
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", a.arn.as_str())
        .unwrap();
    assert_eq!(episodes.len(), 2);
    assert!(episodes[0].resolved_at.is_some(), "{episodes:?}");
    assert!(episodes[1].resolved_at.is_none());
    // A failure that goes on was last seen by the account's last scan (an unchanged scan
    // writes nothing per finding; the reader takes the scan's time).
    assert_eq!(episodes[1].first_seen, stamp(180));
    assert_eq!(episodes[1].last_seen, stamp(200));
    // The resource disappears: the open episode is resolved, last seen by the scan before.
    scan(&mut store, simple(240, vec![]));
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", a.arn.as_str())
        .unwrap();
    assert!(episodes[1].resolved_at.is_some());
    assert_eq!(episodes[1].last_seen, stamp(200));
}

fn three_scans(store: &mut Store) -> Vec<SnapshotMeta> {
    let a = vpc("us-east-1", "vpc-a", "10.0.0.0/16");
    let b = vpc("us-east-1", "vpc-b", "10.1.0.0/16");
    let mut out = Vec::new();
    for (i, cidr) in ["10.5.0.0/16", "10.6.0.0/16", "10.7.0.0/16"]
        .iter()
        .enumerate()
    {
        let c = vpc("us-east-1", "vpc-c", cidr);
        let resources = vec![a.clone(), b.clone(), c.clone()];
        let findings = vec![finding(&a, Status::Pass), finding(&c, Status::Fail)];
        out.push(
            scan(
                store,
                Scan {
                    at: i as i64 * 60,
                    regions: &["us-east-1"],
                    resources,
                    findings,
                    drift: vec![],
                },
            )
            .0,
        );
    }
    out
}

fn verify_passes_on_an_intact_history(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let snaps = three_scans(&mut store);
    // The same two findings three times (their first_seen holds while the status does):
    // two versions, valid through all three snapshots, two stored bodies, and each
    // snapshot reads its findings back whole.
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_versions WHERE valid_to IS NULL")
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_versions")
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_bodies")
            .unwrap(),
        2
    );
    for s in &snaps {
        let findings = store.findings(&s.id).unwrap();
        assert_eq!(findings.len(), 2);
        assert!(
            findings
                .iter()
                .all(|f| f.first_seen == Some(t(0) + chrono::Duration::seconds(30)))
        );
    }
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.snapshots, 3);
    assert!(report.head.is_some());
}

fn verify_names_an_altered_body(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    three_scans(&mut store);
    store
        .execute_raw("UPDATE bodies SET body = REPLACE(body, '10.1.0.0/16', '0.0.0.0/0') WHERE body LIKE '%vpc-b%'")
        .unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let p = &report.problems[0];
    assert_eq!(
        p.resource.as_deref(),
        Some("arn:aws:ec2:us-east-1:111122223333:vpc/vpc-b")
    );
    assert!(p.message.contains("was altered"), "{}", p.message);
}

fn verify_names_a_removed_snapshot(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let snaps = three_scans(&mut store);
    let middle = &snaps[1].id;
    for table in [
        "findings",
        "drift_events",
        "evaluations",
        "collections",
        "gaps",
    ] {
        store
            .execute_raw(&format!(
                "DELETE FROM {table} WHERE snapshot_id = '{middle}'"
            ))
            .unwrap();
    }
    store
        .execute_raw(&format!("DELETE FROM snapshots WHERE id = '{middle}'"))
        .unwrap();
    let report = store.verify().unwrap();
    assert!(!report.problems.is_empty());
    let p = &report.problems[0];
    assert_eq!(p.snapshot.as_deref(), Some(snaps[2].id.as_str()));
    assert!(p.message.contains("were removed"), "{}", p.message);
}

fn verify_names_an_altered_evaluation(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let snaps = three_scans(&mut store);
    let first = &snaps[0].id;
    // Finding bodies are stored once per content: turn the first snapshot's failures into
    // passes where they are kept. The body no longer hashes to its key.
    store
        .execute_raw(&format!(
            "UPDATE finding_bodies SET body = REPLACE(body, '\"status\":\"fail\"', '\"status\":\"pass\"') \
             WHERE hash IN (SELECT body_hash FROM finding_versions WHERE status = 'fail' \
             AND valid_from <= (SELECT seq FROM snapshots WHERE id = '{first}'))"
        ))
        .unwrap();
    let report = store.verify().unwrap();
    let altered = report
        .problems
        .iter()
        .find(|p| p.message.contains("stored finding of rule"))
        .expect("the altered finding body is named");
    assert!(
        altered.message.contains("was altered"),
        "{}",
        altered.message
    );
    assert!(altered.resource.is_some());
    // The status the queries read, changed in the versions: the digest of every snapshot
    // that holds the version changes; the first snapshot is named first.
    store
        .execute_raw("UPDATE finding_versions SET status = 'pass' WHERE status = 'fail'")
        .unwrap();
    let report = store.verify().unwrap();
    let evaluation: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.message.contains("evaluation was altered"))
        .collect();
    assert!(!evaluation.is_empty(), "{:?}", report.problems);
    assert_eq!(evaluation[0].snapshot.as_deref(), Some(first.as_str()));
}

fn pruning_keeps_the_chain_verifiable(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let snaps = three_scans(&mut store);
    let pruned = store.prune(t(90)).unwrap();
    assert_eq!(pruned.snapshots, 2);
    assert!(pruned.bodies >= 1, "the superseded vpc-c bodies are gone");
    let left = store.snapshots().unwrap();
    assert_eq!(
        left.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![snaps[2].id.clone()]
    );
    assert_eq!(store.resources(&snaps[2].id).unwrap().len(), 3);
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_bodies")
            .unwrap(),
        2,
        "the kept snapshot still uses the bodies it shared"
    );
    assert_eq!(store.findings(&snaps[2].id).unwrap().len(), 2);
    for table in ["collections", "gaps"] {
        assert_eq!(
            store
                .count_raw(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE snapshot_id <> '{}'",
                    snaps[2].id
                ))
                .unwrap(),
            0,
            "the pruned snapshots' {table} are gone"
        );
    }
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The newest snapshot is always kept, even when it is old.
    assert_eq!(store.prune(t(10_000)).unwrap().snapshots, 0);
    // And the chain continues from the checkpoint.
    scan(
        &mut store,
        simple(300, vec![vpc("us-east-1", "vpc-a", "10.0.0.0/16")]),
    );
    assert!(store.verify().unwrap().problems.is_empty());
    // Pruning the last snapshot with findings removes the bodies nothing uses any more.
    assert_eq!(store.prune(t(10_000)).unwrap().snapshots, 1);
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_bodies")
            .unwrap(),
        0
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

fn drift_events_are_stored_with_their_snapshot(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let a = vpc("us-east-1", "vpc-a", "10.0.0.0/16");
    let (s1, _) = scan(&mut store, simple(0, vec![a.clone()]));
    let event = serde_json::json!({"event": "resource_modified", "arn": a.arn, "changes": [{"pointer": "/config/cidr_block"}]});
    let (s2, _) = scan(
        &mut store,
        Scan {
            at: 60,
            regions: &["us-east-1"],
            resources: vec![vpc("us-east-1", "vpc-a", "10.9.0.0/16")],
            findings: vec![],
            drift: vec![(
                "resource_modified".into(),
                None,
                a.arn.to_string(),
                event.clone(),
            )],
        },
    );
    let drift = store.drift_between(&s1.id, &s2.id).unwrap();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].body, event);
    assert_eq!(drift[0].snapshot_id, s2.id.as_str());
    store
        .execute_raw(&format!(
            "UPDATE drift_events SET event = 'x', body = '{{}}' WHERE snapshot_id = '{}'",
            s2.id
        ))
        .unwrap();
    let report = store.verify().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("drift events were altered")),
        "{:?}",
        report.problems
    );
}

/// A VPC of `account`.
fn vpc_of(account: &str, region: &str, id: &str) -> Resource {
    let mut r = vpc(region, id, "10.0.0.0/16");
    r.account = AccountId::new(account).unwrap();
    r.arn = Arn::new(format!("arn:aws:ec2:{region}:{account}:vpc/{id}")).unwrap();
    r
}

fn an_open_snapshot_is_read_back_one_account_at_a_time(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let (a, b) = ("111122223333", "444455556666");
    // Upper case sorts before lower case bytewise, whatever the database's collation.
    let a_east_lower = vpc_of(a, "us-east-1", "vpc-a");
    let a_east_upper = vpc_of(a, "us-east-1", "vpc-B");
    let a_west = vpc_of(a, "us-west-2", "vpc-c");
    let b_east = vpc_of(b, "us-east-1", "vpc-d");
    let accounts = [AccountId::new(a).unwrap(), AccountId::new(b).unwrap()];
    let east = Region::new("us-east-1").unwrap();
    let regions = vec![east.clone(), Region::new("us-west-2").unwrap()];
    let summary = |at: i64| SnapshotSummary {
        finished_at: t(at) + chrono::Duration::seconds(30),
        accounts: accounts.to_vec(),
        regions: regions.clone(),
        services: vec!["ec2".into()],
        api_calls: Default::default(),
        baseline: ("test baseline".into(), "1".into()),
    };

    let mut w = store.begin_snapshot(t(0)).unwrap();
    for r in [&b_east, &a_west, &a_east_lower, &a_east_upper] {
        w.put_resource(r).unwrap();
    }
    assert_eq!(w.staged_accounts().unwrap(), accounts.to_vec());
    assert_eq!(
        w.staged_resources(None, Some(&accounts[0]), None).unwrap(),
        vec![a_east_upper.clone(), a_east_lower.clone(), a_west.clone()],
        "one account's resources, sorted by (kind, ARN) in byte order"
    );
    assert_eq!(
        w.staged_resources(Some("aws_ec2_vpc"), None, Some(&east))
            .unwrap(),
        vec![a_east_upper.clone(), a_east_lower.clone(), b_east.clone()]
    );
    assert!(
        w.staged_resources(Some("aws_s3_bucket"), None, None)
            .unwrap()
            .is_empty()
    );
    // Findings arrive one account at a time and keep that order.
    let mut of_a = vec![
        finding(&a_east_upper, Status::Fail),
        finding(&a_west, Status::Pass),
    ];
    let mut of_b = vec![finding(&b_east, Status::Fail)];
    let at = t(0) + chrono::Duration::seconds(30);
    w.put_findings(&mut of_a, at).unwrap();
    w.put_findings(&mut of_b, at).unwrap();
    let first = w.commit(summary(0)).unwrap();
    let all: Vec<Finding> = of_a.iter().chain(&of_b).cloned().collect();
    assert_eq!(store.findings(&first.id).unwrap(), all);
    let page = store.findings_page(&first.id, None, 2).unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[1].1, all[1]);
    let rest = store
        .findings_page(&first.id, Some(page[1].0.clone()), 2)
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].1, all[2]);
    assert!(
        store
            .findings_page(&first.id, Some(rest[0].0.clone()), 2)
            .unwrap()
            .is_empty()
    );

    // The next scan reads the previous snapshot one account at a time.
    let mut w = store.begin_snapshot(t(60)).unwrap();
    assert_eq!(
        w.snapshot_resources(&first.id, &accounts[1]).unwrap(),
        vec![b_east.clone()]
    );
    assert_eq!(w.snapshot_findings(&first.id, &accounts[0]).unwrap(), of_a);
    // The second scan no longer sees account B's VPC: its failure is resolved.
    w.put_resource(&a_east_upper).unwrap();
    let mut again = vec![finding(&a_east_upper, Status::Fail)];
    w.put_findings(&mut again, t(60) + chrono::Duration::seconds(30))
        .unwrap();
    assert_eq!(
        again[0].first_seen,
        Some(at),
        "still failing since the first scan"
    );
    w.commit(summary(60)).unwrap();
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", b_east.arn.as_str())
        .unwrap();
    assert_eq!(episodes.len(), 1);
    assert!(episodes[0].resolved_at.is_some(), "{episodes:?}");
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

fn the_coverage_record_streams_in_and_reads_back_in_order(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let regions = ["us-east-1", "eu-west-1", "ap-south-1"];
    let mut w = store.begin_snapshot(t(0)).unwrap();
    // More than one batch of each, interleaved as collectors report them.
    let mut expected_collections = Vec::new();
    let mut expected_gaps = Vec::new();
    for i in 0..1_200u32 {
        let region = Region::new(regions[i as usize % 3]).unwrap();
        let c = CollectionRecord {
            account: AccountId::new(format!("{:012}", 200_000_000_000u64 + u64::from(i / 3)))
                .unwrap(),
            region: region.clone(),
            service: "ec2".into(),
            resources: u64::from(i),
            complete: i % 7 != 0,
        };
        w.put_collection(&c).unwrap();
        expected_collections.push(c);
        let g = Gap {
            account: account(),
            region,
            service: "s3".into(),
            operation: "s3:GetBucketPolicy".into(),
            resource: Some(Arn::new(format!("arn:aws:s3:::bucket-{i:04}")).unwrap()),
            kind: posture_model::UnavailableKind::Denied,
            code: Some("AccessDenied".into()),
            message: "denied".into(),
        };
        w.put_gap(&g).unwrap();
        expected_gaps.push(g);
    }
    // And one failed list call in another account.
    let other = AccountId::new("200000000000").unwrap();
    let list_gap = Gap {
        account: other.clone(),
        region: Region::new("us-east-1").unwrap(),
        service: "ec2".into(),
        operation: "ec2:DescribeFlowLogs".into(),
        resource: None,
        kind: posture_model::UnavailableKind::Denied,
        code: None,
        message: "denied".into(),
    };
    w.put_gap(&list_gap).unwrap();
    expected_gaps.push(list_gap.clone());
    // The open snapshot reads back an account's list-level gaps (not those about one
    // resource), which accounts have any, and every collection.
    assert!(w.staged_list_gaps(&account()).unwrap().is_empty());
    assert_eq!(w.staged_list_gaps(&other).unwrap(), vec![list_gap]);
    assert_eq!(w.staged_gap_accounts().unwrap(), vec![other]);
    let first = AccountId::new("200000000000").unwrap();
    let mut collected = w.staged_collections(&first).unwrap();
    collected.sort();
    let mut expected: Vec<(Region, String)> = expected_collections
        .iter()
        .filter(|c| c.account == first)
        .map(|c| (c.region.clone(), c.service.clone()))
        .collect();
    expected.sort();
    assert_eq!(collected, expected);
    assert_eq!(collected.len(), 3, "one per region");
    assert!(w.has_staged_collections().unwrap());
    let meta = w
        .commit(SnapshotSummary {
            finished_at: t(1),
            accounts: vec![account()],
            regions: regions.iter().map(|r| Region::new(*r).unwrap()).collect(),
            services: vec!["ec2".into(), "s3".into()],
            api_calls: [("s3:GetBucketPolicy".to_owned(), 1_200)].into(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
    assert_eq!(meta.coverage.collections, 1_200);
    assert_eq!(
        meta.coverage.incomplete,
        (0..1_200).filter(|i| i % 7 == 0).count() as u64
    );
    assert_eq!(meta.coverage.failed_calls, 1_201);
    assert_eq!(
        store.snapshot(meta.id.as_str()).unwrap().coverage,
        meta.coverage
    );

    let mut read = Vec::new();
    for_each_page(
        |after| store.collections_page(&meta.id, after, 3),
        |c| {
            read.push(c);
            Ok(())
        },
    )
    .unwrap();
    expected_collections.sort();
    assert_eq!(read, expected_collections, "sorted, whole, across pages");
    let mut read = Vec::new();
    for_each_page(
        |after| store.gaps_page(&meta.id, after, 2),
        |g| {
            read.push(g);
            Ok(())
        },
    )
    .unwrap();
    expected_gaps.sort();
    assert_eq!(read, expected_gaps);
    assert!(store.verify().unwrap().problems.is_empty());
}

fn verify_names_an_altered_coverage_record(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let snaps = three_scans(&mut store);
    assert!(store.verify().unwrap().problems.is_empty());
    // The three scans recorded the same coverage: one version of each row, valid in all
    // three snapshots. Marking the incomplete collection complete alters all three.
    let all: Vec<&str> = snaps.iter().map(|s| s.id.as_str()).collect();
    let coverage_problems = |store: &mut Store| -> Vec<String> {
        let report = store.verify().unwrap();
        assert!(
            report
                .problems
                .iter()
                .all(|p| p.message.contains("coverage statement was altered")),
            "{:?}",
            report.problems
        );
        report
            .problems
            .into_iter()
            .filter_map(|p| p.snapshot)
            .collect()
    };
    store
        .execute_raw("UPDATE collection_versions SET complete = 1")
        .unwrap();
    assert_eq!(coverage_problems(&mut store), all);
    store
        .execute_raw("UPDATE collection_versions SET complete = 0")
        .unwrap();
    assert!(store.verify().unwrap().problems.is_empty());
    // Hiding a failed call would turn "could not see" into silence.
    store.execute_raw("DELETE FROM gap_versions").unwrap();
    assert_eq!(coverage_problems(&mut store), all);
}

/// Issue 11: a scan whose `ec2:DescribeVpcs` was denied saw no VPC. The VPCs stay in its
/// snapshot (not retired), the failing one's episode stays open through the `error` the
/// pipeline carries, and when the VPCs are read again the failure goes on from its first
/// scan: one episode, the same first-seen time. A security group of the same service,
/// read in full in the same scan, is retired and its failure resolved as usual.
fn an_unread_kind_keeps_its_resources_and_its_failures_open(loc: &StoreLocation) {
    use posture_model::resources::SecurityGroup;
    let mut store = Store::open(loc).unwrap();
    let a = vpc("us-east-1", "vpc-a", "10.0.0.0/16");
    let b = vpc("us-east-1", "vpc-b", "10.1.0.0/16");
    let sg = Resource {
        arn: Arn::new("arn:aws:ec2:us-east-1:111122223333:security-group/sg-1").unwrap(),
        account: account(),
        region: Region::new("us-east-1").unwrap(),
        tags: Observed::Collected(Default::default()),
        body: ResourceBody::SecurityGroup(SecurityGroup {
            group_id: "sg-1".into(),
            group_name: "db".into(),
            vpc_id: None,
            ingress: vec![],
            egress: vec![],
        }),
    };
    let mut sg_finding = finding(&sg, Status::Fail);
    sg_finding.rule_id = RuleId::new("ec2_security_group_no_admin_ports").unwrap();
    let (s1, f1) = scan(
        &mut store,
        Scan {
            at: 0,
            regions: &["us-east-1"],
            resources: vec![a.clone(), b.clone(), sg.clone()],
            findings: vec![
                finding(&a, Status::Fail),
                finding(&b, Status::Pass),
                sg_finding.clone(),
            ],
            drift: vec![],
        },
    );
    let opened = f1[0].first_seen;
    assert!(opened.is_some());

    // Scan 2: the VPC listing is denied; the security group is gone (read in full).
    let region = Region::new("us-east-1").unwrap();
    let denied = Gap {
        account: account(),
        region: region.clone(),
        service: "ec2".into(),
        operation: "ec2:DescribeVpcs".into(),
        resource: None,
        kind: posture_model::UnavailableKind::Denied,
        code: Some("UnauthorizedOperation".into()),
        message: "not authorized".into(),
    };
    let collected = [(region.clone(), "ec2".to_owned())];
    let services = ["ec2".to_owned()];
    let unread = Unread::of_account(&posture_model::AccountScan {
        regions: std::slice::from_ref(&region),
        services: &services,
        collected: &collected,
        gaps: std::slice::from_ref(&denied),
    });
    let at = t(60);
    let finished_at = at + chrono::Duration::seconds(30);
    let mut w = store.begin_snapshot(at).unwrap();
    w.put_collection(&CollectionRecord {
        account: account(),
        region: region.clone(),
        service: "ec2".into(),
        resources: 0,
        complete: false,
    })
    .unwrap();
    w.put_gap(&denied).unwrap();
    w.put_unread(&account(), &unread, std::slice::from_ref(&region))
        .unwrap();
    // What the pipeline carries for the unread VPCs.
    let mut carried = vec![finding(&a, Status::Error), finding(&b, Status::Error)];
    w.put_findings(&mut carried, finished_at).unwrap();
    let s2 = w
        .commit(SnapshotSummary {
            finished_at,
            accounts: vec![account()],
            regions: vec![region.clone()],
            services: vec!["ec2".into()],
            api_calls: [("ec2:DescribeVpcs".to_owned(), 1)].into(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
    let kept = store.resources(&s2.id).unwrap();
    assert_eq!(
        kept.iter().map(|r| r.arn.as_str()).collect::<Vec<_>>(),
        vec![a.arn.as_str(), b.arn.as_str()],
        "the unread VPCs stay, the security group read as gone is retired"
    );
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", a.arn.as_str())
        .unwrap();
    assert_eq!(episodes.len(), 1);
    assert!(
        episodes[0].resolved_at.is_none(),
        "an undecided failure is not resolved: {episodes:?}"
    );
    let sg_episodes = store
        .failure_episodes(sg_finding.rule_id.as_str(), sg.arn.as_str())
        .unwrap();
    assert!(
        sg_episodes[0].resolved_at.is_some(),
        "the security group read as gone resolves its failure: {sg_episodes:?}"
    );

    // Scan 3: read again, still failing: the same episode goes on.
    let (_, f3) = scan(
        &mut store,
        Scan {
            at: 120,
            regions: &["us-east-1"],
            resources: vec![a.clone(), b.clone()],
            findings: vec![finding(&a, Status::Fail), finding(&b, Status::Pass)],
            drift: vec![],
        },
    );
    assert_eq!(f3[0].first_seen, opened, "failing since the first scan");
    let episodes = store
        .failure_episodes("vpc_flow_logs_enabled", a.arn.as_str())
        .unwrap();
    assert_eq!(episodes.len(), 1, "no second episode: {episodes:?}");
    assert!(episodes[0].resolved_at.is_none());
    assert_eq!(store.resources(&s1.id).unwrap().len(), 3);
    assert!(store.verify().unwrap().problems.is_empty());
}

/// Issue 11: a read-only command pointed at a path with a typo must not create a store
/// and then report it as intact.
#[test]
fn opening_an_existing_store_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let typo = dir.path().join("typo").join("posture.sqlite");
    let err = Store::open_existing(&StoreLocation::Sqlite(typo.clone())).unwrap_err();
    assert!(
        matches!(err, posture_store::StoreError::Missing { .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("no store at "), "{err}");
    assert!(!typo.exists() && !typo.parent().unwrap().exists());

    // A SQLite file that is not a Posture store is named as such and left unchanged.
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x TEXT)")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    let err = Store::open_existing(&StoreLocation::Sqlite(other.clone())).unwrap_err();
    assert!(
        matches!(err, posture_store::StoreError::NotAStore { .. }),
        "{err}"
    );
    assert_eq!(std::fs::read(&other).unwrap(), before, "not migrated");

    // A store a scan created opens.
    let real = StoreLocation::Sqlite(dir.path().join("real.sqlite"));
    scan(&mut Store::open(&real).unwrap(), simple(0, vec![]));
    let mut store = Store::open_existing(&real).unwrap();
    assert_eq!(store.snapshots().unwrap().len(), 1);
}

/// The same against a PostgreSQL database without Posture's schema: refused, not migrated.
#[test]
fn an_empty_postgres_database_is_not_a_store_and_is_not_migrated() {
    let pg = support::Postgres::start();
    let url = pg.fresh_database();
    let err = Store::open_existing(&StoreLocation::Postgres(url.clone())).unwrap_err();
    assert!(
        matches!(err, posture_store::StoreError::NotAStore { .. }),
        "{err}"
    );
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let tables: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing was created");
}

/// Issue 13: several scanners (daemon replicas) write to one PostgreSQL store at once. The
/// only critical section is the chain append at commit: a scan of account B begins, stages
/// and commits while a scan of account A is open with its findings staged (before, A held a
/// table lock from its first findings, and B waited for A's commit). The chain stays one
/// line: B is snapshot 1, A snapshot 2, linked, and both verify.
#[test]
fn postgres_writers_of_different_accounts_run_at_once() {
    let pg = support::Postgres::start();
    let location = StoreLocation::Postgres(pg.fresh_database());
    let of = |account: &str, id: &str| Resource {
        arn: Arn::new(format!("arn:aws:ec2:us-east-1:{account}:vpc/{id}")).unwrap(),
        account: AccountId::new(account).unwrap(),
        ..vpc("us-east-1", id, "10.0.0.0/16")
    };
    let a = of("111122223333", "vpc-a");
    let mut store = Store::open(&location).unwrap();
    let mut writer = store.begin_snapshot(t(0)).unwrap();
    writer.put_resource(&a).unwrap();
    let mut findings = vec![finding(&a, Status::Fail)];
    writer.put_findings(&mut findings, t(1)).unwrap();

    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn({
        let location = location.clone();
        move || {
            let b = of("444455556666", "vpc-b");
            let mut store = Store::open(&location).unwrap();
            let mut w = store.begin_snapshot(t(2)).unwrap();
            w.put_resource(&b).unwrap();
            let mut findings = vec![finding(&b, Status::Pass)];
            w.put_findings(&mut findings, t(3)).unwrap();
            let meta = w
                .commit(SnapshotSummary {
                    finished_at: t(3),
                    accounts: vec![b.account.clone()],
                    regions: vec![Region::new("us-east-1").unwrap()],
                    services: vec!["ec2".into()],
                    api_calls: Default::default(),
                    baseline: ("test baseline".into(), "1".into()),
                })
                .unwrap();
            let _ = done_tx.send(meta.id);
        }
    });
    let b_id = done_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the second writer commits while the first is still open");
    other.join().unwrap();
    let a_meta = writer
        .commit(SnapshotSummary {
            finished_at: t(1),
            accounts: vec![a.account.clone()],
            regions: vec![Region::new("us-east-1").unwrap()],
            services: vec!["ec2".into()],
            api_calls: Default::default(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap();
    let snaps = store.snapshots().unwrap();
    assert_eq!(
        snaps.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![b_id.clone(), a_meta.id.clone()],
        "numbered in commit order"
    );
    assert_eq!(store.findings(&b_id).unwrap()[0].status, Status::Pass);
    assert_eq!(store.findings(&a_meta.id).unwrap()[0].status, Status::Fail);
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.snapshots, 2);
}

/// Two scans of the same account at once on PostgreSQL (a daemon's and a one-off
/// `--account` scan): the second waits for the first to commit before it reads the
/// account's findings, so it decides against the state the first left. Before, both read
/// the state before either: the first turned a failure into a pass, the second saw the
/// failure again, found it "unchanged" against the old state and wrote nothing, and its
/// snapshot showed the first scan's pass.
#[test]
fn postgres_writers_of_the_same_account_take_turns() {
    let pg = support::Postgres::start();
    let location = StoreLocation::Postgres(pg.fresh_database());
    let a = vpc("us-east-1", "vpc-a", "10.0.0.0/16");
    let summary = |at: i64| SnapshotSummary {
        finished_at: t(at),
        accounts: vec![account()],
        regions: vec![Region::new("us-east-1").unwrap()],
        services: vec!["ec2".into()],
        api_calls: Default::default(),
        baseline: ("test baseline".into(), "1".into()),
    };
    let mut store = Store::open(&location).unwrap();
    // The history: the VPC fails.
    let mut w = store.begin_snapshot(t(0)).unwrap();
    w.put_resource(&a).unwrap();
    w.put_findings(&mut [finding(&a, Status::Fail)], t(0))
        .unwrap();
    w.commit(summary(0)).unwrap();

    // Scan 1 sees it fixed and stays open.
    let mut first = store.begin_snapshot(t(10)).unwrap();
    first.put_resource(&a).unwrap();
    first
        .put_findings(&mut [finding(&a, Status::Pass)], t(10))
        .unwrap();
    // Scan 2 of the same account sees it failing (say, it was broken again).
    let (staged_tx, staged_rx) = std::sync::mpsc::channel();
    let second = std::thread::spawn({
        let location = location.clone();
        let a = a.clone();
        move || {
            let mut store = Store::open(&location).unwrap();
            let mut w = store.begin_snapshot(t(20)).unwrap();
            w.put_resource(&a).unwrap();
            w.put_findings(&mut [finding(&a, Status::Fail)], t(20))
                .unwrap();
            let _ = staged_tx.send(());
            w.commit(summary(20)).unwrap().id
        }
    });
    // With the claim, scan 2 waits for scan 1's commit (its findings are not staged
    // within two seconds); without it, it stages at once against the old state.
    let waited = staged_rx
        .recv_timeout(std::time::Duration::from_secs(2))
        .is_err();
    let first_id = first.commit(summary(10)).unwrap().id;
    let second_id = second.join().unwrap();
    assert!(
        waited,
        "the second writer of the account waits for the first"
    );
    assert_eq!(store.findings(&first_id).unwrap()[0].status, Status::Pass);
    let latest = store.findings(&second_id).unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].status, Status::Fail, "scan 2 saw a failure");
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// The coverage record as versions: a failed call that stops failing, and a collection
/// that becomes complete, close their versions; each snapshot still reads back its own
/// record, and a later scan of another account leaves this one's record alone.
#[test]
fn each_snapshot_reads_back_its_own_coverage_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("cov.sqlite"))).unwrap();
    let other = AccountId::new("444455556666").unwrap();
    let scan_of = |store: &mut Store, at: i64, account: &AccountId, failing: bool| {
        let mut w = store.begin_snapshot(t(at)).unwrap();
        let (mut collected, mut failed) = coverage_of(&["us-east-1"]);
        for c in &mut collected {
            c.account = account.clone();
            c.complete = !failing;
        }
        for g in &mut failed {
            g.account = account.clone();
        }
        for c in &collected {
            w.put_collection(c).unwrap();
        }
        if failing {
            for g in &failed {
                w.put_gap(g).unwrap();
            }
        }
        w.commit(SnapshotSummary {
            finished_at: t(at),
            accounts: vec![account.clone()],
            regions: vec![Region::new("us-east-1").unwrap()],
            services: vec!["ec2".into()],
            api_calls: Default::default(),
            baseline: ("test baseline".into(), "1".into()),
        })
        .unwrap()
    };
    let record = |store: &mut Store, meta: &SnapshotMeta| {
        let collections = store.collections_page(&meta.id, None, 10).unwrap();
        let gaps = store.gaps_page(&meta.id, None, 10).unwrap();
        (
            collections
                .iter()
                .map(|(_, c)| (c.account.to_string(), c.complete))
                .collect::<Vec<_>>(),
            gaps.len(),
        )
    };
    let first = scan_of(&mut store, 0, &account(), true);
    let second = scan_of(&mut store, 60, &account(), false);
    let third = scan_of(&mut store, 120, &other, true);
    assert_eq!(
        record(&mut store, &first),
        (vec![("111122223333".to_owned(), false)], 1)
    );
    assert_eq!(
        record(&mut store, &second),
        (vec![("111122223333".to_owned(), true)], 0),
        "the failed call stopped failing"
    );
    assert_eq!(
        record(&mut store, &third),
        (vec![("444455556666".to_owned(), false)], 1)
    );
    // The scan of the other account left this one's current record open.
    assert_eq!(
        store
            .count_raw(
                "SELECT COUNT(*) FROM collection_versions WHERE account = '111122223333' \
                 AND valid_to IS NULL AND complete = 1"
            )
            .unwrap(),
        1
    );
    assert_eq!(first.coverage.failed_calls, 1);
    assert_eq!(second.coverage.failed_calls, 0);
    assert!(store.verify().unwrap().problems.is_empty());
}

/// The findings of a filtered read, a page of `limit` rows at a time.
fn filtered(
    store: &mut Store,
    id: &posture_model::SnapshotId,
    filter: &posture_store::FindingFilter,
    limit: usize,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .findings_page_filtered(id, filter, after, limit)
            .unwrap();
        assert!(page.findings.len() <= limit);
        out.extend(page.findings.into_iter().map(|(_, f)| f));
        match page.next {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

/// The API filters findings by status, severity, rule, account and region in SQL: every
/// filter, alone and together, at every page size, returns exactly the findings of the
/// whole snapshot that match, in the same order, with no duplicate or gap between pages.
fn filtered_finding_pages_hold_exactly_the_matching_findings(loc: &StoreLocation) {
    use posture_store::FindingFilter;
    let mut store = Store::open(loc).unwrap();
    let (a, b) = ("111122223333", "444455556666");
    let mut findings = Vec::new();
    for (i, (account, region)) in [
        (a, "us-east-1"),
        (a, "us-west-2"),
        (b, "us-east-1"),
        (b, "us-west-2"),
    ]
    .into_iter()
    .enumerate()
    {
        for j in 0..3 {
            let r = vpc_of(account, region, &format!("vpc-{i}{j}"));
            let mut f = finding(&r, [Status::Pass, Status::Fail, Status::Error][(i + j) % 3]);
            f.severity = [Severity::Low, Severity::High][j % 2];
            findings.push(f.clone());
            f.rule_id = RuleId::new("vpc_default_security_group_closed").unwrap();
            f.status = [Status::Fail, Status::Pass][j % 2];
            f.severity = Severity::Critical;
            findings.push(f);
        }
    }
    let (meta, _) = scan(
        &mut store,
        Scan {
            at: 0,
            regions: &["us-east-1", "us-west-2"],
            resources: vec![],
            findings,
            drift: vec![],
        },
    );
    let all = store.findings(&meta.id).unwrap();
    assert_eq!(all.len(), 24);
    let filters = [
        FindingFilter::default(),
        FindingFilter {
            statuses: vec![Status::Fail],
            ..Default::default()
        },
        FindingFilter {
            statuses: vec![Status::Fail, Status::Error],
            ..Default::default()
        },
        FindingFilter {
            severities: vec![Severity::High],
            ..Default::default()
        },
        FindingFilter {
            rule: Some(RuleId::new("vpc_default_security_group_closed").unwrap()),
            ..Default::default()
        },
        FindingFilter {
            account: Some(AccountId::new(b).unwrap()),
            ..Default::default()
        },
        FindingFilter {
            region: Some(Region::new("us-west-2").unwrap()),
            ..Default::default()
        },
        FindingFilter {
            statuses: vec![Status::Fail],
            severities: vec![Severity::Critical],
            account: Some(AccountId::new(a).unwrap()),
            region: Some(Region::new("us-east-1").unwrap()),
            rule: Some(RuleId::new("vpc_default_security_group_closed").unwrap()),
        },
        FindingFilter {
            statuses: vec![Status::Waived],
            ..Default::default()
        },
    ];
    for filter in &filters {
        let expected: Vec<&Finding> = all.iter().filter(|f| filter.matches(f)).collect();
        for limit in [1, 2, 5, 100] {
            let got = filtered(&mut store, &meta.id, filter, limit);
            assert_eq!(
                got.iter().collect::<Vec<_>>(),
                expected,
                "filter {filter:?}, pages of {limit}"
            );
        }
    }
    // The combined filter is two findings, and the account filter half of them: the
    // filters were applied, not ignored.
    assert_eq!(filtered(&mut store, &meta.id, &filters[7], 10).len(), 2);
    assert_eq!(filtered(&mut store, &meta.id, &filters[5], 10).len(), 12);
    assert!(filtered(&mut store, &meta.id, &filters[8], 10).is_empty());
    assert_eq!(filtered(&mut store, &meta.id, &filters[1], 100).len(), 12);
}

/// Snapshots are listed newest first a page at a time, each page continuing from the last
/// position of the one before.
fn snapshot_pages_walk_the_history_newest_first(loc: &StoreLocation) {
    let mut store = Store::open(loc).unwrap();
    let metas = three_scans(&mut store);
    let first = store.snapshots_page(None, 2).unwrap();
    assert_eq!(
        first.iter().map(|(_, m)| m.id.clone()).collect::<Vec<_>>(),
        vec![metas[2].id.clone(), metas[1].id.clone()]
    );
    assert_eq!(first[0].1, metas[2]);
    let rest = store.snapshots_page(Some(first[1].0), 2).unwrap();
    assert_eq!(
        rest.iter().map(|(_, m)| m.id.clone()).collect::<Vec<_>>(),
        vec![metas[0].id.clone()]
    );
    assert!(store.snapshots_page(Some(rest[0].0), 2).unwrap().is_empty());
}
