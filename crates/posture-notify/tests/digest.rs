//! The daily overdue digest over a store of real findings (the seeded account evaluated by
//! the pipeline): failures past their severity's deadline, with the due date and the owner
//! a tag names, written once a day per route, never before the configured hour.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use posture_check::{Baseline, PhiScope, Settings};
use posture_model::alert::{Alert, AlertKind, Notices, RouteFilter};
use posture_model::{AccountId, CollectionRecord, Region, Resource, Severity, Status};
use posture_notify::DigestSettings;
use posture_notify::digest::write_due;
use posture_pipeline::Job;
use posture_store::{SnapshotSummary, Store, StoreLocation};

const ACCOUNT: &str = "123456789012";

/// The seeded account, with an `owner` tag on one security group.
fn resources() -> Vec<Resource> {
    include_str!("../../posture-check/benches/seeded-account.jsonl")
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["arn"].as_str().unwrap().ends_with("sg-9ccc1a2b9ba008bcf") {
                v["tags"]["value"]["owner"] = "dba-team".into();
            }
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

/// Scans the seeded account on 1 January 2026; returns the failures by severity.
fn scan(store: &mut Store) -> BTreeMap<Severity, usize> {
    let resources = resources();
    let baseline = Baseline::hipaa().unwrap();
    let phi = PhiScope::default();
    let started = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let finished_at = started + chrono::Duration::seconds(30);
    let accounts = vec![AccountId::new(ACCOUNT).unwrap()];
    let regions = vec![
        Region::new("us-east-1").unwrap(),
        Region::new("us-west-2").unwrap(),
    ];
    let services: Vec<String> = resources
        .iter()
        .map(|r| r.kind().service().to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut writer = store.begin_snapshot(started).unwrap();
    for r in &resources {
        writer.put_resource(r).unwrap();
    }
    for region in regions.iter().cloned().chain([Region::global()]) {
        for service in &services {
            writer
                .put_collection(&CollectionRecord {
                    account: accounts[0].clone(),
                    region: region.clone(),
                    service: service.clone(),
                    resources: 1,
                    complete: true,
                })
                .unwrap();
        }
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
        excluded: &[],
        finished_at,
        alert_routes: &[],
        cancel: None,
    };
    posture_pipeline::evaluate(&mut writer, &job, &mut |_, _| {}).unwrap();
    let meta = writer
        .commit(SnapshotSummary {
            finished_at,
            accounts,
            regions,
            services,
            api_calls: Default::default(),
            baseline: (baseline.name.clone(), baseline.version.clone()),
        })
        .unwrap();
    let mut by = BTreeMap::new();
    for f in store.findings(&meta.id).unwrap() {
        if f.status == Status::Fail {
            *by.entry(f.severity).or_default() += 1;
        }
    }
    by
}

fn route(name: &str, digest: bool) -> RouteFilter {
    RouteFilter {
        name: name.into(),
        min_severity: Severity::Info,
        phi_only: false,
        accounts: vec![],
        rules: vec![],
        tags: Default::default(),
        notices: Notices {
            overdue_digest: digest,
            ..Notices::default()
        },
    }
}

#[test]
fn overdue_failures_are_digested_once_a_day_with_due_dates_and_owners() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let failing = scan(&mut store);
    assert!(failing.get(&Severity::Critical).copied().unwrap_or(0) > 0);
    let day = Duration::from_secs(86_400);
    let settings = DigestSettings {
        // Critical within 3 days, high within 14; the rest have no deadline.
        deadlines: [(Severity::Critical, 3 * day), (Severity::High, 14 * day)].into(),
        hour: 9,
        owner_tags: vec!["owner".into()],
        routes: vec![route("security", true), route("quiet", false)],
    };
    let routes = vec!["security".to_owned(), "quiet".to_owned()];

    // 3 January, 10:00: critical failures are not due until the 4th; high until the 15th.
    let early = Utc.with_ymd_and_hms(2026, 1, 3, 10, 0, 0).unwrap();
    assert_eq!(write_due(&mut store, &settings, &routes, early).unwrap(), 0);

    // 5 January, 08:00: before the digest hour.
    let before_hour = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
    assert_eq!(
        write_due(&mut store, &settings, &routes, before_hour).unwrap(),
        0
    );

    // 5 January, 09:30: the critical failures are overdue (due 4 January 00:00:30).
    let now = Utc.with_ymd_and_hms(2026, 1, 5, 9, 30, 0).unwrap();
    assert_eq!(write_due(&mut store, &settings, &routes, now).unwrap(), 1);
    assert_eq!(
        write_due(
            &mut store,
            &settings,
            &routes,
            now + chrono::Duration::hours(3)
        )
        .unwrap(),
        0,
        "once a day"
    );
    let outbox = store.outbox(None, 10, 400 * day).unwrap();
    assert_eq!(outbox.len(), 1, "only the route that asked");
    assert_eq!(outbox[0].route, "security");
    assert_eq!(outbox[0].key, "digest/2026-01-05/security");
    let alert: Alert = serde_json::from_str(&outbox[0].body).unwrap();
    assert_eq!(alert.kind, AlertKind::OverdueDigest);
    assert_eq!(
        alert.total,
        failing[&Severity::Critical],
        "every critical failure, no high one yet"
    );
    for item in &alert.items {
        assert_eq!(item.severity, Severity::Critical);
        assert_eq!(item.transition, "overdue");
        let since = item.failing_since.unwrap();
        assert_eq!(item.due, Some(since + chrono::Duration::days(3)));
        assert!(item.due.unwrap() < now);
    }
    if let Some(owned) = alert
        .items
        .iter()
        .find(|i| i.resource.arn.as_str().ends_with("sg-9ccc1a2b9ba008bcf"))
    {
        assert_eq!(owned.owner.as_deref(), Some("dba-team"));
    }

    // 16 January: the high ones are overdue too.
    let later = Utc.with_ymd_and_hms(2026, 1, 16, 9, 0, 0).unwrap();
    assert_eq!(write_due(&mut store, &settings, &routes, later).unwrap(), 1);
    let alert: Alert =
        serde_json::from_str(&store.outbox(None, 1, 400 * day).unwrap().remove(0).body).unwrap();
    assert_eq!(
        alert.total,
        failing[&Severity::Critical] + failing.get(&Severity::High).copied().unwrap_or(0)
    );
    let owned = alert
        .items
        .iter()
        .filter(|i| i.owner.as_deref() == Some("dba-team"))
        .count();
    let tagged = alert
        .items
        .iter()
        .filter(|i| i.resource.tags.contains_key("owner"))
        .count();
    assert!(tagged > 0, "the tagged group fails a critical or high rule");
    assert_eq!(
        owned, tagged,
        "every item on the tagged group names its owner"
    );
}
