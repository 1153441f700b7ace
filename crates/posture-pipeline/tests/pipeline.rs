//! The pipeline against a real SQLite store: the findings it streams are exactly those of
//! a whole-snapshot evaluation (with the coverage record streamed through the store too),
//! drift is computed per account, and a cancelled evaluation leaves no snapshot.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::sync::atomic::AtomicBool;

use chrono::{Duration, TimeZone, Utc};
use posture_check::{Baseline, Input, PhiScope, Settings};
use posture_model::{
    AccountId, CollectionRecord, Coverage, Finding, Gap, Region, Resource, ResourceBody,
    UnavailableKind,
};
use posture_pipeline::{Error, Job};
use posture_store::{DriftPart, SnapshotSummary, Store, StoreLocation, for_each_page};

/// The seeded account (a real scan of the end-to-end suite's moto account) in `n` accounts.
fn estate(n: u64) -> Vec<Resource> {
    let templates = include_str!("../../posture-check/benches/seeded-account.jsonl");
    let mut out = Vec::new();
    for i in 0..n {
        let id = format!("{:012}", 100_000_000_000 + i);
        for line in templates.lines() {
            out.push(serde_json::from_str(&line.replace("123456789012", &id)).unwrap());
        }
    }
    out
}

fn accounts(n: u64) -> Vec<AccountId> {
    (0..n)
        .map(|i| AccountId::new(format!("{:012}", 100_000_000_000 + i)).unwrap())
        .collect()
}

fn regions() -> Vec<Region> {
    vec![
        Region::new("us-east-1").unwrap(),
        Region::new("us-west-2").unwrap(),
    ]
}

fn services(resources: &[Resource]) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = resources
        .iter()
        .map(|r| r.kind().service().to_owned())
        .collect();
    set.into_iter().collect()
}

/// What a scan of `n` accounts reports as covered: every service in both regions and
/// globally, in reverse order (the store must put them in order), with the flow logs of
/// the second account's us-east-1 not listable (a list-level gap, which turns rules that
/// need them into errors there) and one bucket's policy unreadable (a gap about one
/// resource).
fn coverage(n: u64, services: &[String]) -> Coverage {
    let mut collected = Vec::new();
    for account in accounts(n) {
        for region in regions().into_iter().chain([Region::global()]) {
            for service in services {
                collected.push(CollectionRecord {
                    account: account.clone(),
                    region: region.clone(),
                    service: service.clone(),
                    resources: 1,
                    complete: true,
                });
            }
        }
    }
    collected.reverse();
    let second = accounts(n).remove(1);
    let gap = |operation: &str, region: &str, resource: Option<String>| Gap {
        account: second.clone(),
        region: Region::new(region).unwrap(),
        service: operation.split(':').next().unwrap().to_owned(),
        operation: operation.to_owned(),
        resource: resource.map(|r| posture_model::Arn::new(r).unwrap()),
        kind: UnavailableKind::Denied,
        code: Some("AccessDenied".into()),
        message: "denied by a service control policy".into(),
    };
    Coverage {
        collected,
        failed: vec![
            gap(
                "s3:GetBucketPolicy",
                "global",
                Some("arn:aws:s3:::some-bucket".into()),
            ),
            gap("ec2:DescribeFlowLogs", "us-east-1", None),
        ],
        api_calls: [("ec2:DescribeFlowLogs".to_owned(), 7)].into(),
    }
}

/// Stages `resources` and `coverage`, runs the pipeline and commits; returns the
/// evaluation's result and the stored findings.
fn scan(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    n: u64,
    coverage: &Coverage,
    cancel: Option<&AtomicBool>,
) -> Result<(posture_pipeline::Evaluated, Vec<Finding>), Error> {
    scan_excluding(store, minutes, resources, n, coverage, cancel, &[])
}

/// [`scan`] with `excluded` services left out of the scan (and of its service list).
fn scan_excluding(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    n: u64,
    coverage: &Coverage,
    cancel: Option<&AtomicBool>,
    excluded: &[String],
) -> Result<(posture_pipeline::Evaluated, Vec<Finding>), Error> {
    scan_of(
        store,
        minutes,
        resources,
        accounts(n),
        coverage,
        cancel,
        excluded,
    )
}

/// [`scan_excluding`] of the accounts `accounts` (a one-off `--account`, or a daemon cycle
/// that covers part of an organization).
fn scan_of(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    accounts: Vec<AccountId>,
    coverage: &Coverage,
    cancel: Option<&AtomicBool>,
    excluded: &[String],
) -> Result<(posture_pipeline::Evaluated, Vec<Finding>), Error> {
    let n = accounts.len() as u64;
    let baseline = Baseline::hipaa().unwrap();
    let phi = PhiScope::default();
    let started = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes);
    let finished_at = started + Duration::seconds(30);
    let (regions, mut services) = (regions(), services(resources));
    services.retain(|s| !excluded.contains(s));
    let mut writer = store.begin_snapshot(started).unwrap();
    for r in resources {
        writer.put_resource(r).unwrap();
    }
    for c in &coverage.collected {
        writer.put_collection(c).unwrap();
    }
    for g in &coverage.failed {
        writer.put_gap(g).unwrap();
    }
    let job = Job {
        settings: Settings {
            baseline: &baseline,
            waivers: None,
            attestations: None,
            phi: &phi,
            now: finished_at,
        },
        accounts: &accounts,
        regions: &regions,
        services: &services,
        excluded,
        finished_at,
        alert_routes: &[],
        cancel,
    };
    let mut seen = Vec::new();
    let evaluated = posture_pipeline::evaluate(&mut writer, &job, &mut |done, total| {
        seen.push((done, total));
    })?;
    assert_eq!(
        seen.last(),
        Some(&(n as usize, n as usize)),
        "progress per account"
    );
    let meta = writer
        .commit(SnapshotSummary {
            finished_at,
            accounts,
            regions,
            services,
            api_calls: coverage.api_calls.clone(),
            baseline: (baseline.name.clone(), baseline.version.clone()),
        })
        .unwrap();
    let findings = store.findings(&meta.id).unwrap();
    Ok((evaluated, findings))
}

#[test]
fn streamed_findings_equal_a_whole_snapshot_evaluation_and_drift_is_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let mut resources = estate(3);
    // An organization analyzer in the first account covers the others (a lookup across
    // accounts that the per-account evaluation must load).
    let east = Region::new("us-east-1").unwrap();
    let owner = accounts(1).remove(0);
    resources.push(Resource {
        arn: posture_model::Arn::new(format!(
            "arn:aws:access-analyzer:us-east-1:{owner}:analyzer/org"
        ))
        .unwrap(),
        account: owner,
        region: east,
        tags: posture_model::Observed::Absent,
        body: ResourceBody::AccessAnalyzer(posture_model::resources::AccessAnalyzer {
            name: "org".into(),
            analyzer_type: "ORGANIZATION".into(),
            status: "ACTIVE".into(),
        }),
    });

    let coverage = coverage(3, &services(&resources));
    let (evaluated, stored) = scan(&mut store, 0, &resources, 3, &coverage, None).unwrap();
    // What the checker gives the whole snapshot at once (the store keeps the last body of
    // a resource staged twice in one account, as the templates have a few; the copies of a
    // bucket or an AWS managed policy in other accounts are resources of their own).
    let mut unique: Vec<Resource> = Vec::new();
    for r in resources.iter().rev() {
        if !unique
            .iter()
            .any(|u| u.kind() == r.kind() && u.arn == r.arn && u.account == r.account)
        {
            unique.push(r.clone());
        }
    }
    // The store reads resources back in (kind, ARN) order; a rule that names the first of
    // several related resources names the same one when given them in that order.
    unique.sort_by(|a, b| {
        (a.kind().as_str(), a.arn.as_str()).cmp(&(b.kind().as_str(), b.arn.as_str()))
    });
    let whole = posture_check::evaluate(&Input {
        resources: &unique,
        coverage: &coverage,
        baseline: &Baseline::hipaa().unwrap(),
        waivers: None,
        attestations: None,
        phi: &PhiScope::default(),
        now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 30).unwrap(),
    });
    let without_first_seen = |f: &Finding| Finding {
        first_seen: None,
        ..f.clone()
    };
    assert_eq!(stored.len(), whole.findings.len());
    if let Some((a, b)) = stored
        .iter()
        .map(without_first_seen)
        .zip(whole.findings.iter())
        .find(|(a, b)| a != *b)
    {
        panic!(
            "first difference:\n{}\n{}",
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
    }
    assert!(
        stored
            .iter()
            .map(without_first_seen)
            .eq(whole.findings.iter().cloned()),
        "same findings in the same order"
    );
    assert!(stored.iter().all(|f| f.first_seen.is_some()));
    assert_eq!(
        evaluated.counts.values().sum::<usize>(),
        stored.len(),
        "counts cover every finding"
    );
    assert!(evaluated.drift.is_none(), "no previous snapshot");
    let flow_log_errors = stored
        .iter()
        .filter(|f| {
            f.rule_id.as_str() == "vpc_flow_logs_enabled"
                && f.status == posture_model::Status::Error
        })
        .collect::<Vec<_>>();
    assert!(
        !flow_log_errors.is_empty(),
        "the list-level gap was applied"
    );
    assert!(
        flow_log_errors
            .iter()
            .all(|f| f.resource.account == accounts(3)[1]
                && f.resource.region.as_str() == "us-east-1"),
        "only where the gap was"
    );

    // The coverage record reads back a page at a time, sorted, and its counts are in the
    // snapshot header.
    let meta = store.latest_snapshot().unwrap().unwrap();
    assert_eq!(meta.coverage, coverage.summary());
    let mut collections = Vec::new();
    for_each_page(
        |after| store.collections_page(&meta.id, after, 5),
        |c| {
            collections.push(c);
            Ok(())
        },
    )
    .unwrap();
    let mut sorted = coverage.collected.clone();
    sorted.sort();
    assert_eq!(collections, sorted);
    let gaps: Vec<Gap> = store
        .gaps_page(&meta.id, None, 100)
        .unwrap()
        .into_iter()
        .map(|(_, g)| g)
        .collect();
    let mut sorted = coverage.failed.clone();
    sorted.sort();
    assert_eq!(gaps, sorted);
    assert!(
        stored
            .iter()
            .any(|f| f.rule_id.as_str() == "iam_access_analyzer_enabled"
                && f.status == posture_model::Status::Pass
                && f.reason.contains("organization analyzer")),
        "the organization analyzer of another account was found"
    );

    // The next scan changes one account's trail: drift names it, in that account only.
    let mut changed = resources.clone();
    let target = accounts(3).remove(1);
    let trail = changed
        .iter_mut()
        .find(|r| r.account == target && matches!(r.body, ResourceBody::Trail(_)))
        .unwrap();
    if let ResourceBody::Trail(t) = &mut trail.body {
        t.log_file_validation_enabled = !t.log_file_validation_enabled;
    }
    let trail_arn = trail.arn.clone();
    let (evaluated, _) = scan(&mut store, 60, &changed, 3, &coverage, None).unwrap();
    let drift = evaluated.drift.expect("a previous snapshot");
    assert_eq!(drift.resources, 1, "{drift:?}");
    assert!(drift.still_failing > 0, "failures carried over are counted");
    // The events themselves are in the store, read back a page at a time.
    let id = store.latest_snapshot().unwrap().unwrap().id;
    let changes = store
        .drift_page(&id, DriftPart::Resources, None, 10)
        .unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].1.arn, trail_arn.as_str());
    assert_eq!(changes[0].1.event, "resource_modified");
    let mut transitions = Vec::new();
    for_each_page(
        |after| store.drift_page(&id, DriftPart::Findings, after, 2),
        |t| {
            transitions.push(t);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(
        transitions.len(),
        drift.transitions.values().sum::<usize>(),
        "every counted transition is stored"
    );
    assert!(
        transitions
            .iter()
            .all(|t| t.body["resource"]["account"] == target.as_str()),
        "{transitions:?}"
    );
    assert!(
        transitions
            .iter()
            .any(|t| t.rule_id.as_deref() == Some("cloudtrail_log_file_validation")),
        "{transitions:?}"
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

#[test]
fn a_cancelled_evaluation_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let cancel = AtomicBool::new(true);
    let result = scan(
        &mut store,
        0,
        &estate(2),
        2,
        &Coverage::default(),
        Some(&cancel),
    );
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(store.latest_snapshot().unwrap().is_none());
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM finding_versions")
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .count_raw("SELECT COUNT(*) FROM resource_versions")
            .unwrap(),
        0
    );
}

/// The drift events of the latest snapshot: (event, rule, ARN, kind of the resource).
/// Issue 13: each account is compared with its own previous complete scan. Scan A and B,
/// then A alone, then B alone with one of its VPCs changed: the third scan reports B's
/// change against the first scan (comparing with the latest snapshot, which covered only A,
/// hid it), and the second reports nothing for B (it was not scanned, so nothing of it is
/// removed).
#[test]
fn each_account_is_compared_with_its_own_previous_scan() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    // Resources whose ARN names no account (S3 buckets, AWS managed policies) are the same
    // resource in both copies of the seeded account: left out here.
    let all: Vec<Resource> = estate(2)
        .into_iter()
        .filter(|r| r.arn.as_str().contains(r.account.as_str()))
        .collect();
    let [a, b]: [AccountId; 2] = accounts(2).try_into().unwrap();
    let only = |account: &AccountId, resources: &[Resource]| -> (Vec<Resource>, Coverage) {
        let mut cov = coverage(2, &services(&all));
        cov.collected.retain(|c| &c.account == account);
        cov.failed.retain(|g| &g.account == account);
        let own = resources
            .iter()
            .filter(|r| &r.account == account)
            .cloned()
            .collect();
        (own, cov)
    };
    let (first, _) = scan(&mut store, 0, &all, 2, &coverage(2, &services(&all)), None).unwrap();
    assert!(first.drift.is_none(), "no account was scanned before");
    let first_id = store.latest_snapshot().unwrap().unwrap().id;

    let (own, cov) = only(&a, &all);
    let (second, _) = scan_of(&mut store, 60, &own, vec![a.clone()], &cov, None, &[]).unwrap();
    let drift = second.drift.expect("A was scanned before");
    assert_eq!(
        (drift.accounts, drift.resources),
        (1, 0),
        "{:#?}",
        latest_events(&mut store)
    );
    assert_eq!(drift.since, first_id.to_string());
    assert!(
        latest_events(&mut store).is_empty(),
        "nothing of B, which this scan did not cover, is removed"
    );

    let mut changed = all.clone();
    let vpc = changed
        .iter_mut()
        .find(|r| r.account == b && matches!(r.body, ResourceBody::Vpc(_)))
        .expect("the seeded account has a VPC");
    let ResourceBody::Vpc(v) = &mut vpc.body else {
        unreachable!()
    };
    v.cidr_block = Some("10.99.0.0/16".into());
    let vpc_arn = vpc.arn.to_string();
    let (own, cov) = only(&b, &changed);
    let (third, _) = scan_of(&mut store, 120, &own, vec![b.clone()], &cov, None, &[]).unwrap();
    let drift = third
        .drift
        .expect("B was scanned before, in the first scan");
    assert_eq!(drift.since, first_id.to_string(), "B's own previous scan");
    assert_eq!((drift.accounts, drift.resources), (1, 1));
    let events = latest_events(&mut store);
    assert_eq!(
        events
            .iter()
            .map(|(event, _, arn, _)| (event.as_str(), arn.as_str()))
            .collect::<Vec<_>>(),
        vec![("resource_modified", vpc_arn.as_str())]
    );
    // Each account's last scan is the one that entered it.
    assert_eq!(
        store
            .last_scan_of(&a, None)
            .unwrap()
            .unwrap()
            .started_at
            .format("%H:%M")
            .to_string(),
        "01:00"
    );
    assert_eq!(
        store
            .last_scan_of(&b, None)
            .unwrap()
            .unwrap()
            .started_at
            .format("%H:%M")
            .to_string(),
        "02:00"
    );
}

fn latest_events(store: &mut Store) -> Vec<(String, Option<String>, String, String)> {
    let id = store.latest_snapshot().unwrap().unwrap().id;
    let mut out = Vec::new();
    for part in [DriftPart::Resources, DriftPart::Findings] {
        for_each_page(
            |after| store.drift_page(&id, part, after, 100),
            |d| {
                let kind = d
                    .body
                    .get("kind")
                    .or_else(|| d.body.pointer("/resource/kind"))
                    .and_then(|k| k.as_str())
                    .unwrap_or_default()
                    .to_owned();
                out.push((d.event, d.rule_id, d.arn, kind));
                Ok(())
            },
        )
        .unwrap();
    }
    out
}

/// Issue 11: scan, deny `rds:DescribeDBInstances`, scan, allow it, scan. The denied scan
/// removes no DB instance and resolves none of their failures (they become `error`, with
/// the failed call as evidence), while a KMS key deleted in the same scan is removed and
/// its failures resolved; the third scan continues the instances' failures from the first.
#[test]
fn a_denied_list_call_resolves_and_removes_nothing_while_a_read_service_beside_it_does() {
    use posture_model::{ResourceKind, Status};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let resources = estate(2);
    let full = coverage(2, &services(&resources));
    let (_, first) = scan(&mut store, 0, &resources, 2, &full, None).unwrap();
    let is_instance = |f: &Finding| {
        f.resource.kind == ResourceKind::RdsInstance && f.resource.account == accounts(1)[0]
    };
    let failing_before: Vec<&Finding> = first
        .iter()
        .filter(|f| is_instance(f) && f.status == Status::Fail)
        .collect();
    assert!(
        !failing_before.is_empty(),
        "the seed has failing DB instances"
    );
    let key = resources
        .iter()
        .find(|r| r.kind() == ResourceKind::KmsKey && r.account == accounts(1)[0])
        .unwrap()
        .arn
        .clone();
    let key_failures = first
        .iter()
        .filter(|f| f.resource.arn == key && f.status == Status::Fail)
        .count();

    // Scan 2: DescribeDBInstances denied in both regions; the KMS key deleted.
    let denied: Vec<Resource> = resources
        .iter()
        .filter(|r| {
            !(r.kind() == ResourceKind::RdsInstance && r.account == accounts(1)[0]) && r.arn != key
        })
        .cloned()
        .collect();
    let mut partial = full.clone();
    for region in regions() {
        partial.failed.push(Gap {
            account: accounts(1).remove(0),
            region,
            service: "rds".into(),
            operation: "rds:DescribeDBInstances".into(),
            resource: None,
            kind: UnavailableKind::Denied,
            code: Some("AccessDenied".into()),
            message: "not authorized to perform rds:DescribeDBInstances".into(),
        });
    }
    let (evaluated, second) = scan(&mut store, 60, &denied, 2, &partial, None).unwrap();
    let events = latest_events(&mut store);
    assert!(
        !events.iter().any(|(e, _, _, k)| k == "aws_rds_db_instance"
            && (e == "resource_removed" || e == "resolved")),
        "nothing of the unread DB instances is removed or resolved: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(e, _, arn, _)| e == "resource_removed" && arn == key.as_str()),
        "the deleted KMS key is removed: {events:?}"
    );
    if key_failures > 0 {
        assert!(
            events
                .iter()
                .any(|(e, _, arn, _)| e == "resolved" && arn == key.as_str()),
            "the deleted key's failures are resolved: {events:?}"
        );
    }
    for before in &failing_before {
        let now = second
            .iter()
            .find(|f| f.rule_id == before.rule_id && f.resource.arn == before.resource.arn)
            .unwrap_or_else(|| panic!("{} on {} is carried", before.rule_id, before.resource.arn));
        assert_eq!(now.status, Status::Error);
        assert_eq!(now.evidence["last_status"], "fail");
        assert_eq!(
            now.evidence["unread"]["operation"],
            "rds:DescribeDBInstances"
        );
        assert_eq!(now.evidence["unread"]["failure"], "denied");
        assert!(now.reason.contains("not re-verified"), "{}", now.reason);
        assert!(
            events.iter().any(|(e, rule, arn, _)| e == "new_error"
                && rule.as_deref() == Some(before.rule_id.as_str())
                && arn == before.resource.arn.as_str()),
            "new_error for {} on {}",
            before.rule_id,
            before.resource.arn
        );
    }
    let drift = evaluated.drift.unwrap();
    assert!(drift.count(posture_drift::Transition::NewError) >= failing_before.len());
    let meta = store.latest_snapshot().unwrap().unwrap();
    let kept = store.resources(&meta.id).unwrap();
    assert!(
        kept.iter().any(|r| r.kind() == ResourceKind::RdsInstance),
        "the unread instances stay in the snapshot"
    );
    assert!(
        !kept.iter().any(|r| r.arn == key),
        "the deleted key is gone"
    );

    // Scan 3: allowed again; the instances' failures go on from the first scan.
    let (evaluated, third) = scan(
        &mut store,
        120,
        &denied_plus_instances(&resources, &key),
        2,
        &full,
        None,
    )
    .unwrap();
    let events = latest_events(&mut store);
    assert!(
        !events
            .iter()
            .any(|(e, _, _, k)| k == "aws_rds_db_instance" && e != "new_error"),
        "read again and unchanged: no added instance, no new failure: {events:?}"
    );
    for before in &failing_before {
        let now = third
            .iter()
            .find(|f| f.rule_id == before.rule_id && f.resource.arn == before.resource.arn)
            .unwrap();
        assert_eq!(now.status, Status::Fail);
        assert_eq!(now.first_seen, before.first_seen, "the same episode");
        let episodes = store
            .failure_episodes(before.rule_id.as_str(), before.resource.arn.as_str())
            .unwrap();
        assert_eq!(episodes.len(), 1, "{episodes:?}");
        assert!(episodes[0].resolved_at.is_none());
    }
    let drift = evaluated.drift.unwrap();
    assert_eq!(
        drift.count(posture_drift::Transition::NewFailure),
        0,
        "{drift:?}"
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

fn denied_plus_instances(resources: &[Resource], deleted: &posture_model::Arn) -> Vec<Resource> {
    resources
        .iter()
        .filter(|r| &r.arn != deleted)
        .cloned()
        .collect()
}

/// Issue 11: a service the user leaves out of a scan is not scanned: the rules that read
/// it give no finding, and their earlier findings are neither resolved nor forgotten.
#[test]
fn an_excluded_service_omits_its_rules_and_resolves_nothing() {
    use posture_model::Status;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let resources = estate(2);
    let full = coverage(2, &services(&resources));
    let (_, first) = scan(&mut store, 0, &resources, 2, &full, None).unwrap();
    let reads_trails = |id: &str| id.starts_with("cloudtrail_");
    let trail_failures: Vec<&Finding> = first
        .iter()
        .filter(|f| reads_trails(f.rule_id.as_str()) && f.status == Status::Fail)
        .collect();
    assert!(
        !trail_failures.is_empty(),
        "the seed has failing trail rules"
    );

    let without: Vec<Resource> = resources
        .iter()
        .filter(|r| r.kind().service() != "cloudtrail")
        .cloned()
        .collect();
    let mut coverage = full.clone();
    coverage.collected.retain(|c| c.service != "cloudtrail");
    let excluded = ["cloudtrail".to_owned()];
    let (evaluated, second) =
        scan_excluding(&mut store, 60, &without, 2, &coverage, None, &excluded).unwrap();
    assert!(
        !second.iter().any(|f| reads_trails(f.rule_id.as_str())),
        "the rules of a left-out service give no finding"
    );
    let events = latest_events(&mut store);
    assert!(
        !events
            .iter()
            .any(|(e, rule, _, _)| e == "resolved" && rule.as_deref().is_some_and(reads_trails)),
        "{events:?}"
    );
    assert_eq!(
        evaluated
            .drift
            .unwrap()
            .count(posture_drift::Transition::Resolved),
        0
    );
    for f in &trail_failures {
        let episodes = store
            .failure_episodes(f.rule_id.as_str(), f.resource.arn.as_str())
            .unwrap();
        assert!(episodes[0].resolved_at.is_none(), "{episodes:?}");
    }
}
