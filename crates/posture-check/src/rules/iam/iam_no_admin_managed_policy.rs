//! `iam_no_admin_managed_policy`: no managed policy in use allows every action on every
//! resource, or nearly every one (an `Allow` with `NotAction` or `NotResource`; see
//! [`crate::policy::AdminAccess`]).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use crate::policy::{AdminGrant, Policy};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoAdminManagedPolicy;

static META: RuleMeta = RuleMeta {
    id: "iam_no_admin_managed_policy",
    title: "Managed policy does not grant full administrator access (*:* on *)",
    severity: Severity::High,
    subject: ResourceKind::IamPolicy,
    rationale: "A policy allowing every action on every resource gives whoever holds it access to \
                all ePHI in the account and the power to disable the controls that protect it; \
                access must be authorised per role, on least privilege (164.308(a)(4)(ii)(B), \
                164.312(a)(1)). An Allow with NotAction (\"everything except iam:*\") or \
                NotResource on every resource is treated the same: it still grants every action of \
                hundreds of services. Unattached customer-managed policies are reported too: \
                attaching one is a single call.",
    remediation: "Replace the Allow \"*\" on \"*\" statement with the specific actions and \
                  resources the holders need (IAM Access Analyzer can generate a policy from \
                  activity), or limit it with conditions; detach AWS-managed AdministratorAccess \
                  from everyone but a small break-glass role.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamNoAdminManagedPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamPolicy(policy) = &subject.body else {
            return Outcome::not_applicable("not a managed IAM policy");
        };
        if policy.aws_managed && policy.attachment_count <= 0 {
            return Outcome::not_applicable(
                "AWS-managed policy attached to no identity: it grants nothing here",
            )
            .with("aws_managed", true)
            .with("attachment_count", policy.attachment_count);
        }
        let Some(document) = try_observed!(policy.document, "the default policy version") else {
            return Outcome::error("the policy's default version document was not returned")
                .with("attachment_count", policy.attachment_count);
        };
        let parsed = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the policy document cannot be read: {why}"))
                    .with("attachment_count", policy.attachment_count);
            }
        };
        let access = parsed.admin_access();
        let labels = |grants: &[AdminGrant<'_>]| -> Vec<String> {
            grants.iter().map(|g| g.statement.label()).collect()
        };
        let details = |grants: &[AdminGrant<'_>]| -> Vec<Value> {
            grants.iter().map(AdminGrant::evidence).collect()
        };
        let outcome = if access.is_admin() {
            let unattached = if policy.attachment_count == 0 {
                " (the policy is not attached to anything yet)"
            } else {
                ""
            };
            let mut parts = Vec::new();
            if !access.full.is_empty() {
                parts.push(format!(
                    "allows every action on every resource in {}",
                    labels(&access.full).join(", ")
                ));
            }
            for g in &access.near_full {
                parts.push(format!(
                    "allows {} in {}, which is treated as administrator access",
                    g.scope.describe(),
                    g.statement.label()
                ));
            }
            Outcome::fail(format!(
                "the default version {}{unattached}",
                parts.join("; ")
            ))
        } else if !access.conditional.is_empty() {
            Outcome::pass(format!(
                "every action on every resource is allowed only under a Condition, in {}, which \
                 is treated as limiting",
                labels(&access.conditional).join(", ")
            ))
        } else if !access.denied.is_empty() {
            Outcome::pass(format!(
                "every action on every resource is allowed in {}, but a Deny in the same \
                 document takes it away or narrows it to a few actions (see \
                 denied_admin_statements)",
                labels(&access.denied).join(", ")
            ))
        } else {
            Outcome::pass("no statement allows every action on every resource")
        };
        let mut outcome = outcome
            .with("admin_statements", labels(&access.full))
            .with("near_admin_statements", details(&access.near_full))
            .with("conditional_admin_statements", labels(&access.conditional));
        if !access.denied.is_empty() {
            outcome = outcome.with("denied_admin_statements", details(&access.denied));
        }
        outcome
            .with("aws_managed", policy.aws_managed)
            .with("attachment_count", policy.attachment_count)
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
    fn pass_for_a_narrow_policy() {
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("ReadPhi", narrow_document())),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["admin_statements"], json!([]));
    }

    #[test]
    fn pass_with_note_when_conditioned() {
        let doc = json!({"Statement": [{"Sid": "MfaAdmin", "Effect": "Allow", "Action": "*",
            "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("MfaAdmin", doc)),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("Condition"), "{}", o.reason);
        assert_eq!(
            o.evidence["conditional_admin_statements"],
            json!(["MfaAdmin"])
        );
    }

    #[test]
    fn fail_for_attached_aws_managed_admin() {
        let mut p = policy("AdministratorAccess", admin_document());
        p.aws_managed = true;
        p.attachment_count = 3;
        let o = expect(
            run(&IamNoAdminManagedPolicy, &policy_resource(p), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["admin_statements"], json!(["Statement[0]"]));
        assert_eq!(o.evidence["attachment_count"], 3);
    }

    #[test]
    fn fail_for_unattached_customer_admin_and_says_so() {
        let mut p = policy("Everything", admin_document());
        p.attachment_count = 0;
        let o = expect(
            run(&IamNoAdminManagedPolicy, &policy_resource(p), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("not attached"), "{}", o.reason);
    }

    #[test]
    fn not_action_allow_is_treated_as_broad() {
        let doc = json!({"Statement": [{"Sid": "AllButIam", "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}]});
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("NearlyAdmin", doc)),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("NotAction"), "{}", o.reason);
        assert!(o.reason.contains("administrator"), "{}", o.reason);
        assert_eq!(o.evidence["admin_statements"], json!([]));
        assert_eq!(
            o.evidence["near_admin_statements"],
            json!([{
                "statement": "AllButIam",
                "scope": "every action except iam:*, organizations:* (NotAction) on every resource"
            }])
        );
    }

    #[test]
    fn fail_when_a_deny_removes_only_part_of_admin() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoBilling", "Effect": "Deny", "Action": "aws-portal:*", "Resource": "*"}
        ]});
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("AlmostAll", doc)),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("NoBilling"), "{}", o.reason);
    }

    #[test]
    fn pass_when_a_deny_in_the_document_cancels_admin() {
        let doc = json!({"Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "Nothing", "Effect": "Deny", "Action": "*", "Resource": "*"}
        ]});
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("Cancelled", doc)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["denied_admin_statements"],
            json!([{"statement": "All", "scope": "every action on every resource",
                    "denied_by": ["Nothing"]}])
        );
    }

    #[test]
    fn error_when_document_unavailable() {
        let mut p = policy("Opaque", admin_document());
        p.document = denied("iam:GetAccountAuthorizationDetails");
        let o = expect(
            run(&IamNoAdminManagedPolicy, &policy_resource(p), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("iam:GetAccountAuthorizationDetails"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_document_is_not_a_policy() {
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("Odd", json!({"Version": "2012-10-17"}))),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("no Statement"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_unattached_aws_managed() {
        let mut p = policy("AdministratorAccess", admin_document());
        p.aws_managed = true;
        p.attachment_count = 0;
        expect(
            run(&IamNoAdminManagedPolicy, &policy_resource(p), &[]),
            Status::NotApplicable,
        );
    }

    #[test]
    fn not_applicable_to_other_kinds() {
        expect(
            run(&IamNoAdminManagedPolicy, &user_resource(user("alice")), &[]),
            Status::NotApplicable,
        );
    }
}
