//! The core question: can a caller of some kind make a request of some shape, and which
//! statements decide it?
//!
//! A [`Request`] names a *set* of requests: the action and resource may be patterns
//! (`s3:*` is every S3 action, `arn:aws:s3:::phi/*` every object of `phi`), and the
//! caller a kind of principal. The answer is existential, as an attacker or auditor asks
//! it: is *some* request of that shape allowed? So an `Allow` counts when it overlaps
//! the request and its conditions can be met by the caller; a `Deny` takes a grant away
//! only when it certainly applies: it names every such caller, covers all of what the
//! grant gives within the request, and its conditions hold for every such caller.

use super::condition::{Caller, Condition, Holds};
use super::statement::{Effect, Matcher, Principals, Selection, Statement};

/// A set of requests: who asks, for what, on what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The kind of caller.
    pub caller: Caller<'a>,
    /// An action or action pattern (`s3:GetObject`, `s3:*`, `*`).
    pub action: &'a str,
    /// A resource ARN or pattern (`arn:aws:s3:::phi/*`, `*`).
    pub resource: &'a str,
}

impl<'a> Request<'a> {
    /// A request by `caller` for `action` on `resource`.
    pub fn new(caller: Caller<'a>, action: &'a str, resource: &'a str) -> Self {
        Self {
            caller,
            action,
            resource,
        }
    }
}

/// The outcome, IAM's three: allowed, explicitly denied, or not allowed at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Some `Allow` applies and no `Deny` takes it away.
    Allowed,
    /// An `Allow` applied, or the request was covered, but a `Deny` takes it all away.
    ExplicitlyDenied,
    /// No `Allow` applies (IAM's implicit deny).
    NotAllowed,
}

/// An `Allow` statement that applies to the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant<'p> {
    /// The statement.
    pub statement: &'p Statement,
    /// Its conditions, none of which excludes the caller: the grant depends on the
    /// request meeting them (for [`Caller::Anyone`], something the caller controls).
    pub conditions: Vec<&'p Condition>,
}

/// A grant a `Deny` takes away.
#[derive(Debug, Clone, PartialEq)]
pub struct Overridden<'p> {
    /// What the `Allow` would have granted.
    pub grant: Grant<'p>,
    /// The `Deny` statements that certainly apply to it.
    pub by: Vec<&'p Statement>,
}

/// An `Allow` statement that names the caller, action and resource, but whose conditions
/// exclude the caller (for [`Caller::Anyone`]: a fixed `aws:PrincipalOrgID`,
/// `aws:SourceVpce`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Limited<'p> {
    /// The statement.
    pub statement: &'p Statement,
    /// The conditions that exclude the caller.
    pub by: Vec<&'p Condition>,
}

/// What a policy says about a [`Request`], with the statements that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'p> {
    /// Allowed, explicitly denied or not allowed.
    pub verdict: Verdict,
    /// The grants that stand.
    pub grants: Vec<Grant<'p>>,
    /// The grants a `Deny` takes away.
    pub overridden: Vec<Overridden<'p>>,
    /// The `Allow` statements whose conditions exclude the caller.
    pub limited: Vec<Limited<'p>>,
    /// `Deny` statements that certainly apply to the whole request.
    pub denied_by: Vec<&'p Statement>,
}

impl Decision<'_> {
    /// Whether some request of the shape is allowed.
    pub fn is_allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }
}

/// Evaluates `request` against `statements` (see the module docs).
pub(super) fn decide<'p>(statements: &'p [Statement], request: &Request<'_>) -> Decision<'p> {
    let caller = request.caller;
    // Denies that certainly apply to every such caller and overlap the request.
    let denies: Vec<&Statement> = statements
        .iter()
        .filter(|s| {
            s.effect == Effect::Deny
                && principal_covers(&s.principals, caller)
                && s.actions.may_match(request.action)
                && s.resources.may_match(request.resource)
                && s.conditions
                    .iter()
                    .all(|c| c.holds_for(caller) == Holds::Always)
        })
        .collect();
    let denied_by: Vec<&Statement> = denies
        .iter()
        .copied()
        .filter(|d| d.actions.covers(request.action) && d.resources.covers(request.resource))
        .collect();

    let mut grants = Vec::new();
    let mut overridden = Vec::new();
    let mut limited = Vec::new();
    for s in statements.iter().filter(|s| {
        s.effect == Effect::Allow
            && principal_applies(&s.principals, caller)
            && s.actions.may_match(request.action)
            && s.resources.may_match(request.resource)
    }) {
        let excluding: Vec<&Condition> = s
            .conditions
            .iter()
            .filter(|c| c.holds_for(caller) == Holds::Never)
            .collect();
        if !excluding.is_empty() {
            limited.push(Limited {
                statement: s,
                by: excluding,
            });
            continue;
        }
        let grant = Grant {
            statement: s,
            conditions: s.conditions.iter().collect(),
        };
        let by: Vec<&Statement> = denies
            .iter()
            .copied()
            .filter(|d| {
                takes_away(&d.actions, &s.actions, request.action)
                    && takes_away(&d.resources, &s.resources, request.resource)
            })
            .collect();
        if by.is_empty() {
            grants.push(grant);
        } else {
            overridden.push(Overridden { grant, by });
        }
    }

    let verdict = if !grants.is_empty() {
        Verdict::Allowed
    } else if !overridden.is_empty() || !denied_by.is_empty() {
        Verdict::ExplicitlyDenied
    } else {
        Verdict::NotAllowed
    };
    Decision {
        verdict,
        grants,
        overridden,
        limited,
        denied_by,
    }
}

/// Whether the deny element `deny` covers what the allow element `allow` selects within
/// `requested`: all of `requested`, or every allowed pattern that overlaps it.
fn takes_away(deny: &Matcher, allow: &Matcher, requested: &str) -> bool {
    if deny.covers(requested) {
        return true;
    }
    allow.selection == Selection::Only
        && allow
            .patterns
            .iter()
            .filter(|p| super::glob::intersects(p, requested, allow.case))
            .all(|p| deny.covers(p))
}

/// Whether an `Allow`'s principals include some caller of this kind.
pub(super) fn principal_applies(principals: &Principals, caller: Caller<'_>) -> bool {
    match (principals, caller) {
        (Principals::Unspecified, Caller::Holder) => true,
        (Principals::Unspecified, _) => false,
        (Principals::Only { .. } | Principals::AllExcept { .. }, Caller::Holder) => true,
        (Principals::Only { ids, .. }, Caller::Anyone) => Principals::names_anyone(ids),
        (Principals::Only { ids, .. }, Caller::Account(account)) => {
            Principals::names_anyone(ids) || ids.iter().any(|p| p.account() == Some(account))
        }
        (Principals::AllExcept { ids, .. }, Caller::Anyone) => !Principals::names_anyone(ids),
        (Principals::AllExcept { ids, .. }, Caller::Account(account)) => {
            !Principals::names_anyone(ids)
                && !ids
                    .iter()
                    .any(|p| matches!(p, super::PrincipalId::Account(a) if a == account))
        }
    }
}

/// Whether a `Deny`'s principals include every caller of this kind. A `NotPrincipal`
/// deny covers an outsider unless it exempts everyone (the principals it exempts are
/// the owner's own, or named ones).
pub(super) fn principal_covers(principals: &Principals, caller: Caller<'_>) -> bool {
    match (principals, caller) {
        (Principals::Unspecified, Caller::Holder) => true,
        (Principals::Unspecified, _) => false,
        (Principals::Only { ids, .. }, Caller::Holder | Caller::Anyone) => {
            Principals::names_anyone(ids)
        }
        (Principals::Only { ids, .. }, Caller::Account(account)) => {
            Principals::names_anyone(ids)
                || ids
                    .iter()
                    .any(|p| matches!(p, super::PrincipalId::Account(a) if a == account))
        }
        (Principals::AllExcept { .. }, Caller::Holder) => false,
        (Principals::AllExcept { ids, .. }, Caller::Anyone) => !Principals::names_anyone(ids),
        (Principals::AllExcept { ids, .. }, Caller::Account(account)) => {
            !Principals::names_anyone(ids) && !ids.iter().any(|p| p.account() == Some(account))
        }
    }
}
