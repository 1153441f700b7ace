//! `posture diff`: what changed between two snapshots.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use posture_drift as drift;
use posture_store::Store;
use serde::Serialize;

use crate::cli::{DiffArgs, Format};
use posture_config::Config;

#[derive(Serialize)]
struct DiffReport<'a> {
    from: &'a str,
    to: &'a str,
    resources: &'a [drift::ResourceChange],
    findings: &'a [drift::FindingTransition],
}

pub fn run(config: &Config, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let since = args.since.as_deref().map(parse_date).transpose()?;
    let mut store = Store::open_existing(&crate::cli::configured_store(config)?)?;
    let snapshots = store.snapshots()?;
    let pick = |id: &str| -> anyhow::Result<usize> {
        snapshots
            .iter()
            .position(|s| s.id.as_str() == id)
            .with_context(|| format!("no snapshot {id} in the store (see `posture snapshots`)"))
    };
    let (from, to) = match (&args.from, &args.to, since) {
        (Some(f), Some(t), _) => (pick(f)?, pick(t)?),
        (Some(f), None, _) => (pick(f)?, snapshots.len().saturating_sub(1)),
        (None, None, Some(date)) => {
            let last = snapshots
                .len()
                .checked_sub(1)
                .context("the store has no snapshots yet: run `posture scan`")?;
            // The state on that date: the newest snapshot taken at or before it, else the first.
            let from = snapshots
                .iter()
                .rposition(|s| s.started_at <= date)
                .unwrap_or(0);
            (from, last)
        }
        (None, None, None) => {
            anyhow::ensure!(
                snapshots.len() >= 2,
                "the store has {} snapshot(s); diff needs two (run `posture scan` again, or name them)",
                snapshots.len()
            );
            (snapshots.len() - 2, snapshots.len() - 1)
        }
        (None, Some(_), _) => unreachable!("clap requires FROM before TO"),
    };
    let (from, to) = (&snapshots[from], &snapshots[to]);
    let old_resources = store.resources(&from.id)?;
    let new_resources = store.resources(&to.id)?;
    let old_findings = store.findings(&from.id)?;
    let new_findings = store.findings(&to.id)?;
    // The scope the scan of `to` used: what both covered, less what `to` could not read
    // and the rules either snapshot left out.
    let baseline = crate::cli::load_baseline(config)?;
    let scope = posture_pipeline::stored_scope(&mut store, from, to, &baseline)?;
    let resources = drift::diff_resources(&old_resources, &new_resources, &scope);
    let mut findings = drift::diff_findings(&old_findings, &new_findings, &scope, to.finished_at);
    // Changes that need attention first; states (still failing) last.
    findings.sort_by_key(|f| {
        let rank = match f.transition {
            drift::Transition::NewFailure => 0,
            drift::Transition::WaiverExpired => 1,
            drift::Transition::NewError => 2,
            drift::Transition::Resolved => 3,
            drift::Transition::NewlyWaived => 4,
            drift::Transition::StillFailing => 5,
        };
        (rank, std::cmp::Reverse(f.severity))
    });

    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let report = DiffReport {
                from: from.id.as_str(),
                to: to.id.as_str(),
                resources: &resources,
                findings: &findings,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(
                out,
                "from {} ({}) to {} ({})",
                from.id,
                from.started_at.to_rfc3339(),
                to.id,
                to.started_at.to_rfc3339()
            )?;
            if !findings.is_empty() {
                let mut table = Table::new();
                table
                    .load_preset(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(crate::output::table_width())
                    .set_header([
                        "transition",
                        "severity",
                        "rule",
                        "resource",
                        "since",
                        "reason",
                    ]);
                for f in &findings {
                    table.add_row([
                        f.transition.as_str().to_owned(),
                        f.severity.as_str().to_owned(),
                        f.rule_id.to_string(),
                        f.resource.arn.to_string(),
                        f.age_days.map(|d| format!("{d} days")).unwrap_or_default(),
                        f.reason.clone(),
                    ]);
                }
                writeln!(out, "{table}")?;
            }
            if !resources.is_empty() {
                let mut table = Table::new();
                table
                    .load_preset(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(crate::output::table_width())
                    .set_header(["change", "kind", "resource", "field", "old", "new"]);
                for r in &resources {
                    let change = format!("{:?}", r.change).to_lowercase();
                    if r.fields.is_empty() {
                        table.add_row([
                            change.clone(),
                            r.kind.to_string(),
                            r.arn.clone(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]);
                    }
                    for f in &r.fields {
                        let show = |v: &Option<serde_json::Value>| {
                            v.as_ref()
                                .map(|v| v.to_string())
                                .unwrap_or_else(|| "-".into())
                        };
                        table.add_row([
                            change.clone(),
                            r.kind.to_string(),
                            r.arn.clone(),
                            f.pointer.clone(),
                            show(&f.old),
                            show(&f.new),
                        ]);
                    }
                }
                writeln!(out, "{table}")?;
            }
            writeln!(
                out,
                "{} resource changes, {} finding transitions",
                resources.len(),
                findings.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Accepts `YYYY-MM-DD` (midnight UTC) or a full RFC 3339 time.
pub(crate) fn parse_date(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!(
            "--since {text:?}: expected a date like 2026-01-01 or a time like 2026-01-01T00:00:00Z"
        )
    })?;
    Ok(day
        .and_hms_opt(0, 0, 0)
        .context("midnight exists")?
        .and_utc())
}
