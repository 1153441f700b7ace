//! Composing a scan's alerts while it is evaluated, account by account, so they can be
//! written to the outbox in the snapshot's own transaction.
//!
//! Per route and kind a [`Builder`] counts every admitted item (by rule, account, severity,
//! PHI) and keeps the worst [`MAX_ITEMS`] in full: memory is bounded by the routes and the
//! rules, never by the size of a regression. What goes in:
//! - `regressions`: drift's `new_failure` and `waiver_expired` transitions (a failure that
//!   was already failing is `still_failing` and never here);
//! - `collection_failed`: `new_error` (decided before, undecidable now), never resolved;
//! - `resolved` (when the route asks): `resolved`;
//! - `first_scan`: an account without a previous scan gets one summary of what fails there;
//! - `waivers_expired` / `attestations_stale` (when the route asks): waivers and
//!   attestations whose last valid day fell between the previous scan and this one, so each
//!   is told once.
//!
//! Each item joins the transition with the finding (citations, PHI, evidence) and with the
//! resource's changed fields in the same drift (by ARN).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use posture_check::ExpiredWaiver;
use posture_drift as drift;
use posture_model::alert::{
    Alert, AlertItem, AlertKind, AttestationNotice, Builder, FieldChange, MAX_FIELDS, MAX_ITEMS,
    MAX_VALUE_CHARS, More, RouteFilter, WaiverNotice, cut, display_name,
};
use posture_model::{AccountId, Evidence, Finding, Resource, RuleId, Status};

/// One route's alerts under composition.
#[derive(Debug, Default)]
struct RouteAcc {
    kinds: BTreeMap<AlertKind, Builder>,
    attestations: Vec<AttestationNotice>,
}

/// What one account contributes: its findings now, drift against its previous scan (when
/// it had one) and its resources' changes.
#[derive(Debug)]
pub(crate) struct AccountNews<'a> {
    pub account: &'a AccountId,
    /// Its previous scan (id, end), `None` for a first scan.
    pub previous: Option<(&'a str, DateTime<Utc>)>,
    pub findings: &'a [Finding],
    /// Its findings in the previous scan (for the owners of waivers that expired).
    pub previous_findings: &'a [Finding],
    pub transitions: &'a [drift::FindingTransition],
    pub changes: &'a [drift::ResourceChange],
    pub resources: &'a [Resource],
}

/// The alerts of one scan, composed account by account.
#[derive(Debug)]
pub(crate) struct Composer<'a> {
    routes: &'a [RouteFilter],
    snapshot: String,
    at: DateTime<Utc>,
    per_route: Vec<RouteAcc>,
    /// The newest previous scan's end, for waivers that expired since.
    previous_end: Option<DateTime<Utc>>,
    /// The newest previous snapshot, for the alert's `posture diff` command.
    previous_id: Option<String>,
}

fn compact(v: &serde_json::Value) -> String {
    cut(
        &serde_json::to_string(v).unwrap_or_default(),
        MAX_VALUE_CHARS,
    )
}

fn cut_evidence(evidence: &Evidence) -> Evidence {
    evidence
        .iter()
        .map(|(k, v)| {
            let text = serde_json::to_string(v).unwrap_or_default();
            let v = if text.chars().count() > MAX_VALUE_CHARS {
                serde_json::Value::String(cut(&text, MAX_VALUE_CHARS))
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// The day after a waiver's or attestation's last valid day is the first it no longer
/// applies: it is news when that day came after the previous scan and by this one.
fn newly_expired(last_valid: NaiveDate, previous: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    last_valid >= previous.date_naive() && last_valid < now.date_naive()
}

impl<'a> Composer<'a> {
    pub(crate) fn new(routes: &'a [RouteFilter], snapshot: String, at: DateTime<Utc>) -> Self {
        Self {
            routes,
            snapshot,
            at,
            per_route: routes.iter().map(|_| RouteAcc::default()).collect(),
            previous_end: None,
            previous_id: None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    fn item_more(&self, rule: &RuleId, f: &posture_model::ResourceRef, prev: Option<&str>) -> More {
        More {
            command: prev.map_or_else(String::new, |p| {
                format!("posture diff {p} {}", self.snapshot)
            }),
            api: format!(
                "/api/v1/findings?snapshot={}&rule={rule}&account={}&region={}",
                self.snapshot, f.account, f.region
            ),
        }
    }

    pub(crate) fn account(&mut self, news: &AccountNews<'_>) {
        if self.routes.is_empty() {
            return;
        }
        if let Some((id, end)) = news.previous
            && self.previous_end.is_none_or(|e| end > e)
        {
            self.previous_end = Some(end);
            self.previous_id = Some(id.to_owned());
        }
        let prev_id = news.previous.map(|(id, _)| id);
        let findings: HashMap<(&str, &str), &Finding> = news
            .findings
            .iter()
            .map(|f| ((f.rule_id.as_str(), f.resource.arn.as_str()), f))
            .collect();
        let changes: HashMap<&str, &drift::ResourceChange> = news
            .changes
            .iter()
            .filter(|c| c.change != drift::Change::Removed)
            .map(|c| (c.arn.as_str(), c))
            .collect();
        // Who owned the waivers that expired: the previous findings carry them.
        let owners: HashMap<(&str, &str), &str> = news
            .previous_findings
            .iter()
            .filter_map(|f| {
                let w = f.waiver.as_ref()?;
                Some((
                    (f.rule_id.as_str(), f.resource.arn.as_str()),
                    w.owner.as_str(),
                ))
            })
            .collect();
        let tags_of: HashMap<&str, &posture_model::Tags> = news
            .resources
            .iter()
            .filter_map(|r| Some((r.arn.as_str(), r.tags.get().ok().flatten()?)))
            .collect();

        let mut items: Vec<(AlertKind, AlertItem)> = Vec::new();
        if news.previous.is_none() {
            for f in news.findings.iter().filter(|f| f.status == Status::Fail) {
                let mut item = self.item_of_finding(f, "failing", None);
                item.failing_since = f.first_seen;
                items.push((AlertKind::FirstScan, item));
            }
        }
        for t in news.transitions {
            let kind = match t.transition {
                drift::Transition::NewFailure | drift::Transition::WaiverExpired => {
                    AlertKind::Regressions
                }
                drift::Transition::NewError => AlertKind::CollectionFailed,
                drift::Transition::Resolved => AlertKind::Resolved,
                drift::Transition::StillFailing | drift::Transition::NewlyWaived => continue,
            };
            let finding = findings.get(&(t.rule_id.as_str(), t.resource.arn.as_str()));
            let mut item = match finding {
                Some(f) => self.item_of_finding(f, t.transition.as_str(), prev_id),
                None => AlertItem {
                    transition: t.transition.as_str().to_owned(),
                    rule_id: t.rule_id.clone(),
                    title: t.title.clone(),
                    severity: t.severity,
                    name: display_name(t.resource.arn.as_str(), &t.resource.tags),
                    resource: t.resource.clone(),
                    phi: false,
                    citations: Vec::new(),
                    reason: t.reason.clone(),
                    evidence: Evidence::new(),
                    changes: Vec::new(),
                    more_changes: 0,
                    failing_since: None,
                    due: None,
                    owner: None,
                    more: self.item_more(&t.rule_id, &t.resource, prev_id),
                },
            };
            if t.transition == drift::Transition::WaiverExpired
                && let Some(owner) = owners.get(&(t.rule_id.as_str(), t.resource.arn.as_str()))
            {
                item.owner = Some((*owner).to_owned());
            }
            if let Some(c) = changes.get(t.resource.arn.as_str()) {
                item.more_changes = c.fields.len().saturating_sub(MAX_FIELDS);
                item.changes = c
                    .fields
                    .iter()
                    .take(MAX_FIELDS)
                    .map(|fc| FieldChange {
                        pointer: cut(&fc.pointer, MAX_VALUE_CHARS),
                        old: fc.old.as_ref().map(compact),
                        new: fc.new.as_ref().map(compact),
                    })
                    .collect();
            }
            if item.resource.tags.is_empty()
                && let Some(tags) = tags_of.get(t.resource.arn.as_str())
            {
                item.resource.tags = (*tags).clone();
                item.name = display_name(item.resource.arn.as_str(), tags);
            }
            items.push((kind, item));
        }
        for (kind, item) in items {
            for (route, acc) in self.routes.iter().zip(self.per_route.iter_mut()) {
                let wanted = match kind {
                    AlertKind::Resolved => route.notices.resolved,
                    _ => true,
                };
                if wanted
                    && route.admits(
                        item.rule_id.as_str(),
                        item.severity,
                        &item.resource,
                        item.phi,
                    )
                {
                    acc.kinds.entry(kind).or_default().add(item.clone());
                }
            }
        }
        // Attestations of manual controls that expired since the previous scan.
        if let Some((_, previous)) = news.previous {
            for f in news.findings.iter().filter(|f| f.status == Status::Manual) {
                let expired =
                    f.evidence.get("attestation_state").and_then(|v| v.as_str()) == Some("expired");
                let last_valid = f
                    .evidence
                    .get("attestation")
                    .and_then(|a| a.get("expires"))
                    .and_then(|d| d.as_str())
                    .and_then(|d| d.parse::<NaiveDate>().ok());
                if !(expired && last_valid.is_some_and(|d| newly_expired(d, previous, self.at))) {
                    continue;
                }
                for (route, acc) in self.routes.iter().zip(self.per_route.iter_mut()) {
                    if route.notices.stale_attestations && route.admits_account(news.account) {
                        acc.attestations.push(AttestationNotice {
                            rule_id: f.rule_id.clone(),
                            title: f.title.clone(),
                            account: news.account.clone(),
                            reason: f.reason.clone(),
                            citations: f.citations.clone(),
                        });
                    }
                }
            }
        }
    }

    fn item_of_finding(&self, f: &Finding, transition: &str, prev: Option<&str>) -> AlertItem {
        AlertItem {
            transition: transition.to_owned(),
            rule_id: f.rule_id.clone(),
            title: f.title.clone(),
            severity: f.severity,
            name: display_name(f.resource.arn.as_str(), &f.resource.tags),
            resource: f.resource.clone(),
            phi: f.phi,
            citations: f.citations.clone(),
            reason: f.reason.clone(),
            evidence: cut_evidence(&f.evidence),
            changes: Vec::new(),
            more_changes: 0,
            failing_since: None,
            due: None,
            owner: f.waiver.as_ref().map(|w| w.owner.clone()),
            more: self.item_more(&f.rule_id, &f.resource, prev),
        }
    }

    /// The alerts composed, one per route and kind that has something to say.
    pub(crate) fn finish(self, expired_waivers: &[ExpiredWaiver]) -> Vec<Alert> {
        let mut out = Vec::new();
        let drift_more = More {
            command: self.previous_id.as_ref().map_or_else(String::new, |p| {
                format!("posture diff {p} {}", self.snapshot)
            }),
            api: format!("/api/v1/drift?snapshot={}&part=findings", self.snapshot),
        };
        let fail_more = More {
            command: String::new(),
            api: format!("/api/v1/findings?snapshot={}&status=fail", self.snapshot),
        };
        let waivers: Vec<WaiverNotice> = match self.previous_end {
            Some(previous) => expired_waivers
                .iter()
                .filter(|w| newly_expired(w.waiver.expires, previous, self.at))
                .map(|w| WaiverNotice {
                    ticket: w.waiver.ticket.clone(),
                    rule_id: w.waiver.rule.to_string(),
                    owner: w.waiver.owner.clone(),
                    expires: w.waiver.expires,
                    reopened: w.reopened,
                })
                .collect(),
            None => Vec::new(),
        };
        for (route, acc) in self.routes.iter().zip(self.per_route) {
            for (kind, items) in acc.kinds {
                let more = if kind == AlertKind::FirstScan {
                    fail_more.clone()
                } else {
                    drift_more.clone()
                };
                out.push(items.finish(kind, &route.name, Some(&self.snapshot), self.at, more));
            }
            let notice = |kind: AlertKind| Alert {
                kind,
                route: route.name.clone(),
                snapshot_id: Some(self.snapshot.clone()),
                at: self.at,
                accounts: Vec::new(),
                total: 0,
                phi: 0,
                by_severity: BTreeMap::new(),
                by_rule: Vec::new(),
                by_account: Vec::new(),
                items: Vec::new(),
                waivers: Vec::new(),
                attestations: Vec::new(),
                more: fail_more.clone(),
            };
            let wanted: Vec<WaiverNotice> = waivers
                .iter()
                .filter(|w| route.admits_rule(&w.rule_id))
                .cloned()
                .collect();
            if route.notices.expired_waivers && !wanted.is_empty() {
                let mut a = notice(AlertKind::WaiversExpired);
                a.total = wanted.len();
                a.waivers = wanted;
                out.push(a);
            }
            if !acc.attestations.is_empty() {
                let mut a = notice(AlertKind::AttestationsStale);
                let accounts: BTreeSet<AccountId> =
                    acc.attestations.iter().map(|n| n.account.clone()).collect();
                a.accounts = accounts.into_iter().collect();
                a.total = acc.attestations.len();
                a.attestations = acc.attestations;
                a.attestations.truncate(MAX_ITEMS);
                out.push(a);
            }
        }
        out
    }
}
