//! Alerts composed by the pipeline and written to the outbox with the snapshot: a first
//! scan sends one summary, an unchanged scan nothing, a regression one alert naming the
//! resource, the changed field, the citation and the PHI flag; a collection that fails is
//! its own notice and never resolves anything; a mass regression is one bounded alert.
//! Against a real SQLite store, with the seeded account (a real scan of the moto account).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::time::Duration as StdDuration;

use chrono::{Duration, TimeZone, Utc};
use posture_check::{Attestations, Baseline, PhiScope, Settings, Waivers};
use posture_model::alert::{Alert, AlertKind, MAX_ITEMS, Notices, RouteFilter};
use posture_model::{
    AccountId, CollectionRecord, Coverage, Gap, Region, Resource, Severity, Status, UnavailableKind,
};
use posture_pipeline::Job;
use posture_store::{SnapshotSummary, Store, StoreLocation};

const OPEN_SG: &str = "arn:aws:ec2:us-east-1:{account}:security-group/sg-8c019bf511ef29bae";

fn account(i: u64) -> AccountId {
    AccountId::new(format!("{:012}", 100_000_000_000 + i)).unwrap()
}

/// The seeded account copied into `n` accounts (S3 buckets and AWS managed policies, whose
/// ARNs name no account, only in the first).
fn estate(n: u64) -> Vec<Resource> {
    let templates = include_str!("../../posture-check/benches/seeded-account.jsonl");
    let mut out = Vec::new();
    for i in 0..n {
        for line in templates.lines() {
            let r: Resource =
                serde_json::from_str(&line.replace("123456789012", account(i).as_str())).unwrap();
            if i == 0 || r.arn.as_str().contains(account(i).as_str()) {
                out.push(r);
            }
        }
    }
    out
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

fn coverage(n: u64, services: &[String]) -> Coverage {
    let mut collected = Vec::new();
    for i in 0..n {
        for region in regions().into_iter().chain([Region::global()]) {
            for service in services {
                collected.push(CollectionRecord {
                    account: account(i),
                    region: region.clone(),
                    service: service.clone(),
                    resources: 1,
                    complete: true,
                });
            }
        }
    }
    Coverage {
        collected,
        failed: Vec::new(),
        api_calls: Default::default(),
    }
}

/// Opens 5432 to the internet on the seeded group `sg-8c019bf511ef29bae` of every account
/// in `accounts`, and tags it as holding PHI.
fn open_postgres(resources: &[Resource], accounts: &[AccountId]) -> Vec<Resource> {
    resources
        .iter()
        .map(|r| {
            let target = accounts
                .iter()
                .any(|a| r.arn.as_str() == OPEN_SG.replace("{account}", a.as_str()));
            if !target {
                return r.clone();
            }
            let mut v = serde_json::to_value(r).unwrap();
            v["body"]["config"]["ingress"] = serde_json::json!([{
                "ip_protocol": "tcp", "from_port": 5432, "to_port": 5432,
                "ipv4_ranges": ["0.0.0.0/0"], "ipv6_ranges": [], "source_groups": [],
                "prefix_lists": []
            }]);
            v["tags"] = serde_json::json!({"state": "collected", "value": {"phi": "true", "Name": "claims-db"}});
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

fn route(name: &str) -> RouteFilter {
    RouteFilter {
        name: name.into(),
        min_severity: Severity::Info,
        phi_only: false,
        accounts: vec![],
        rules: vec![],
        tags: Default::default(),
        notices: Notices::default(),
    }
}

/// Runs one scan of `n` accounts at `minutes` and returns the alerts it wrote to the outbox.
fn scan(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    n: u64,
    coverage: &Coverage,
    routes: &[RouteFilter],
) -> Vec<Alert> {
    scan_waived(store, minutes, resources, n, coverage, routes, None)
}

/// [`scan`] with waivers.
fn scan_waived(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    n: u64,
    coverage: &Coverage,
    routes: &[RouteFilter],
    waivers: Option<&Waivers>,
) -> Vec<Alert> {
    scan_with(
        store, minutes, resources, n, coverage, routes, waivers, None,
    )
}

/// [`scan`] with waivers and attestations.
#[allow(clippy::too_many_arguments, reason = "a test helper")]
fn scan_with(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    n: u64,
    coverage: &Coverage,
    routes: &[RouteFilter],
    waivers: Option<&Waivers>,
    attestations: Option<&Attestations>,
) -> Vec<Alert> {
    let baseline = Baseline::hipaa().unwrap();
    let phi = PhiScope::default();
    let started = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes);
    let finished_at = started + Duration::seconds(30);
    let accounts: Vec<AccountId> = (0..n).map(account).collect();
    let (regions, services) = (regions(), services(resources));
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
            waivers,
            attestations,
            phi: &phi,
            now: finished_at,
        },
        accounts: &accounts,
        regions: &regions,
        services: &services,
        excluded: &[],
        finished_at,
        alert_routes: routes,
        cancel: None,
    };
    let evaluated = posture_pipeline::evaluate(&mut writer, &job, &mut |_, _| {}).unwrap();
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
    let alerts: Vec<Alert> = store
        .outbox(None, 1000, StdDuration::from_secs(10 * 365 * 86_400))
        .unwrap()
        .into_iter()
        .filter(|e| e.snapshot_id.as_deref() == Some(meta.id.as_str()))
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    assert_eq!(
        alerts.len(),
        evaluated.alerts.len(),
        "what the evaluation reports is what the outbox holds"
    );
    alerts
}

fn of_kind<'a>(alerts: &'a [Alert], route: &str, kind: AlertKind) -> Option<&'a Alert> {
    alerts.iter().find(|a| a.route == route && a.kind == kind)
}

#[test]
fn a_regression_is_one_alert_with_the_resource_the_field_the_citation_and_phi() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let base = estate(1);
    let cov = coverage(1, &services(&base));
    let payments = RouteFilter {
        rules: vec!["s3_*".into()],
        ..route("payments")
    };
    let critical_phi = RouteFilter {
        min_severity: Severity::Critical,
        phi_only: true,
        ..route("critical-phi")
    };
    let routes = [route("all"), payments, critical_phi];

    // First scan: one summary per route that admits a failure, not every failure.
    let first = scan(&mut store, 0, &base, 1, &cov, &routes);
    let summary = of_kind(&first, "all", AlertKind::FirstScan).expect("a first-scan summary");
    let latest = store.latest_snapshot().unwrap().unwrap().id;
    let failing = store
        .findings(&latest)
        .unwrap()
        .into_iter()
        .filter(|f| f.status == Status::Fail)
        .count();
    assert_eq!(summary.total, failing, "the summary counts every failure");
    assert_eq!(summary.items.len(), failing.min(MAX_ITEMS));
    assert!(
        first.iter().all(|a| a.kind == AlertKind::FirstScan),
        "a first scan sends only summaries: {:?}",
        first.iter().map(|a| (&a.route, a.kind)).collect::<Vec<_>>()
    );
    let s3_only = of_kind(&first, "payments", AlertKind::FirstScan).unwrap();
    assert!(
        s3_only
            .items
            .iter()
            .all(|i| i.rule_id.as_str().starts_with("s3_"))
    );

    // Unchanged: nothing at all, the failures were already failing.
    let second = scan(&mut store, 60, &base, 1, &cov, &routes);
    assert!(second.is_empty(), "{second:#?}");

    // The group opens 5432 to the internet and is tagged PHI.
    let sg = OPEN_SG.replace("{account}", account(0).as_str());
    let opened = open_postgres(&base, &[account(0)]);
    let third = scan(&mut store, 120, &opened, 1, &cov, &routes);
    let alert = of_kind(&third, "all", AlertKind::Regressions).expect("a regression alert");
    assert_eq!(
        third.iter().filter(|a| a.route == "all").count(),
        1,
        "one alert for the route: {third:#?}"
    );
    assert!(alert.total >= 1);
    let item = alert
        .items
        .iter()
        .find(|i| i.resource.arn.as_str() == sg)
        .expect("the opened group is named");
    assert_eq!(item.transition, "new_failure");
    assert_eq!(item.name, "claims-db", "the Name tag names it");
    assert!(item.phi, "the PHI flag");
    assert!(!item.citations.is_empty(), "the citation");
    assert!(
        item.citations.iter().all(|c| c.id.starts_with("164.")),
        "{:?}",
        item.citations
    );
    let ingress = item
        .changes
        .iter()
        .find(|c| c.pointer.contains("/ingress"))
        .unwrap_or_else(|| panic!("the changed field: {:?}", item.changes));
    assert!(
        ingress
            .new
            .as_deref()
            .is_some_and(|v| v.contains("0.0.0.0/0") || v.contains("5432")),
        "{ingress:?}"
    );
    assert!(item.more.api.contains(&format!("rule={}", item.rule_id)));
    assert!(item.more.command.starts_with("posture diff "));
    assert!(
        alert.items.iter().all(|i| i.resource.arn.as_str() == sg),
        "only the group regressed: {:?}",
        alert
            .items
            .iter()
            .map(|i| (&i.rule_id, &i.resource.arn))
            .collect::<Vec<_>>()
    );
    assert!(
        of_kind(&third, "payments", AlertKind::Regressions).is_none(),
        "the S3-only route hears nothing of a security group"
    );
    let critical = of_kind(&third, "critical-phi", AlertKind::Regressions);
    assert_eq!(
        critical.map(|a| a.total),
        Some(
            alert
                .items
                .iter()
                .filter(|i| i.severity == Severity::Critical)
                .count()
        )
        .filter(|n| *n > 0),
        "the critical PHI route hears exactly the critical items"
    );

    // The next scan is unchanged: the group still fails, nothing is sent again.
    let fourth = scan(&mut store, 180, &opened, 1, &cov, &routes);
    assert!(fourth.is_empty(), "{fourth:#?}");
}

#[test]
fn a_failed_collection_is_its_own_notice_and_never_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let base = open_postgres(&estate(1), &[account(0)]);
    let cov = coverage(1, &services(&base));
    let routes = [RouteFilter {
        notices: Notices {
            resolved: true,
            ..Notices::default()
        },
        ..route("all")
    }];
    scan(&mut store, 0, &base, 1, &cov, &routes);

    // Security groups cannot be listed: what was decided on them is undecidable now.
    let mut denied = cov.clone();
    for region in regions() {
        denied.failed.push(Gap {
            account: account(0),
            region,
            service: "ec2".into(),
            operation: "ec2:DescribeSecurityGroups".into(),
            resource: None,
            kind: UnavailableKind::Denied,
            code: Some("UnauthorizedOperation".into()),
            message: "not authorized to perform ec2:DescribeSecurityGroups".into(),
        });
    }
    let without_groups: Vec<Resource> = base
        .iter()
        .filter(|r| r.kind() != posture_model::ResourceKind::SecurityGroup)
        .cloned()
        .collect();
    let second = scan(&mut store, 60, &without_groups, 1, &denied, &routes);
    let notice =
        of_kind(&second, "all", AlertKind::CollectionFailed).expect("a collection-failed notice");
    assert!(notice.total >= 1);
    assert!(
        notice.items.iter().all(|i| i.transition == "new_error"),
        "{:?}",
        notice.items
    );
    assert!(
        notice
            .items
            .iter()
            .any(|i| i.resource.arn.as_str() == OPEN_SG.replace("{account}", account(0).as_str())),
        "the open group's failures are undecided now, not resolved"
    );
    assert!(
        of_kind(&second, "all", AlertKind::Resolved).is_none(),
        "nothing resolves when its data could not be read: {second:#?}"
    );
    assert!(of_kind(&second, "all", AlertKind::Regressions).is_none());

    // Read again, still open: the same failure goes on, nothing is sent again.
    let third = scan(&mut store, 120, &base, 1, &cov, &routes);
    assert!(
        third.is_empty(),
        "a failure read again after an outage is not a new regression: {third:#?}"
    );

    // Fixed: now it resolves, for the route that asked.
    let fourth = scan(&mut store, 180, &estate(1), 1, &cov, &routes);
    let resolved = of_kind(&fourth, "all", AlertKind::Resolved).expect("resolved notice");
    assert!(
        resolved.items.iter().all(|i| i.transition == "resolved"),
        "{:?}",
        resolved.items
    );
}

#[test]
fn a_mass_regression_is_one_bounded_alert_that_counts_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let n = 60;
    let base = estate(n);
    let cov = coverage(n, &services(&base));
    let routes = [route("all")];
    scan(&mut store, 0, &base, n, &cov, &routes);
    let all: Vec<AccountId> = (0..n).map(account).collect();
    let opened = open_postgres(&base, &all);
    let alerts = scan(&mut store, 60, &opened, n, &cov, &routes);
    assert_eq!(alerts.len(), 1, "one message: {:?}", alerts.len());
    let alert = &alerts[0];
    assert_eq!(alert.kind, AlertKind::Regressions);
    assert!(alert.total > MAX_ITEMS, "{}", alert.total);
    assert_eq!(alert.items.len(), MAX_ITEMS, "the worst in full");
    assert_eq!(alert.omitted(), alert.total - MAX_ITEMS);
    assert_eq!(alert.by_account.len(), n as usize, "every account counted");
    assert_eq!(
        alert.by_rule.iter().map(|r| r.count).sum::<usize>(),
        alert.total,
        "per-rule counts add up"
    );
    assert_eq!(
        alert.by_account.iter().map(|a| a.count).sum::<usize>(),
        alert.total
    );
    assert_eq!(alert.phi, alert.total, "every opened group holds PHI");
    let worst = alert.items[0].severity;
    assert!(alert.items.iter().all(|i| i.severity <= worst));
    assert_eq!(
        Some(worst),
        alert.by_severity.keys().next_back().copied(),
        "the worst severity leads"
    );
}

/// A waiver that expires between two scans: the failure it covered is a regression naming
/// the waiver's owner, and the route that asked hears of the waiver once.
#[test]
fn an_expired_waiver_is_a_regression_and_one_notice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let base = open_postgres(&estate(1), &[account(0)]);
    let cov = coverage(1, &services(&base));
    let sg = OPEN_SG.replace("{account}", account(0).as_str());
    // Valid through 1 January 2026, the day of the first scan.
    let waivers = Waivers::from_toml(
        "waivers.toml",
        &format!(
            "[[waiver]]\nrule = \"sg_no_world_db_ports\"\narn = \"{sg}\"\nowner = \"dba-team\"\n\
             justification = \"migration window\"\nticket = \"SEC-42\"\nexpires = 2026-01-01\n"
        ),
    )
    .unwrap();
    let routes = [
        RouteFilter {
            notices: Notices {
                expired_waivers: true,
                ..Notices::default()
            },
            ..route("all")
        },
        route("quiet"),
    ];
    scan_waived(&mut store, 0, &base, 1, &cov, &routes, Some(&waivers));
    // The next day: the waiver no longer applies.
    let day = 24 * 60;
    let second = scan_waived(&mut store, day, &base, 1, &cov, &routes, Some(&waivers));
    let regression = of_kind(&second, "all", AlertKind::Regressions).expect("a regression");
    let item = regression
        .items
        .iter()
        .find(|i| i.rule_id.as_str() == "sg_no_world_db_ports")
        .expect("the waived failure is back");
    assert_eq!(item.transition, "waiver_expired");
    assert_eq!(
        item.owner.as_deref(),
        Some("dba-team"),
        "the waiver's owner"
    );
    let notice = of_kind(&second, "all", AlertKind::WaiversExpired).expect("a waiver notice");
    assert_eq!(notice.waivers.len(), 1);
    assert_eq!(notice.waivers[0].ticket, "SEC-42");
    assert_eq!(notice.waivers[0].owner, "dba-team");
    assert_eq!(notice.waivers[0].reopened, 1);
    assert!(
        of_kind(&second, "quiet", AlertKind::WaiversExpired).is_none(),
        "only the route that asked"
    );
    assert!(of_kind(&second, "quiet", AlertKind::Regressions).is_some());
    // A day later: still expired, nothing new.
    let third = scan_waived(&mut store, 2 * day, &base, 1, &cov, &routes, Some(&waivers));
    assert!(third.is_empty(), "{third:#?}");
}

/// An attestation that expires between two scans is told once, to the route that asked.
#[test]
fn an_expired_attestation_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(dir.path().join("p.sqlite"))).unwrap();
    let base = estate(1);
    let cov = coverage(1, &services(&base));
    let baseline = Baseline::hipaa().unwrap();
    // Valid through 1 January 2026, the day of the first scan.
    let attestations = Attestations::from_toml(
        "attestations.toml",
        "[[attestation]]\ncontrol = \"manual_risk_analysis\"\nattested_by = \"Dana\"\n\
         attested_on = 2025-01-02\nexpires = 2026-01-01\nevidence = \"GRC-1\"\n",
        &baseline,
    )
    .unwrap();
    let routes = [
        RouteFilter {
            notices: Notices {
                stale_attestations: true,
                ..Notices::default()
            },
            ..route("all")
        },
        route("quiet"),
    ];
    let day = 24 * 60;
    scan_with(
        &mut store,
        0,
        &base,
        1,
        &cov,
        &routes,
        None,
        Some(&attestations),
    );
    let second = scan_with(
        &mut store,
        day,
        &base,
        1,
        &cov,
        &routes,
        None,
        Some(&attestations),
    );
    let notice =
        of_kind(&second, "all", AlertKind::AttestationsStale).expect("an attestation notice");
    assert_eq!(notice.attestations.len(), 1, "{:#?}", notice.attestations);
    assert_eq!(
        notice.attestations[0].rule_id.as_str(),
        "manual_risk_analysis"
    );
    assert!(
        notice.attestations[0]
            .reason
            .contains("expired on 2026-01-01"),
        "{}",
        notice.attestations[0].reason
    );
    assert!(!notice.attestations[0].citations.is_empty());
    assert!(of_kind(&second, "quiet", AlertKind::AttestationsStale).is_none());
    let third = scan_with(
        &mut store,
        2 * day,
        &base,
        1,
        &cov,
        &routes,
        None,
        Some(&attestations),
    );
    assert!(
        of_kind(&third, "all", AlertKind::AttestationsStale).is_none(),
        "told once: {third:#?}"
    );
}
