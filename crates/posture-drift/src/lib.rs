//! Drift: what changed between two snapshots.
//!
//! Resources are matched by (kind, ARN): added, removed, or modified with field-level
//! changes as JSON pointers (RFC 6901) with the old and new values. Findings are matched by
//! (rule, ARN) and classified as transitions: new failure, resolved, still failing (with its
//! age), newly waived, waiver expired, newly unverifiable (error).
//!
//! Invariants: pure (no IO, no clock: `now` is passed in); only resources inside the
//! [`Scope`] both snapshots share are compared, so a scan of fewer regions does not read as
//! a mass deletion; inside it, what the later snapshot could not read ([`Unread`]) is
//! never `removed` nor `resolved` (a failed finding there becomes `new_error`); output is
//! sorted by (account, region, kind or rule, ARN).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use posture_model::{
    AccountId, Finding, Region, Resource, ResourceKind, ResourceRef, RuleId, Severity, Status,
    Unread,
};
use serde::Serialize;
use serde_json::Value;

/// The accounts, regions and services a comparison covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    accounts: BTreeSet<AccountId>,
    regions: BTreeSet<Region>,
    services: BTreeSet<String>,
    /// What the later snapshot could not read, per account.
    unread: BTreeMap<AccountId, Unread>,
    /// Rules left out of either snapshot (they read a service the user left out): their
    /// findings are not compared.
    omitted_rules: BTreeSet<String>,
}

impl Scope {
    /// A scope; `global` and the `posture` pseudo-service (account and region subjects) are
    /// always included.
    pub fn new(accounts: &[AccountId], regions: &[Region], services: &[String]) -> Self {
        let mut regions: BTreeSet<Region> = regions.iter().cloned().collect();
        regions.insert(Region::global());
        let mut services: BTreeSet<String> = services.iter().cloned().collect();
        services.insert("posture".to_owned());
        Self {
            accounts: accounts.iter().cloned().collect(),
            regions,
            services,
            unread: BTreeMap::new(),
            omitted_rules: BTreeSet::new(),
        }
    }

    /// The scope without the findings of `rules` (omitted from one of the snapshots because
    /// they read a service the user left out): they are neither new nor resolved.
    pub fn without_rules(mut self, rules: impl IntoIterator<Item = String>) -> Self {
        self.omitted_rules.extend(rules);
        self
    }

    /// The scope with what the later snapshot could not read in `account`: its resources
    /// are not removed and its findings not resolved.
    pub fn with_unread(mut self, account: AccountId, unread: Unread) -> Self {
        if unread.is_empty() {
            self.unread.remove(&account);
        } else {
            self.unread.insert(account, unread);
        }
        self
    }

    /// Whether the later snapshot could not read resources of `kind` in `account` and
    /// `region`.
    pub fn is_unread(&self, account: &AccountId, region: &Region, kind: ResourceKind) -> bool {
        self.unread
            .get(account)
            .is_some_and(|u| u.contains(region, kind))
    }

    /// What two scopes share.
    pub fn intersect(&self, other: &Scope) -> Scope {
        Scope {
            accounts: self
                .accounts
                .intersection(&other.accounts)
                .cloned()
                .collect(),
            regions: self.regions.intersection(&other.regions).cloned().collect(),
            services: self
                .services
                .intersection(&other.services)
                .cloned()
                .collect(),
            unread: self
                .unread
                .iter()
                .chain(&other.unread)
                .map(|(a, u)| (a.clone(), u.clone()))
                .collect(),
            omitted_rules: self
                .omitted_rules
                .union(&other.omitted_rules)
                .cloned()
                .collect(),
        }
    }

    /// Whether the scope includes `account` at all.
    pub fn has_account(&self, account: &AccountId) -> bool {
        self.accounts.contains(account)
    }

    fn contains(&self, account: &AccountId, region: &Region, kind: ResourceKind) -> bool {
        self.accounts.contains(account)
            && self.regions.contains(region)
            && self.services.contains(kind.service())
    }
}

/// How a resource changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// New in the later snapshot.
    Added,
    /// Gone from the later snapshot.
    Removed,
    /// Present in both, with different content.
    Modified,
}

/// One field that changed, as a JSON pointer into the resource document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// RFC 6901 pointer, e.g. `/body/config/policy/Statement/0/Effect`.
    pub pointer: String,
    /// The old value; `None` when the field was added.
    pub old: Option<Value>,
    /// The new value; `None` when the field was removed.
    pub new: Option<Value>,
}

/// One resource that changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// Added, removed or modified.
    pub change: Change,
    /// The resource.
    pub arn: String,
    /// Its kind.
    pub kind: ResourceKind,
    /// Account.
    pub account: AccountId,
    /// Region.
    pub region: Region,
    /// Field-level changes (for `Modified`).
    pub fields: Vec<FieldChange>,
}

type Key<'a> = (ResourceKind, &'a str);

/// Fields that record activity rather than configuration (when a key or role was last
/// used, when a report was generated): they change on every scan of a busy account, so a
/// change in them alone is not drift. They stay in the stored bodies as evidence.
const VOLATILE_FIELDS: &[&str] = &[
    "last_used",
    "password_last_used",
    "generated_at",
    "latest_delivery_time",
];

fn is_volatile(pointer: &str) -> bool {
    pointer
        .rsplit('/')
        .next()
        .is_some_and(|last| VOLATILE_FIELDS.contains(&last))
}

/// A field the old body lacked because an earlier version of Posture stored it
/// ([`Observed::not_recorded`](posture_model::Observed::not_recorded)): seeing it for the
/// first time is not a change of the resource.
fn not_recorded(v: &Value) -> bool {
    v.get("state").and_then(Value::as_str) == Some("unavailable")
        && v.pointer("/value/operation").and_then(Value::as_str)
            == Some(posture_model::NOT_RECORDED_OPERATION)
}

/// Compares the resources of two snapshots inside `scope`.
pub fn diff_resources(old: &[Resource], new: &[Resource], scope: &Scope) -> Vec<ResourceChange> {
    let in_scope = |r: &&Resource| scope.contains(&r.account, &r.region, r.kind());
    let old_map: HashMap<Key<'_>, &Resource> = old
        .iter()
        .filter(in_scope)
        .map(|r| ((r.kind(), r.arn.as_str()), r))
        .collect();
    let new_map: HashMap<Key<'_>, &Resource> = new
        .iter()
        .filter(in_scope)
        .map(|r| ((r.kind(), r.arn.as_str()), r))
        .collect();
    let mut out = Vec::new();
    for (key, n) in &new_map {
        match old_map.get(key) {
            None => out.push(change(Change::Added, n, Vec::new())),
            Some(o) if *o != *n => {
                let (ov, nv) = (to_value(o), to_value(n));
                let mut fields = Vec::new();
                walk(&mut String::new(), &ov, &nv, &mut fields);
                fields.retain(|f| !is_volatile(&f.pointer));
                if !fields.is_empty() {
                    out.push(change(Change::Modified, n, fields));
                }
            }
            Some(_) => {}
        }
    }
    for (key, o) in &old_map {
        // Not seen because it could not be read: not removed.
        if !new_map.contains_key(key) && !scope.is_unread(&o.account, &o.region, o.kind()) {
            out.push(change(Change::Removed, o, Vec::new()));
        }
    }
    out.sort_by(|a, b| {
        (&a.account, &a.region, a.kind, &a.arn, a.change)
            .cmp(&(&b.account, &b.region, b.kind, &b.arn, b.change))
    });
    out
}

fn change(change: Change, r: &Resource, fields: Vec<FieldChange>) -> ResourceChange {
    ResourceChange {
        change,
        arn: r.arn.to_string(),
        kind: r.kind(),
        account: r.account.clone(),
        region: r.region.clone(),
        fields,
    }
}

fn to_value(r: &Resource) -> Value {
    // Model types always serialise; a failure would show as the whole document changing.
    serde_json::to_value(r).unwrap_or(Value::Null)
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn walk(path: &mut String, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    if not_recorded(old) {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&escape(k));
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => walk(path, x, y, out),
                    (x, y) => out.push(FieldChange {
                        pointer: path.clone(),
                        old: x.cloned(),
                        new: y.cloned(),
                    }),
                }
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => walk(path, x, y, out),
                    (x, y) => out.push(FieldChange {
                        pointer: path.clone(),
                        old: x.cloned(),
                        new: y.cloned(),
                    }),
                }
                path.truncate(len);
            }
        }
        (x, y) if x != y => out.push(FieldChange {
            pointer: path.clone(),
            old: Some(x.clone()),
            new: Some(y.clone()),
        }),
        _ => {}
    }
}

/// How a finding moved between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// Failing now, not failing before (or new).
    NewFailure,
    /// Failing before; passing, not applicable, or its resource gone now.
    Resolved,
    /// Failing in both.
    StillFailing,
    /// Failing before, waived now.
    NewlyWaived,
    /// Waived before, failing now: the waiver expired or stopped matching.
    WaiverExpired,
    /// Decided before (pass or fail), undecidable now: the evidence could not be collected.
    NewError,
}

impl Transition {
    /// The stable name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::NewFailure => "new_failure",
            Transition::Resolved => "resolved",
            Transition::StillFailing => "still_failing",
            Transition::NewlyWaived => "newly_waived",
            Transition::WaiverExpired => "waiver_expired",
            Transition::NewError => "new_error",
        }
    }
}

/// One finding's transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingTransition {
    /// What happened.
    pub transition: Transition,
    /// The rule.
    pub rule_id: RuleId,
    /// The rule's title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// The resource.
    pub resource: ResourceRef,
    /// Status before (`None` when the finding is new).
    pub from: Option<Status>,
    /// Status now (`None` when the resource is gone).
    pub to: Option<Status>,
    /// Since when it has failed, for `still_failing`.
    pub failing_since: Option<DateTime<Utc>>,
    /// Whole days it has failed, for `still_failing`.
    pub age_days: Option<i64>,
    /// The reason the rule gives now (or gave last, when the resource is gone).
    pub reason: String,
}

/// Classifies every finding that moved between `old` and `new` inside `scope`.
pub fn diff_findings(
    old: &[Finding],
    new: &[Finding],
    scope: &Scope,
    now: DateTime<Utc>,
) -> Vec<FindingTransition> {
    let in_scope = |f: &&Finding| {
        scope.contains(&f.resource.account, &f.resource.region, f.resource.kind)
            && !scope.omitted_rules.contains(f.rule_id.as_str())
    };
    let key = |f: &Finding| {
        (
            f.rule_id.as_str().to_owned(),
            f.resource.arn.as_str().to_owned(),
        )
    };
    let old_map: HashMap<(String, String), &Finding> =
        old.iter().filter(in_scope).map(|f| (key(f), f)).collect();
    let new_map: HashMap<(String, String), &Finding> =
        new.iter().filter(in_scope).map(|f| (key(f), f)).collect();
    let mut out = Vec::new();
    for (k, n) in &new_map {
        let before = old_map.get(k).map(|o| o.status);
        let transition = match (before, n.status) {
            (Some(Status::Fail), Status::Fail) => Some(Transition::StillFailing),
            // Undecided last time (its data could not be read), failing since before then:
            // the same failure, not a new one.
            (Some(Status::Error), Status::Fail) if n.first_seen.is_some_and(|s| s < now) => {
                Some(Transition::StillFailing)
            }
            (_, Status::Fail) if before == Some(Status::Waived) => Some(Transition::WaiverExpired),
            (_, Status::Fail) => Some(Transition::NewFailure),
            (Some(Status::Fail), Status::Waived) => Some(Transition::NewlyWaived),
            (Some(Status::Fail), Status::Pass | Status::NotApplicable) => {
                Some(Transition::Resolved)
            }
            (Some(Status::Pass | Status::Fail), Status::Error) => Some(Transition::NewError),
            _ => None,
        };
        if let Some(t) = transition {
            let since = if t == Transition::StillFailing {
                n.first_seen
                    .or_else(|| old_map.get(k).and_then(|o| o.first_seen))
            } else {
                None
            };
            out.push(FindingTransition {
                transition: t,
                rule_id: n.rule_id.clone(),
                title: n.title.clone(),
                severity: n.severity,
                resource: n.resource.clone(),
                from: before,
                to: Some(n.status),
                failing_since: since,
                age_days: since.map(|s| (now - s).num_days()),
                reason: n.reason.clone(),
            });
        }
    }
    for (k, o) in &old_map {
        if new_map.contains_key(k) {
            continue;
        }
        let r = &o.resource;
        if scope.is_unread(&r.account, &r.region, r.kind) {
            // Its resource could not be read: undecided now, never resolved.
            if matches!(o.status, Status::Pass | Status::Fail) {
                out.push(FindingTransition {
                    transition: Transition::NewError,
                    rule_id: o.rule_id.clone(),
                    title: o.title.clone(),
                    severity: o.severity,
                    resource: o.resource.clone(),
                    from: Some(o.status),
                    to: None,
                    failing_since: None,
                    age_days: None,
                    reason: format!("the resource could not be read (last reason: {})", o.reason),
                });
            }
            continue;
        }
        if o.status == Status::Fail {
            out.push(FindingTransition {
                transition: Transition::Resolved,
                rule_id: o.rule_id.clone(),
                title: o.title.clone(),
                severity: o.severity,
                resource: o.resource.clone(),
                from: Some(Status::Fail),
                to: None,
                failing_since: None,
                age_days: None,
                reason: format!("the resource is gone (last reason: {})", o.reason),
            });
        }
    }
    out.sort_by(|a, b| {
        (
            &a.resource.account,
            &a.resource.region,
            &a.rule_id,
            &a.resource.arn,
        )
            .cmp(&(
                &b.resource.account,
                &b.resource.region,
                &b.rule_id,
                &b.resource.arn,
            ))
    });
    out
}

#[cfg(test)]
mod tests;
