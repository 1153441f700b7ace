//! Rendering results for people (tables) and programs (JSON).

use std::collections::BTreeMap;
use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use posture_model::{Finding, SnapshotMeta, Status};
use serde::Serialize;

/// What changed since the previous snapshot.
#[derive(Serialize)]
pub struct Drift {
    /// The previous snapshot's id.
    pub since: String,
    /// Resources added, removed or modified.
    pub resources: Vec<posture_drift::ResourceChange>,
    /// Finding transitions.
    pub findings: Vec<posture_drift::FindingTransition>,
}

impl Drift {
    /// The events stored with the snapshot: every resource change and every finding
    /// transition except "still failing" (a state, not a change; `posture diff` shows it).
    pub fn events(&self) -> Vec<(String, Option<String>, String, serde_json::Value)> {
        let mut out = Vec::new();
        for c in &self.resources {
            let event = match c.change {
                posture_drift::Change::Added => "resource_added",
                posture_drift::Change::Removed => "resource_removed",
                posture_drift::Change::Modified => "resource_modified",
            };
            out.push((
                event.to_owned(),
                None,
                c.arn.clone(),
                serde_json::to_value(c).unwrap_or_default(),
            ));
        }
        for t in self
            .findings
            .iter()
            .filter(|t| t.transition != posture_drift::Transition::StillFailing)
        {
            out.push((
                t.transition.as_str().to_owned(),
                Some(t.rule_id.to_string()),
                t.resource.arn.to_string(),
                serde_json::to_value(t).unwrap_or_default(),
            ));
        }
        out
    }

    fn count(&self, t: posture_drift::Transition) -> usize {
        self.findings.iter().filter(|f| f.transition == t).count()
    }
}

/// The JSON document `posture scan --format json` prints.
#[derive(Serialize)]
struct ScanReport<'a> {
    snapshot_id: &'a str,
    started_at: String,
    finished_at: String,
    accounts: &'a [posture_model::AccountId],
    regions: &'a [posture_model::Region],
    coverage: &'a posture_model::Coverage,
    summary: BTreeMap<&'static str, usize>,
    findings: Vec<FindingJson<'a>>,
    drift: Option<&'a Drift>,
    stats: &'a Stats,
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

/// The process's peak resident memory, from /proc (Linux).
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

#[derive(Serialize)]
struct FindingJson<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    snapshot_id: &'a str,
}

fn summary(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.status.as_str()).or_default() += 1;
    }
    counts
}

pub fn print_scan_json(
    meta: &SnapshotMeta,
    findings: &[Finding],
    drift: Option<&Drift>,
    stats: &Stats,
) -> anyhow::Result<()> {
    let report = ScanReport {
        snapshot_id: meta.id.as_str(),
        started_at: meta.started_at.to_rfc3339(),
        finished_at: meta.finished_at.to_rfc3339(),
        accounts: &meta.accounts,
        regions: &meta.regions,
        coverage: &meta.coverage,
        summary: summary(findings),
        findings: findings
            .iter()
            .map(|finding| FindingJson {
                finding,
                snapshot_id: meta.id.as_str(),
            })
            .collect(),
        drift,
        stats,
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    Ok(())
}

pub fn print_scan_table(
    meta: &SnapshotMeta,
    findings: &[Finding],
    all: bool,
    drift: Option<&Drift>,
    stats: &Stats,
    store: &str,
) -> anyhow::Result<()> {
    let mut shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| all || matches!(f.status, Status::Fail | Status::Error))
        .collect();
    // Failures first, most severe first; then errors; stable within by rule and resource.
    shown.sort_by(|a, b| {
        let rank = |f: &Finding| match f.status {
            Status::Fail => 0,
            Status::Error => 1,
            _ => 2,
        };
        (
            rank(a),
            std::cmp::Reverse(a.severity),
            &a.rule_id,
            &a.resource.arn,
        )
            .cmp(&(
                rank(b),
                std::cmp::Reverse(b.severity),
                &b.rule_id,
                &b.resource.arn,
            ))
    });
    let mut out = std::io::stdout().lock();
    if !shown.is_empty() {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["status", "severity", "rule", "resource", "region", "reason"]);
        for f in &shown {
            table.add_row([
                f.status.as_str(),
                f.severity.as_str(),
                f.rule_id.as_str(),
                f.resource.arn.as_str(),
                f.resource.region.as_str(),
                short(&f.reason).as_str(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    let counts = summary(findings);
    let count = |s: Status| counts.get(s.as_str()).copied().unwrap_or(0);
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
    if meta.coverage.failed.is_empty() {
        writeln!(out, "coverage: every collection complete; {calls}")?;
    } else {
        writeln!(
            out,
            "coverage: {} calls failed (findings that need them are errors); {calls}:",
            meta.coverage.failed.len()
        )?;
        let mut by_op: BTreeMap<(&str, &str, Option<&str>), usize> = BTreeMap::new();
        for g in &meta.coverage.failed {
            *by_op
                .entry((g.operation.as_str(), g.region.as_str(), g.code.as_deref()))
                .or_default() += 1;
        }
        for ((op, region, code), n) in by_op {
            writeln!(out, "  {op} in {region}: {} x{n}", code.unwrap_or("error"))?;
        }
    }
    if let Some(d) = drift {
        use posture_drift::Transition as T;
        writeln!(
            out,
            "since snapshot {}: {} resources changed; {} new failures, {} resolved, {} still failing, {} newly unverifiable",
            d.since,
            d.resources.len(),
            d.count(T::NewFailure) + d.count(T::WaiverExpired),
            d.count(T::Resolved),
            d.count(T::StillFailing),
            d.count(T::NewError),
        )?;
    }
    writeln!(out, "stored in {store}")?;
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
