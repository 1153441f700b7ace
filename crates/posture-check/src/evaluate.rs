//! Running a baseline over a snapshot: every rule over every resource of its subject kind,
//! scoped by PHI tags where the baseline says so, then waivers, then the manual controls.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use posture_model::resources::{account_arn, region_arn};
use posture_model::{
    Coverage, Finding, Gap, Region, Resource, ResourceKind, ResourceRef, RuleId, Status, Tags,
};
use serde::Serialize;

use crate::index::{AccountCoverage, Collections, Want};
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
/// - A subject whose rule reads a collection that did not run where the subject needs it
///   (see [`uncollected_inputs`]) gets `Error` naming the collections (evidence
///   `not_collected`), and the rule is not called: finding nothing where nothing was looked
///   for proves nothing. Collections the user left out of the scan are not known here:
///   [`Evaluator::excluding`] omits their rules instead.
/// - A rule scoped to PHI (`[scope] phi_only`) gives `NotApplicable` on resources not
///   tagged as holding PHI and `Error` where the tags could not be collected. Every
///   finding carries `phi`; severity is always the rule's.
/// - A live waiver turns a matching `Fail` into `Waived` (never an `Error`; see
///   [`crate::waiver`]).
/// - Each manual control gives one `Manual` finding per scanned account (each `aws_account`
///   resource), attested, missing or expired.
///
/// Findings are sorted by (account, rule, region, ARN): the order in which an
/// [`Evaluator`] fed one account at a time, in account order, produces them.
pub fn evaluate(input: &Input<'_>) -> Evaluation {
    let index = SnapshotIndex::new(input.resources, input.coverage);
    let mut evaluator = Evaluator::new(Settings {
        baseline: input.baseline,
        waivers: input.waivers,
        attestations: input.attestations,
        phi: input.phi,
        now: input.now,
    });
    let mut findings = match evaluator.evaluate(&index) {
        Ok(findings) => findings,
        // A whole-snapshot index has every account's data and wants nothing.
        Err(_) => unreachable!("a whole-snapshot index wants no other data"),
    };
    findings.sort_by(|a, b| finding_order(a).cmp(&finding_order(b)));
    let (stale_waivers, expired_waivers) = evaluator.finish();
    Evaluation {
        findings,
        stale_waivers,
        expired_waivers,
    }
}

/// The order of findings: (account, rule, region, ARN).
fn finding_order(
    f: &Finding,
) -> (
    &posture_model::AccountId,
    &RuleId,
    &posture_model::Region,
    &posture_model::Arn,
) {
    (
        &f.resource.account,
        &f.rule_id,
        &f.resource.region,
        &f.resource.arn,
    )
}

/// Data of other accounts loaded while evaluating accounts one at a time, kept for the next
/// accounts (they usually want the same: the organization's trail log group, its analyzers,
/// the failed calls of the account that holds the organization trail).
#[derive(Debug)]
pub struct Foreign {
    /// Unique in the process (see [`Foreign::id`]).
    id: u64,
    resources: Vec<Resource>,
    /// `resources` grouped as a [`SnapshotIndex`] groups them, by position, so that each
    /// account's index takes the groups instead of indexing every resource again.
    groups: crate::index::Groups,
    coverage: Vec<AccountCoverage>,
    loaded: Vec<Want>,
}

/// What the caller loaded for a [`Want`].
#[derive(Debug)]
pub enum Loaded {
    /// The resources a [`Want::Kind`], [`Want::Account`] or [`Want::Scope`] asked for.
    Resources(Vec<Resource>),
    /// The account's coverage a [`Want::Coverage`] asked for.
    Coverage(AccountCoverage),
}

impl Default for Foreign {
    fn default() -> Self {
        Self {
            id: crate::index::next_id(),
            resources: Vec::new(),
            groups: crate::index::Groups::default(),
            coverage: Vec::new(),
            loaded: Vec::new(),
        }
    }
}

impl Foreign {
    /// An id no other `Foreign` of the process has. Its resources are only ever appended
    /// to, so (id, position in [`Foreign::resources`]) names one resource for as long as
    /// the process runs: custom rules key what they derive from a resource on it, and
    /// share it across accounts.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Adds what was loaded for `want`.
    pub fn add(&mut self, want: Want, loaded: Loaded) {
        match loaded {
            Loaded::Resources(r) => {
                let start = self.resources.len();
                self.resources.extend(r);
                self.groups.add(start, &self.resources);
            }
            Loaded::Coverage(c) => self.coverage.push(c),
        }
        self.loaded.push(want);
    }

    /// What has been loaded.
    pub fn loaded(&self) -> &[Want] {
        &self.loaded
    }

    /// The resources loaded.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// `resources` grouped by kind, (kind, account) and (kind, account, region).
    pub(crate) fn groups(&self) -> &crate::index::Groups {
        &self.groups
    }

    /// The coverage of other accounts loaded.
    pub fn coverage(&self) -> &[AccountCoverage] {
        &self.coverage
    }

    /// Resources, collection records and failed calls held.
    pub fn len(&self) -> usize {
        self.resources.len()
            + self
                .coverage
                .iter()
                .map(|c| c.collected.len() + c.gaps.len())
                .sum::<usize>()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything an evaluation reads besides the resources and coverage.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The rules, their parameters and scope, and the manual controls.
    pub baseline: &'a Baseline,
    /// Reviewed acceptances of known failures; `None` when there is no waiver file.
    pub waivers: Option<&'a Waivers>,
    /// Attestations of the manual controls; `None` when there is no attestation file.
    pub attestations: Option<&'a Attestations>,
    /// Which tags mark a resource as holding PHI.
    pub phi: &'a PhiScope,
    /// The evaluation time.
    pub now: DateTime<Utc>,
}

/// Evaluates a snapshot piecewise, one account at a time (see
/// [`SnapshotIndex::for_account`]), keeping the waiver counts across accounts so that
/// stale and expired waivers are reported for the whole snapshot.
#[derive(Debug)]
pub struct Evaluator<'a> {
    settings: Settings<'a>,
    ledger: Ledger<'a>,
    /// Collections the user left out of the scan: rules that read one are omitted.
    excluded: BTreeSet<String>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator with nothing evaluated yet, that omits no rule.
    pub fn new(settings: Settings<'a>) -> Self {
        Self {
            ledger: Ledger::new(settings.waivers, settings.now.date_naive()),
            settings,
            excluded: BTreeSet::new(),
        }
    }

    /// Omits every rule that reads one of `services` (collection names as `scan.services`
    /// spells them: `cloudwatch`, `elb`, ...; see [`RuleMeta::input_services`]): the
    /// collections the user left out of the scan. Those rules give no finding at all, so
    /// they are neither failures nor errors, and the caller reports the services as not
    /// scanned (and must not read the missing findings as resolved).
    ///
    /// The caller passes every service it knows minus those the scan selected. A service
    /// that was selected but did not run somewhere is not excluded: its rules answer
    /// `Error` there. Without this call nothing is omitted, so a left-out service turns
    /// into `Error`s, never into passes.
    pub fn excluding<S: Into<String>>(mut self, services: impl IntoIterator<Item = S>) -> Self {
        self.excluded = services.into_iter().map(Into::into).collect();
        self
    }

    /// Evaluates the index's subjects (one account's, or every one): rules and manual
    /// controls, then waivers. Findings are sorted by (rule, account, region, ARN).
    ///
    /// `Err` lists the data of other accounts that rules looked up and the index does not
    /// hold: nothing was counted; load it and evaluate the account again.
    pub fn evaluate(&mut self, index: &SnapshotIndex<'_>) -> Result<Vec<Finding>, Vec<Want>> {
        let s = self.settings;
        let today = s.now.date_naive();
        let mut findings = Vec::new();
        for entry in &s.baseline.rules {
            let meta = entry.rule.meta();
            let inputs = meta.input_services();
            if inputs.iter().any(|i| self.excluded.contains(*i)) {
                continue;
            }
            // Rule ids are validated when the registry is built (see rules::tests); a bad one
            // would be a programming error caught by the test suite, so skip rather than panic.
            let Ok(rule_id) = RuleId::new(meta.id) else {
                continue;
            };
            let ctx = Ctx {
                index,
                params: &entry.params,
                now: s.now,
            };
            let gaps: Vec<&Gap> = index
                .list_gaps()
                .filter(|g| {
                    // An account that could not be entered hides every rule's data there.
                    g.operation == posture_model::ACCOUNT_UNREACHABLE_OPERATION
                        || meta.api_calls.contains(&g.operation.as_str())
                })
                .collect();
            // Account and region subjects already reported, so that a gap does not report
            // them twice (gaps land on those ARNs).
            let mut seen = BTreeSet::new();
            let mut chunk = Vec::new();
            // The pre-checks decide some subjects; the rule is asked about the rest, all at
            // once (`Rule::check_all`), and its outcomes fill the holes in order.
            let mut decided: Vec<(&Resource, PhiState, Option<Outcome>)> = Vec::new();
            let mut asked: Vec<&Resource> = Vec::new();
            for subject in index.subjects(meta.subject) {
                let phi = s.phi.classify(&subject.tags);
                let blocking = gaps
                    .iter()
                    .find(|g| g.account == subject.account && g.region == subject.region);
                let outcome = match (entry.scope, phi, blocking) {
                    (RuleScope::PhiOnly, PhiState::Unknown(why), _) => Some(
                        Outcome::unavailable(
                            "the tags that say whether the resource holds PHI (the rule \
                             applies to PHI resources only)",
                            why,
                        )
                        .with("phi_only", true),
                    ),
                    (RuleScope::PhiOnly, PhiState::NotPhi, _) => Some(
                        Outcome::not_applicable("not tagged as holding PHI").with("phi_only", true),
                    ),
                    (_, _, Some(gap)) => Some(gap_outcome(gap)),
                    (_, _, None) => {
                        let missing = uncollected_inputs(&inputs, subject, index);
                        if missing.is_empty() {
                            asked.push(subject);
                            None
                        } else {
                            Some(not_collected_outcome(subject, &missing))
                        }
                    }
                };
                decided.push((subject, phi, outcome));
            }
            let mut answers = if asked.is_empty() {
                Vec::new()
            } else {
                entry.rule.check_all(&asked, &ctx)
            }
            .into_iter();
            for (subject, phi, outcome) in decided {
                let outcome = outcome.unwrap_or_else(|| {
                    answers.next().unwrap_or_else(|| {
                        Outcome::error(format!(
                            "rule {} gave no outcome for this resource",
                            meta.id
                        ))
                    })
                });
                if matches!(subject.kind(), ResourceKind::Account | ResourceKind::Region) {
                    seen.insert(subject.arn.clone());
                }
                chunk.push(new_finding(
                    &rule_id,
                    meta,
                    entry,
                    resource_ref(subject),
                    phi == PhiState::Phi,
                    outcome,
                ));
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
                chunk.push(new_finding(
                    &rule_id,
                    meta,
                    entry,
                    resource,
                    false,
                    gap_outcome(gap),
                ));
            }
            findings.push((rule_id, chunk));
        }
        let wanted = index.wanted();
        if !wanted.is_empty() {
            return Err(wanted);
        }
        // Waivers only once the account's results are final, so nothing is counted twice.
        for (rule_id, chunk) in &mut findings {
            let waivers = self.ledger.of_rule(rule_id.as_str());
            for finding in chunk.iter_mut() {
                self.ledger.apply(&waivers, finding);
            }
        }
        let manual = manual::findings(
            s.baseline,
            s.attestations,
            index.subjects(ResourceKind::Account),
            today,
        );
        for finding in manual {
            match findings.iter_mut().find(|(id, _)| *id == finding.rule_id) {
                Some((_, chunk)) => chunk.push(finding),
                None => findings.push((finding.rule_id.clone(), vec![finding])),
            }
        }
        // One chunk per rule id, each sorted by (account, region, ARN), joined in rule-id
        // order: the same order as one global sort, at a fraction of its comparisons.
        findings.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(findings.iter().map(|(_, c)| c.len()).sum());
        for (_, mut chunk) in findings {
            chunk.sort_by(|a, b| {
                (&a.resource.account, &a.resource.region, &a.resource.arn).cmp(&(
                    &b.resource.account,
                    &b.resource.region,
                    &b.resource.arn,
                ))
            });
            out.append(&mut chunk);
        }
        Ok(out)
    }

    /// Evaluates one account from its own `resources` and `coverage`, loading the data of
    /// other accounts that rules look up through `load` (kept in `foreign` for the accounts
    /// after it) and evaluating again until nothing is missing. The findings are exactly
    /// those a whole-snapshot evaluation gives the account's subjects, in the same order.
    pub fn evaluate_account<E>(
        &mut self,
        resources: &[Resource],
        coverage: &AccountCoverage,
        collections: Collections,
        foreign: &mut Foreign,
        mut load: impl FnMut(&Want) -> Result<Loaded, E>,
    ) -> Result<Vec<Finding>, E> {
        let account = &coverage.account;
        loop {
            let index =
                SnapshotIndex::for_account(account, resources, coverage, foreign, collections);
            let wanted = match self.evaluate(&index) {
                Ok(findings) => return Ok(findings),
                Err(wanted) => wanted,
            };
            drop(index);
            // Each round loads at least one want that was not loaded, and there are
            // finitely many: the loop ends.
            for want in wanted {
                let loaded = load(&want)?;
                foreign.add(want, loaded);
            }
        }
    }

    /// Live waivers that covered nothing, and expired waivers with the failures they no
    /// longer cover, over everything evaluated.
    pub fn finish(self) -> (Vec<StaleWaiver>, Vec<ExpiredWaiver>) {
        (self.ledger.stale(), self.ledger.expired())
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

/// The collections among `inputs` (a rule's [`RuleMeta::input_services`]) that did not run
/// where `subject` needs them, each with the regions where it is missing (empty: in no
/// region of the account). A collection is needed:
///
/// - in `global` when it is account-wide (IAM, S3);
/// - in the subject's region when the subject is regional;
/// - for an account-wide subject (the account, an IAM user) and a regional collection, in
///   every region of the account that was scanned (each region subject), and in one region
///   at least: an account-wide rule such as "a multi-region trail exists" reads every
///   region's data.
pub(crate) fn uncollected_inputs(
    inputs: &[&'static str],
    subject: &Resource,
    index: &SnapshotIndex<'_>,
) -> Vec<(&'static str, Vec<Region>)> {
    let account = &subject.account;
    let mut missing = Vec::new();
    for &service in inputs {
        let regions: Vec<Region> = if posture_model::services::is_account_wide(service) {
            let global = Region::global();
            if index.was_collected(account, &global, service) {
                continue;
            }
            vec![global]
        } else if !subject.region.is_global() {
            if index.was_collected(account, &subject.region, service) {
                continue;
            }
            vec![subject.region.clone()]
        } else {
            let mut regions: Vec<Region> = index
                .in_account(ResourceKind::Region, account)
                .iter()
                .map(|r| &r.region)
                .filter(|r| !index.was_collected(account, r, service))
                .cloned()
                .collect();
            if regions.is_empty() && index.collected_somewhere(account, service) {
                continue;
            }
            regions.sort();
            regions.dedup();
            regions
        };
        missing.push((service, regions));
    }
    missing
}

/// The `Error` for a subject whose rule's inputs were not collected.
pub(crate) fn not_collected_outcome(
    subject: &Resource,
    missing: &[(&str, Vec<Region>)],
) -> Outcome {
    let account = &subject.account;
    let what: Vec<String> = missing
        .iter()
        .map(|(service, regions)| {
            if regions.is_empty() {
                format!("{service} was not collected in any region of account {account}")
            } else {
                let names: Vec<&str> = regions.iter().map(Region::as_str).collect();
                format!(
                    "{service} was not collected in {account}/{}",
                    names.join(", ")
                )
            }
        })
        .collect();
    let mut regions: Vec<&Region> = missing.iter().flat_map(|(_, r)| r).collect();
    regions.sort();
    regions.dedup();
    Outcome::error(format!(
        "{}: the rule reads it, so it cannot decide (left out of the scan, or its collector \
         did not run there)",
        what.join("; ")
    ))
    .with(
        "not_collected",
        missing.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
    )
    .with("account", account)
    .with("regions", regions)
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
mod registry_tests;
#[cfg(test)]
mod tests;
