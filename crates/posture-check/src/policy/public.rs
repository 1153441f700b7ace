//! "Is this resource policy public, and for which actions?": the [`Caller::Anyone`]
//! question, asked for a list of target actions and aggregated per statement so a
//! finding can say which statement exposes what, and which were limited or denied.

use serde_json::{Value, json};

use super::Policy;
use super::condition::{Caller, Condition};
use super::eval::Request;
use super::statement::Statement;

/// One action (or pattern) on one resource (or pattern) to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The action, as findings will name it (`s3:GetObject`).
    pub action: &'a str,
    /// The resource it applies to (`arn:aws:s3:::phi/*` for object actions).
    pub resource: &'a str,
}

impl<'a> Target<'a> {
    /// `action` on `resource`.
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        Self { action, resource }
    }
}

/// What a policy exposes to anyone, statement by statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposure<'p, 'a> {
    /// `Allow` statements that grant targets to anyone.
    pub public: Vec<Exposed<'p, 'a>>,
    /// `Allow` statements to anyone whose conditions restrict who can call.
    pub limited: Vec<Restricted<'p, 'a>>,
    /// `Allow` statements to anyone that a `Deny` takes away.
    pub denied: Vec<Denied<'p, 'a>>,
}

/// A statement granting targets to anyone.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposed<'p, 'a> {
    /// The `Allow` statement.
    pub statement: &'p Statement,
    /// The targets it grants, in target order.
    pub actions: Vec<&'a str>,
    /// Its conditions: none restricts who can call (`aws:SecureTransport`, ...).
    pub conditions: Vec<&'p Condition>,
}

/// A statement to anyone limited by conditions on who can call.
#[derive(Debug, Clone, PartialEq)]
pub struct Restricted<'p, 'a> {
    /// The `Allow` statement.
    pub statement: &'p Statement,
    /// The targets it would grant.
    pub actions: Vec<&'a str>,
    /// The conditions that restrict the caller.
    pub by: Vec<&'p Condition>,
}

/// A statement to anyone cancelled by a `Deny`.
#[derive(Debug, Clone, PartialEq)]
pub struct Denied<'p, 'a> {
    /// The `Allow` statement.
    pub statement: &'p Statement,
    /// The targets it would grant.
    pub actions: Vec<&'a str>,
    /// The `Deny` statements.
    pub by: Vec<&'p Statement>,
}

impl Exposure<'_, '_> {
    /// Whether anything is granted to anyone.
    pub fn is_public(&self) -> bool {
        !self.public.is_empty()
    }

    /// The exposed targets, each once, in target order of first appearance.
    pub fn actions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in self.public.iter().flat_map(|e| e.actions.iter().copied()) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

impl Exposed<'_, '_> {
    /// `{"statement", "principal" | "not_principal", "covers", "conditions"?}`; the
    /// conditions appear when there are any, to show they do not restrict the caller.
    pub fn evidence(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("statement".into(), json!(self.statement.label()));
        map.extend(self.statement.principal_evidence());
        map.insert("covers".into(), json!(self.actions));
        if !self.conditions.is_empty() {
            let conditions: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
            map.insert("conditions_not_limiting".into(), json!(conditions));
        }
        Value::Object(map)
    }
}

impl Restricted<'_, '_> {
    /// `{"statement", "covers", "limited_by"}`.
    pub fn evidence(&self) -> Value {
        let by: Vec<String> = self.by.iter().map(ToString::to_string).collect();
        json!({
            "statement": self.statement.label(),
            "covers": self.actions,
            "limited_by": by,
        })
    }
}

impl Denied<'_, '_> {
    /// `{"statement", "covers", "denied_by"}`.
    pub fn evidence(&self) -> Value {
        let by: Vec<String> = self.by.iter().map(|s| s.label()).collect();
        json!({
            "statement": self.statement.label(),
            "covers": self.actions,
            "denied_by": by,
        })
    }
}

impl Policy {
    /// Which `targets` the policy grants to anyone (see [`Caller::Anyone`]), statement by
    /// statement, with the statements that were limited by conditions or denied.
    pub fn public_access<'p, 'a>(&'p self, targets: &[Target<'a>]) -> Exposure<'p, 'a> {
        let mut exposure = Exposure::default();
        for target in targets {
            let d = self.allows(&Request::new(
                Caller::Anyone,
                target.action,
                target.resource,
            ));
            for g in d.grants {
                match exposure
                    .public
                    .iter_mut()
                    .find(|e| e.statement.index == g.statement.index)
                {
                    Some(e) => e.actions.push(target.action),
                    None => exposure.public.push(Exposed {
                        statement: g.statement,
                        actions: vec![target.action],
                        conditions: g.conditions,
                    }),
                }
            }
            for l in d.limited {
                match exposure
                    .limited
                    .iter_mut()
                    .find(|e| e.statement.index == l.statement.index)
                {
                    Some(e) => e.actions.push(target.action),
                    None => exposure.limited.push(Restricted {
                        statement: l.statement,
                        actions: vec![target.action],
                        by: l.by,
                    }),
                }
            }
            for o in d.overridden {
                match exposure
                    .denied
                    .iter_mut()
                    .find(|e| e.statement.index == o.grant.statement.index)
                {
                    Some(e) => {
                        e.actions.push(target.action);
                        for s in o.by {
                            if !e.by.iter().any(|b| b.index == s.index) {
                                e.by.push(s);
                            }
                        }
                    }
                    None => exposure.denied.push(Denied {
                        statement: o.grant.statement,
                        actions: vec![target.action],
                        by: o.by,
                    }),
                }
            }
        }
        exposure.public.sort_by_key(|e| e.statement.index);
        exposure.limited.sort_by_key(|e| e.statement.index);
        exposure.denied.sort_by_key(|e| e.statement.index);
        exposure
    }

    /// Whether the policy grants anything at all to anyone.
    pub fn is_public(&self) -> bool {
        self.public_access(&[Target::new("*", "*")]).is_public()
    }
}
