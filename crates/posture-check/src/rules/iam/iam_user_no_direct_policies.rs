//! `iam_user_no_direct_policies`: no IAM user has managed policies attached or inline
//! policies of its own; permissions come through groups or roles.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamUserNoDirectPolicies;

static META: RuleMeta = RuleMeta {
    id: "iam_user_no_direct_policies",
    title: "IAM user has no directly attached or inline policies",
    severity: Severity::Low,
    subject: ResourceKind::IamUser,
    rationale: "Permissions granted to individual users escape the role- and group-based \
                access model: they are hard to review, are not removed when a job changes, and \
                accumulate access to ePHI nobody authorised for the role. Granting access only \
                through groups and roles keeps access authorisation reviewable \
                (164.308(a)(4)(ii)(B), 164.312(a)(1)).",
    remediation: "Move the user's permissions to a group (or a role the user assumes), add the \
                  user to it, then detach the managed policies (DetachUserPolicy) and delete the \
                  inline policies (DeleteUserPolicy) from the user.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamUserNoDirectPolicies {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamUser(user) = &subject.body else {
            return Outcome::not_applicable("not an IAM user");
        };
        let inline: Vec<&str> = user
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let outcome = match (user.attached_policies.len(), inline.len()) {
            (0, 0) => Outcome::pass("the user has no attached or inline policies of its own"),
            (a, i) => Outcome::fail(format!(
                "the user has {a} attached managed and {i} inline policies of its own"
            )),
        };
        outcome
            .with("attached_policies", &user.attached_policies)
            .with("inline_policies", inline)
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
    fn pass_without_direct_policies() {
        let mut u = user("alice");
        u.groups = vec!["readers".into()];
        let o = expect(
            run(&IamUserNoDirectPolicies, &user_resource(u), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["attached_policies"], serde_json::json!([]));
    }

    #[test]
    fn fail_with_an_attached_policy() {
        let mut u = user("alice");
        u.attached_policies = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()];
        let o = expect(
            run(&IamUserNoDirectPolicies, &user_resource(u), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["attached_policies"],
            serde_json::json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"])
        );
    }

    #[test]
    fn fail_with_an_inline_policy() {
        let mut u = user("alice");
        u.inline_policies = vec![InlinePolicy {
            name: "read-phi".into(),
            document: narrow_document(),
        }];
        let o = expect(
            run(&IamUserNoDirectPolicies, &user_resource(u), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["inline_policies"],
            serde_json::json!(["read-phi"])
        );
    }

    #[test]
    fn error_when_authorization_details_failed() {
        let f = finding_with_list_gap(
            &IamUserNoDirectPolicies,
            user_resource(user("alice")),
            "iam:GetAccountAuthorizationDetails",
        );
        // The list call failed, so the evaluator reports it without calling the rule.
        crate::rules::iam::fixtures::assert_authorization_details_gap(&f);
    }
}
