//! The second pass: the sections after the head, read a page at a time and handed to the
//! format's [`Sink`] as they are read.

use std::collections::BTreeMap;

use posture_model::{ACCOUNT_UNREACHABLE_OPERATION, AccountId, RuleId, SnapshotId, Status};
use posture_store::{DriftPart, FindingFilter, Store};

use crate::gather::account_filters;
use crate::model::{AttestationRow, DriftRow, FailingRow, GapRow, Head, RuleGroup, WaiverRow};
use crate::{PAGE, ReportError, Request};

/// The list sections, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// Failing resources, grouped by rule.
    Rules,
    /// The waiver register.
    Waivers,
    /// Manual attestations.
    Attestations,
    /// Failed calls and the rules they left unverified.
    Gaps,
    /// Finding transitions of the period.
    Drift,
}

type R = Result<(), ReportError>;

/// A format: called with the head, then each section's pages in order, then `finish`.
pub(crate) trait Sink {
    fn head(&mut self, head: &Head) -> R;
    fn open(&mut self, section: Section, head: &Head) -> R;
    fn close(&mut self, section: Section) -> R;
    fn rule_open(&mut self, rule: &RuleGroup) -> R;
    fn failing(&mut self, rows: &[FailingRow]) -> R;
    fn rule_close(&mut self, rule: &RuleGroup) -> R;
    fn waivers(&mut self, rows: &[WaiverRow]) -> R;
    fn attestations(&mut self, rows: &[AttestationRow]) -> R;
    fn gaps(&mut self, rows: &[GapRow]) -> R;
    fn drift(&mut self, rows: &[DriftRow]) -> R;
    fn finish(&mut self, head: &Head) -> R;
    /// Whether the sink writes `section`: the walk does not read the pages of a section
    /// no sink writes (its `open` and `close` are still called).
    fn wants(&self, _section: Section) -> bool {
        true
    }
}

/// A snapshot id read back from the store, as the store's type (a stored id that is not one
/// is a corrupt store).
pub(crate) fn store_id(id: &str) -> Result<SnapshotId, ReportError> {
    SnapshotId::new(id.to_owned()).map_err(|e| {
        ReportError::Store(posture_store::StoreError::Corrupt {
            what: "snapshot id",
            message: e.to_string(),
        })
    })
}

/// Reads every page of the findings of `id` matching `filter` in each account asked for,
/// handing each page to `each`.
pub(crate) fn findings_pages(
    store: &mut Store,
    id: &SnapshotId,
    filter: &FindingFilter,
    accounts: &[AccountId],
    mut each: impl FnMut(Vec<posture_model::Finding>) -> R,
) -> R {
    for account in account_filters(accounts) {
        let filter = FindingFilter {
            account,
            ..filter.clone()
        };
        let mut after = None;
        loop {
            let page = store.findings_page_filtered(id, &filter, after, PAGE)?;
            let next = page.next.clone();
            each(page.findings.into_iter().map(|(_, f)| f).collect())?;
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    Ok(())
}

/// Writes the report through `sink`; returns the failing findings written.
pub(crate) fn walk(
    store: &mut Store,
    head: &Head,
    request: &Request<'_>,
    sink: &mut dyn Sink,
) -> Result<u64, ReportError> {
    let id = store_id(&head.snapshot.snapshot_id)?;
    let accounts = request.accounts;
    sink.head(head)?;

    let mut failing = 0;
    sink.open(Section::Rules, head)?;
    let rules: &[RuleGroup] = if sink.wants(Section::Rules) {
        &head.rules
    } else {
        &[]
    };
    for rule in rules {
        sink.rule_open(rule)?;
        let filter = FindingFilter {
            statuses: vec![Status::Fail],
            rule: RuleId::new(rule.rule_id.clone()).ok(),
            ..FindingFilter::default()
        };
        findings_pages(store, &id, &filter, accounts, |page| {
            failing += page.len() as u64;
            let rows: Vec<FailingRow> = page
                .into_iter()
                .map(|finding| FailingRow {
                    finding,
                    snapshot_id: head.snapshot.snapshot_id.clone(),
                    snapshot_time: head.snapshot.finished_at.clone(),
                    snapshot_hash: head.snapshot.hash.clone(),
                })
                .collect();
            sink.failing(&rows)
        })?;
        sink.rule_close(rule)?;
    }
    sink.close(Section::Rules)?;

    let as_of = request.as_of.date_naive();
    sink.open(Section::Waivers, head)?;
    let filter = FindingFilter {
        statuses: vec![Status::Waived],
        ..FindingFilter::default()
    };
    let wanted = sink.wants(Section::Waivers);
    findings_pages(store, &id, &filter, accounts, |page| {
        if !wanted {
            return Ok(());
        }
        let rows: Vec<WaiverRow> = page
            .into_iter()
            .filter_map(|f| {
                let w = f.waiver?;
                Some(WaiverRow {
                    ticket: w.ticket,
                    owner: w.owner,
                    justification: w.justification,
                    expires: w.expires.to_string(),
                    expired: w.expires < as_of,
                    rule_id: f.rule_id.to_string(),
                    arn: f.resource.arn.to_string(),
                    account: f.resource.account.to_string(),
                    region: f.resource.region.to_string(),
                    phi: f.phi,
                })
            })
            .collect();
        sink.waivers(&rows)
    })?;
    sink.close(Section::Waivers)?;

    sink.open(Section::Attestations, head)?;
    let filter = FindingFilter {
        statuses: vec![Status::Manual],
        ..FindingFilter::default()
    };
    let wanted = sink.wants(Section::Attestations);
    findings_pages(store, &id, &filter, accounts, |page| {
        if !wanted {
            return Ok(());
        }
        let rows: Vec<AttestationRow> = page.into_iter().map(attestation_row).collect();
        sink.attestations(&rows)
    })?;
    sink.close(Section::Attestations)?;

    // Which baseline rules read each call: a failed call leaves them unverified there.
    let mut readers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in &request.baseline.rules {
        let meta = r.rule.meta();
        for call in meta.api_calls {
            readers.entry(call).or_default().push(meta.id.to_owned());
        }
    }
    sink.open(Section::Gaps, head)?;
    let mut after = None;
    while sink.wants(Section::Gaps) {
        let page = store.gaps_page(&id, after, PAGE)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(*last);
        let rows: Vec<GapRow> = page
            .into_iter()
            .map(|(_, g)| g)
            .filter(|g| accounts.is_empty() || accounts.contains(&g.account))
            .map(|g| GapRow {
                rules: if g.operation == ACCOUNT_UNREACHABLE_OPERATION {
                    vec!["every rule (the account could not be entered)".to_owned()]
                } else {
                    readers
                        .get(g.operation.as_str())
                        .cloned()
                        .unwrap_or_default()
                },
                account: g.account.to_string(),
                region: g.region.to_string(),
                service: g.service,
                operation: g.operation,
                resource: g.resource.map(|a| a.to_string()),
                kind: serde_json::to_value(g.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                code: g.code,
                message: g.message,
            })
            .collect();
        sink.gaps(&rows)?;
    }
    sink.close(Section::Gaps)?;

    sink.open(Section::Drift, head)?;
    let period: &[crate::model::PeriodSnapshot] = if sink.wants(Section::Drift) {
        &head.period
    } else {
        &[]
    };
    for snapshot in period {
        let sid = store_id(&snapshot.snapshot_id)?;
        let mut after = None;
        loop {
            let page = store.drift_page(&sid, DriftPart::Findings, after, PAGE)?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = Some(*last);
            let rows: Vec<DriftRow> = page
                .into_iter()
                .map(|(_, d)| {
                    let account = d
                        .body
                        .pointer("/resource/account")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                        .unwrap_or_else(|| d.arn.split(':').nth(4).unwrap_or("").to_owned());
                    DriftRow {
                        snapshot_id: d.snapshot_id,
                        started_at: snapshot.started_at.clone(),
                        event: d.event,
                        rule_id: d.rule_id,
                        arn: d.arn,
                        account,
                        body: d.body,
                    }
                })
                .filter(|d| accounts.is_empty() || accounts.iter().any(|a| a.as_str() == d.account))
                .collect();
            sink.drift(&rows)?;
        }
    }
    sink.close(Section::Drift)?;
    sink.finish(head)?;
    Ok(failing)
}

fn attestation_row(f: posture_model::Finding) -> AttestationRow {
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let a = f.evidence.get("attestation");
    let field = |name: &str| text(a.and_then(|a| a.get(name)));
    AttestationRow {
        rule_id: f.rule_id.to_string(),
        title: f.title.clone(),
        account: f.resource.account.to_string(),
        state: text(f.evidence.get("attestation_state")).unwrap_or_else(|| "missing".to_owned()),
        attested_by: field("attested_by"),
        attested_on: field("attested_on"),
        expires: field("expires"),
        evidence: field("evidence"),
        notes: field("notes"),
        expected_evidence: text(f.evidence.get("expected_evidence")),
        reason: f.reason.clone(),
        citations: f.citations.iter().map(|c| c.id.clone()).collect(),
    }
}
