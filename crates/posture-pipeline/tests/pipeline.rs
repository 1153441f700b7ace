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
    let baseline = Baseline::hipaa().unwrap();
    let phi = PhiScope::default();
    let started = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes);
    let finished_at = started + Duration::seconds(30);
    let previous = store.latest_snapshot().unwrap();
    let (accounts, regions, services) = (accounts(n), regions(), services(resources));
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
        previous: previous.as_ref(),
        finished_at,
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
    // a resource staged twice, as the templates have a few).
    let mut unique: Vec<Resource> = Vec::new();
    for r in resources.iter().rev() {
        if !unique
            .iter()
            .any(|u| u.kind() == r.kind() && u.arn == r.arn)
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
            .count_raw("SELECT COUNT(*) FROM finding_status")
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
