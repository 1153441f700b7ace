//! A seeded store for the report's tests: the seeded account (a real scan of the moto demo
//! account, `posture-check/benches/seeded-account.jsonl`) copied into two accounts and
//! scanned three times a day apart through `posture-pipeline`, with a regression (a security
//! group opened to the internet and tagged PHI), a waiver (still valid at the scans,
//! expired when the report is made), an attestation, a denied list call, and values that
//! must be escaped (a tag holding markup). The clock is fixed, so reports are
//! byte-identical from run to run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    reason = "test code: a failed step is a failed test"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use posture_check::{Attestations, Baseline, PhiScope, Settings, Waivers};
use posture_model::{
    AccountId, CollectionRecord, Coverage, Gap, Region, Resource, UnavailableKind,
};
use posture_pipeline::Job;
use posture_store::{SnapshotSummary, Store, StoreLocation};

pub const OPEN_SG: &str = "arn:aws:ec2:us-east-1:{account}:security-group/sg-8c019bf511ef29bae";
/// A tag value that must never reach the HTML as markup.
pub const HOSTILE: &str = "<img src=x onerror=alert(1)>|`x`";

pub fn account(i: u64) -> AccountId {
    AccountId::new(format!("{:012}", 100_000_000_000 + i)).unwrap()
}

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// When the reports are made: after the waiver's expiry.
pub fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap()
}

/// The seeded account copied into `n` accounts (S3 buckets and AWS managed policies, whose
/// ARNs name no account, only in the first).
pub fn estate(n: u64) -> Vec<Resource> {
    let templates = include_str!("../../../posture-check/benches/seeded-account.jsonl");
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

fn coverage(n: u64, services: &[String], denied: bool) -> Coverage {
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
    let failed = if denied {
        vec![Gap {
            account: account(1),
            region: Region::new("us-west-2").unwrap(),
            service: "ec2".into(),
            operation: "ec2:DescribeVolumes".into(),
            resource: None,
            kind: UnavailableKind::Denied,
            code: Some("UnauthorizedOperation".into()),
            message: "not authorized to perform ec2:DescribeVolumes".into(),
        }]
    } else {
        Vec::new()
    };
    Coverage {
        collected,
        failed,
        api_calls: Default::default(),
    }
}

/// Opens 5432 to the internet on the seeded group of every account in `accounts`, tags it
/// as holding PHI and names it with markup.
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
            v["tags"] = serde_json::json!({"state": "collected", "value": {"phi": "true", "Name": HOSTILE}});
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

fn scan(
    store: &mut Store,
    minutes: i64,
    resources: &[Resource],
    coverage: &Coverage,
    waivers: &Waivers,
    attestations: &Attestations,
) {
    let n = 2;
    let baseline = Baseline::hipaa().unwrap();
    let phi = PhiScope::default();
    let started = start() + Duration::minutes(minutes);
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
            waivers: Some(waivers),
            attestations: Some(attestations),
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
    writer
        .commit(SnapshotSummary {
            finished_at,
            accounts,
            regions,
            services,
            api_calls: Default::default(),
            baseline: (baseline.name.clone(), baseline.version.clone()),
        })
        .unwrap();
}

/// The seeded store: three scans of two accounts, a day apart.
pub fn seeded(dir: &std::path::Path) -> Store {
    let mut store = Store::open(&StoreLocation::Sqlite(dir.join("p.sqlite"))).unwrap();
    let baseline = Baseline::hipaa().unwrap();
    let base = estate(2);
    let svc = services(&base);
    let sg0 = OPEN_SG.replace("{account}", account(0).as_str());
    // Valid at every scan, expired when the report is made.
    let waivers = Waivers::from_toml(
        "waivers.toml",
        &format!(
            "[[waiver]]\nrule = \"sg_no_world_db_ports\"\narn = \"{sg0}\"\nowner = \"dba-team <dba@example.com>\"\n\
             justification = \"migration window & cut-over\"\nticket = \"SEC-42\"\nexpires = 2026-01-15\n"
        ),
    )
    .unwrap();
    let attestations = Attestations::from_toml(
        "attestations.toml",
        "[[attestation]]\ncontrol = \"manual_risk_analysis\"\nattested_by = \"Dana <script>\"\n\
         attested_on = 2025-06-02\nexpires = 2026-06-01\nevidence = \"GRC-1: risk analysis 2025\"\n",
        &baseline,
    )
    .unwrap();
    let day = 24 * 60;
    scan(
        &mut store,
        0,
        &base,
        &coverage(2, &svc, false),
        &waivers,
        &attestations,
    );
    let opened = open_postgres(&base, &[account(0), account(1)]);
    scan(
        &mut store,
        day,
        &opened,
        &coverage(2, &svc, true),
        &waivers,
        &attestations,
    );
    scan(
        &mut store,
        2 * day,
        &opened,
        &coverage(2, &svc, true),
        &waivers,
        &attestations,
    );
    store
}
