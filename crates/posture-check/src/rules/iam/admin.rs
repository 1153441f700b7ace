//! Administrator grants wherever an identity policy is attached: one path for every
//! principal kind (role, user, group) and every attachment (inline, managed, and a user's
//! groups' policies), shared by `iam_no_admin_inline_policy` (roles),
//! `iam_user_no_admin_inline_policy`, `iam_group_no_admin_inline_policy`,
//! `iam_no_admin_managed_policy` and `iam_no_privilege_escalation`.
//!
//! Each administrator grant is failed once, on the resource that holds its document: an
//! inline policy on its role, user or group; a managed policy on itself, with the
//! principals it is attached to (and the users who hold it through a group) in the
//! evidence. So the finding names the one place to fix, and a waiver for a break-glass
//! identity covers exactly that grant. `iam_no_privilege_escalation` reads each identity's
//! documents together and lists its administrators with the same grant evidence.
//!
//! Whether a grant is an administrator grant, and what its conditions mean, is decided in
//! one place: [`crate::policy::Policy::admin_access`] and
//! [`crate::policy::classify_condition`]. Conditions never excuse a grant; a condition
//! pinning it to named principals is quoted as `pinned_principals`.
//!
//! All of it is `GetAccountAuthorizationDetails` data: the rules declare that call only.

use std::collections::BTreeMap;

use posture_model::resources::{IamGroup, IamPolicy, InlinePolicy};
use posture_model::{AccountId, Observed, Region, Resource, ResourceBody, ResourceKind};
use serde_json::{Value, json};

use crate::policy::Policy;
use crate::{Ctx, Outcome};

/// How a document is attached to its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attachment<'a> {
    /// An inline policy, by name.
    Inline(&'a str),
    /// A managed policy, by ARN.
    Managed(&'a str),
}

/// One identity-policy document and where it is attached.
#[derive(Debug, Clone)]
pub(crate) struct Held<'a> {
    /// The principal (role, user or group ARN) it is attached to; `None` for a managed
    /// policy read on its own.
    pub(crate) holder: Option<&'a str>,
    /// Inline (name) or managed (ARN).
    pub(crate) attachment: Attachment<'a>,
    /// The document, or why it is unknown.
    pub(crate) document: Result<&'a Value, String>,
}

impl<'a> Held<'a> {
    /// The inline policies of `holder`.
    pub(crate) fn inline(holder: &'a str, policies: &'a [InlinePolicy]) -> Vec<Self> {
        policies
            .iter()
            .map(|p| Held {
                holder: Some(holder),
                attachment: Attachment::Inline(&p.name),
                document: Ok(&p.document),
            })
            .collect()
    }

    /// "inline policy NAME" / "managed policy ARN", for reasons.
    fn describe(&self) -> String {
        match self.attachment {
            Attachment::Inline(name) => format!("inline policy {name}"),
            Attachment::Managed(arn) => format!("managed policy {arn}"),
        }
    }

    /// `{"principal"?, "policy", "attachment"}`: the start of each grant's evidence.
    fn evidence(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        if let Some(holder) = self.holder {
            map.insert("principal".into(), json!(holder));
        }
        let (policy, kind) = match self.attachment {
            Attachment::Inline(name) => (name, "inline"),
            Attachment::Managed(arn) => (arn, "managed"),
        };
        map.insert("policy".into(), json!(policy));
        map.insert("attachment".into(), json!(kind));
        map
    }
}

/// The administrator grants of some documents, as evidence and reason clauses.
#[derive(Debug, Default)]
pub(crate) struct AdminReport {
    /// One object per grant: principal, policy, attachment, statement, scope, conditions,
    /// pinned principals, partial denies.
    pub(crate) grants: Vec<Value>,
    /// One clause per grant, for the reason.
    clauses: Vec<String>,
    /// Grants an unconditional `Deny` in the same document takes away.
    pub(crate) denied: Vec<Value>,
    /// Documents that could not be read: "POLICY: why".
    pub(crate) unreadable: Vec<String>,
}

/// Reads every document in `held` for administrator grants.
pub(crate) fn admin_report<'a>(held: impl IntoIterator<Item = Held<'a>>) -> AdminReport {
    let mut report = AdminReport::default();
    for h in held {
        let parsed = h
            .document
            .clone()
            .and_then(|d| Policy::parse(d).map_err(|e| e.to_string()));
        let policy = match parsed {
            Ok(p) => p,
            Err(why) => {
                report.unreadable.push(format!("{}: {why}", h.describe()));
                continue;
            }
        };
        let access = policy.admin_access();
        let with_source = |grant: Value| {
            let mut map = h.evidence();
            if let Value::Object(g) = grant {
                map.extend(g);
            }
            Value::Object(map)
        };
        for g in access.grants() {
            report.grants.push(with_source(g.evidence()));
            report
                .clauses
                .push(format!("{} {}", h.describe(), g.describe()));
        }
        report
            .denied
            .extend(access.denied.iter().map(|g| with_source(g.evidence())));
    }
    report
}

impl AdminReport {
    /// Whether any document grants administrator access.
    pub(crate) fn is_admin(&self) -> bool {
        !self.grants.is_empty()
    }

    /// `Fail` with `lead` and every grant when there is one; else `Error` when a document
    /// could not be read; else `Pass` with `pass`. Evidence: `admin_grants`,
    /// `denied_admin_grants` (when any), `unreadable_policies`.
    pub(crate) fn outcome(self, lead: &str, pass: &str) -> Outcome {
        let outcome = if self.is_admin() {
            Outcome::fail(format!("{lead}: {}", self.clauses.join("; ")))
        } else if !self.unreadable.is_empty() {
            Outcome::error(format!(
                "a policy document cannot be read: {}",
                self.unreadable.join("; ")
            ))
        } else if !self.denied.is_empty() {
            Outcome::pass(format!(
                "{pass}; every action on every resource is allowed, but a Deny in the same \
                 document takes it away or narrows it to a few actions (see \
                 denied_admin_grants)"
            ))
        } else {
            Outcome::pass(pass)
        };
        let mut outcome = outcome.with("admin_grants", self.grants);
        if !self.denied.is_empty() {
            outcome = outcome.with("denied_admin_grants", self.denied);
        }
        outcome.with("unreadable_policies", self.unreadable)
    }
}

/// The outcome of an inline-policy administrator rule for `subject` (a role, user or
/// group) and its inline policies; `noun` is "role", "user" or "group".
pub(crate) fn inline_outcome(subject: &Resource, inline: &[InlinePolicy], noun: &str) -> Outcome {
    let arn = subject.arn.as_str();
    let names: Vec<&str> = inline.iter().map(|p| p.name.as_str()).collect();
    let pass = if names.is_empty() {
        format!("the {noun} has no inline policies")
    } else {
        "no inline policy allows every action on every resource".to_owned()
    };
    admin_report(Held::inline(arn, inline))
        .outcome(
            &format!("the {noun} is an administrator through its inline policies"),
            &pass,
        )
        .with("principal", arn)
        .with("inline_policies", names)
}

/// An account's roles (except service-linked ones), users and groups, each with every
/// document it holds.
#[derive(Debug)]
pub(crate) struct Identity<'a> {
    /// The role, user or group.
    pub(crate) resource: &'a Resource,
    /// Its documents: own inline and managed, and for a user its groups' (with the group
    /// as holder).
    pub(crate) held: Vec<Held<'a>>,
    /// Why some could not be found (a group that was not collected).
    pub(crate) problems: Vec<String>,
    /// Its permissions boundary's ARN.
    pub(crate) boundary: Option<&'a str>,
}

/// Looks up an account's managed policies and groups once (an account can have
/// thousands), then every identity's documents.
#[derive(Debug)]
pub(crate) struct Holdings<'a> {
    policies: BTreeMap<&'a str, &'a IamPolicy>,
    groups: BTreeMap<&'a str, (&'a Resource, &'a IamGroup)>,
    roles: Vec<&'a Resource>,
    users: Vec<&'a Resource>,
}

impl<'a> Holdings<'a> {
    /// The IAM data of `account`.
    pub(crate) fn of(ctx: &'a Ctx<'_>, account: &AccountId) -> Self {
        let global = Region::global();
        let policies = ctx
            .resources(ResourceKind::IamPolicy, account, &global)
            .filter_map(|r| match &r.body {
                ResourceBody::IamPolicy(p) => Some((r.arn.as_str(), p)),
                _ => None,
            })
            .collect();
        let groups = ctx
            .resources(ResourceKind::IamGroup, account, &global)
            .filter_map(|r| match &r.body {
                ResourceBody::IamGroup(g) => Some((g.name.as_str(), (r, g))),
                _ => None,
            })
            .collect();
        Self {
            policies,
            groups,
            roles: ctx
                .resources(ResourceKind::IamRole, account, &global)
                .collect(),
            users: ctx
                .resources(ResourceKind::IamUser, account, &global)
                .collect(),
        }
    }

    /// A managed policy's name and document, or why it is unknown.
    pub(crate) fn managed(&self, arn: &str) -> Result<(&'a str, &'a Value), String> {
        match self.policies.get(arn) {
            Some(p) => match &p.document {
                Observed::Collected(d) => Ok((p.name.as_str(), d)),
                _ => Err(format!(
                    "the document of managed policy {arn} was not collected"
                )),
            },
            None => Err(format!("managed policy {arn} was not collected")),
        }
    }

    fn held_managed(&self, holder: &'a str, arns: &'a [String]) -> Vec<Held<'a>> {
        arns.iter()
            .map(|arn| Held {
                holder: Some(holder),
                attachment: Attachment::Managed(arn),
                document: self.managed(arn).map(|(_, d)| d),
            })
            .collect()
    }

    /// Every role (except service-linked ones: AWS maintains their policies), user and
    /// group, sorted by ARN, with every document it holds.
    pub(crate) fn identities(&self) -> Vec<Identity<'a>> {
        let mut out = Vec::new();
        for r in &self.roles {
            let ResourceBody::IamRole(role) = &r.body else {
                continue;
            };
            if role.path.starts_with("/aws-service-role/") {
                continue;
            }
            let arn = r.arn.as_str();
            let mut held = Held::inline(arn, &role.inline_policies);
            held.extend(self.held_managed(arn, &role.attached_policies));
            out.push(Identity {
                resource: r,
                held,
                problems: Vec::new(),
                boundary: role.permissions_boundary.as_deref(),
            });
        }
        for r in &self.users {
            let ResourceBody::IamUser(user) = &r.body else {
                continue;
            };
            let arn = r.arn.as_str();
            let mut held = Held::inline(arn, &user.inline_policies);
            held.extend(self.held_managed(arn, &user.attached_policies));
            let mut problems = Vec::new();
            for name in &user.groups {
                match self.groups.get(name.as_str()) {
                    Some((g, group)) => {
                        held.extend(Held::inline(g.arn.as_str(), &group.inline_policies));
                        held.extend(self.held_managed(g.arn.as_str(), &group.attached_policies));
                    }
                    None => problems.push(format!("group {name} was not collected")),
                }
            }
            out.push(Identity {
                resource: r,
                held,
                problems,
                boundary: user.permissions_boundary.as_deref(),
            });
        }
        for (g, group) in self.groups.values() {
            let arn = g.arn.as_str();
            let mut held = Held::inline(arn, &group.inline_policies);
            held.extend(self.held_managed(arn, &group.attached_policies));
            out.push(Identity {
                resource: g,
                held,
                problems: Vec::new(),
                boundary: None,
            });
        }
        out.sort_by(|a, b| a.resource.arn.cmp(&b.resource.arn));
        out
    }

    /// The roles, users and groups a managed policy is attached to (ARNs, sorted), and
    /// the users who hold it through one of those groups (ARNs, sorted).
    pub(crate) fn holders_of(&self, policy_arn: &str) -> (Vec<&'a str>, Vec<&'a str>) {
        let attached = |list: &[String]| list.iter().any(|a| a == policy_arn);
        let mut direct = Vec::new();
        for r in self.roles.iter().chain(&self.users) {
            let list = match &r.body {
                ResourceBody::IamRole(role) => &role.attached_policies,
                ResourceBody::IamUser(user) => &user.attached_policies,
                _ => continue,
            };
            if attached(list) {
                direct.push(r.arn.as_str());
            }
        }
        let groups: Vec<&str> = self
            .groups
            .iter()
            .filter(|(_, (_, g))| attached(&g.attached_policies))
            .map(|(name, (r, _))| {
                direct.push(r.arn.as_str());
                *name
            })
            .collect();
        let mut via_groups: Vec<&str> = self
            .users
            .iter()
            .filter(|r| match &r.body {
                ResourceBody::IamUser(u) => u.groups.iter().any(|g| groups.contains(&g.as_str())),
                _ => false,
            })
            .map(|r| r.arn.as_str())
            .collect();
        direct.sort_unstable();
        via_groups.sort_unstable();
        (direct, via_groups)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{IamGroup, InlinePolicy};
    use posture_model::{Coverage, Region, ResourceBody, Severity, Status};
    use serde_json::json;

    use crate::Baseline;
    use crate::rules::iam::fixtures::*;
    use crate::testing::{evaluate, now, resource};

    /// Issue 12: administrators hidden in the usual places (full access behind a condition
    /// anyone can meet, inline on a group, inline on a user, managed on a user's group)
    /// must each fail an administrator rule at high severity or above, under the shipped
    /// baseline.
    #[test]
    fn issue_12_hidden_administrators_fail_an_administrator_rule() {
        let mfa_admin = json!({"Statement": [{"Sid": "BreakGlass", "Effect": "Allow",
            "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let ip_admin = json!({"Statement": [{"Sid": "Office", "Effect": "Allow",
            "Action": "*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]});
        let mut alice = user("alice");
        alice.inline_policies = vec![InlinePolicy {
            name: "direct-admin".into(),
            document: admin_document(),
        }];
        let mut bob = user("bob");
        bob.groups = vec!["devs".into()];
        let ops = resource(
            "arn:aws:iam::111122223333:group/ops",
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: "ops".into(),
                attached_policies: vec![],
                inline_policies: vec![InlinePolicy {
                    name: "ops-admin".into(),
                    document: admin_document(),
                }],
            }),
        );
        let devs = resource(
            "arn:aws:iam::111122223333:group/devs",
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: "devs".into(),
                attached_policies: vec!["arn:aws:iam::111122223333:policy/OfficeAdmin".into()],
                inline_policies: vec![],
            }),
        );
        let resources = vec![
            crate::rules::s3::fixtures::not_a_bucket(),
            role_resource(role("mfa-admin", &[("break-glass", mfa_admin)])),
            user_resource(alice),
            user_resource(bob),
            ops,
            devs,
            policy_resource(policy("OfficeAdmin", ip_admin)),
        ];
        let baseline = Baseline::hipaa().expect("shipped baseline");
        let findings = evaluate(&resources, &Coverage::default(), &baseline, now());
        for arn in [
            "arn:aws:iam::111122223333:role/mfa-admin",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:group/ops",
            "arn:aws:iam::111122223333:policy/OfficeAdmin",
        ] {
            let failed: Vec<&str> = findings
                .iter()
                .filter(|f| {
                    f.resource.arn.as_str() == arn
                        && f.status == Status::Fail
                        && f.severity >= Severity::High
                        && f.rule_id.as_str().contains("admin")
                })
                .map(|f| f.rule_id.as_str())
                .collect();
            assert!(!failed.is_empty(), "{arn} fails no administrator rule");
        }
        // The privilege-escalation rule counts every one of them, bob through his group's
        // managed policy, as an administrator (whom it does not judge for escalation).
        let escalation = findings
            .iter()
            .find(|f| f.rule_id.as_str() == "iam_no_privilege_escalation")
            .expect("an account finding");
        for arn in [
            "arn:aws:iam::111122223333:role/mfa-admin",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::111122223333:group/ops",
            "arn:aws:iam::111122223333:group/devs",
        ] {
            assert!(
                escalation.evidence["administrators"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == arn)),
                "{arn} is not among the administrators: {:?}",
                escalation.evidence
            );
        }
    }
}
