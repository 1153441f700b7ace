//! `iam_group_not_empty`: every IAM group has at least one member.
//!
//! Membership is read from the users' group lists (the IAM users of the same account).

use posture_model::{Region, Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamGroupNotEmpty;

static META: RuleMeta = RuleMeta {
    id: "iam_group_not_empty",
    title: "IAM group has at least one member",
    severity: Severity::Low,
    subject: ResourceKind::IamGroup,
    rationale: "An empty group is an unreviewed grant waiting to be used: adding anyone to it \
                silently gives them its permissions, possibly to ePHI. Access authorisation and \
                its review are easier when every group maps to people who need it \
                (164.308(a)(4)(ii)(B), 164.308(a)(4)(ii)(C)).",
    remediation: "Delete groups no one needs (detach their policies, delete inline policies, \
                  DeleteGroup), or add the users whose job function the group represents.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamGroupNotEmpty {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamGroup(group) = &subject.body else {
            return Outcome::not_applicable("not an IAM group");
        };
        let mut members: Vec<&str> = ctx
            .resources(ResourceKind::IamUser, &subject.account, &Region::global())
            .filter_map(|r| match &r.body {
                ResourceBody::IamUser(u) if u.groups.iter().any(|g| g == &group.name) => {
                    Some(u.name.as_str())
                }
                _ => None,
            })
            .collect();
        members.sort_unstable();
        let outcome = if members.is_empty() {
            Outcome::fail(format!("no IAM user belongs to the group {}", group.name))
        } else {
            Outcome::pass(format!(
                "the group {} has {} member(s): {}",
                group.name,
                members.len(),
                members.join(", ")
            ))
        };
        outcome.with("members", members)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::IamGroup;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::rules::rds::fixtures::finding_with_list_gap;
    use crate::testing::*;

    fn group_resource(name: &str) -> Resource {
        resource(
            &format!("arn:aws:iam::111122223333:group/{name}"),
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: name.into(),
                attached_policies: vec![],
                inline_policies: vec![],
            }),
        )
    }

    #[test]
    fn pass_with_a_member() {
        let mut alice = user("alice");
        alice.groups = vec!["clinicians".into()];
        let mut bob = user("bob");
        bob.groups = vec!["billing".into()];
        let o = expect(
            run(
                &IamGroupNotEmpty,
                &group_resource("clinicians"),
                &[user_resource(alice), user_resource(bob)],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["members"], serde_json::json!(["alice"]));
    }

    #[test]
    fn fail_when_no_user_is_in_it() {
        let mut bob = user("bob");
        bob.groups = vec!["billing".into()];
        let o = expect(
            run(
                &IamGroupNotEmpty,
                &group_resource("clinicians"),
                &[user_resource(bob)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["members"], serde_json::json!([]));
    }

    #[test]
    fn error_when_authorization_details_failed() {
        let f = finding_with_list_gap(
            &IamGroupNotEmpty,
            group_resource("clinicians"),
            "iam:GetAccountAuthorizationDetails",
        );
        // The list call failed, so the evaluator reports it without calling the rule.
        crate::rules::iam::fixtures::assert_authorization_details_gap(&f);
    }
}
