//! `iam_no_admin_managed_policy`: no managed policy in use allows every action on every
//! resource, or nearly every one (an `Allow` with `NotAction` or `NotResource`), whatever
//! its conditions (see [`super::admin`] and [`crate::policy::AdminAccess`]). A failure
//! names the roles, users and groups the policy is attached to, and the users who hold it
//! through a group.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::admin::{self, Attachment, Held, Holdings};
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
                hundreds of services. So is a grant under conditions any session can meet (MFA, \
                source IP or VPC, region, time, tags): they limit when the power is used, not \
                who holds it; a grant pinned to named principals fails naming them. Unattached \
                customer-managed policies are reported too: attaching one is a single call.",
    remediation: "Replace the Allow \"*\" on \"*\" statement with the specific actions and \
                  resources the holders need (IAM Access Analyzer can generate a policy from \
                  activity); detach AWS-managed AdministratorAccess from everyone but a small \
                  break-glass role, and record a waiver with an owner and an expiry for it.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamNoAdminManagedPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
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
        let arn = subject.arn.as_str();
        let report = admin::admin_report([Held {
            holder: None,
            attachment: Attachment::Managed(arn),
            document: Ok(document),
        }]);
        let admin = report.is_admin();
        let unattached = if policy.attachment_count == 0 {
            " (the policy is not attached to anything yet)"
        } else {
            ""
        };
        let mut outcome = report.outcome(
            &format!("the default version makes its holders administrators{unattached}"),
            "no statement allows every action on every resource",
        );
        if admin {
            // Looked up only for a failure: few policies are administrator policies, and
            // an account can have thousands of principals.
            let (attached_to, via_groups) = Holdings::of(ctx, &subject.account).holders_of(arn);
            outcome = outcome
                .with("attached_to", attached_to)
                .with("users_via_groups", via_groups);
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
        assert_eq!(o.evidence["admin_grants"], json!([]));
    }

    /// Issue 12: a condition any session can meet does not excuse an administrator
    /// policy; the evidence quotes it.
    #[test]
    fn fail_when_conditioned_on_what_any_session_can_meet() {
        let doc = json!({"Statement": [{"Sid": "MfaAdmin", "Effect": "Allow", "Action": "*",
            "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                "StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]});
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("MfaAdmin", doc)),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.contains("aws:MultiFactorAuthPresent"),
            "{}",
            o.reason
        );
        let g = &o.evidence["admin_grants"][0];
        assert_eq!(g["policy"], "arn:aws:iam::111122223333:policy/MfaAdmin");
        assert_eq!(g["attachment"], "managed");
        assert_eq!(g["statement"], "MfaAdmin");
        assert_eq!(
            g["conditions"],
            json!([
                "Bool aws:MultiFactorAuthPresent true",
                "StringEquals aws:RequestedRegion us-east-1"
            ])
        );
    }

    /// Issue 12: a managed policy attached to a group names the group and the users who
    /// hold it through the group.
    #[test]
    fn fail_names_the_group_and_its_members_holding_it() {
        let doc = json!({"Statement": [{"Sid": "Office", "Effect": "Allow", "Action": "*",
            "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]});
        let devs = resource(
            "arn:aws:iam::111122223333:group/devs",
            posture_model::Region::global(),
            posture_model::ResourceBody::IamGroup(posture_model::resources::IamGroup {
                name: "devs".into(),
                attached_policies: vec!["arn:aws:iam::111122223333:policy/OfficeAdmin".into()],
                inline_policies: vec![],
            }),
        );
        let mut bob = user("bob");
        bob.groups = vec!["devs".into()];
        let mut ci = role("ci", &[]);
        ci.attached_policies = vec!["arn:aws:iam::111122223333:policy/OfficeAdmin".into()];
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("OfficeAdmin", doc)),
                &[
                    devs,
                    user_resource(bob),
                    user_resource(user("carol")),
                    role_resource(ci),
                    role_resource(role("other", &[])),
                ],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["attached_to"],
            json!([
                "arn:aws:iam::111122223333:group/devs",
                "arn:aws:iam::111122223333:role/ci"
            ])
        );
        assert_eq!(
            o.evidence["users_via_groups"],
            json!(["arn:aws:iam::111122223333:user/bob"])
        );
        assert_eq!(
            o.evidence["admin_grants"][0]["conditions"],
            json!(["IpAddress aws:SourceIp 203.0.113.0/24"])
        );
    }

    /// `aws:userid` with a fixed role id (any session of that role) pins the grant.
    #[test]
    fn fail_naming_the_principals_a_grant_is_pinned_to() {
        let doc = json!({"Statement": [{"Sid": "OnlyBreakGlass", "Effect": "Allow",
            "Action": "*", "Resource": "*",
            "Condition": {"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}}]});
        let o = expect(
            run(
                &IamNoAdminManagedPolicy,
                &policy_resource(policy("BreakGlass", doc)),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("named principals"), "{}", o.reason);
        assert_eq!(
            o.evidence["admin_grants"][0]["pinned_principals"],
            json!(["AROAEXAMPLEID:*"])
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
        assert_eq!(
            o.evidence["admin_grants"],
            json!([{"policy": "arn:aws:iam::111122223333:policy/AdministratorAccess",
                    "attachment": "managed", "statement": "Statement[0]",
                    "scope": "every action on every resource"}])
        );
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
        assert_eq!(
            o.evidence["admin_grants"],
            json!([{
                "policy": "arn:aws:iam::111122223333:policy/NearlyAdmin",
                "attachment": "managed",
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
            o.evidence["denied_admin_grants"],
            json!([{"policy": "arn:aws:iam::111122223333:policy/Cancelled",
                    "attachment": "managed", "statement": "All", "scope": "every action on every resource",
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
        let o = expect(
            run(&IamNoAdminManagedPolicy, &policy_resource(p), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "aws_managed", serde_json::json!(true));
        assert_evidence(&o, "attachment_count", serde_json::json!(0));
        assert!(
            o.reason.to_lowercase().contains("aws-managed"),
            "{}",
            o.reason
        );
    }
}
