//! `iam_group_no_admin_inline_policy`: no IAM group has an inline policy that allows every
//! action on every resource, or nearly every one, whatever its conditions. The same path
//! as the role and user rules ([`super::admin`]); the group's managed policies are failed
//! by `iam_no_admin_managed_policy`, which names the group and its members.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::admin;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamGroupNoAdminInlinePolicy;

static META: RuleMeta = RuleMeta {
    id: "iam_group_no_admin_inline_policy",
    title: "IAM group has no inline policy granting full administrator access (*:* on *)",
    severity: Severity::High,
    subject: ResourceKind::IamGroup,
    rationale: "An inline policy allowing every action on every resource makes every member of \
                the group, and anyone later added to it, an administrator with access to all \
                ePHI in the account and the power to disable the controls that protect it; a \
                group's inline policy is easy to miss in reviews of managed policies. Access \
                must be authorised on least privilege (164.308(a)(4)(ii)(B), 164.312(a)(1)). \
                NotAction or NotResource on every resource counts the same, and so does a grant \
                under conditions any session can meet (MFA, source IP or VPC, region, time, \
                tags): they limit when the power is used, not who holds it.",
    remediation: "Replace the group's inline Allow \"*\" on \"*\" statement with the specific \
                  actions and resources its members need, or delete the inline policy \
                  (DeleteGroupPolicy); keep administrator access to a reviewed break-glass \
                  role.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamGroupNoAdminInlinePolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamGroup(group) = &subject.body else {
            return Outcome::not_applicable("not an IAM group");
        };
        admin::inline_outcome(subject, &group.inline_policies, "group")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{IamGroup, InlinePolicy};
    use posture_model::{Region, Status};
    use serde_json::{Value, json};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::rules::rds::fixtures::finding_with_list_gap;
    use crate::testing::*;

    fn group(inline: &[(&str, Value)]) -> Resource {
        resource(
            "arn:aws:iam::111122223333:group/ops",
            Region::global(),
            ResourceBody::IamGroup(IamGroup {
                name: "ops".into(),
                attached_policies: vec![],
                inline_policies: inline
                    .iter()
                    .map(|(n, d)| InlinePolicy {
                        name: (*n).into(),
                        document: d.clone(),
                    })
                    .collect(),
            }),
        )
    }

    /// Issue 12: inline on a group, no administrator rule failed.
    #[test]
    fn fail_with_admin_inline_policy() {
        let o = expect(
            run(
                &IamGroupNoAdminInlinePolicy,
                &group(&[("read", narrow_document()), ("ops-admin", admin_document())]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("ops-admin"), "{}", o.reason);
        assert_eq!(
            o.evidence["admin_grants"],
            json!([{"principal": "arn:aws:iam::111122223333:group/ops",
                    "policy": "ops-admin", "attachment": "inline",
                    "statement": "Statement[0]", "scope": "every action on every resource"}])
        );
        assert_eq!(o.evidence["inline_policies"], json!(["read", "ops-admin"]));
    }

    #[test]
    fn fail_when_conditioned_on_a_principal_tag() {
        let doc = json!({"Statement": [{"Sid": "Tagged", "Effect": "Allow", "Action": "*",
            "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ops"}}}]});
        let o = expect(
            run(
                &IamGroupNoAdminInlinePolicy,
                &group(&[("tagged", doc)]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("any session"), "{}", o.reason);
        assert_eq!(
            o.evidence["admin_grants"][0]["conditions"],
            json!(["StringEquals aws:PrincipalTag/team ops"])
        );
    }

    #[test]
    fn pass_at_the_boundary_of_administrator_access() {
        let o = expect(
            run(
                &IamGroupNoAdminInlinePolicy,
                &group(&[(
                    "s3",
                    json!({"Statement": [{"Effect": "Allow", "Action": "s3:*",
                        "Resource": "*"}]}),
                )]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["admin_grants"], json!([]));
        expect(
            run(&IamGroupNoAdminInlinePolicy, &group(&[]), &[]),
            Status::Pass,
        );
    }

    #[test]
    fn error_when_authorization_details_failed() {
        let f = finding_with_list_gap(
            &IamGroupNoAdminInlinePolicy,
            group(&[]),
            "iam:GetAccountAuthorizationDetails",
        );
        // The list call failed, so the evaluator reports it without calling the rule.
        crate::rules::iam::fixtures::assert_authorization_details_gap(&f);
    }
}
