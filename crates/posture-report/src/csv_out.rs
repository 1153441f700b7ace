//! The CSV report: one row per finding of the snapshot (every status), with its citations
//! and PHI flag, for spreadsheets. Column names are the JSON field names (dotted for the
//! resource's); structured values (tags, evidence) are compact JSON in their cell.

use std::io::Write;

use posture_store::{FindingFilter, Store};

use crate::model::Head;
use crate::sink::findings_pages;
use crate::{ReportError, Request};

/// The header row.
pub(crate) const COLUMNS: [&str; 20] = [
    "snapshot_id",
    "snapshot_time",
    "snapshot_hash",
    "rule_id",
    "title",
    "status",
    "severity",
    "resource.arn",
    "resource.kind",
    "resource.account",
    "resource.region",
    "resource.tags",
    "phi",
    "citations",
    "reason",
    "evidence",
    "waiver.ticket",
    "waiver.owner",
    "waiver.expires",
    "first_seen",
];

/// Writes every finding; returns how many failed.
pub(crate) fn write(
    store: &mut Store,
    head: &Head,
    request: &Request<'_>,
    out: &mut dyn Write,
) -> Result<u64, ReportError> {
    let id = crate::sink::store_id(&head.snapshot.snapshot_id)?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let mut failing = 0;
    let hash = head.snapshot.hash.clone().unwrap_or_default();
    findings_pages(
        store,
        &id,
        &FindingFilter::default(),
        request.accounts,
        |page| {
            for f in page {
                failing += u64::from(f.status == posture_model::Status::Fail);
                let waiver = f.waiver.as_ref();
                w.write_record([
                    head.snapshot.snapshot_id.as_str(),
                    head.snapshot.finished_at.as_str(),
                    hash.as_str(),
                    f.rule_id.as_str(),
                    f.title.as_str(),
                    f.status.as_str(),
                    f.severity.as_str(),
                    f.resource.arn.as_str(),
                    f.resource.kind.as_str(),
                    f.resource.account.as_str(),
                    f.resource.region.as_str(),
                    &serde_json::to_string(&f.resource.tags)?,
                    if f.phi { "true" } else { "false" },
                    &f.citations
                        .iter()
                        .map(|c| format!("{} {}", c.id, c.title))
                        .collect::<Vec<_>>()
                        .join("; "),
                    f.reason.as_str(),
                    &serde_json::to_string(&f.evidence)?,
                    waiver.map_or("", |w| w.ticket.as_str()),
                    waiver.map_or("", |w| w.owner.as_str()),
                    &waiver.map(|w| w.expires.to_string()).unwrap_or_default(),
                    &f.first_seen.map(|t| t.to_rfc3339()).unwrap_or_default(),
                ])?;
            }
            Ok(())
        },
    )?;
    w.flush()?;
    Ok(failing)
}
