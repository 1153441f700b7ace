//! Memory of a scan after collection: does it follow the largest account or the estate?
//!
//! `cargo bench -p posture-pipeline --bench pipeline -- [--accounts N] [--scans S]
//! [--coverage-regions R] [--denied-regions D]` (defaults 100, 2, 17 and 0) stages N copies of the seeded account (`posture-check/benches/seeded-account.jsonl`,
//! the 161 resources of 49 kinds a real scan collected from the end-to-end suite's moto
//! account, each copy under its own account id) into a SQLite store exactly as `posture
//! scan` does, with the coverage record of a scan of every service in R regions (one
//! collection record per account, region and service, plus a failed list call per account
//! and region and a failed call about one resource per account; with D, a service control
//! policy denies the last D regions, so every service's list call fails there), then runs the same code the scan runs after collection
//! (`posture_pipeline::evaluate` and the commit): evaluation one account at a time from
//! the store, drift against the previous snapshot, findings and drift streamed into the
//! store. With `--scans 2` the second snapshot changes one resource per account, so drift
//! is computed and stored. It reports the time of each phase and the peak memory of the
//! process; run it with several N to see whether memory grows with the estate.
//!
//! The growth of the store (issue 13): `--churn-percent P` makes each later scan change P %
//! of all resources instead (a tag added to a rotating slice of them, which changes their
//! findings too; 0 for unchanged rescans), each scan prints what it added to the file, and
//! the end prints the mean growth per scan after the first and that × 8,760 (a year of
//! hourly scans). `--churn-every H` changes the resources every H-th scan only (24: 1 % a
//! day with hourly scans, the churn of the history benchmark) and projects a year from the
//! mean growth of the scans with and without changes. `--read-first` then times reading the first snapshot's findings back a
//! page at a time (1,000 a page), as a report of a past date does; `--print-every K` prints
//! every K-th scan only; `--store PATH` keeps the SQLite file.
//!
//! Alerts (issue 15): `--alert-routes K` composes the alerts of K routes that admit every
//! finding (the worst case: the first scan's summaries hold every failure of every account)
//! and writes them to the outbox in the snapshot's transaction; compare the evaluation time
//! with K = 0.

use std::time::Instant;

use chrono::{Duration, Utc};
use posture_check::{Baseline, PhiScope, Settings};
use posture_model::{
    AccountId, Arn, CollectionRecord, Gap, Region, Resource, ResourceBody, UnavailableKind,
};
use posture_pipeline::{self as pipeline, Job};
use posture_store::{SnapshotSummary, Store, StoreLocation};

const SEEDED_ACCOUNT: &str = "123456789012";

/// The regions AWS enables by default, in the order a coverage record is made for.
const DEFAULT_REGIONS: [&str; 17] = [
    "us-east-1",
    "us-west-2",
    "us-east-2",
    "us-west-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
];

/// Stages the coverage record of one account: every service in every region and globally;
/// in the last `denied` regions (a service control policy that allows only some regions)
/// every service's list call failed, elsewhere Macie's session call did; and a call about
/// one resource failed. Returns the records staged.
fn stage_coverage(
    writer: &mut posture_store::SnapshotWriter<'_>,
    account: &AccountId,
    regions: &[Region],
    denied: usize,
    services: &[String],
) -> u64 {
    let mut staged = 0;
    let allowed = regions.len().saturating_sub(denied);
    for (i, region) in regions
        .iter()
        .cloned()
        .chain([Region::global()])
        .enumerate()
    {
        let is_denied = i >= allowed && i < regions.len();
        for service in services.iter().filter(|s| *s != "posture") {
            writer
                .put_collection(&CollectionRecord {
                    account: account.clone(),
                    region: region.clone(),
                    service: service.clone(),
                    resources: if is_denied { 0 } else { 3 },
                    complete: !is_denied && service != "macie",
                })
                .expect("stage a collection record");
            staged += 1;
            if is_denied {
                writer
                    .put_gap(&Gap {
                        account: account.clone(),
                        region: region.clone(),
                        service: service.clone(),
                        operation: format!("{service}:List"),
                        resource: None,
                        kind: UnavailableKind::Denied,
                        code: Some("AccessDenied".into()),
                        message: format!(
                            "User: arn:aws:sts::{account}:assumed-role/PostureAudit/posture is not \
                             authorized to perform: {service}:List with an explicit deny in a \
                             service control policy"
                        ),
                    })
                    .expect("stage a failed call");
                staged += 1;
            }
        }
        if is_denied {
            continue;
        }
        writer
            .put_gap(&Gap {
                account: account.clone(),
                region: region.clone(),
                service: "macie".into(),
                operation: "macie2:GetMacieSession".into(),
                resource: None,
                kind: UnavailableKind::Failed,
                code: Some("InternalServerError".into()),
                message: "the service answered 500".into(),
            })
            .expect("stage a failed call");
        staged += 1;
    }
    writer
        .put_gap(&Gap {
            account: account.clone(),
            region: Region::global(),
            service: "s3".into(),
            operation: "s3:GetBucketPolicy".into(),
            resource: Some(Arn::new(format!("arn:aws:s3:::logs-{account}")).expect("valid")),
            kind: UnavailableKind::Denied,
            code: Some("AccessDenied".into()),
            message: "denied by a bucket policy".into(),
        })
        .expect("stage a failed call");
    staged + 1
}

/// What the history costs on disk: the whole file, and each table with its indexes
/// (SQLite's dbstat), in MiB.
fn store_size(store: &mut Store) -> String {
    let mut mib = |sql: &str| store.count_raw(sql).expect("measure the store") as f64 / 1_048_576.0;
    let total = mib("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    let tables: Vec<String> = [
        "bodies",
        "resource_versions",
        "finding_bodies",
        "finding_versions",
        "failure_episodes",
        "collection_versions",
        "gap_versions",
        "snapshot_accounts",
        "drift_events",
        "snapshots",
    ]
    .iter()
    .map(|t| {
        let used = mib(&format!(
            "SELECT COALESCE(SUM(d.pgsize), 0) FROM dbstat d JOIN sqlite_master m ON m.name = d.name \
             WHERE m.tbl_name = '{t}'"
        ));
        format!("{t} {used:.1}")
    })
    .collect();
    format!(
        "{total:.1} MiB (with their indexes: {} MiB)",
        tables.join(", ")
    )
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn main() {
    let accounts: u64 = arg("--accounts", "100").parse().expect("--accounts N");
    let scans: u64 = arg("--scans", "2").parse().expect("--scans S");
    let coverage_regions: Vec<Region> = DEFAULT_REGIONS
        .iter()
        .take(
            arg("--coverage-regions", "17")
                .parse()
                .expect("--coverage-regions R"),
        )
        .map(|r| Region::new(*r).expect("valid"))
        .collect();
    let templates: Vec<&str> = include_str!("../../posture-check/benches/seeded-account.jsonl")
        .lines()
        .collect();
    let denied: usize = arg("--denied-regions", "0")
        .parse()
        .expect("--denied-regions D");
    let dir = tempfile::tempdir().expect("a temporary directory");
    // `--store PATH` keeps the store (a SQLite file) for inspection.
    let location = match arg("--store", "") {
        s if s.is_empty() => StoreLocation::Sqlite(dir.path().join("posture.sqlite")),
        s => StoreLocation::Sqlite(s.into()),
    };
    let mut store = Store::open(&location).expect("open the store");
    let baseline = Baseline::hipaa().expect("the shipped baseline");
    let phi = PhiScope::default();
    let regions = [
        Region::new("us-east-1").expect("valid"),
        Region::new("us-west-2").expect("valid"),
    ];
    // Every service the templates' resources belong to, as a scan of all of them records.
    let services: Vec<String> = templates
        .iter()
        .map(|line| {
            let r: Resource = serde_json::from_str(line).expect("a template resource");
            r.kind().service().to_owned()
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let ids: Vec<AccountId> = (0..accounts)
        .map(|i| AccountId::new(format!("{:012}", 100_000_000_000 + i)).expect("valid"))
        .collect();
    let churn: Option<f64> = std::env::args().any(|a| a == "--churn-percent").then(|| {
        arg("--churn-percent", "1")
            .parse()
            .expect("--churn-percent P")
    });
    let print_every: u64 = arg("--print-every", "1").parse().expect("--print-every K");
    let churn_every: u64 = arg("--churn-every", "1").parse().expect("--churn-every H");
    let alert_routes: Vec<posture_model::alert::RouteFilter> = (0..arg("--alert-routes", "0")
        .parse::<usize>()
        .expect("--alert-routes K"))
        .map(|k| posture_model::alert::RouteFilter {
            name: format!("route-{k}"),
            min_severity: posture_model::Severity::Info,
            phi_only: false,
            accounts: Vec::new(),
            rules: Vec::new(),
            tags: Default::default(),
            notices: posture_model::alert::Notices {
                resolved: true,
                ..Default::default()
            },
        })
        .collect();
    // Growth of the scans after the first: (scans with changes, bytes), (without, bytes).
    let mut churned = (0u64, 0i64);
    let mut unchanged = (0u64, 0i64);
    let total = accounts * templates.len() as u64;
    let per_scan = churn.map_or(0, |p| ((total as f64) * p / 100.0).round() as u64);
    // Version of each resource (a tag); churn bumps a deterministic, rotating slice.
    let mut versions = vec![0u64; total as usize];
    let bytes = |store: &mut Store| {
        store
            .count_raw("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            .expect("measure the store")
    };
    let mut sizes = vec![bytes(&mut store)];
    let mut first_snapshot = None;
    let t0 = Utc::now() - Duration::days(400);
    for scan in 0..scans {
        let changes = scan > 0 && per_scan > 0 && scan % churn_every == 0;
        if changes {
            for k in 0..per_scan {
                let i = (scan * per_scan + k * 7919) % total;
                versions[i as usize] += 1;
            }
        }
        let started = t0 + Duration::hours(i64::try_from(scan).unwrap_or(0));
        let t = Instant::now();
        let mut writer = store.begin_snapshot(started).expect("begin");
        let mut staged = 0u64;
        let mut coverage_records = 0u64;
        for (n, id) in ids.iter().enumerate() {
            coverage_records +=
                stage_coverage(&mut writer, id, &coverage_regions, denied, &services);
            for (i, line) in templates.iter().enumerate() {
                let mut r: Resource =
                    serde_json::from_str(&line.replace(SEEDED_ACCOUNT, id.as_str()))
                        .expect("a template resource");
                let version = versions[n * templates.len() + i];
                if version > 0 {
                    if let posture_model::Observed::Collected(tags) = &mut r.tags {
                        tags.insert("churn".into(), version.to_string());
                    } else {
                        r.tags = posture_model::Observed::Collected(
                            [("churn".to_owned(), version.to_string())].into(),
                        );
                    }
                }
                // Without --churn-percent, later scans change one resource per account, so
                // there is drift.
                if churn.is_none()
                    && scan > 0
                    && i == 0
                    && let ResourceBody::Account(a) = &mut r.body
                {
                    a.scanned_as = format!("{}-scan-{scan}", a.scanned_as);
                }
                writer.put_resource(&r).expect("stage a resource");
                staged += 1;
            }
        }
        let staging = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let finished_at = started + Duration::minutes(5);
        let job = Job {
            settings: Settings {
                baseline: &baseline,
                waivers: None,
                attestations: None,
                phi: &phi,
                now: finished_at,
            },
            accounts: &ids,
            regions: &regions,
            services: &services,
            excluded: &[],
            finished_at,
            alert_routes: &alert_routes,
            cancel: None,
        };
        let evaluated = pipeline::evaluate(&mut writer, &job, &mut |_, _| {}).expect("evaluate");
        let evaluating = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let meta = writer
            .commit(SnapshotSummary {
                finished_at,
                accounts: ids.clone(),
                regions: regions.to_vec(),
                services: services.clone(),
                api_calls: Default::default(),
                baseline: (baseline.name.clone(), baseline.version.clone()),
            })
            .expect("commit");
        let committing = t.elapsed().as_secs_f64();
        first_snapshot.get_or_insert(meta.id.clone());
        sizes.push(bytes(&mut store));
        let added = sizes[sizes.len() - 1] - sizes[sizes.len() - 2];
        if scan > 0 {
            let bucket = if changes {
                &mut churned
            } else {
                &mut unchanged
            };
            bucket.0 += 1;
            bucket.1 += added;
        }
        if scan % print_every != 0 && scan + 1 != scans {
            continue;
        }
        let findings: usize = evaluated.counts.values().sum();
        println!(
            "scan {}: {accounts} accounts, {staged} resources staged ({} stored), {coverage_records} coverage records, {findings} findings, \
             {} drift events; staging {staging:.1} s, evaluation and drift {evaluating:.1} s, \
             commit {committing:.1} s; {} foreign resources loaded; {} alerts ({} items) to the outbox",
            scan + 1,
            meta.resource_count,
            evaluated
                .drift
                .as_ref()
                .map_or(0, |d| d.resources + d.transitions.values().sum::<usize>()),
            evaluated.foreign_resources,
            evaluated.alerts.len(),
            evaluated.alerts.iter().map(|a| a.2).sum::<usize>(),
        );
        println!(
            "store after scan {}: {} (this scan added {:.1} KiB)",
            scan + 1,
            store_size(&mut store),
            added as f64 / 1024.0
        );
    }
    if scans > 1 {
        let growth = (sizes[sizes.len() - 1] - sizes[1]) as f64 / (scans - 1) as f64;
        println!(
            "growth per scan after the first: {:.1} KiB (mean of {} scans); × 8,760 hourly scans = {:.2} GiB a year, plus the first scan's {:.1} MiB",
            growth / 1024.0,
            scans - 1,
            growth * 8760.0 / 1_073_741_824.0,
            (sizes[1] - sizes[0]) as f64 / 1_048_576.0
        );
    }
    if churn_every > 1 && churned.0 > 0 && unchanged.0 > 0 {
        let with = churned.1 as f64 / churned.0 as f64;
        let without = unchanged.1 as f64 / unchanged.0 as f64;
        let changing = 8760 / churn_every;
        let year = with * changing as f64 + without * (8760 - changing) as f64;
        println!(
            "scans with changes: {:.1} KiB each (mean of {}); without: {:.1} KiB each (mean of {}); \
             a year of hourly scans, changes every {churn_every}th: {changing} × {:.1} KiB + {} × {:.1} KiB = {:.2} GiB, \
             plus the first scan's {:.1} MiB",
            with / 1024.0,
            churned.0,
            without / 1024.0,
            unchanged.0,
            with / 1024.0,
            8760 - changing,
            without / 1024.0,
            year / 1_073_741_824.0,
            (sizes[1] - sizes[0]) as f64 / 1_048_576.0
        );
    }
    if std::env::args().any(|a| a == "--read-first")
        && let Some(first) = &first_snapshot
    {
        let t = Instant::now();
        let mut n = 0usize;
        posture_store::for_each_page(
            |after| store.findings_page(first, after, 1000),
            |_| {
                n += 1;
                Ok::<(), posture_store::StoreError>(())
            },
        )
        .expect("read the first snapshot's findings");
        println!(
            "read the first snapshot's {n} findings back, 1,000 a page: {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }
    if let Some(peak) = posture_pipeline::peak_memory_mib() {
        println!("peak memory of the process: {peak:.0} MiB");
    }
}
