//! SARIF 2.1.0 output, for tools that read static-analysis results (code-scanning
//! dashboards, ticketing bridges).
//!
//! One run. `tool.driver.rules` holds every rule and manual control of the baseline (id,
//! title, rationale, remediation, its citations as `tags`, a `security-severity`), and the
//! results are the findings a reader must act on: failures (`kind: "fail"`, `level` from the
//! severity), waived failures (the same, with an `external` suppression whose status is
//! `accepted` and whose justification is the waiver's), and errors (`kind: "open"`: the rule
//! could not decide, never a pass). Passes and not-applicable results are counted in the
//! run's `properties`, not listed: a SARIF viewer lists results to fix. A resource is a
//! `logicalLocation` (its ARN, kind `resource`); `partialFingerprints` carries
//! `<rule_id>:<arn>` so a consumer matches one finding across snapshots.
//!
//! Validated in the tests against the OASIS SARIF 2.1.0 JSON Schema (vendored under
//! `tests/schemas/`).

use std::collections::BTreeMap;
use std::io::Write;

use posture_model::{Finding, Severity, Status};
use posture_store::{FindingFilter, Store};
use serde_json::{Value, json};

use crate::model::Head;
use crate::ocsf::snapshot_id;
use crate::sink::findings_pages;
use crate::{ReportError, Request};

/// The schema URI written in `$schema`: the OASIS 2.1.0 schema (errata 01).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// One rule descriptor, before it is written.
struct Descriptor {
    id: String,
    title: String,
    description: String,
    help: String,
    severity: Severity,
    citations: Vec<String>,
}

/// Writes the log; returns how many findings failed.
pub(crate) fn write(
    store: &mut Store,
    head: &Head,
    request: &Request<'_>,
    out: &mut dyn Write,
) -> Result<u64, ReportError> {
    let id = snapshot_id(head)?;
    let mut rules: Vec<Descriptor> = request
        .baseline
        .rules
        .iter()
        .map(|r| {
            let meta = r.rule.meta();
            Descriptor {
                id: meta.id.to_owned(),
                title: meta.title.to_owned(),
                description: meta.rationale.to_owned(),
                help: meta.remediation.to_owned(),
                severity: meta.severity,
                citations: r.citations.iter().map(|c| c.id.clone()).collect(),
            }
        })
        .chain(request.baseline.manual.iter().map(|m| Descriptor {
            id: m.id.to_string(),
            title: m.title.clone(),
            description: format!("A process control a person attests to. {}", m.title),
            help: format!("Attest to it with this evidence: {}", m.expected_evidence),
            severity: m.severity,
            citations: m.citations.iter().map(|c| c.id.clone()).collect(),
        }))
        .collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();

    let t = &head.totals;
    let run_head = json!({
        "tool": {"driver": {
            "name": "Posture",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules.iter().map(descriptor).collect::<Vec<_>>(),
        }},
        "automationDetails": {
            "id": format!("posture/{}", head.snapshot.snapshot_id),
            "description": {"text": format!(
                "HIPAA Security Rule evaluation of snapshot {} ({} version {})",
                head.snapshot.snapshot_id, head.baseline, head.baseline_version
            )},
        },
        "invocations": [{
            "executionSuccessful": true,
            "startTimeUtc": head.snapshot.started_at,
            "endTimeUtc": head.snapshot.finished_at,
        }],
        "properties": {
            "snapshot_id": head.snapshot.snapshot_id,
            "snapshot_hash": head.snapshot.hash,
            "baseline": head.baseline,
            "baseline_version": head.baseline_version,
            "accounts": head.snapshot.accounts,
            "account_filter": head.account_filter,
            "counts": {
                "pass": t.pass, "fail": t.fail, "error": t.error,
                "not_applicable": t.not_applicable, "waived": t.waived, "manual": t.manual,
            },
        },
    });
    // The run's head, written without its closing brace, then the results streamed in.
    let text = serde_json::to_string(&run_head)?;
    let open = text.strip_suffix('}').unwrap_or(&text);
    write!(
        out,
        "{{\"$schema\":{},\"version\":\"2.1.0\",\"runs\":[{open},\"results\":[",
        Value::from(SARIF_SCHEMA)
    )?;
    let filter = FindingFilter {
        statuses: vec![Status::Fail, Status::Waived, Status::Error],
        ..FindingFilter::default()
    };
    let mut failing = 0;
    let mut first = true;
    findings_pages(store, &id, &filter, request.accounts, |page| {
        for f in page {
            failing += u64::from(f.status == Status::Fail);
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut *out, &result(&f, index.get(f.rule_id.as_str())))?;
        }
        Ok(())
    })?;
    out.write_all(if first { b"]}]}\n" } else { b"\n]}]}\n" })?;
    Ok(failing)
}

/// SARIF's `level` for a failure of this severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The `security-severity` score code-scanning tools sort by (0.0 to 10.0).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn descriptor(r: &Descriptor) -> Value {
    let mut tags = vec!["HIPAA".to_owned()];
    tags.extend(r.citations.iter().cloned());
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": if r.description.is_empty() { &r.title } else { &r.description }},
        "help": {"text": if r.help.is_empty() { &r.title } else { &r.help }},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": tags,
            "severity": r.severity.as_str(),
            "security-severity": security_severity(r.severity),
            "citations": r.citations,
        },
    })
}

fn result(f: &Finding, rule_index: Option<&usize>) -> Value {
    let (kind, level) = match f.status {
        Status::Error => ("open", "none"),
        _ => ("fail", level(f.severity)),
    };
    let mut result = json!({
        "ruleId": f.rule_id.as_str(),
        "kind": kind,
        "level": level,
        "message": {"text": f.reason},
        "locations": [{"logicalLocations": [{
            "fullyQualifiedName": f.resource.arn.as_str(),
            "kind": "resource",
        }]}],
        "partialFingerprints": {"postureFinding/v1": format!("{}:{}", f.rule_id, f.resource.arn)},
        "properties": {
            "status": f.status.as_str(),
            "severity": f.severity.as_str(),
            "resource": {
                "arn": f.resource.arn.as_str(),
                "kind": f.resource.kind.as_str(),
                "account": f.resource.account.as_str(),
                "region": f.resource.region.as_str(),
                "tags": f.resource.tags,
            },
            "phi": f.phi,
            "citations": f.citations,
            "evidence": f.evidence,
            "first_seen": f.first_seen.map(|t| t.to_rfc3339()),
        },
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if let Some(w) = &f.waiver {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!(
                "{} (ticket {}, owner {}, expires {})",
                w.justification, w.ticket, w.owner, w.expires
            ),
        }]);
    }
    result
}
