//! `iam_no_privilege_escalation`: no IAM user, role or group (other than administrators,
//! who have nothing to escalate to) is allowed a known privilege-escalation combination of
//! actions.
//!
//! Subject: the account. Each identity's effective identity policy is the union of its
//! inline policies, its attached managed policies and, for a user, its groups' inline and
//! attached policies ([`super::admin::Holdings`]), read together with [`crate::policy`] (an
//! explicit `Deny` in any of them wins). A group is checked as an identity of its own: its
//! grants are a standing path for whoever joins it. A combination counts when every one of its actions is allowed on some
//! resource matched by a wildcard ([`COMBOS`]). A grant whose `Resource` names exact ARNs
//! (passing one application role, versioning one policy) does not count: it is not a path to
//! every privilege, and the evidence of the other rules shows what that resource can do. Nor
//! does a grant on other users' credentials limited to `${aws:username}` (self-service).
//! A permissions boundary limits what counts: an action the identity's boundary does not
//! allow is not granted (a boundary policy that was not collected limits nothing, which
//! errs towards review, never towards a pass). Identities one of whose
//! policies makes them administrators, under conditions or not (conditions do not excuse
//! an administrator: see [`super::admin`]), are listed with the grants (`administrators`,
//! `administrator_grants`), not failed: they have nothing to escalate to, and the
//! administrator rules (`iam_no_admin_*`, `iam_user_no_admin_inline_policy`,
//! `iam_group_no_admin_inline_policy`) fail each of those grants where it is attached;
//! service-linked roles are skipped (AWS maintains them). A managed policy that was not
//! collected or a document that cannot be read makes the result `Error` unless another
//! identity already fails. The list follows Rhino Security Labs' catalogue of IAM
//! privilege-escalation methods.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use super::admin::{self, Attachment, Held, Holdings};
use crate::policy::glob;
use crate::policy::{Caller, Policy, Request, Selection};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoPrivilegeEscalation;

static META: RuleMeta = RuleMeta {
    id: "iam_no_privilege_escalation",
    title: "No IAM identity is allowed a known privilege-escalation path",
    severity: Severity::High,
    subject: ResourceKind::Account,
    rationale: "An identity that may rewrite or attach policies, mint credentials for other \
                users, or pass a more privileged role to compute it controls can grant itself \
                any permission, including access to every store of ePHI, so the access it was \
                authorized for is not the access it has (164.308(a)(4)(ii)(B) access \
                authorization, 164.312(a)(1) access control).",
    remediation: "Remove the listed actions from the identity's policies, or limit them: \
                  iam:PassRole to the specific roles the workload needs (with \
                  iam:PassedToService), policy-management and credential actions to an \
                  administrators' role, ideally behind a permissions boundary; then re-run \
                  the scan.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

/// A known privilege-escalation method: its name, and the actions it needs together.
pub(crate) const COMBOS: &[(&str, &[&str])] = &[
    (
        "create a new default version of a managed policy",
        &["iam:CreatePolicyVersion"],
    ),
    (
        "switch a managed policy to another version",
        &["iam:SetDefaultPolicyVersion"],
    ),
    (
        "attach a managed policy to a user",
        &["iam:AttachUserPolicy"],
    ),
    (
        "attach a managed policy to a group",
        &["iam:AttachGroupPolicy"],
    ),
    (
        "attach a managed policy to a role",
        &["iam:AttachRolePolicy"],
    ),
    ("write an inline policy on a user", &["iam:PutUserPolicy"]),
    ("write an inline policy on a group", &["iam:PutGroupPolicy"]),
    ("write an inline policy on a role", &["iam:PutRolePolicy"]),
    (
        "add a user to a more privileged group",
        &["iam:AddUserToGroup"],
    ),
    (
        "rewrite a role's trust policy and assume it",
        &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
    ),
    (
        "create access keys for another user",
        &["iam:CreateAccessKey"],
    ),
    (
        "create a console password for another user",
        &["iam:CreateLoginProfile"],
    ),
    (
        "change another user's console password",
        &["iam:UpdateLoginProfile"],
    ),
    (
        "pass a role to a new EC2 instance",
        &["iam:PassRole", "ec2:RunInstances"],
    ),
    (
        "pass a role to a new Lambda function and invoke it",
        &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ],
    ),
    (
        "pass a role to a new Lambda function triggered by an event source",
        &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:CreateEventSourceMapping",
        ],
    ),
    (
        "replace the code of an existing Lambda function",
        &["lambda:UpdateFunctionCode"],
    ),
    (
        "pass a role to a new CloudFormation stack",
        &["iam:PassRole", "cloudformation:CreateStack"],
    ),
    (
        "pass a role to a new Glue development endpoint",
        &["iam:PassRole", "glue:CreateDevEndpoint"],
    ),
    (
        "take over an existing Glue development endpoint",
        &["glue:UpdateDevEndpoint"],
    ),
    (
        "pass a role to a new Data Pipeline",
        &[
            "iam:PassRole",
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
        ],
    ),
    (
        "pass a role to a new SageMaker notebook and open it",
        &[
            "iam:PassRole",
            "sagemaker:CreateNotebookInstance",
            "sagemaker:CreatePresignedNotebookInstanceUrl",
        ],
    ),
];

/// Actions on other users' credentials: a grant only on `${aws:username}` is self-service.
const ON_OTHERS: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
];

/// The name a document's statements are labelled with: `inline:NAME` for the identity's
/// own inline policy, `group G:NAME` for a group's, the policy name for a managed one.
fn label(held: &Held<'_>, identity: &str, holdings: &Holdings<'_>) -> String {
    match held.attachment {
        Attachment::Inline(name) => match held.holder {
            Some(holder) if holder != identity => {
                let group = holder.rsplit('/').next().unwrap_or(holder);
                format!("group {group}:{name}")
            }
            _ => format!("inline:{name}"),
        },
        Attachment::Managed(arn) => holdings
            .managed(arn)
            .map_or_else(|_| arn.to_owned(), |(name, _)| name.to_owned()),
    }
}

/// One identity's policies, merged; or why they could not be.
enum Merged {
    Policy(Policy),
    Unknown(String),
}

/// The statements of `docs` as one document; each statement's `Sid` is prefixed with the
/// name of the policy it came from, so evidence says where a grant is.
fn merge(docs: &[(String, &Value)]) -> Merged {
    let mut statements = Vec::new();
    for (name, doc) in docs {
        let list = match doc.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(s @ Value::Object(_)) => vec![s.clone()],
            _ => return Merged::Unknown(format!("{name}: not a policy document")),
        };
        for (i, mut s) in list.into_iter().enumerate() {
            let sid = s
                .get("Sid")
                .and_then(Value::as_str)
                .filter(|x| !x.is_empty())
                .map_or_else(|| format!("Statement[{i}]"), str::to_owned);
            if let Value::Object(map) = &mut s {
                map.insert("Sid".into(), json!(format!("{name}/{sid}")));
            }
            statements.push(s);
        }
    }
    match Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})) {
        Ok(p) => Merged::Policy(p),
        Err(why) => Merged::Unknown(why.to_string()),
    }
}

/// The escalation methods `policy` allows (within `boundary`, when the identity has one),
/// as evidence.
fn escalations(policy: &Policy, boundary: Option<&Policy>) -> Vec<Value> {
    let mut out = Vec::new();
    for (method, actions) in COMBOS {
        let mut statements = Vec::new();
        let all = actions.iter().all(|action| {
            let request = Request::new(Caller::Holder, action, "*");
            if boundary.is_some_and(|b| !b.allows(&request).is_allowed()) {
                return false;
            }
            let d = policy.allows(&request);
            let counted: Vec<String> = d
                .grants
                .iter()
                .filter(|g| {
                    let only = g.statement.resources.selection == Selection::Only;
                    let patterns = &g.statement.resources.patterns;
                    // A grant on the caller's own user is self-service, not escalation.
                    let own_user = ON_OTHERS.contains(action)
                        && only
                        && patterns.iter().all(|p| p.contains("${aws:username}"));
                    // A grant naming exact resources (one role to pass, one policy to
                    // version) is not a path to every privilege: only wildcards are counted.
                    let exact = only && patterns.iter().all(|p| !glob::has_wildcard(p));
                    !own_user && !exact
                })
                .map(|g| g.statement.label())
                .collect();
            let allowed = !counted.is_empty();
            statements.extend(counted);
            allowed
        });
        if all {
            statements.sort();
            statements.dedup();
            out.push(json!({"method": method, "actions": actions, "statements": statements}));
        }
    }
    out
}

impl Rule for IamNoPrivilegeEscalation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Account(_) = &subject.body else {
            return Outcome::not_applicable("not an account");
        };
        let holdings = Holdings::of(ctx, &subject.account);
        let identities = holdings.identities();

        let mut escalating = Vec::new();
        let mut administrators = Vec::new();
        let mut administrator_grants = Vec::new();
        let mut unknown = Vec::new();
        for identity in &identities {
            let arn = identity.resource.arn.as_str();
            let mut problems = identity.problems.clone();
            let mut docs = Vec::new();
            for h in &identity.held {
                match h.document {
                    Ok(d) => docs.push((label(h, arn, &holdings), d)),
                    Err(ref why) => problems.push(why.clone()),
                }
            }
            let policy = match merge(&docs) {
                Merged::Policy(p) => p,
                Merged::Unknown(why) => {
                    unknown.push(json!({"identity": arn, "why": why}));
                    continue;
                }
            };
            let admin = admin::admin_report(identity.held.iter().cloned());
            if admin.is_admin() {
                administrators.push(arn.to_owned());
                administrator_grants.push(json!({"identity": arn, "grants": admin.grants}));
                continue;
            }
            // A boundary limits what the identity's policies grant; one that was not
            // collected limits nothing here (which errs towards review, never a pass).
            let boundary = identity.boundary.and_then(|arn| {
                let (name, doc) = holdings.managed(arn).ok()?;
                match merge(&[(format!("boundary {name}"), doc)]) {
                    Merged::Policy(p) => Some(p),
                    Merged::Unknown(_) => None,
                }
            });
            let found = escalations(&policy, boundary.as_ref());
            if !found.is_empty() {
                escalating.push(json!({"identity": arn, "escalations": found}));
            } else if !problems.is_empty() {
                unknown.push(json!({"identity": arn, "why": problems.join("; ")}));
            }
        }
        let outcome = if !escalating.is_empty() {
            Outcome::fail(format!(
                "{} identit{} can escalate privileges: {}",
                escalating.len(),
                if escalating.len() == 1 { "y" } else { "ies" },
                escalating
                    .iter()
                    .filter_map(|e| e["identity"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if !unknown.is_empty() {
            Outcome::error(format!(
                "the policies of {} identit{} could not all be read, so whether they can \
                 escalate privileges is unknown",
                unknown.len(),
                if unknown.len() == 1 { "y" } else { "ies" }
            ))
        } else {
            Outcome::pass(format!(
                "none of the {} non-administrator identities is allowed a known \
                 privilege-escalation method",
                identities.len() - administrators.len()
            ))
        };
        outcome
            .with("escalating_identities", escalating)
            .with("administrators", administrators)
            .with("administrator_grants", administrator_grants)
            .with("unreadable", unknown)
            .with("identities_checked", identities.len())
            .with("methods_checked", COMBOS.len())
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{IamGroup, InlinePolicy};
    use posture_model::{Region, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn account() -> Resource {
        crate::rules::s3::fixtures::not_a_bucket()
    }

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn role_with(name: &str, statements: Value) -> Resource {
        role_resource(role(name, &[("p", doc(statements))]))
    }

    #[test]
    fn pass_for_scoped_roles_and_administrators() {
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[
                    role_resource(role("reader", &[("p", narrow_document())])),
                    role_resource(role("admin", &[("p", admin_document())])),
                    role_with(
                        "break-glass",
                        json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]),
                    ),
                    // Self-service keys are not escalation.
                    role_with(
                        "self",
                        json!([{"Effect": "Allow", "Action": "iam:CreateAccessKey",
                            "Resource": "arn:aws:iam::*:user/${aws:username}"}]),
                    ),
                    // PassRole of one named role, with the service to pass it to, names its
                    // resource exactly: not a path to every privilege.
                    role_with(
                        "deployer",
                        json!([{"Effect": "Allow", "Action": "iam:PassRole",
                                "Resource": "arn:aws:iam::111122223333:role/app-runtime"},
                               {"Effect": "Allow", "Action": "ec2:RunInstances",
                                "Resource": "*"}]),
                    ),
                    // PassRole without a service to pass it to is not enough.
                    role_with(
                        "passer",
                        json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]),
                    ),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["administrators"],
            json!([
                "arn:aws:iam::111122223333:role/admin",
                "arn:aws:iam::111122223333:role/break-glass"
            ])
        );
        assert_eq!(o.evidence["identities_checked"], 6);
    }

    #[test]
    fn fail_for_pass_role_and_run_instances_across_policies() {
        let mut r = role("launcher", &[]);
        r.inline_policies = vec![
            InlinePolicy {
                name: "pass".into(),
                document: doc(json!([{"Sid": "Pass", "Effect": "Allow",
                    "Action": "iam:PassRole", "Resource": "*"}])),
            },
            InlinePolicy {
                name: "ec2".into(),
                document: doc(json!([{"Effect": "Allow", "Action": "ec2:*",
                    "Resource": "*"}])),
            },
        ];
        let o = expect(
            run(&IamNoPrivilegeEscalation, &account(), &[role_resource(r)]),
            Status::Fail,
        );
        let e = &o.evidence["escalating_identities"][0];
        assert_eq!(e["identity"], "arn:aws:iam::111122223333:role/launcher");
        assert_eq!(
            e["escalations"][0]["method"],
            "pass a role to a new EC2 instance"
        );
        assert_eq!(
            e["escalations"][0]["statements"],
            json!(["inline:ec2/Statement[0]", "inline:pass/Pass"])
        );
    }

    #[test]
    fn pass_when_a_permissions_boundary_removes_the_method() {
        let escalating = json!([{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"],
                                 "Resource": "*"}]);
        let mut r = role("bounded", &[("p", doc(escalating.clone()))]);
        r.permissions_boundary = Some("arn:aws:iam::111122223333:policy/s3-only".into());
        let boundary = policy_resource(policy(
            "s3-only",
            doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])),
        ));
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[role_resource(r.clone()), boundary],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["escalating_identities"], json!([]));
        // A boundary that was not collected limits nothing: the method still counts.
        let o = expect(
            run(&IamNoPrivilegeEscalation, &account(), &[role_resource(r)]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["escalating_identities"][0]["identity"],
            "arn:aws:iam::111122223333:role/bounded"
        );
    }

    #[test]
    fn fail_for_a_user_through_its_group_and_a_managed_policy() {
        let mut u = user("dev");
        u.groups = vec!["devs".into()];
        let group = resource(
            "arn:aws:iam::111122223333:group/devs",
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: "devs".into(),
                attached_policies: vec!["arn:aws:iam::111122223333:policy/PolicyAdmin".into()],
                inline_policies: vec![],
            }),
        );
        let managed = policy_resource(policy(
            "PolicyAdmin",
            doc(
                json!([{"Effect": "Allow", "Action": "iam:CreatePolicyVersion",
                "Resource": "*"}]),
            ),
        ));
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[user_resource(u), group, managed],
            ),
            Status::Fail,
        );
        // The group itself and its member both hold the path; the member's statement
        // is labelled by the managed policy it came through.
        let identities: Vec<&str> = o.evidence["escalating_identities"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["identity"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            identities,
            [
                "arn:aws:iam::111122223333:group/devs",
                "arn:aws:iam::111122223333:user/dev"
            ]
        );
        assert_eq!(
            o.evidence["escalating_identities"][1]["escalations"][0]["statements"],
            json!(["PolicyAdmin/Statement[0]"])
        );
    }

    /// Issue 12: administrators hidden behind conditions or a group are listed as
    /// administrators (the administrator rules fail them), with the grant that makes
    /// them so: the group and managed policy it came through, and its conditions.
    #[test]
    fn pass_lists_administrators_with_the_grants_that_make_them_so() {
        let mut bob = user("bob");
        bob.groups = vec!["devs".into()];
        let devs = resource(
            "arn:aws:iam::111122223333:group/devs",
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: "devs".into(),
                attached_policies: vec!["arn:aws:iam::111122223333:policy/OfficeAdmin".into()],
                inline_policies: vec![],
            }),
        );
        let office_admin = policy_resource(policy(
            "OfficeAdmin",
            doc(
                json!([{"Sid": "Office", "Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]),
            ),
        ));
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[user_resource(bob), devs, office_admin],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["administrators"],
            json!([
                "arn:aws:iam::111122223333:group/devs",
                "arn:aws:iam::111122223333:user/bob"
            ])
        );
        assert_eq!(
            o.evidence["administrator_grants"][1],
            json!({"identity": "arn:aws:iam::111122223333:user/bob", "grants": [{
                "principal": "arn:aws:iam::111122223333:group/devs",
                "policy": "arn:aws:iam::111122223333:policy/OfficeAdmin",
                "attachment": "managed", "statement": "Office",
                "scope": "every action on every resource",
                "conditions": ["IpAddress aws:SourceIp 203.0.113.0/24"]}]})
        );
        assert_eq!(o.evidence["identities_checked"], 2);
    }

    /// Every principal kind: a group's own grants are a standing escalation path for
    /// whoever is added to it, so the group is checked as an identity.
    #[test]
    fn fail_for_a_group_with_an_escalation_path() {
        let ops = resource(
            "arn:aws:iam::111122223333:group/ops",
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: "ops".into(),
                attached_policies: vec![],
                inline_policies: vec![InlinePolicy {
                    name: "edit".into(),
                    document: doc(json!([{"Sid": "Put", "Effect": "Allow",
                        "Action": "iam:PutRolePolicy", "Resource": "*"}])),
                }],
            }),
        );
        let o = expect(
            run(&IamNoPrivilegeEscalation, &account(), &[ops]),
            Status::Fail,
        );
        let e = &o.evidence["escalating_identities"][0];
        assert_eq!(e["identity"], "arn:aws:iam::111122223333:group/ops");
        assert_eq!(
            e["escalations"][0]["method"],
            "write an inline policy on a role"
        );
        assert_eq!(
            e["escalations"][0]["statements"],
            json!(["inline:edit/Put"])
        );
    }

    #[test]
    fn pass_for_identities_without_policies() {
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[
                    role_resource(role("bare", &[])),
                    user_resource(user("nobody")),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["identities_checked"], 2);
        assert_eq!(o.evidence["unreadable"], json!([]));
    }

    #[test]
    fn explicit_deny_wins() {
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[role_with(
                    "guarded",
                    json!([
                        {"Effect": "Allow", "Action": "iam:Put*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}
                    ]),
                )],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["escalating_identities"], json!([]));
        assert_eq!(o.evidence["administrators"], json!([]));
        assert_eq!(o.evidence["identities_checked"], 1);
        assert!(
            o.reason
                .contains("none of the 1 non-administrator identities"),
            "{}",
            o.reason
        );
        // Without the Deny, the same Allow escalates (iam:PutRolePolicy on itself).
        let o = expect(
            run(
                &IamNoPrivilegeEscalation,
                &account(),
                &[role_with(
                    "guarded",
                    json!([{"Effect": "Allow", "Action": "iam:Put*", "Resource": "*"}]),
                )],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["escalating_identities"][0]["identity"],
            "arn:aws:iam::111122223333:role/guarded"
        );
    }

    #[test]
    fn error_when_a_managed_policy_is_missing() {
        let mut r = role("app", &[]);
        r.attached_policies = vec!["arn:aws:iam::111122223333:policy/Gone".into()];
        let o = expect(
            run(&IamNoPrivilegeEscalation, &account(), &[role_resource(r)]),
            Status::Error,
        );
        assert!(
            o.evidence["unreadable"][0]["why"]
                .as_str()
                .is_some_and(|w| w.contains("Gone")),
            "{:?}",
            o.evidence
        );
    }
}
