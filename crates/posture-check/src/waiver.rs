//! Waivers: reviewed, expiring acceptances of a known failure (`config/waivers.toml`).
//!
//! A waiver names one rule and selects resources by ARN glob, account, region and tags
//! (every given part must match). While it is live (until the end of its `expires` day, in
//! UTC) it turns that rule's `Fail` findings on the selected resources into `Waived`,
//! carrying the waiver; the rule's reason and evidence stay as they were.
//!
//! Only `Fail` is waivable. An `Error` means the data could not be collected, and a risk
//! acceptance covers a failure someone has seen, not one nobody could see: an `Error`
//! stays an `Error` (with a note that a waiver would have applied), and `Pass`,
//! `NotApplicable` and `Manual` are left alone.
//!
//! Every waiver needs an owner, a justification, a ticket and an expiry date: HIPAA risk
//! acceptance (164.308(a)(1)(ii)(B)) must be documented and reviewed, so there is no
//! waiver without end. An expired waiver re-opens its findings, and the evaluation reports
//! it; a live waiver that covers no failing or undecided finding is reported as stale.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::NaiveDate;
use posture_model::{AccountId, AppliedWaiver, Region, ResourceRef, RuleId, Status, Tags};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::load::{LoadError, Source};
use crate::policy::glob::{self, Case};
use crate::{Baseline, rule_by_id};

/// The waivers of one file, in file order (the first live match wins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Waivers {
    entries: Vec<Waiver>,
}

/// One waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    /// The rule whose failures it accepts.
    pub rule: RuleId,
    /// Which resources it covers.
    pub selector: Selector,
    /// Who owns the accepted risk.
    pub owner: String,
    /// Why the failure is accepted.
    pub justification: String,
    /// The ticket recording the acceptance.
    pub ticket: String,
    /// The last day it applies (inclusive, UTC).
    pub expires: NaiveDate,
    /// Where it is written, `FILE:LINE`, for messages.
    pub location: String,
}

/// Which resources a waiver covers: every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selector {
    /// An ARN pattern: `*` any run of characters (including `:` and `/`), `?` one;
    /// case-sensitive like ARNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The resource's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The resource's region (`global` for account-wide resources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Tags the resource must carry, each with exactly this value. A resource whose tags
    /// could not be collected carries none, so a tag selector never matches it.
    #[serde(skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

impl Selector {
    /// Whether the selector covers `resource`.
    pub fn matches(&self, resource: &ResourceRef) -> bool {
        self.arn
            .as_deref()
            .is_none_or(|p| glob::matches(p, resource.arn.as_str(), Case::Sensitive))
            && self.account.as_ref().is_none_or(|a| *a == resource.account)
            && self.region.as_ref().is_none_or(|r| *r == resource.region)
            && self
                .tags
                .iter()
                .all(|(k, v)| resource.tags.get(k) == Some(v))
    }
}

impl Waiver {
    /// Whether the waiver applies on `today`: up to and including its `expires` day.
    pub fn is_live(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }

    /// The waiver as a waived finding carries it.
    pub fn applied(&self, waived_status: Status) -> AppliedWaiver {
        AppliedWaiver {
            ticket: self.ticket.clone(),
            owner: self.owner.clone(),
            justification: self.justification.clone(),
            expires: self.expires,
            waived_status,
        }
    }
}

impl std::fmt::Display for Waiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "waiver {} for {} ({})",
            self.ticket, self.rule, self.location
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    rule: Option<Spanned<String>>,
    arn: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    tags: Option<Spanned<BTreeMap<String, String>>>,
    owner: Option<Spanned<String>>,
    justification: Option<Spanned<String>>,
    ticket: Option<Spanned<String>>,
    expires: Option<Spanned<toml::Value>>,
}

impl Waivers {
    /// Parses and validates a waiver file. `file` is only used in messages.
    ///
    /// Rejected, with the line: an unknown or wildcard rule id, no selector, a malformed
    /// selector part, a missing or empty owner, justification or ticket, a missing or
    /// malformed expiry date, and any field not listed here.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, LoadError> {
        Self::parse(file, text, None)
    }

    /// Like [`Waivers::from_toml`], also accepting the ids of the custom rules of
    /// `baseline` (see [`Baseline::add_custom_rules`]): load the custom rules first.
    pub fn from_toml_for(file: &str, text: &str, baseline: &Baseline) -> Result<Self, LoadError> {
        Self::parse(file, text, Some(baseline))
    }

    fn parse(file: &str, text: &str, baseline: Option<&Baseline>) -> Result<Self, LoadError> {
        let src = Source { file, text };
        let raw: RawFile = src.parse()?;
        let entries = raw
            .waiver
            .iter()
            .map(|w| waiver(&src, w.span(), w.get_ref(), baseline))
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Every waiver, in file order.
    pub fn entries(&self) -> &[Waiver] {
        &self.entries
    }
}

fn waiver(
    src: &Source<'_>,
    span: Range<usize>,
    w: &RawWaiver,
    baseline: Option<&Baseline>,
) -> Result<Waiver, LoadError> {
    let Some(rule) = &w.rule else {
        return Err(src.err(
            Some(span),
            "waiver has no `rule`: add `rule = \"<rule id>\"` (run `posture rules` for the list)",
        ));
    };
    let id = rule.get_ref().trim();
    let known = rule_by_id(id)
        .or_else(|| baseline.and_then(|b| b.rule(id)).map(|r| r.rule))
        .and_then(|r| RuleId::new(r.meta().id).ok());
    let Some(rule_id) = known else {
        let message = if id.contains('*') || id.contains('?') {
            format!(
                "waiver rule {id:?}: a waiver names exactly one rule id; wildcards would \
                 accept failures of rules nobody reviewed"
            )
        } else if id.starts_with("manual_") {
            format!(
                "waiver rule {id:?} is a manual control: record an attestation for it \
                 instead of waiving it"
            )
        } else {
            format!("waiver rule {id:?} is not a known rule id (run `posture rules` for the list)")
        };
        return Err(src.err(Some(rule.span()), message));
    };
    let what = format!("waiver for {rule_id}");

    let mut selector = Selector::default();
    if let Some(arn) = &w.arn {
        let p = arn.get_ref().trim();
        if !p.starts_with("arn:") {
            return Err(src.err(
                Some(arn.span()),
                format!(
                    "{what}: arn {p:?} is not an ARN pattern; write the ARN, with `*` and `?` \
                     as wildcards, like \"arn:aws:s3:::legacy-*\""
                ),
            ));
        }
        selector.arn = Some(p.to_owned());
    }
    if let Some(account) = &w.account {
        let a = AccountId::new(account.get_ref().trim())
            .map_err(|e| src.err(Some(account.span()), format!("{what}: {e}")))?;
        selector.account = Some(a);
    }
    if let Some(region) = &w.region {
        let r = Region::new(region.get_ref().trim())
            .map_err(|e| src.err(Some(region.span()), format!("{what}: {e}")))?;
        selector.region = Some(r);
    }
    if let Some(tags) = &w.tags {
        if tags.get_ref().is_empty() {
            return Err(src.err(
                Some(tags.span()),
                format!("{what}: `tags` is empty; name the tags, like tags = {{ env = \"dev\" }}"),
            ));
        }
        selector.tags = tags.get_ref().clone();
    }
    if selector == Selector::default() {
        return Err(src.err(
            Some(span),
            format!(
                "{what} selects no resource: add at least one of `arn` (a glob), `account`, \
                 `region` or `tags`"
            ),
        ));
    }

    let owner = src.required_text(
        &span,
        w.owner.as_ref(),
        "owner",
        &what,
        "who owns the accepted risk",
    )?;
    let justification = src.required_text(
        &span,
        w.justification.as_ref(),
        "justification",
        &what,
        "why the failure is acceptable",
    )?;
    let ticket = src.required_text(
        &span,
        w.ticket.as_ref(),
        "ticket",
        &what,
        "the ticket that records the risk acceptance",
    )?;
    let expires = src.required_date(
        &span,
        w.expires.as_ref(),
        "expires",
        &what,
        "a waiver without an expiry is not accepted: HIPAA risk acceptance must be reviewed",
    )?;
    Ok(Waiver {
        rule: rule_id,
        selector,
        owner,
        justification,
        ticket,
        expires,
        location: format!("{}:{}", src.file, src.line(span.start)),
    })
}

/// A live waiver that covered no failing or undecided finding: the failure it accepted is
/// gone, or its selector no longer matches anything. Retire or fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleWaiver {
    /// The waiver.
    pub waiver: Waiver,
    /// How many findings of its rule it matched (all of them passing or not applicable).
    pub matched: usize,
}

/// A waiver past its expiry date: it no longer applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiredWaiver {
    /// The waiver.
    pub waiver: Waiver,
    /// How many failures it would have covered and now leaves open.
    pub reopened: usize,
}

/// Applies waivers to findings during one evaluation and keeps count for the stale and
/// expired reports.
#[derive(Debug)]
pub(crate) struct Ledger<'w> {
    today: NaiveDate,
    entries: &'w [Waiver],
    by_rule: BTreeMap<&'w str, Vec<usize>>,
    matched: Vec<usize>,
    relevant: Vec<usize>,
    reopened: Vec<usize>,
}

impl<'w> Ledger<'w> {
    pub fn new(waivers: Option<&'w Waivers>, today: NaiveDate) -> Self {
        let entries = waivers.map(Waivers::entries).unwrap_or_default();
        let mut by_rule: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, w) in entries.iter().enumerate() {
            by_rule.entry(w.rule.as_str()).or_default().push(i);
        }
        Self {
            today,
            entries,
            by_rule,
            matched: vec![0; entries.len()],
            relevant: vec![0; entries.len()],
            reopened: vec![0; entries.len()],
        }
    }

    /// The waivers of `rule`, in file order: looked up once per rule, then passed to
    /// [`Ledger::apply`] for each of its findings.
    pub fn of_rule(&self, rule: &str) -> Vec<usize> {
        self.by_rule.get(rule).cloned().unwrap_or_default()
    }

    /// Applies the first live waiver among `candidates` (the finding's rule's, from
    /// [`Ledger::of_rule`]) that matches a `Fail` finding; notes expired waivers on a
    /// failure they no longer cover, and a waiver that matched an `Error`.
    pub fn apply(&mut self, candidates: &[usize], f: &mut posture_model::Finding) {
        if candidates.is_empty() {
            return;
        }
        let undecided_or_failing = matches!(f.status, Status::Fail | Status::Error);
        let mut live = None;
        let mut expired = Vec::new();
        for &i in candidates {
            let w = &self.entries[i];
            if !w.selector.matches(&f.resource) {
                continue;
            }
            self.matched[i] += 1;
            if undecided_or_failing {
                self.relevant[i] += 1;
            }
            if w.is_live(self.today) {
                live.get_or_insert(i);
            } else {
                expired.push(i);
            }
        }
        match (f.status, live) {
            (Status::Fail, Some(i)) => {
                f.waiver = Some(self.entries[i].applied(Status::Fail));
                f.status = Status::Waived;
            }
            (Status::Fail, None) if !expired.is_empty() => {
                let notes: Vec<_> = expired
                    .iter()
                    .map(|&i| {
                        self.reopened[i] += 1;
                        let w = &self.entries[i];
                        serde_json::json!({
                            "ticket": w.ticket,
                            "owner": w.owner,
                            "expires": w.expires,
                            "note": format!("waiver {} expired on {}", w.ticket, w.expires),
                        })
                    })
                    .collect();
                f.evidence
                    .insert("expired_waivers".to_owned(), serde_json::Value::from(notes));
            }
            (Status::Error, Some(i)) => {
                let w = &self.entries[i];
                f.evidence.insert(
                    "waiver_not_applied".to_owned(),
                    serde_json::json!({
                        "ticket": w.ticket,
                        "why": "a waiver accepts a failure that was seen; this result is an \
                                error (the data could not be collected), so it stays an error",
                    }),
                );
            }
            _ => {}
        }
    }

    /// Live waivers that covered no failing or undecided finding, in file order.
    pub fn stale(&self) -> Vec<StaleWaiver> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, w)| w.is_live(self.today) && self.relevant[*i] == 0)
            .map(|(i, w)| StaleWaiver {
                waiver: w.clone(),
                matched: self.matched[i],
            })
            .collect()
    }

    /// Waivers past their expiry, in file order.
    pub fn expired(&self) -> Vec<ExpiredWaiver> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, w)| !w.is_live(self.today))
            .map(|(i, w)| ExpiredWaiver {
                waiver: w.clone(),
                reopened: self.reopened[i],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
