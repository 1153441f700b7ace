//! Alerts: what a scan tells a channel, and which channel hears what.
//!
//! An [`Alert`] is composed once, inside the transaction that stores its snapshot (the
//! pipeline writes it to the store's outbox), and rendered per sink when it is delivered
//! (Slack Block Kit, or the signed generic JSON webhook, which sends the alert itself). It
//! is complete and bounded at once: every item counts in the totals by rule, account and
//! severity, and at most [`MAX_ITEMS`] of them, the worst, are carried in full, so a mass
//! regression (one account's role broke) is one alert of bounded size that still says how
//! many there were.
//!
//! [`RouteFilter`] is one route's selection (severity threshold, PHI only, accounts, rules,
//! tags, and which optional notices it wants); the webhook a route sends to is a secret and
//! is not part of it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, Citation, Evidence, ResourceRef, RuleId, Severity};

/// The most items an alert carries in full; the rest are counted.
pub const MAX_ITEMS: usize = 50;

/// The longest old or new value of a changed field an alert carries, in characters;
/// longer values (a whole bucket policy) are cut with "…".
pub const MAX_VALUE_CHARS: usize = 300;

/// The most changed fields an alert item carries; the rest are counted.
pub const MAX_FIELDS: usize = 10;

/// What an alert is about. The string forms are stable: the outbox, the generic webhook's
/// `kind` and `posture alerts list` use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Findings that fail now and did not before (new failures, and failures whose waiver
    /// expired). Never a finding that was already failing.
    Regressions,
    /// Findings that were decided before and cannot be decided now: their data could not be
    /// collected. Not a regression, and never a resolution.
    CollectionFailed,
    /// Failures that pass now, or whose resource is gone (optional).
    Resolved,
    /// The first scan of an account: one summary of what fails there, not every failure.
    FirstScan,
    /// Waivers that expired since the previous scan (optional).
    WaiversExpired,
    /// Attestations of manual controls that expired since the previous scan (optional).
    AttestationsStale,
    /// The daily digest of failures past their remediation deadline.
    OverdueDigest,
    /// A sample sent by `posture alerts test`.
    Test,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 8] = [
        AlertKind::Regressions,
        AlertKind::CollectionFailed,
        AlertKind::Resolved,
        AlertKind::FirstScan,
        AlertKind::WaiversExpired,
        AlertKind::AttestationsStale,
        AlertKind::OverdueDigest,
        AlertKind::Test,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Regressions => "regressions",
            AlertKind::CollectionFailed => "collection_failed",
            AlertKind::Resolved => "resolved",
            AlertKind::FirstScan => "first_scan",
            AlertKind::WaiversExpired => "waivers_expired",
            AlertKind::AttestationsStale => "attestations_stale",
            AlertKind::OverdueDigest => "overdue_digest",
            AlertKind::Test => "test",
        }
    }
}

impl std::str::FromStr for AlertKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown alert kind {s:?}"))
    }
}

/// One message's worth of news for one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// The route it is for.
    pub route: String,
    /// The snapshot that found it (`None` for a digest or a test).
    pub snapshot_id: Option<String>,
    /// When: the scan's end, or the digest's time.
    pub at: DateTime<Utc>,
    /// The accounts concerned, sorted.
    pub accounts: Vec<AccountId>,
    /// How many items there are in all (each counted in `by_rule`, `by_account` and
    /// `by_severity`); `items` holds at most [`MAX_ITEMS`] of them.
    pub total: usize,
    /// How many of them concern resources that hold PHI.
    pub phi: usize,
    /// Counts per severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Counts per rule, most first.
    pub by_rule: Vec<RuleCount>,
    /// Counts per account, most first.
    pub by_account: Vec<AccountCount>,
    /// The worst items, in full: most severe first, PHI first, then by account, rule and ARN.
    pub items: Vec<AlertItem>,
    /// Waivers, for [`AlertKind::WaiversExpired`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<WaiverNotice>,
    /// Attestations, for [`AlertKind::AttestationsStale`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationNotice>,
    /// Where to see everything: a command and an API path.
    pub more: More,
}

impl Alert {
    /// Items counted but not carried in full.
    pub fn omitted(&self) -> usize {
        self.total.saturating_sub(self.items.len())
    }
}

/// How to see all of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct More {
    /// A `posture` command line.
    pub command: String,
    /// A path of the daemon's API.
    pub api: String,
}

/// One rule's count in an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The rule.
    pub rule_id: RuleId,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// How many items.
    pub count: usize,
}

/// One account's count in an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCount {
    /// The account.
    pub account: AccountId,
    /// How many items.
    pub count: usize,
}

/// One finding an alert is about, with what a responder needs to act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertItem {
    /// What happened to the finding (a drift transition: `new_failure`, `waiver_expired`,
    /// `new_error`, `resolved`; `failing` in a first-scan summary, `overdue` in a digest).
    pub transition: String,
    /// The rule.
    pub rule_id: RuleId,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// The resource: ARN, kind, account, region, tags.
    pub resource: ResourceRef,
    /// A name for people: the `Name` tag, else the last part of the ARN.
    pub name: String,
    /// Whether the resource holds PHI under the configured PHI scope.
    pub phi: bool,
    /// The HIPAA citations of the rule.
    pub citations: Vec<Citation>,
    /// The rule's reason now.
    pub reason: String,
    /// The values the rule decided on (values longer than [`MAX_VALUE_CHARS`] are cut).
    pub evidence: Evidence,
    /// The configuration fields of the resource that changed in the same scan, at most
    /// [`MAX_FIELDS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Changed fields not carried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more_changes: usize,
    /// Since when it fails (digests, first-scan summaries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Its remediation deadline (digests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// Who owns it, where a tag or a waiver says (digests, expired waivers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Where to see it: a command and an API path.
    pub more: More,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One changed configuration field: a JSON pointer into the resource document, with its
/// old and new values (`None`: absent on that side), each cut to [`MAX_VALUE_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// RFC 6901 pointer, e.g. `/body/policy`.
    pub pointer: String,
    /// The old value as compact JSON; `None` when the field was added.
    pub old: Option<String>,
    /// The new value as compact JSON; `None` when the field was removed.
    pub new: Option<String>,
}

/// A waiver that expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverNotice {
    /// The ticket that records the risk acceptance.
    pub ticket: String,
    /// The rule it waived.
    pub rule_id: String,
    /// Who owned the accepted risk.
    pub owner: String,
    /// The last day it applied.
    pub expires: NaiveDate,
    /// Failures it would have covered and now leaves open.
    pub reopened: usize,
}

/// A manual control whose attestation expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationNotice {
    /// The control's rule id.
    pub rule_id: RuleId,
    /// Its title.
    pub title: String,
    /// The account it covers.
    pub account: AccountId,
    /// The reason the evaluation gives (who attested last, when it expired).
    pub reason: String,
    /// HIPAA citations.
    pub citations: Vec<Citation>,
}

/// The optional notices a route can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Notices {
    /// Failures that were resolved.
    pub resolved: bool,
    /// Waivers that expired.
    pub expired_waivers: bool,
    /// Attestations that expired.
    pub stale_attestations: bool,
    /// The daily digest of failures past their deadline.
    pub overdue_digest: bool,
}

/// Which findings one route hears about. An item reaches every route whose filter it
/// passes: severity at least `min_severity`, PHI when `phi_only`, and, for each selector that
/// is not empty, one of its accounts, one of its rules and all of its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteFilter {
    /// The route's name (`default` for `POSTURE_SLACK_WEBHOOK_URL`).
    pub name: String,
    /// The lowest severity it hears about.
    pub min_severity: Severity,
    /// Only resources that hold PHI.
    pub phi_only: bool,
    /// Only these accounts (empty: every account).
    pub accounts: Vec<AccountId>,
    /// Only these rules: ids, or prefixes ending in `*` (empty: every rule).
    pub rules: Vec<String>,
    /// Only resources with all these tags (empty: any resource).
    pub tags: BTreeMap<String, String>,
    /// Optional notices.
    pub notices: Notices,
}

impl RouteFilter {
    /// Whether a finding of `rule` with `severity` on `resource` passes the filter.
    pub fn admits(
        &self,
        rule: &str,
        severity: Severity,
        resource: &ResourceRef,
        phi: bool,
    ) -> bool {
        severity >= self.min_severity
            && (phi || !self.phi_only)
            && self.admits_account(&resource.account)
            && self.admits_rule(rule)
            && self
                .tags
                .iter()
                .all(|(k, v)| resource.tags.get(k) == Some(v))
    }

    /// Whether the filter's account selector admits `account`.
    pub fn admits_account(&self, account: &AccountId) -> bool {
        self.accounts.is_empty() || self.accounts.contains(account)
    }

    /// Whether the filter's rule selector admits `rule`.
    pub fn admits_rule(&self, rule: &str) -> bool {
        self.rules.is_empty()
            || self.rules.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => rule.starts_with(prefix),
                None => rule == p,
            })
    }
}

/// Builds one alert from its items: counts every item (by rule, account, severity, PHI)
/// and keeps the worst [`MAX_ITEMS`] in full, so memory is bounded by the rules and
/// accounts, never by the number of items.
#[derive(Debug, Default)]
pub struct Builder {
    total: usize,
    phi: usize,
    by_severity: BTreeMap<Severity, usize>,
    by_rule: BTreeMap<RuleId, (String, Severity, usize)>,
    by_account: BTreeMap<AccountId, usize>,
    items: Vec<AlertItem>,
}

/// Worst first: most severe, PHI, then account, rule and ARN (a stable order).
fn worst_first(a: &AlertItem, b: &AlertItem) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then(b.phi.cmp(&a.phi))
        .then_with(|| a.resource.account.cmp(&b.resource.account))
        .then_with(|| a.rule_id.cmp(&b.rule_id))
        .then_with(|| a.resource.arn.cmp(&b.resource.arn))
        .then_with(|| a.resource.region.cmp(&b.resource.region))
}

impl Builder {
    /// Counts `item` and keeps it when it is among the worst.
    pub fn add(&mut self, item: AlertItem) {
        self.total += 1;
        self.phi += usize::from(item.phi);
        *self.by_severity.entry(item.severity).or_default() += 1;
        self.by_rule
            .entry(item.rule_id.clone())
            .or_insert_with(|| (item.title.clone(), item.severity, 0))
            .2 += 1;
        *self
            .by_account
            .entry(item.resource.account.clone())
            .or_default() += 1;
        self.items.push(item);
        if self.items.len() >= 2 * MAX_ITEMS {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.items.sort_by(worst_first);
        self.items.truncate(MAX_ITEMS);
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The alert: counts sorted most first, the worst items most severe first.
    pub fn finish(
        mut self,
        kind: AlertKind,
        route: &str,
        snapshot: Option<&str>,
        at: DateTime<Utc>,
        more: More,
    ) -> Alert {
        self.trim();
        let mut by_rule: Vec<RuleCount> = self
            .by_rule
            .into_iter()
            .map(|(rule_id, (title, severity, count))| RuleCount {
                rule_id,
                title,
                severity,
                count,
            })
            .collect();
        by_rule.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.severity.cmp(&a.severity))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        let mut by_account: Vec<AccountCount> = self
            .by_account
            .into_iter()
            .map(|(account, count)| AccountCount { account, count })
            .collect();
        by_account.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.account.cmp(&b.account))
        });
        let mut accounts: Vec<AccountId> = by_account.iter().map(|a| a.account.clone()).collect();
        accounts.sort();
        Alert {
            kind,
            route: route.to_owned(),
            snapshot_id: snapshot.map(str::to_owned),
            at,
            accounts,
            total: self.total,
            phi: self.phi,
            by_severity: self.by_severity,
            by_rule,
            by_account,
            items: self.items,
            waivers: Vec::new(),
            attestations: Vec::new(),
            more,
        }
    }
}

/// A resource's name for people: its `Name` tag, else the last part of its ARN
/// (`arn:aws:s3:::phi-claims` → `phi-claims`, `…:security-group/sg-1` → `sg-1`).
pub fn display_name(arn: &str, tags: &crate::Tags) -> String {
    if let Some(name) = tags.get("Name").filter(|n| !n.is_empty()) {
        return name.clone();
    }
    arn.rsplit([':', '/'])
        .find(|s| !s.is_empty())
        .unwrap_or(arn)
        .to_owned()
}

/// Cuts `text` to at most `max` characters, ending in "…" when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arn, Region, ResourceKind, Tags};

    fn resource(account: &str, tags: &[(&str, &str)]) -> ResourceRef {
        ResourceRef {
            arn: Arn::new("arn:aws:s3:::phi-bucket").unwrap(),
            kind: ResourceKind::S3Bucket,
            account: AccountId::new(account).unwrap(),
            region: Region::new("us-east-1").unwrap(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Tags>(),
        }
    }

    fn route() -> RouteFilter {
        RouteFilter {
            name: "payments".into(),
            min_severity: Severity::High,
            phi_only: false,
            accounts: vec![],
            rules: vec![],
            tags: BTreeMap::new(),
            notices: Notices::default(),
        }
    }

    #[test]
    fn severity_threshold_is_inclusive() {
        let r = route();
        let res = resource("111122223333", &[]);
        assert!(r.admits("s3_x", Severity::High, &res, false));
        assert!(r.admits("s3_x", Severity::Critical, &res, false));
        assert!(!r.admits("s3_x", Severity::Medium, &res, false));
    }

    #[test]
    fn phi_only_admits_only_phi() {
        let r = RouteFilter {
            phi_only: true,
            ..route()
        };
        let res = resource("111122223333", &[]);
        assert!(r.admits("s3_x", Severity::High, &res, true));
        assert!(!r.admits("s3_x", Severity::High, &res, false));
    }

    #[test]
    fn selectors_need_one_account_one_rule_and_all_tags() {
        let r = RouteFilter {
            accounts: vec![AccountId::new("111122223333").unwrap()],
            rules: vec!["s3_*".into(), "ec2_sg_open_db".into()],
            tags: [("unit".to_owned(), "payments".to_owned())].into(),
            ..route()
        };
        let ok = resource("111122223333", &[("unit", "payments"), ("x", "y")]);
        assert!(r.admits("s3_bucket_tls_only", Severity::High, &ok, false));
        assert!(r.admits("ec2_sg_open_db", Severity::High, &ok, false));
        assert!(!r.admits("ec2_sg_open_db_v2", Severity::High, &ok, false));
        assert!(!r.admits("rds_x", Severity::High, &ok, false));
        let other_account = resource("444455556666", &[("unit", "payments")]);
        assert!(!r.admits("s3_x", Severity::High, &other_account, false));
        let other_tag = resource("111122223333", &[("unit", "claims")]);
        assert!(!r.admits("s3_x", Severity::High, &other_tag, false));
    }

    #[test]
    fn a_resource_is_named_by_its_name_tag_else_its_arn() {
        let none = Tags::new();
        assert_eq!(display_name("arn:aws:s3:::phi-claims", &none), "phi-claims");
        assert_eq!(
            display_name("arn:aws:ec2:us-east-1:1:security-group/sg-1", &none),
            "sg-1"
        );
        let named: Tags = [("Name".to_owned(), "claims-db".to_owned())].into();
        assert_eq!(
            display_name("arn:aws:ec2:us-east-1:1:security-group/sg-1", &named),
            "claims-db"
        );
        let empty: Tags = [("Name".to_owned(), String::new())].into();
        assert_eq!(display_name("arn:aws:s3:::b", &empty), "b");
    }

    #[test]
    fn cut_marks_what_it_cut() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        assert_eq!(cut("ééééé", 4), "ééé…");
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in AlertKind::ALL {
            assert_eq!(k.as_str().parse::<AlertKind>().unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
