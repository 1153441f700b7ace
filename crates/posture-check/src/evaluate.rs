//! Running a baseline over a snapshot.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use posture_model::resources::{account_arn, region_arn};
use posture_model::{
    Coverage, Finding, Gap, Resource, ResourceKind, ResourceRef, RuleId, Status, Tags,
};

use crate::{Baseline, Ctx, Outcome, SnapshotIndex};

/// Evaluates every rule of `baseline` over one snapshot. Pure: `now` is passed in.
///
/// A failed list call (a gap with no resource) for an operation a rule needs yields `Error`
/// for that rule in the gap's account and region: on each subject there, and, where the
/// failure hid every subject, on the account or region itself. Findings are sorted by
/// (rule, account, region, ARN).
pub fn evaluate(
    resources: &[Resource],
    coverage: &Coverage,
    baseline: &Baseline,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let index = SnapshotIndex::new(resources, coverage);
    let mut findings = Vec::new();
    for entry in &baseline.rules {
        let meta = entry.rule.meta();
        // Rule ids are validated when the registry is built (see rules::tests); a bad one
        // would be a programming error caught by the test suite, so skip rather than panic.
        let Ok(rule_id) = RuleId::new(meta.id) else {
            continue;
        };
        let ctx = Ctx {
            index: &index,
            params: &entry.params,
            now,
        };
        let gaps: Vec<&Gap> = index
            .list_gaps()
            .iter()
            .filter(|g| meta.api_calls.contains(&g.operation.as_str()))
            .collect();
        let mut seen = BTreeSet::new();
        let mut push = |resource: ResourceRef, outcome: Outcome| {
            findings.push(Finding {
                rule_id: rule_id.clone(),
                title: meta.title.to_owned(),
                status: outcome.status,
                severity: meta.severity,
                resource,
                citations: entry.citations.clone(),
                evidence: outcome.evidence,
                reason: outcome.reason,
                first_seen: None,
            });
        };
        for subject in index.of_kind(meta.subject) {
            let blocking = gaps
                .iter()
                .find(|g| g.account == subject.account && g.region == subject.region);
            let outcome = match blocking {
                Some(gap) => gap_outcome(gap),
                None => entry.rule.check(subject, &ctx),
            };
            seen.insert(subject.arn.clone());
            push(resource_ref(subject), outcome);
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
            push(resource, gap_outcome(gap));
        }
    }
    findings.sort_by(|a, b| {
        (
            &a.rule_id,
            &a.resource.account,
            &a.resource.region,
            &a.resource.arn,
        )
            .cmp(&(
                &b.rule_id,
                &b.resource.account,
                &b.resource.region,
                &b.resource.arn,
            ))
    });
    findings
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
