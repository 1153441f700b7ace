//! `iam_user_in_group`: every IAM user belongs to at least one group.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamUserInGroup;

static META: RuleMeta = RuleMeta {
    id: "iam_user_in_group",
    title: "IAM user belongs to at least one group",
    severity: Severity::Low,
    subject: ResourceKind::IamUser,
    rationale: "Groups tie a user's access to a job function that can be authorised and \
                reviewed as a whole; a user in no group holds either no access or access \
                granted one-off, outside the reviewed role definitions for ePHI \
                (164.308(a)(4)(ii)(B), 164.312(a)(1)).",
    remediation: "Add the user to the group matching their job function (AddUserToGroup), and \
                  grant permissions through the group; delete users who need no access.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamUserInGroup {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamUser(user) = &subject.body else {
            return Outcome::not_applicable("not an IAM user");
        };
        let outcome = if user.groups.is_empty() {
            Outcome::fail("the user belongs to no group")
        } else {
            Outcome::pass(format!("the user belongs to {}", user.groups.join(", ")))
        };
        outcome.with("groups", &user.groups)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::rules::rds::fixtures::finding_with_list_gap;
    use crate::testing::*;

    #[test]
    fn pass_in_a_group() {
        let mut u = user("alice");
        u.groups = vec!["clinicians".into()];
        let o = expect(run(&IamUserInGroup, &user_resource(u), &[]), Status::Pass);
        assert_eq!(o.evidence["groups"], serde_json::json!(["clinicians"]));
    }

    #[test]
    fn fail_in_no_group() {
        let o = expect(
            run(&IamUserInGroup, &user_resource(user("alice")), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["groups"], serde_json::json!([]));
    }

    #[test]
    fn error_when_authorization_details_failed() {
        let f = finding_with_list_gap(
            &IamUserInGroup,
            user_resource(user("alice")),
            "iam:GetAccountAuthorizationDetails",
        );
        // The list call failed, so the evaluator reports it without calling the rule.
        crate::rules::iam::fixtures::assert_authorization_details_gap(&f);
    }
}
