//! Rendering results for people (tables) and programs (JSON).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use posture_model::{Finding, SnapshotId, SnapshotMeta, Status};
use posture_pipeline::Drift;
use posture_store::{DriftPart, Store, for_each_page};
use serde::Serialize;

/// Findings read back from the store are fetched this many at a time.
const PAGE: usize = 2_000;

/// What the scan reports besides the findings, which are read back from the store.
pub struct Report<'a> {
    pub meta: &'a SnapshotMeta,
    pub counts: &'a BTreeMap<&'static str, usize>,
    pub drift: Option<&'a Drift>,
    pub stats: &'a Stats,
}

/// The JSON document `posture scan --format json` prints.
#[derive(Serialize)]
struct ScanReport<'a> {
    snapshot_id: &'a str,
    started_at: String,
    finished_at: String,
    accounts: &'a [posture_model::AccountId],
    regions: &'a [posture_model::Region],
    coverage: StoredCoverage<'a>,
    summary: &'a BTreeMap<&'static str, usize>,
    findings: StoredFindings<'a>,
    drift: Option<StoredDrift<'a>>,
    stats: &'a Stats,
}

/// A snapshot's findings, serialised as they are read from the store a page at a time.
struct StoredFindings<'a> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
}

impl Serialize for StoredFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        for_each_page(
            |after| {
                self.store
                    .borrow_mut()
                    .findings_page(self.id, after, PAGE)
                    .map_err(S::Error::custom)
            },
            |finding| {
                seq.serialize_element(&FindingJson {
                    finding: &finding,
                    snapshot_id: self.id.as_str(),
                })
            },
        )?;
        seq.end()
    }
}

/// A snapshot's coverage record (`collected`, `failed`, `api_calls`), serialised as it is
/// read from the store a page at a time: an organization has a collection record per
/// account, region and service; and `not_scanned`, the services left out of the scan.
struct StoredCoverage<'a> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
    api_calls: &'a BTreeMap<String, u64>,
    not_scanned: Vec<String>,
}

/// A page of records after a position: `(position, record)` pairs, empty at the end.
type ReadPage<T> =
    fn(&mut Store, &SnapshotId, Option<i64>) -> Result<Vec<(i64, T)>, posture_store::StoreError>;

/// One kind of coverage record, serialised a page at a time.
struct Paged<'a, T> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
    read: ReadPage<T>,
}

impl<T: Serialize> Serialize for Paged<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        for_each_page(
            |after| {
                (self.read)(&mut self.store.borrow_mut(), self.id, after).map_err(S::Error::custom)
            },
            |record| seq.serialize_element(&record),
        )?;
        seq.end()
    }
}

/// Drift against the previous snapshot (`since`, `resources`, `findings`, `still_failing`):
/// the counts come from the evaluation, the events are read from the store a page at a time.
struct StoredDrift<'a> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
    drift: &'a Drift,
}

impl Serialize for StoredDrift<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Drift", 4)?;
        s.serialize_field("since", &self.drift.since)?;
        s.serialize_field(
            "resources",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| drift_bodies(store, id, DriftPart::Resources, after),
            },
        )?;
        s.serialize_field(
            "findings",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| drift_bodies(store, id, DriftPart::Findings, after),
            },
        )?;
        s.serialize_field("still_failing", &self.drift.still_failing)?;
        s.end()
    }
}

/// A page of drift events as they were recorded (a resource change or a finding
/// transition).
fn drift_bodies(
    store: &mut Store,
    id: &SnapshotId,
    part: DriftPart,
    after: Option<i64>,
) -> Result<Vec<(i64, serde_json::Value)>, posture_store::StoreError> {
    Ok(store
        .drift_page(id, part, after, PAGE)?
        .into_iter()
        .map(|(seq, record)| (seq, record.body))
        .collect())
}

impl Serialize for StoredCoverage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Coverage", 4)?;
        s.serialize_field(
            "collected",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| store.collections_page(id, after, PAGE),
            },
        )?;
        s.serialize_field(
            "failed",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| store.gaps_page(id, after, PAGE),
            },
        )?;
        s.serialize_field("api_calls", self.api_calls)?;
        s.serialize_field("not_scanned", &self.not_scanned)?;
        s.end()
    }
}

/// Calls `each` with every finding of the snapshot, in stored order, a page at a time.
fn each_finding(
    store: &mut Store,
    id: &SnapshotId,
    mut each: impl FnMut(Finding),
) -> anyhow::Result<()> {
    for_each_page(
        |after| store.findings_page(id, after, PAGE),
        |f| {
            each(f);
            Ok(())
        },
    )?;
    Ok(())
}

/// How the scan went, for operators and benchmarks.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// Seconds from start to the snapshot being stored.
    pub wall_seconds: f64,
    /// API calls made (the sum of `coverage.api_calls`).
    pub api_calls: u64,
    /// HTTP attempts (calls plus retries).
    pub attempts: u64,
    /// Attempts AWS answered with throttling (retried with backoff).
    pub throttled: u64,
    /// Resources collected.
    pub resources: u64,
    /// Peak resident memory of the process, MiB (Linux only).
    pub peak_memory_mib: Option<f64>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    snapshot_id: &'a str,
}

pub fn print_scan_json(store: &mut Store, report: &Report<'_>) -> anyhow::Result<()> {
    let meta = report.meta;
    let store = RefCell::new(store);
    let document = ScanReport {
        snapshot_id: meta.id.as_str(),
        started_at: meta.started_at.to_rfc3339(),
        finished_at: meta.finished_at.to_rfc3339(),
        accounts: &meta.accounts,
        regions: &meta.regions,
        coverage: StoredCoverage {
            store: &store,
            id: &meta.id,
            api_calls: &meta.coverage.api_calls,
            not_scanned: posture_pipeline::excluded_services(&meta.services),
        },
        summary: report.counts,
        findings: StoredFindings {
            store: &store,
            id: &meta.id,
        },
        drift: report.drift.map(|drift| StoredDrift {
            store: &store,
            id: &meta.id,
            drift,
        }),
        stats: report.stats,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// One row of the findings table.
struct Row {
    status: Status,
    severity: posture_model::Severity,
    rule: String,
    arn: String,
    region: String,
    reason: String,
}

pub fn print_scan_table(
    store: &mut Store,
    report: &Report<'_>,
    all: bool,
    location: &str,
) -> anyhow::Result<()> {
    let (meta, stats) = (report.meta, report.stats);
    let mut shown = Vec::new();
    each_finding(store, &meta.id, |f| {
        if all || matches!(f.status, Status::Fail | Status::Error) {
            shown.push(Row {
                status: f.status,
                severity: f.severity,
                rule: f.rule_id.to_string(),
                arn: f.resource.arn.to_string(),
                region: f.resource.region.to_string(),
                reason: short(&f.reason),
            });
        }
    })?;
    // Failures first, most severe first; then errors; stable within by rule and resource.
    let rank = |r: &Row| match r.status {
        Status::Fail => 0,
        Status::Error => 1,
        _ => 2,
    };
    shown.sort_by(|a, b| {
        (rank(a), std::cmp::Reverse(a.severity), &a.rule, &a.arn).cmp(&(
            rank(b),
            std::cmp::Reverse(b.severity),
            &b.rule,
            &b.arn,
        ))
    });
    let mut out = std::io::stdout().lock();
    if !shown.is_empty() {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["status", "severity", "rule", "resource", "region", "reason"]);
        for r in &shown {
            table.add_row([
                r.status.as_str(),
                r.severity.as_str(),
                r.rule.as_str(),
                r.arn.as_str(),
                r.region.as_str(),
                r.reason.as_str(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    let count = |s: Status| report.counts.get(s.as_str()).copied().unwrap_or(0);
    writeln!(
        out,
        "snapshot {} ({} resources, accounts {}, regions {}): {} pass, {} fail, {} error, {} not applicable",
        meta.id,
        meta.resource_count,
        meta.accounts
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(","),
        meta.regions
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(","),
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Error),
        count(Status::NotApplicable),
    )?;
    let calls = format!(
        "{} API calls ({} attempts, {} throttled) in {:.1} s",
        stats.api_calls, stats.attempts, stats.throttled, stats.wall_seconds
    );
    let not_scanned = posture_pipeline::excluded_services(&meta.services);
    if !not_scanned.is_empty() {
        writeln!(
            out,
            "not scanned (left out of scan.services; their rules are omitted): {}",
            not_scanned.join(", ")
        )?;
    }
    if meta.coverage.failed_calls == 0 {
        writeln!(out, "coverage: every collection complete; {calls}")?;
    } else {
        writeln!(
            out,
            "coverage: {} calls failed (findings that need them are errors); {calls}:",
            meta.coverage.failed_calls
        )?;
        // Grouped by (operation, region, error code): a handful of lines however many
        // resources a denied call hid.
        let mut by_op: BTreeMap<(String, String, Option<String>), usize> = BTreeMap::new();
        for_each_page(
            |after| store.gaps_page(&meta.id, after, PAGE),
            |g| {
                *by_op
                    .entry((g.operation, g.region.to_string(), g.code))
                    .or_default() += 1;
                Ok(())
            },
        )?;
        for ((op, region, code), n) in by_op {
            writeln!(
                out,
                "  {op} in {region}: {} x{n}",
                code.as_deref().unwrap_or("error")
            )?;
        }
    }
    if let Some(d) = report.drift {
        use posture_drift::Transition as T;
        writeln!(
            out,
            "since snapshot {}: {} resources changed; {} new failures, {} resolved, {} still failing, {} newly unverifiable",
            d.since,
            d.resources,
            d.count(T::NewFailure) + d.count(T::WaiverExpired),
            d.count(T::Resolved),
            d.count(T::StillFailing),
            d.count(T::NewError),
        )?;
    }
    writeln!(out, "stored in {location}")?;
    Ok(())
}

/// A reason cut for a table cell; `--format json` carries it whole.
fn short(text: &str) -> String {
    const MAX: usize = 160;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
