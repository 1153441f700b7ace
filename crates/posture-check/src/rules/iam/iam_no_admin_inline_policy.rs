//! `iam_no_admin_inline_policy`: no IAM role has an inline policy that allows every
//! action on every resource, or nearly every one, whatever its conditions (see
//! [`super::admin`]). Users' and groups' inline policies have their own rules
//! (`iam_user_no_admin_inline_policy`, `iam_group_no_admin_inline_policy`), managed
//! policies `iam_no_admin_managed_policy`; all share one path.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::admin;
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
                with NotAction or NotResource on every resource is treated the same, and so is \
                a grant under conditions any session can meet (MFA, source IP or VPC, region, \
                time, tags): they limit when the power is used, not who holds it. A grant \
                pinned to named principals (aws:PrincipalArn) fails too, naming them, for a \
                reviewer to confirm and waive. Users' and groups' inline policies have their \
                own rules.",
    remediation: "Replace the role's inline Allow \"*\" on \"*\" statement with the specific \
                  actions and resources the workload needs (IAM Access Analyzer can generate a \
                  policy from CloudTrail activity), or delete the inline policy \
                  (DeleteRolePolicy). For a reviewed break-glass role, record a waiver with an \
                  owner and an expiry.",
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
        admin::inline_outcome(subject, &role.inline_policies, "role")
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
        assert_eq!(o.evidence["admin_grants"], json!([]));
    }

    #[test]
    fn pass_without_inline_policies() {
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[])),
                &[],
            ),
            Status::Pass,
        );
        assert!(
            o.reason.contains("the role has no inline policies"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "inline_policies", json!([]));
        assert_evidence(&o, "principal", json!("arn:aws:iam::111122223333:role/app"));
        // A narrow inline policy passes with the other reason, naming the policy.
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[("read-phi", narrow_document())])),
                &[],
            ),
            Status::Pass,
        );
        assert!(
            o.reason
                .contains("no inline policy allows every action on every resource"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "inline_policies", json!(["read-phi"]));
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
        assert_eq!(
            o.evidence["admin_grants"],
            json!([{"principal": "arn:aws:iam::111122223333:role/app", "policy": "god",
                    "attachment": "inline", "statement": "Statement[0]",
                    "scope": "every action on every resource"}])
        );
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
        assert_eq!(
            o.evidence["admin_grants"],
            json!([{"principal": "arn:aws:iam::111122223333:role/app", "policy": "broad",
                    "attachment": "inline", "statement": "AllButIam",
                    "scope": "every action except iam:* (NotAction) on every resource"}])
        );
    }

    /// Issue 12: a condition any session of the role can meet does not limit who holds
    /// the power, so the grant fails at the rule's severity, with the condition quoted.
    #[test]
    fn fail_when_admin_hides_behind_a_condition_any_session_meets() {
        for (op, key, value) in [
            ("Bool", "aws:MultiFactorAuthPresent", "true"),
            ("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
            ("StringEquals", "aws:RequestedRegion", "us-east-1"),
            ("StringEquals", "aws:PrincipalTag/team", "platform"),
            ("StringEquals", "aws:ResourceTag/env", "prod"),
            ("Bool", "aws:SecureTransport", "true"),
            ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),
            ("StringEquals", "aws:SourceVpc", "vpc-0a1b2c"),
            ("StringEquals", "aws:SourceVpce", "vpce-0a1b2c"),
            // A key this evaluator does not know excuses nothing.
            ("StringEquals", "example:NewKey", "x"),
        ] {
            let doc = json!({"Statement": [{"Sid": "Hidden", "Effect": "Allow",
                "Action": "*", "Resource": "*", "Condition": {op: {key: value}}}]});
            let o = expect(
                run(
                    &IamNoAdminInlinePolicy,
                    &role_resource(role("app", &[("hidden", doc)])),
                    &[],
                ),
                Status::Fail,
            );
            assert!(o.reason.contains(key), "{}", o.reason);
            assert_eq!(
                o.evidence["admin_grants"],
                json!([{"principal": "arn:aws:iam::111122223333:role/app",
                        "policy": "hidden", "attachment": "inline", "statement": "Hidden",
                        "scope": "every action on every resource",
                        "conditions": [format!("{op} {key} {value}")]}]),
                "{key}"
            );
        }
    }

    /// Issue 12: the MFA-required pattern (a `Deny` of everything without MFA) leaves an
    /// administrator, since every session can present MFA.
    #[test]
    fn fail_when_a_deny_requires_only_mfa() {
        let doc = json!({"Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoMfaNoAccess", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
        ]});
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("app", &[("mfa", doc)])),
                &[],
            ),
            Status::Fail,
        );
        let g = &o.evidence["admin_grants"][0];
        assert_eq!(g["statement"], "All");
        assert_eq!(
            g["conditions"],
            json!(["BoolIfExists aws:MultiFactorAuthPresent false"])
        );
        assert_eq!(g["denied_by"], json!(["NoMfaNoAccess"]));
    }

    /// A grant pinned to named principals by `aws:PrincipalArn` still fails (the named
    /// principals are administrators), but says so: `pinned_principals` names them, and
    /// the reason tells a reviewer to confirm them (and record a waiver).
    #[test]
    fn fail_naming_the_principals_a_grant_is_pinned_to() {
        let doc = json!({"Statement": [{"Sid": "BreakGlass", "Effect": "Allow",
            "Action": "*", "Resource": "*", "Condition": {"StringEquals":
                {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/break-glass"}}}]});
        let o = expect(
            run(
                &IamNoAdminInlinePolicy,
                &role_resource(role("break-glass", &[("bg", doc)])),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("named principals"), "{}", o.reason);
        assert_eq!(
            o.evidence["admin_grants"][0]["pinned_principals"],
            json!(["arn:aws:iam::111122223333:role/break-glass"])
        );
    }

    #[test]
    fn pass_at_the_boundary_of_administrator_access() {
        for (doc, why) in [
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
                "every action of one service is not administrator access",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*",
                    "Resource": ["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"]}]}),
                "every action on one bucket is not administrator access",
            ),
        ] {
            let o = expect(
                run(
                    &IamNoAdminInlinePolicy,
                    &role_resource(role("app", &[("p", doc)])),
                    &[],
                ),
                Status::Pass,
            );
            assert_eq!(o.evidence["admin_grants"], json!([]), "{why}");
        }
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
            o.evidence["unreadable_policies"].as_array().map(Vec::len),
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
}
