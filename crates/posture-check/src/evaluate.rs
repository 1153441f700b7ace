//! Running a baseline over a snapshot: every rule over every resource of its subject kind,
//! scoped by PHI tags where the baseline says so, then waivers, then the manual controls.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use posture_model::resources::{account_arn, region_arn};
use posture_model::{
    Coverage, Finding, Gap, Resource, ResourceKind, ResourceRef, RuleId, Status, Tags,
};
use serde::Serialize;

use crate::manual::{self, Attestations};
use crate::phi::{PhiScope, PhiState};
use crate::waiver::{ExpiredWaiver, Ledger, StaleWaiver, Waivers};
use crate::{Baseline, BaselineRule, Ctx, Outcome, RuleMeta, RuleScope, SnapshotIndex};

/// Everything one evaluation reads. Pure data: the caller loads the files and reads the
/// clock.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The snapshot's resources.
    pub resources: &'a [Resource],
    /// What the snapshot could and could not collect.
    pub coverage: &'a Coverage,
    /// The rules, their parameters and scope, and the manual controls.
    pub baseline: &'a Baseline,
    /// Reviewed acceptances of known failures; `None` when there is no waiver file.
    pub waivers: Option<&'a Waivers>,
    /// Attestations of the manual controls; `None` when there is no attestation file
    /// (every manual control is then reported as missing).
    pub attestations: Option<&'a Attestations>,
    /// Which tags mark a resource as holding PHI.
    pub phi: &'a PhiScope,
    /// The evaluation time; waivers and attestations hold through their expiry day (UTC).
    pub now: DateTime<Utc>,
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Every finding, sorted by (rule, account, region, ARN).
    pub findings: Vec<Finding>,
    /// Live waivers that covered no failing or undecided finding, in file order.
    pub stale_waivers: Vec<StaleWaiver>,
    /// Waivers past their expiry, in file order, with the failures they no longer cover.
    pub expired_waivers: Vec<ExpiredWaiver>,
}

/// Evaluates every rule and manual control of the baseline over one snapshot. Pure: the
/// time is passed in.
///
/// - A failed list call (a gap with no resource) for an operation a rule needs yields
///   `Error` for that rule in the gap's account and region: on each subject there, and,
///   where the failure hid every subject, on the account or region itself.
/// - A rule scoped to PHI (`[scope] phi_only`) gives `NotApplicable` on resources not
///   tagged as holding PHI and `Error` where the tags could not be collected. Every
///   finding carries `phi`; severity is always the rule's.
/// - A live waiver turns a matching `Fail` into `Waived` (never an `Error`; see
///   [`crate::waiver`]).
/// - Each manual control gives one `Manual` finding per scanned account (each `aws_account`
///   resource), attested, missing or expired.
pub fn evaluate(input: &Input<'_>) -> Evaluation {
    let today = input.now.date_naive();
    let index = SnapshotIndex::new(input.resources, input.coverage);
    let mut ledger = Ledger::new(input.waivers, today);
    // One chunk of findings per rule id, each sorted by (account, region, ARN), joined in
    // rule-id order: the same order as one global sort, at a fraction of its comparisons.
    let mut chunks: Vec<(RuleId, Vec<Finding>)> = Vec::new();
    for entry in &input.baseline.rules {
        let meta = entry.rule.meta();
        // Rule ids are validated when the registry is built (see rules::tests); a bad one
        // would be a programming error caught by the test suite, so skip rather than panic.
        let Ok(rule_id) = RuleId::new(meta.id) else {
            continue;
        };
        let ctx = Ctx {
            index: &index,
            params: &entry.params,
            now: input.now,
        };
        let gaps: Vec<&Gap> = index
            .list_gaps()
            .iter()
            .filter(|g| {
                // An account that could not be entered hides every rule's data there.
                g.operation == posture_model::ACCOUNT_UNREACHABLE_OPERATION
                    || meta.api_calls.contains(&g.operation.as_str())
            })
            .collect();
        let waivers = ledger.of_rule(meta.id);
        // Account and region subjects already reported, so that a gap does not report them
        // twice (gaps land on those ARNs).
        let mut seen = BTreeSet::new();
        let mut findings = Vec::new();
        let mut push = |resource: ResourceRef, phi: bool, outcome: Outcome| {
            let mut finding = new_finding(&rule_id, meta, entry, resource, phi, outcome);
            ledger.apply(&waivers, &mut finding);
            findings.push(finding);
        };
        for subject in index.of_kind(meta.subject) {
            let phi = input.phi.classify(&subject.tags);
            let blocking = gaps
                .iter()
                .find(|g| g.account == subject.account && g.region == subject.region);
            let outcome = match (entry.scope, phi, blocking) {
                (RuleScope::PhiOnly, PhiState::Unknown(why), _) => Outcome::unavailable(
                    "the tags that say whether the resource holds PHI (the rule applies to \
                     PHI resources only)",
                    why,
                ),
                (RuleScope::PhiOnly, PhiState::NotPhi, _) => {
                    Outcome::not_applicable("not tagged as holding PHI").with("phi_only", true)
                }
                (_, _, Some(gap)) => gap_outcome(gap),
                (_, _, None) => entry.rule.check(subject, &ctx),
            };
            if matches!(subject.kind(), ResourceKind::Account | ResourceKind::Region) {
                seen.insert(subject.arn.clone());
            }
            push(resource_ref(subject), phi == PhiState::Phi, outcome);
        }
        for gap in gaps {
            let (arn, kind) = if gap.region.is_global() {
                (account_arn(&gap.account), ResourceKind::Account)
            } else {
                (region_arn(&gap.account, &gap.region), ResourceKind::Region)
            };
            if !seen.insert(arn.clone()) {
                continue;
            }
            let resource = ResourceRef {
                arn,
                kind,
                account: gap.account.clone(),
                region: gap.region.clone(),
                tags: Tags::new(),
            };
            push(resource, false, gap_outcome(gap));
        }
        chunks.push((rule_id, findings));
    }
    for finding in manual::findings(
        input.baseline,
        input.attestations,
        index.of_kind(ResourceKind::Account),
        today,
    ) {
        match chunks.iter_mut().find(|(id, _)| *id == finding.rule_id) {
            Some((_, chunk)) => chunk.push(finding),
            None => chunks.push((finding.rule_id.clone(), vec![finding])),
        }
    }
    chunks.sort_by(|a, b| a.0.cmp(&b.0));
    let mut findings = Vec::with_capacity(chunks.iter().map(|(_, c)| c.len()).sum());
    for (_, mut chunk) in chunks {
        chunk.sort_by(|a, b| {
            (&a.resource.account, &a.resource.region, &a.resource.arn).cmp(&(
                &b.resource.account,
                &b.resource.region,
                &b.resource.arn,
            ))
        });
        findings.append(&mut chunk);
    }
    Evaluation {
        findings,
        stale_waivers: ledger.stale(),
        expired_waivers: ledger.expired(),
    }
}

fn new_finding(
    rule_id: &RuleId,
    meta: &RuleMeta,
    entry: &BaselineRule,
    resource: ResourceRef,
    phi: bool,
    outcome: Outcome,
) -> Finding {
    Finding {
        rule_id: rule_id.clone(),
        title: meta.title.to_owned(),
        status: outcome.status,
        // Never lowered for PHI (or raised): the rule's severity, always.
        severity: meta.severity,
        resource,
        phi,
        citations: entry.citations.clone(),
        evidence: outcome.evidence,
        reason: outcome.reason,
        waiver: None,
        first_seen: None,
    }
}

fn gap_outcome(gap: &Gap) -> Outcome {
    let code = gap
        .code
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    Outcome {
        status: Status::Error,
        reason: format!(
            "{} failed in {}/{}{code}: {}",
            gap.operation, gap.account, gap.region, gap.message
        ),
        evidence: Default::default(),
    }
    .with("gap", gap)
}

/// The reference a finding carries for a resource.
pub fn resource_ref(r: &Resource) -> ResourceRef {
    ResourceRef {
        arn: r.arn.clone(),
        kind: r.kind(),
        account: r.account.clone(),
        region: r.region.clone(),
        tags: r.tags_or_empty(),
    }
}

#[cfg(test)]
mod tests;
