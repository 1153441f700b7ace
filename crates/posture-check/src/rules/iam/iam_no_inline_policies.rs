//! `iam_no_inline_policies`: no IAM user has inline policies.
//!
//! The subject is `aws_iam_user`: inline policies on users are the ones that bypass the
//! group- and role-based grants reviewers look at. This is a hygiene finding, at low
//! severity; an inline policy that makes its holder an administrator (even only under
//! conditions any session can meet) is failed at high severity by
//! `iam_user_no_admin_inline_policy` on users, `iam_group_no_admin_inline_policy` on
//! groups and `iam_no_admin_inline_policy` on roles (one shared path:
//! [`super::admin`]).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoInlinePolicies;

static META: RuleMeta = RuleMeta {
    id: "iam_no_inline_policies",
    title: "IAM user has no inline policies",
    severity: Severity::Low,
    subject: ResourceKind::IamUser,
    rationale: "An inline policy lives only on the one user, outside the managed policies and \
                groups that access reviews cover; access to ePHI granted that way escapes \
                authorisation and periodic review, and outlives role changes \
                (164.308(a)(4)(ii)(B), 164.308(a)(4)(ii)(C)).",
    remediation: "Move the permissions into a customer-managed policy attached to a group (or a \
                  role the user assumes), add the user to that group, and delete the inline \
                  policy (DeleteUserPolicy).",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamNoInlinePolicies {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamUser(user) = &subject.body else {
            return Outcome::not_applicable("not an IAM user");
        };
        let names: Vec<&str> = user
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let outcome = if names.is_empty() {
            Outcome::pass("the user has no inline policies")
        } else {
            Outcome::fail(format!(
                "the user has {} inline polic{}: {}",
                names.len(),
                if names.len() == 1 { "y" } else { "ies" },
                names.join(", ")
            ))
        };
        outcome.with("inline_policies", names)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::InlinePolicy;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::rules::rds::fixtures::finding_with_list_gap;
    use crate::testing::*;

    #[test]
    fn pass_without_inline_policies() {
        let o = expect(
            run(&IamNoInlinePolicies, &user_resource(user("alice")), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["inline_policies"], serde_json::json!([]));
    }

    #[test]
    fn fail_with_an_inline_policy() {
        let mut u = user("svc");
        u.inline_policies = vec![InlinePolicy {
            name: "direct".into(),
            document: narrow_document(),
        }];
        let o = expect(
            run(&IamNoInlinePolicies, &user_resource(u), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["inline_policies"], serde_json::json!(["direct"]));
    }

    #[test]
    fn error_when_authorization_details_failed() {
        let f = finding_with_list_gap(
            &IamNoInlinePolicies,
            user_resource(user("alice")),
            "iam:GetAccountAuthorizationDetails",
        );
        // The list call failed, so the evaluator reports it without calling the rule.
        crate::rules::iam::fixtures::assert_authorization_details_gap(&f);
    }
}
