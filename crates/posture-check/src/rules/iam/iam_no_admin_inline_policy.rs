//! `iam_no_admin_inline_policy`: no IAM role has an inline policy that allows every
//! action on every resource. (Roles only: a rule has one subject kind; user and group
//! inline policies are left to a later rule.)

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::policy::Policy;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoAdminInlinePolicy;

static META: RuleMeta = RuleMeta {
    id: "iam_no_admin_inline_policy",
    title: "IAM role has no inline policy granting full administrator access (*:* on *)",
    severity: Severity::High,
    subject: ResourceKind::IamRole,
    rationale: "An inline policy allowing every action on every resource gives the role, and every \
                workload or person able to assume it, access to all ePHI in the account and the \
                power to disable the controls that protect it; inline policies are easy to miss \
                in reviews because they are not listed as managed policies. Access must be \
                authorised on least privilege (164.308(a)(4)(ii)(B), 164.312(a)(1)). An Allow \
                with NotAction or NotResource on every resource is treated the same. This rule \
                covers roles, where workload admin grants most often hide; user and group inline \
                policies are covered by a later rule.",
    remediation: "Replace the role's inline Allow \"*\" on \"*\" statement with the specific \
                  actions and resources the workload needs (IAM Access Analyzer can generate a \
                  policy from CloudTrail activity), or delete the inline policy \
                  (DeleteRolePolicy).",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamNoAdminInlinePolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamRole(role) = &subject.body else {
            return Outcome::not_applicable("not an IAM role");
        };
        if role.path.starts_with("/aws-service-role/") {
            return Outcome::not_applicable(
                "service-linked role: its policies are defined and maintained by AWS",
            )
            .with("path", &role.path);
        }
        let mut admin = Vec::new();
        let mut near_admin = Vec::new();
        let mut conditional = Vec::new();
        let mut unreadable = Vec::new();
        for policy in &role.inline_policies {
            let parsed = match Policy::parse(&policy.document) {
                Ok(p) => p,
                Err(why) => {
                    unreadable.push(format!("{}: {why}", policy.name));
                    continue;
                }
            };
            let access = parsed.admin_access();
            if !access.full.is_empty() {
                admin.push(policy.name.as_str());
            }
            for g in &access.near_full {
                near_admin.push((
                    policy.name.as_str(),
                    g.statement.label(),
                    g.scope.describe(),
                ));
            }
            if !access.is_admin() && !access.conditional.is_empty() {
                conditional.push(policy.name.as_str());
            }
        }
        let names: Vec<&str> = role
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let outcome = if !admin.is_empty() || !near_admin.is_empty() {
            let mut parts = Vec::new();
            if !admin.is_empty() {
                parts.push(format!(
                    "inline policy {} allows every action on every resource",
                    admin.join(", ")
                ));
            }
            for (name, statement, scope) in &near_admin {
                parts.push(format!(
                    "inline policy {name} allows {scope} in {statement}, which is treated as \
                     administrator access"
                ));
            }
            Outcome::fail(parts.join("; "))
        } else if !unreadable.is_empty() {
            Outcome::error(format!(
                "inline policy document cannot be read: {}",
                unreadable.join("; ")
            ))
        } else if names.is_empty() {
            Outcome::pass("the role has no inline policies")
        } else if !conditional.is_empty() {
            Outcome::pass(format!(
                "every action on every resource is allowed only under a Condition, in inline \
                 policy {}, which is treated as limiting",
                conditional.join(", ")
            ))
        } else {
            Outcome::pass("no inline policy allows every action on every resource")
        };
        outcome
            .with("inline_policies", names)
            .with("admin_inline_policies", admin)
            .with(
                "near_admin_inline_policies",
                near_admin
                    .iter()
                    .map(|(name, statement, scope)| {
                        json!({"policy": name, "statement": statement, "scope": scope})
                    })
                    .collect::<Vec<_>>(),
            )
            .with("conditional_admin_inline_policies", conditional)
            .with("unreadable_inline_policies", unreadable)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_narrow_inline_policies() {
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[("read-phi", narrow_document())])),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["inline_policies"], json!(["read-phi"]));
        assert_eq!(o.evidence["admin_inline_policies"], json!([]));
    }

    #[test]
    fn pass_without_inline_policies() {
        expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[])),
                &[],
            ),
            Status::Pass,
        );
    }

    #[test]
    fn fail_with_admin_inline_policy() {
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role(
                    "app",
                    &[("read-phi", narrow_document()), ("god", admin_document())],
                )),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("god"), "{}", o.reason);
        assert_eq!(o.evidence["admin_inline_policies"], json!(["god"]));
    }

    #[test]
    fn not_action_allow_is_treated_as_broad() {
        let doc = json!({"Statement": [{"Sid": "AllButIam", "Effect": "Allow",
            "NotAction": "iam:*", "Resource": "*"}]});
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[("broad", doc)])),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("NotAction"), "{}", o.reason);
        assert_eq!(o.evidence["admin_inline_policies"], json!([]));
        assert_eq!(
            o.evidence["near_admin_inline_policies"],
            json!([{"policy": "broad", "statement": "AllButIam",
                    "scope": "every action except iam:* (NotAction) on every resource"}])
        );
    }

    #[test]
    fn pass_with_note_when_conditioned() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[("mfa-admin", doc)])),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("Condition"), "{}", o.reason);
        assert_eq!(
            o.evidence["conditional_admin_inline_policies"],
            json!(["mfa-admin"])
        );
    }

    #[test]
    fn error_when_inline_document_undecodable() {
        // The collector keeps an undecodable document as its raw text.
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[("raw", json!("%7B%22Statement"))])),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("raw"), "{}", o.reason);
        assert_eq!(
            o.evidence["unreadable_inline_policies"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn not_applicable_to_service_linked_roles() {
        let mut r = role("AWSServiceRoleForRDS", &[("svc", admin_document())]);
        r.path = "/aws-service-role/rds.amazonaws.com/".into();
        let o = expect(
            run(&IamNoAdminInlinePolicy, &role_resource(r), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["path"], "/aws-service-role/rds.amazonaws.com/");
    }

    #[test]
    fn not_applicable_to_other_kinds() {
        expect(
            run(&IamNoAdminInlinePolicy, &user_resource(user("alice")), &[]),
            Status::NotApplicable,
        );
    }
}
