//! "Does this identity policy make its holder an administrator?"
//!
//! - **Full**: an `Allow` of every action (`*`, `*:*`) on every resource (`*`, `arn:*`),
//!   without conditions, that no `Deny` in the same document narrows.
//! - **Near-full** (treated as admin by the rules): an unconditional `Allow` with
//!   `NotAction` on every resource (`NotAction: iam:*` still grants every action of
//!   every other service, hundreds of them, including ones that lead back to IAM such as
//!   creating a role-holding instance), an `Allow` of every action with `NotResource`,
//!   or a full grant that a `Deny` narrows only partly.
//! - **Conditional**: either of the above, but only under a `Condition` (in the `Allow`,
//!   or in a `Deny` that otherwise refuses everything, such as an MFA-required pattern).
//!   The request context of an identity is unknown, so every condition is read as
//!   limiting, and the rules report these without failing.
//! - **Denied**: taken away, or narrowed to a named list of actions, by an unconditional
//!   `Deny` in the same document.
//!
//! Only the document is read: a permissions boundary, SCP or `Deny` in another policy
//! of the same identity is not seen.

use serde_json::{Value, json};

use super::Policy;
use super::condition::Condition;
use super::eval::principal_covers;
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
    pub conditions: Vec<&'p Condition>,
    /// `Deny` statements that take it away or narrow it.
    pub denied_by: Vec<&'p Statement>,
}

impl AdminGrant<'_> {
    /// `{"statement", "scope", "conditions"?, "denied_by"?}`.
    pub fn evidence(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("statement".into(), json!(self.statement.label()));
        map.insert("scope".into(), json!(self.scope.describe()));
        if !self.conditions.is_empty() {
            let c: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
            map.insert("conditions".into(), json!(c));
        }
        if !self.denied_by.is_empty() {
            let d: Vec<String> = self.denied_by.iter().map(|s| s.label()).collect();
            map.insert("denied_by".into(), json!(d));
        }
        Value::Object(map)
    }
}

/// The admin-scope statements of a document, by kind (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminAccess<'p> {
    /// Every action on every resource, unconditionally.
    pub full: Vec<AdminGrant<'p>>,
    /// Near-full scope, unconditionally.
    pub near_full: Vec<AdminGrant<'p>>,
    /// Full or near-full, only under conditions.
    pub conditional: Vec<AdminGrant<'p>>,
    /// Full or near-full, taken away or narrowed by a `Deny`.
    pub denied: Vec<AdminGrant<'p>>,
}

impl AdminAccess<'_> {
    /// Whether the document makes its holder an administrator, fully or nearly.
    pub fn is_admin(&self) -> bool {
        !self.full.is_empty() || !self.near_full.is_empty()
    }
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
                denied_by: Vec::new(),
            };
            let mut conditional = !s.conditions.is_empty();
            let mut removed = false;
            let mut partial = Vec::new();
            for d in denies.iter().filter(|d| {
                overlaps(&d.actions, &s.actions) && overlaps(&d.resources, &s.resources)
            }) {
                grant.denied_by.push(d);
                match (deny_effect(d), d.conditions.is_empty()) {
                    (DenyEffect::All | DenyEffect::AllBut, true) => removed = true,
                    (DenyEffect::All | DenyEffect::AllBut, false) => {
                        conditional = true;
                        grant.conditions.extend(d.conditions.iter());
                    }
                    (DenyEffect::Some, _) => partial.push(d.label()),
                }
            }
            if scope == AdminScope::Full && !partial.is_empty() {
                scope = AdminScope::AllButDenied(partial);
            }
            grant.scope = scope;
            if removed {
                out.denied.push(grant);
            } else if conditional {
                out.conditional.push(grant);
            } else if grant.scope == AdminScope::Full {
                out.full.push(grant);
            } else {
                out.near_full.push(grant);
            }
        }
        out
    }
}
