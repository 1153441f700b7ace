//! The evidence report over a large history: size and time of the HTML report, and the
//! peak memory of the process that writes it (does it follow a page or the estate?).
//!
//! `cargo build -p posture-report --benches --profile dev` then run the binary
//! (`target/debug/deps/report-*`) with `[--findings N] [--snapshots S] [--accounts A]
//! [--fail-percent F] [--format html|json|csv|markdown] [--out PATH]` (defaults 100,000,
//! 30, 50, 20, html). It builds a synthetic SQLite store of S daily snapshots of A
//! accounts with N findings each (the baseline's rules over synthetic resources, F % of
//! them failing, 1 % changing status from one snapshot to the next, so the period has
//! drift), written through the store's writer as a scan writes them; then, in a fresh
//! process (so the peak memory is the report's alone), writes the report of the latest
//! snapshot over the whole period, and prints its size, the time and the peak memory.
//! `--store PATH` reports on an existing store (built with `--build PATH`); with
//! `--bundle DEST` (a directory or `.tar.gz`) it writes the evidence bundle instead and
//! verifies it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failure aborts it"
)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use posture_check::Baseline;
use posture_model::{
    AccountId, Arn, CollectionRecord, Evidence, Finding, Region, ResourceKind, ResourceRef,
    Severity, Status, Tags,
};
use posture_report::{Format, Request, Snapshot};
use posture_store::{SnapshotSummary, Store, StoreLocation};

struct Args {
    findings: usize,
    snapshots: usize,
    accounts: usize,
    fail_percent: usize,
    format: Format,
    out: Option<PathBuf>,
    store: Option<PathBuf>,
    build: Option<PathBuf>,
    /// Write the evidence bundle here (a directory or `.tar.gz`) instead of one report,
    /// then verify it.
    bundle: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        findings: 100_000,
        snapshots: 30,
        accounts: 50,
        fail_percent: 20,
        format: Format::Html,
        out: None,
        store: None,
        build: None,
        bundle: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().expect("a value after the flag");
        match flag.as_str() {
            "--findings" => a.findings = value().parse().unwrap(),
            "--snapshots" => a.snapshots = value().parse().unwrap(),
            "--accounts" => a.accounts = value().parse().unwrap(),
            "--fail-percent" => a.fail_percent = value().parse().unwrap(),
            "--format" => {
                a.format = match value().as_str() {
                    "html" => Format::Html,
                    "json" => Format::Json,
                    "csv" => Format::Csv,
                    "markdown" => Format::Markdown,
                    "ocsf" => Format::Ocsf,
                    "sarif" => Format::Sarif,
                    other => panic!("unknown format {other}"),
                }
            }
            "--out" => a.out = Some(value().into()),
            "--store" => a.store = Some(value().into()),
            "--build" => a.build = Some(value().into()),
            "--bundle" => a.bundle = Some(value().into()),
            // cargo bench passes --bench.
            _ => {}
        }
    }
    a
}

fn account(i: usize) -> AccountId {
    AccountId::new(format!("{:012}", 200_000_000_000 + i)).unwrap()
}

fn build(path: &Path, a: &Args) {
    let started = Instant::now();
    let baseline = Baseline::hipaa().unwrap();
    let rules: Vec<_> = baseline.rules.iter().collect();
    let per_account = a.findings / a.accounts;
    let region = Region::new("us-east-1").unwrap();
    let mut store = Store::open(&StoreLocation::Sqlite(path.to_path_buf())).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for s in 0..a.snapshots {
        let at = t0 + Duration::days(s as i64);
        let finished = at + Duration::minutes(10);
        let mut writer = store.begin_snapshot(at).unwrap();
        let accounts: Vec<AccountId> = (0..a.accounts).map(account).collect();
        for acc in &accounts {
            writer
                .put_collection(&CollectionRecord {
                    account: acc.clone(),
                    region: region.clone(),
                    service: "ec2".into(),
                    resources: per_account as u64,
                    complete: true,
                })
                .unwrap();
            let mut findings: Vec<Finding> = (0..per_account)
                .map(|i| {
                    let rule = rules[i % rules.len()];
                    let meta = rule.rule.meta();
                    // F % fail; 1 % of the findings change status each snapshot.
                    let flip = (i + s * per_account / 100).is_multiple_of(100);
                    let failing = (i * 7919) % 100 < a.fail_percent;
                    let status = match (failing, flip) {
                        (true, false) | (false, true) => Status::Fail,
                        _ => Status::Pass,
                    };
                    let mut evidence = Evidence::new();
                    evidence.insert(
                        "encrypted".into(),
                        serde_json::json!(status == Status::Pass),
                    );
                    evidence.insert("kms_key_id".into(), serde_json::json!(format!("key-{i}")));
                    evidence.insert("checked".into(), serde_json::json!(["a", "b"]));
                    Finding {
                        rule_id: posture_model::RuleId::new(meta.id).unwrap(),
                        title: meta.title.to_owned(),
                        status,
                        severity: Severity::High,
                        resource: ResourceRef {
                            arn: Arn::new(format!(
                                "arn:aws:ec2:us-east-1:{}:volume/vol-{i:08x}",
                                acc.as_str()
                            ))
                            .unwrap(),
                            kind: ResourceKind::Volume,
                            account: acc.clone(),
                            region: region.clone(),
                            tags: Tags::from([("Name".to_owned(), format!("vol {i}"))]),
                        },
                        phi: i.is_multiple_of(10),
                        citations: rule.citations.clone(),
                        evidence,
                        reason: if status == Status::Fail {
                            "the volume is not encrypted with a customer managed key".into()
                        } else {
                            "encrypted".into()
                        },
                        waiver: None,
                        first_seen: None,
                    }
                })
                .collect();
            writer.put_findings(&mut findings, finished).unwrap();
        }
        writer
            .commit(SnapshotSummary {
                finished_at: finished,
                accounts,
                regions: vec![region.clone()],
                services: vec!["ec2".into()],
                api_calls: Default::default(),
                baseline: (baseline.name.clone(), baseline.version.clone()),
            })
            .unwrap();
    }
    eprintln!(
        "built {} snapshots of {} findings in {:.1} s ({:.0} MiB)",
        a.snapshots,
        per_account * a.accounts,
        started.elapsed().as_secs_f64(),
        std::fs::metadata(path).unwrap().len() as f64 / 1048576.0
    );
}

fn measure(store_path: &Path, a: &Args) {
    let mut store = Store::open_existing(&StoreLocation::Sqlite(store_path.to_path_buf())).unwrap();
    let baseline = Baseline::hipaa().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_path = a.out.clone().unwrap_or_else(|| dir.path().join("report"));
    let request = Request {
        format: a.format,
        snapshot: Snapshot::Latest,
        since: Some(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()),
        accounts: &[],
        baseline: &baseline,
        as_of: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
    };
    if let Some(dest) = &a.bundle {
        let started = Instant::now();
        let written = posture_report::write_bundle(&mut store, &request, dest, None).unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let files: u64 = written.manifest.files.iter().map(|f| f.bytes).sum();
        let size = if dest.is_file() {
            std::fs::metadata(dest).unwrap().len()
        } else {
            files
        };
        println!(
            "bundle of {} files ({:.2} MiB of files, {:.2} MiB on disk) over {} snapshots in {:.2} s",
            written.manifest.files.len(),
            files as f64 / 1048576.0,
            size as f64 / 1048576.0,
            written.manifest.snapshots.len(),
            seconds
        );
        let started = Instant::now();
        let check = posture_report::verify_bundle(dest, None);
        println!(
            "verified in {:.2} s: {} files intact, {} problem(s)",
            started.elapsed().as_secs_f64(),
            check.files_ok,
            check.problems.len()
        );
        if let Some(peak) = posture_pipeline::peak_memory_mib() {
            println!("peak memory of the process: {peak:.0} MiB");
        }
        return;
    }
    let started = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&out_path).unwrap());
    let written = posture_report::write(&mut store, &request, &mut out).unwrap();
    std::io::Write::flush(&mut out).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&out_path).unwrap().len();
    println!(
        "report of {} findings ({} failing) over {} snapshots: {:.2} MiB in {:.2} s; chain {}",
        written.findings,
        written.failing,
        written.period_snapshots,
        size as f64 / 1048576.0,
        seconds,
        if written.chain_intact {
            "intact"
        } else {
            "NOT intact"
        }
    );
    if let Some(peak) = posture_pipeline::peak_memory_mib() {
        println!("peak memory of the process: {peak:.0} MiB");
    }
}

fn main() {
    let a = args();
    if let Some(path) = &a.build {
        build(path, &a);
        return;
    }
    if let Some(path) = &a.store {
        measure(path, &a);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite");
    build(&path, &a);
    // A fresh process, so the peak memory is the report's alone.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(std::env::args().skip(1))
        .arg("--store")
        .arg(&path);
    assert!(child.status().unwrap().success());
}
