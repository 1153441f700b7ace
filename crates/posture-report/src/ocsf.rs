//! OCSF output: every finding of the snapshot (every status) as one OCSF **Compliance
//! Finding** event (class 2003, category 2 "Findings"), schema version [`OCSF_VERSION`] with
//! the `cloud` profile, for a SIEM or a security data lake.
//!
//! The file is a JSON array with one event per line. Each event carries:
//! - `compliance`: the rule as `control`, the HIPAA Security Rule as `standards`, each cited
//!   paragraph as a `requirements` entry, the result as `status_id` (Pass 1, Fail 3,
//!   Unknown 0 for an `error`, Other 99 for not-applicable and manual) with Posture's own
//!   status in `status_code` and the reason in `status_detail`;
//! - `status_id` of the finding: Suppressed (3) when a waiver covers it, New (1) otherwise;
//! - `finding_info.uid` = `<rule_id>:<arn>`, stable across snapshots so a consumer can
//!   follow one finding through time; `metadata.uid` adds the snapshot, unique per event;
//! - `cloud` (AWS, account, region), `resources[0]` (ARN, kind, region, tags, `labels`
//!   `["phi"]` for a resource that holds ePHI), `evidences[0].data` (the fields and values
//!   the rule decided on), `remediation.desc` (the rule's remediation);
//! - `unmapped`: what OCSF has no place for: the snapshot's id and hash, the PHI flag, the
//!   waiver (ticket, owner, justification, expiry).
//!
//! Validated in the tests against the JSON Schema of OCSF 1.7.0's `compliance_finding`
//! with the `cloud` profile (vendored under `tests/schemas/`).

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use posture_model::{Finding, Severity, SnapshotId, Status};
use posture_store::{FindingFilter, Store};
use serde_json::{Value, json};

use crate::model::Head;
use crate::sink::findings_pages;
use crate::{ReportError, Request};

/// The OCSF schema version of the events.
pub const OCSF_VERSION: &str = "1.7.0";

/// The `standards` entry of every event.
const STANDARD: &str = "HIPAA Security Rule (45 CFR Part 164, Subpart C)";

/// Writes every finding as an event; returns how many failed.
pub(crate) fn write(
    store: &mut Store,
    head: &Head,
    request: &Request<'_>,
    out: &mut dyn Write,
) -> Result<u64, ReportError> {
    let id = snapshot_id(head)?;
    let time = epoch_ms(&head.snapshot.finished_at);
    let remediation: BTreeMap<&str, &str> = request
        .baseline
        .rules
        .iter()
        .map(|r| (r.rule.meta().id, r.rule.meta().remediation))
        .chain(
            request
                .baseline
                .manual
                .iter()
                .map(|m| (m.id.as_str(), m.expected_evidence.as_str())),
        )
        .collect();
    let mut failing = 0;
    let mut first = true;
    out.write_all(b"[")?;
    findings_pages(
        store,
        &id,
        &FindingFilter::default(),
        request.accounts,
        |page| {
            for f in page {
                failing += u64::from(f.status == Status::Fail);
                out.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                let event = event(&f, head, time, remediation.get(f.rule_id.as_str()).copied());
                serde_json::to_writer(&mut *out, &event)?;
            }
            Ok(())
        },
    )?;
    out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
    Ok(failing)
}

/// The snapshot's id as the store's type.
pub(crate) fn snapshot_id(head: &Head) -> Result<SnapshotId, ReportError> {
    crate::sink::store_id(&head.snapshot.snapshot_id)
}

/// Milliseconds since the epoch of an RFC 3339 time (0 when unreadable, which the store's
/// own times never are).
pub(crate) fn epoch_ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
        .unwrap_or_default()
}

/// OCSF's `severity_id` and its caption.
pub(crate) fn severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The compliance result: OCSF's `compliance.status_id` and its caption.
fn compliance_status(s: Status) -> (u8, &'static str) {
    match s {
        Status::Pass => (1, "Pass"),
        // A waiver accepts a failure; it does not make the resource compliant.
        Status::Fail | Status::Waived => (3, "Fail"),
        Status::Error => (0, "Unknown"),
        Status::NotApplicable | Status::Manual => (99, "Other"),
    }
}

fn event(f: &Finding, head: &Head, time: i64, remediation: Option<&str>) -> Value {
    let (severity_id, severity) = severity(f.severity);
    let (compliance_id, compliance) = compliance_status(f.status);
    let (status_id, status) = if f.status == Status::Waived {
        (3, "Suppressed")
    } else {
        (1, "New")
    };
    let uid = format!("{}:{}", f.rule_id, f.resource.arn);
    let tags: Vec<Value> = f
        .resource
        .tags
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let mut resource = json!({
        "uid": f.resource.arn.as_str(),
        "type": f.resource.kind.as_str(),
        "region": f.resource.region.as_str(),
        "cloud_partition": partition(f.resource.arn.as_str()),
    });
    if !tags.is_empty() {
        resource["tags"] = Value::Array(tags);
    }
    if f.phi {
        resource["labels"] = json!(["phi"]);
    }
    let mut finding_info = json!({
        "uid": uid,
        "title": f.title,
        "desc": f.reason,
        "types": ["HIPAA Security Rule"],
    });
    if let Some(t) = f.first_seen {
        finding_info["first_seen_time"] = json!(t.timestamp_millis());
    }
    let mut unmapped = json!({
        "snapshot_id": head.snapshot.snapshot_id,
        "snapshot_hash": head.snapshot.hash,
        "phi": f.phi,
        "status": f.status.as_str(),
    });
    if let Some(w) = &f.waiver {
        unmapped["waiver"] = json!({
            "ticket": w.ticket,
            "owner": w.owner,
            "justification": w.justification,
            "expires": w.expires.to_string(),
        });
    }
    let mut event = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200_301,
        "type_name": "Compliance Finding: Create",
        "time": time,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": format!("{}: {}", f.title, f.reason),
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "uid": format!("{}:{uid}", head.snapshot.snapshot_id),
            "correlation_uid": head.snapshot.snapshot_id,
            "product": {
                "name": "Posture",
                "vendor_name": "Posture",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "cloud": {
            "provider": "AWS",
            "region": f.resource.region.as_str(),
            "account": {"uid": f.resource.account.as_str(), "type_id": 10, "type": "AWS Account"},
        },
        "compliance": {
            "control": f.rule_id.as_str(),
            "standards": [STANDARD],
            "requirements": f.citations.iter().map(|c| format!("{} {}", c.id, c.title)).collect::<Vec<_>>(),
            "status_id": compliance_id,
            "status": compliance,
            "status_code": f.status.as_str(),
            "status_detail": f.reason,
        },
        "finding_info": finding_info,
        "resources": [resource],
        "evidences": [{"data": Value::Object(f.evidence.clone().into_iter().collect())}],
        "unmapped": unmapped,
    });
    if let Some(desc) = remediation.filter(|d| !d.is_empty()) {
        event["remediation"] = json!({ "desc": desc });
    }
    event
}

/// The AWS partition an ARN names (`aws`, `aws-us-gov`, `aws-cn`).
fn partition(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}
