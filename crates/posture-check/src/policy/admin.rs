//! "Does this identity policy make its holder an administrator?"
//!
//! - **Full**: an `Allow` of every action (`*`, `*:*`) on every resource (`*`, `arn:*`)
//!   that no `Deny` in the same document narrows.
//! - **Near-full** (treated as admin by the rules): an `Allow` with `NotAction` on every
//!   resource (`NotAction: iam:*` still grants every action of every other service,
//!   hundreds of them, including ones that lead back to IAM such as creating a
//!   role-holding instance), an `Allow` of every action with `NotResource`, or a full
//!   grant that a `Deny` narrows only partly.
//! - **Denied**: taken away, or narrowed to a named list of actions, by an unconditional
//!   `Deny` in the same document.
//!
//! # Conditions do not excuse an administrator
//!
//! A full or near-full grant stays an administrator grant whatever its conditions (in the
//! `Allow`, or in a `Deny` that otherwise refuses everything, such as the MFA-required
//! pattern); [`AdminGrant::conditions`] quotes them for the evidence. A condition decides
//! *when* a holder's session may use the power, and the holder chooses most of the
//! request: it can present MFA, use TLS, pick a region, wait for a time window, call from
//! the office network or a VPC endpoint it can reach, or carry the tag. So such a grant
//! is reported at the rule's full severity.
//!
//! The one exception is a condition that pins the caller to named principals
//! ([`classify_condition`], [`ConditionClass::PinsPrincipals`]): then only those
//! principals hold the power, and [`AdminGrant::pinned_principals`] names them. The rules
//! still fail such a grant (the named principals *are* administrators), with a reason
//! that says so, so that a reviewer confirms they are the intended break-glass identities
//! and records that decision as a waiver with an owner and an expiry, rather than the
//! tool deciding it silently.
//!
//! Only the document is read: a permissions boundary, SCP or `Deny` in another policy
//! of the same identity is not seen.

use serde_json::{Value, json};

use super::Policy;
use super::condition::{BaseOperator, Condition};
use super::eval::principal_covers;
use super::glob;
use super::statement::{Effect, Matcher, Selection, Statement};
use crate::policy::Caller;

/// How much of the account a statement grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminScope {
    /// Every action on every resource.
    Full,
    /// Every action except the `NotAction` patterns, on every resource.
    AllActionsExcept(Vec<String>),
    /// Every action on every resource except the `NotResource` patterns.
    AllResourcesExcept(Vec<String>),
    /// Every action on every resource, less what partial `Deny` statements refuse.
    AllButDenied(Vec<String>),
}

impl AdminScope {
    /// A phrase for the reason: "every action on every resource", ...
    pub fn describe(&self) -> String {
        match self {
            AdminScope::Full => "every action on every resource".to_owned(),
            AdminScope::AllActionsExcept(p) => format!(
                "every action except {} (NotAction) on every resource",
                p.join(", ")
            ),
            AdminScope::AllResourcesExcept(p) => format!(
                "every action on every resource except {} (NotResource)",
                p.join(", ")
            ),
            AdminScope::AllButDenied(by) => format!(
                "every action on every resource except what {} denies",
                by.join(", ")
            ),
        }
    }
}

/// An `Allow` statement granting admin or near-admin scope.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminGrant<'p> {
    /// The statement.
    pub statement: &'p Statement,
    /// What it grants.
    pub scope: AdminScope,
    /// The conditions it depends on (its own, or of a `Deny` refusing everything else).
    /// They do not make it less of an administrator grant (see the module docs).
    pub conditions: Vec<&'p Condition>,
    /// The principals a condition pins the grant to (`aws:PrincipalArn`, `aws:userid`,
    /// `aws:username` values), sorted; empty when any session of any holder can use it.
    pub pinned_principals: Vec<String>,
    /// `Deny` statements that take it away or narrow it.
    pub denied_by: Vec<&'p Statement>,
}

impl AdminGrant<'_> {
    /// `{"statement", "scope", "conditions"?, "pinned_principals"?, "denied_by"?}`.
    pub fn evidence(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("statement".into(), json!(self.statement.label()));
        map.insert("scope".into(), json!(self.scope.describe()));
        if !self.conditions.is_empty() {
            let c: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
            map.insert("conditions".into(), json!(c));
        }
        if !self.pinned_principals.is_empty() {
            map.insert("pinned_principals".into(), json!(self.pinned_principals));
        }
        if !self.denied_by.is_empty() {
            let d: Vec<String> = self.denied_by.iter().map(|s| s.label()).collect();
            map.insert("denied_by".into(), json!(d));
        }
        Value::Object(map)
    }

    /// Whether a condition limits the grant to named principals.
    pub fn is_pinned(&self) -> bool {
        !self.pinned_principals.is_empty()
    }

    /// One clause for a reason: "STATEMENT allows SCOPE[, under conditions any session of
    /// the holder can meet (…)][, limited by Condition to the named principals …]".
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} allows {}",
            self.statement.label(),
            self.scope.describe()
        );
        if self.is_pinned() {
            out.push_str(&format!(
                ", limited by Condition to the named principals {}, who hold it as \
                 administrators (confirm them, and waive with an owner and expiry)",
                self.pinned_principals.join(", ")
            ));
        } else if !self.conditions.is_empty() {
            let c: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
            out.push_str(&format!(
                ", under conditions any session of the holder can meet ({})",
                c.join("; ")
            ));
        }
        out
    }
}

/// The admin-scope statements of a document, by kind (see the module docs). A grant
/// under conditions is in `full` or `near_full` like any other, with its conditions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminAccess<'p> {
    /// Every action on every resource.
    pub full: Vec<AdminGrant<'p>>,
    /// Near-full scope.
    pub near_full: Vec<AdminGrant<'p>>,
    /// Full or near-full, taken away or narrowed to a few actions by an unconditional
    /// `Deny`.
    pub denied: Vec<AdminGrant<'p>>,
}

impl<'p> AdminAccess<'p> {
    /// Whether the document makes its holder an administrator, fully or nearly.
    pub fn is_admin(&self) -> bool {
        !self.full.is_empty() || !self.near_full.is_empty()
    }

    /// The administrator grants, full then near-full, each in document order.
    pub fn grants(&self) -> impl Iterator<Item = &AdminGrant<'p>> {
        self.full.iter().chain(&self.near_full)
    }
}

/// What a condition on an administrator grant means for who holds the power
/// ([`classify_condition`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionClass<'c> {
    /// Some session of a holder can satisfy it (or, for a `Deny`, avoid it): it limits
    /// *when* the power is used, not *who* has it.
    AnySession,
    /// It admits only the named principals (the values quoted).
    PinsPrincipals(&'c [String]),
}

/// The condition keys that name the calling principal itself.
const PRINCIPAL_KEYS: &[&str] = &["aws:PrincipalArn", "aws:userid", "aws:username"];

/// Classifies one condition of an administrator grant: of its `Allow` (`effect` is
/// [`Effect::Allow`]), or of a `Deny` that would otherwise refuse everything
/// ([`Effect::Deny`]).
///
/// Only a test on a key that names the caller itself — `aws:PrincipalArn`, `aws:userid`
/// or `aws:username` — with fixed values pins the grant:
///
/// - in an `Allow`, a positive test (`StringEquals`, `StringEqualsIgnoreCase`,
///   `StringLike`, `ArnEquals`, `ArnLike`); in a `Deny`, a negative one
///   (`StringNotEquals`, `ArnNotEquals`, …: "refuse everyone but these");
/// - no `…IfExists` and no `ForAnyValue:`/`ForAllValues:` (an absent or empty key would
///   pass);
/// - every value fixed: no policy variable (`${aws:username}` matches every caller), and
///   no wildcard, except the `ROLEID:*` form of `aws:userid`, which names every session
///   of one role (the part before `:` must be fixed).
///
/// Everything else is [`ConditionClass::AnySession`], on purpose conservatively:
/// `aws:MultiFactorAuthPresent`, `aws:SecureTransport`, `aws:RequestedRegion`,
/// `aws:CurrentTime`, `aws:SourceIp`, `aws:SourceVpc(e)`, `aws:PrincipalTag/…` and
/// `aws:ResourceTag/…` are all met by some session of the holder; `aws:PrincipalAccount`
/// and `aws:PrincipalOrgID` hold for every holder; and a key or operator this evaluator
/// does not know never excuses an administrator.
pub fn classify_condition(c: &Condition, effect: Effect) -> ConditionClass<'_> {
    use BaseOperator::*;
    let Some(key) = PRINCIPAL_KEYS.iter().find(|k| c.is_key(k)) else {
        return ConditionClass::AnySession;
    };
    let test_fits = match effect {
        Effect::Allow => matches!(
            c.operator.base,
            StringEquals | StringEqualsIgnoreCase | StringLike | ArnEquals | ArnLike
        ),
        Effect::Deny => matches!(
            c.operator.base,
            StringNotEquals | StringNotEqualsIgnoreCase | StringNotLike | ArnNotEquals | ArnNotLike
        ),
    };
    let fixed = |v: &str| {
        if v.is_empty() || v.contains("${") {
            return false;
        }
        if key.eq_ignore_ascii_case("aws:userid")
            && let Some((id, rest)) = v.split_once(':')
        {
            return !id.is_empty()
                && !glob::has_wildcard(id)
                && (rest == "*" || !glob::has_wildcard(rest));
        }
        !glob::has_wildcard(v)
    };
    if test_fits
        && !c.operator.if_exists
        && c.operator.set.is_none()
        && !c.values.is_empty()
        && c.values.iter().all(|v| fixed(v))
    {
        ConditionClass::PinsPrincipals(&c.values)
    } else {
        ConditionClass::AnySession
    }
}

/// The principals `conditions` (all of which must hold) pin a statement of `effect` to:
/// for an `Allow`, any one pinning condition pins it; for a `Deny`, only one whose every
/// condition pins (otherwise a session can avoid the `Deny` by failing the other test).
fn pins_of<'c>(conditions: &'c [Condition], effect: Effect) -> Option<Vec<&'c str>> {
    let classes: Vec<ConditionClass<'_>> = conditions
        .iter()
        .map(|c| classify_condition(c, effect))
        .collect();
    let pins = |classes: &[ConditionClass<'c>]| -> Vec<&'c str> {
        classes
            .iter()
            .filter_map(|c| match c {
                ConditionClass::PinsPrincipals(v) => Some(v.iter().map(String::as_str)),
                ConditionClass::AnySession => None,
            })
            .flatten()
            .collect()
    };
    let pinning = match effect {
        Effect::Allow => classes
            .iter()
            .any(|c| matches!(c, ConditionClass::PinsPrincipals(_))),
        Effect::Deny => {
            !classes.is_empty()
                && classes
                    .iter()
                    .all(|c| matches!(c, ConditionClass::PinsPrincipals(_)))
        }
    };
    pinning.then(|| pins(&classes))
}

/// Every action there is.
const EVERY_ACTION: &str = "*:*";

fn every_resource(m: &Matcher) -> bool {
    m.covers("*") || m.covers("arn:*")
}

/// What an unconditional-or-not `Deny` does to a grant of every action.
enum DenyEffect {
    /// Refuses everything.
    All,
    /// Refuses everything but a list of actions (`Deny NotAction` on every resource).
    AllBut,
    /// Refuses some things.
    Some,
}

fn deny_effect(d: &Statement) -> DenyEffect {
    if d.actions.covers(EVERY_ACTION) && every_resource(&d.resources) {
        DenyEffect::All
    } else if d.actions.selection == Selection::AllExcept && every_resource(&d.resources) {
        DenyEffect::AllBut
    } else {
        DenyEffect::Some
    }
}

/// Whether two elements may select a common name (cautious: `true` when unsure).
fn overlaps(a: &Matcher, b: &Matcher) -> bool {
    match (a.selection, b.selection) {
        (Selection::Only, _) => a.patterns.iter().any(|p| b.may_match(p)),
        (_, Selection::Only) => b.patterns.iter().any(|p| a.may_match(p)),
        (Selection::AllExcept, Selection::AllExcept) => true,
    }
}

impl Policy {
    /// Classifies the document's admin grants (see the module docs).
    pub fn admin_access(&self) -> AdminAccess<'_> {
        let denies: Vec<&Statement> = self
            .statements()
            .iter()
            .filter(|s| s.effect == Effect::Deny && principal_covers(&s.principals, Caller::Holder))
            .collect();
        let mut out = AdminAccess::default();
        for s in self
            .statements()
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            let all_actions = s.actions.covers(EVERY_ACTION);
            let all_resources = every_resource(&s.resources);
            let mut scope = if all_actions && all_resources {
                AdminScope::Full
            } else if s.actions.selection == Selection::AllExcept
                && all_resources
                && s.actions.may_match(EVERY_ACTION)
            {
                AdminScope::AllActionsExcept(s.actions.patterns.clone())
            } else if all_actions && s.resources.selection == Selection::AllExcept {
                AdminScope::AllResourcesExcept(s.resources.patterns.clone())
            } else {
                continue;
            };
            let mut grant = AdminGrant {
                statement: s,
                scope: AdminScope::Full,
                conditions: s.conditions.iter().collect(),
                pinned_principals: Vec::new(),
                denied_by: Vec::new(),
            };
            let mut pinned: Vec<&str> = pins_of(&s.conditions, Effect::Allow).unwrap_or_default();
            let mut removed = false;
            let mut partial = Vec::new();
            for d in denies.iter().filter(|d| {
                overlaps(&d.actions, &s.actions) && overlaps(&d.resources, &s.resources)
            }) {
                grant.denied_by.push(d);
                match (deny_effect(d), d.conditions.is_empty()) {
                    (DenyEffect::All | DenyEffect::AllBut, true) => removed = true,
                    (DenyEffect::All | DenyEffect::AllBut, false) => {
                        grant.conditions.extend(d.conditions.iter());
                        if let Some(p) = pins_of(&d.conditions, Effect::Deny) {
                            pinned.extend(p);
                        }
                    }
                    (DenyEffect::Some, _) => partial.push(d.label()),
                }
            }
            if scope == AdminScope::Full && !partial.is_empty() {
                scope = AdminScope::AllButDenied(partial);
            }
            grant.scope = scope;
            pinned.sort_unstable();
            pinned.dedup();
            grant.pinned_principals = pinned.into_iter().map(str::to_owned).collect();
            if removed {
                out.denied.push(grant);
            } else if grant.scope == AdminScope::Full {
                out.full.push(grant);
            } else {
                out.near_full.push(grant);
            }
        }
        out
    }
}
