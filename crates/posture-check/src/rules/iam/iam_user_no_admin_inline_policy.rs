//! `iam_user_no_admin_inline_policy`: no IAM user has an inline policy that allows every
//! action on every resource, or nearly every one, whatever its conditions. The same path
//! as the role and group rules ([`super::admin`]); a user's managed policies, attached to
//! it or to its groups, are failed by `iam_no_admin_managed_policy` (which names the user),
//! its groups' inline policies by `iam_group_no_admin_inline_policy`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::admin;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamUserNoAdminInlinePolicy;

static META: RuleMeta = RuleMeta {
    id: "iam_user_no_admin_inline_policy",
    title: "IAM user has no inline policy granting full administrator access (*:* on *)",
    severity: Severity::High,
    subject: ResourceKind::IamUser,
    rationale: "An inline policy allowing every action on every resource makes the user, and \
                whoever holds its password or access keys, an administrator with access to all \
                ePHI in the account and the power to disable the controls that protect it; \
                inline policies on users escape the group- and role-based grants reviewers look \
                at. Access must be authorised on least privilege (164.308(a)(4)(ii)(B), \
                164.312(a)(1)). NotAction or NotResource on every resource counts the same, and \
                so does a grant under conditions any session can meet (MFA, source IP or VPC, \
                region, time, tags): they limit when the power is used, not who holds it.",
    remediation: "Delete the user's inline administrator policy (DeleteUserPolicy); grant the \
                  specific actions the person needs through a group or a role they assume, \
                  and keep administrator access to a reviewed break-glass role (waived with \
                  an owner and an expiry).",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamUserNoAdminInlinePolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamUser(user) = &subject.body else {
            return Outcome::not_applicable("not an IAM user");
        };
        admin::inline_outcome(subject, &user.inline_policies, "user")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::InlinePolicy;
    use serde_json::{Value, json};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::rules::rds::fixtures::finding_with_list_gap;
    use crate::testing::*;

    fn with_inline(name: &str, document: Value) -> Resource {
        let mut u = user("alice");
        u.inline_policies = vec![InlinePolicy {
            name: name.into(),
            document,
        }];
        user_resource(u)
    }

    /// Issue 12: inline on a user, the user was reported only by the low-severity
    /// `iam_no_inline_policies`.
    #[test]
    fn fail_with_admin_inline_policy() {
        let o = expect(
            run(
                &IamUserNoAdminInlinePolicy,
                &with_inline("direct-admin", admin_document()),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("direct-admin"), "{}", o.reason);
        assert_eq!(
            o.evidence["principal"],
            "arn:aws:iam::111122223333:user/alice"
        );
        assert_eq!(
            o.evidence["admin_grants"],
            json!([{"principal": "arn:aws:iam::111122223333:user/alice",
                    "policy": "direct-admin", "attachment": "inline",
                    "statement": "Statement[0]", "scope": "every action on every resource"}])
        );
    }

    #[test]
    fn fail_for_not_action_under_a_source_ip_condition() {
        let doc = json!({"Statement": [{"Sid": "AllButIam", "Effect": "Allow",
            "NotAction": "iam:*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]});
        let o = expect(
            run(
                &IamUserNoAdminInlinePolicy,
                &with_inline("office", doc),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("NotAction"), "{}", o.reason);
        let g = &o.evidence["admin_grants"][0];
        assert_eq!(
            g["scope"],
            "every action except iam:* (NotAction) on every resource"
        );
        assert_eq!(
            g["conditions"],
            json!(["IpAddress aws:SourceIp 203.0.113.0/24"])
        );
    }

    #[test]
    fn fail_naming_the_user_a_grant_is_pinned_to() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:username": "alice"}}}]});
        let o = expect(
            run(
                &IamUserNoAdminInlinePolicy,
                &with_inline("pinned", doc),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("named principals alice"), "{}", o.reason);
        assert_eq!(
            o.evidence["admin_grants"][0]["pinned_principals"],
            json!(["alice"])
        );
    }

    #[test]
    fn pass_at_the_boundary_of_administrator_access() {
        for doc in [
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*",
                "Resource": "arn:aws:s3:::phi"}]}),
        ] {
            let o = expect(
                run(
                    &IamUserNoAdminInlinePolicy,
                    &with_inline("p", doc.clone()),
                    &[],
                ),
                Status::Pass,
            );
            assert_eq!(o.evidence["admin_grants"], json!([]), "{doc}");
            assert_eq!(o.evidence["inline_policies"], json!(["p"]));
        }
        let o = expect(
            run(
                &IamUserNoAdminInlinePolicy,
                &user_resource(user("bob")),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("no inline policies"), "{}", o.reason);
    }

    #[test]
    fn error_when_an_inline_document_is_unreadable() {
        let o = expect(
            run(
                &IamUserNoAdminInlinePolicy,
                &with_inline("raw", json!("%7B%22Statement")),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("inline policy raw"), "{}", o.reason);
    }

    #[test]
    fn error_when_authorization_details_failed() {
        let f = finding_with_list_gap(
            &IamUserNoAdminInlinePolicy,
            user_resource(user("alice")),
            "iam:GetAccountAuthorizationDetails",
        );
        // The list call failed, so the evaluator reports it without calling the rule.
        crate::rules::iam::fixtures::assert_authorization_details_gap(&f);
    }
}
