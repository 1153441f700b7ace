//! `iam_password_policy_length_14`: the account password policy requires passwords of at
//! least `min_password_length` characters.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamPasswordPolicyLength14;

static META: RuleMeta = RuleMeta {
    id: "iam_password_policy_length_14",
    title: "Password policy requires passwords of at least 14 characters",
    severity: Severity::Medium,
    subject: ResourceKind::IamPasswordPolicy,
    rationale: "Short console passwords of IAM users who can reach ePHI are open to guessing and \
                offline cracking; password management procedures must make passwords hard to \
                guess (164.308(a)(5)(ii)(D)).",
    remediation: "Set the account password policy (UpdateAccountPasswordPolicy) with \
                  --minimum-password-length of at least the required length.",
    api_calls: &["iam:GetAccountPasswordPolicy"],
    params: &[ParamSpec {
        name: "min_password_length",
        ty: ParamType::Integer,
        default: "14",
        doc: "Minimum password length the policy must require, in characters.",
    }],
};

impl Rule for IamPasswordPolicyLength14 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamPasswordPolicy(pp) = &subject.body else {
            return Outcome::not_applicable("not the account password policy");
        };
        let min = ctx.int("min_password_length");
        let Some(policy) = try_observed!(pp.policy, "the account password policy") else {
            return Outcome::fail("no password policy: AWS default allows 8 characters")
                .with("password_policy", "none")
                .with("min_password_length", min);
        };
        let outcome = match policy.minimum_password_length.map(i64::from) {
            Some(len) if len >= min => Outcome::pass(format!(
                "passwords must have at least {len} characters (at least {min} required)"
            )),
            Some(len) => Outcome::fail(format!(
                "passwords need only {len} characters, fewer than the required {min}"
            )),
            None => Outcome::fail("the password policy sets no minimum password length"),
        };
        outcome
            .with("minimum_password_length", policy.minimum_password_length)
            .with("min_password_length", min)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    #[test]
    fn pass_at_the_minimum() {
        let o = expect(
            run(
                &IamPasswordPolicyLength14,
                &password_policy_resource(Observed::Collected(password_policy(Some(14), None))),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["minimum_password_length"], 14);
        assert_eq!(o.evidence["min_password_length"], 14);
    }

    #[test]
    fn fail_when_too_short() {
        let o = expect(
            run(
                &IamPasswordPolicyLength14,
                &password_policy_resource(Observed::Collected(password_policy(Some(13), None))),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["minimum_password_length"], 13);
        assert_eq!(o.evidence["min_password_length"], 14);
    }

    #[test]
    fn fail_below_a_raised_parameter() {
        let mut params = Params::defaults(&IamPasswordPolicyLength14);
        params.set("min_password_length", ParamValue::Integer(16));
        let o = expect(
            run_with(
                &IamPasswordPolicyLength14,
                &password_policy_resource(Observed::Collected(password_policy(Some(14), None))),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["min_password_length"], 16);
    }

    #[test]
    fn fail_without_a_policy() {
        let o = expect(
            run(
                &IamPasswordPolicyLength14,
                &password_policy_resource(Observed::Absent),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("no password policy"), "{}", o.reason);
        assert_eq!(o.evidence["password_policy"], "none");
    }

    #[test]
    fn error_when_policy_denied() {
        let o = expect(
            run(
                &IamPasswordPolicyLength14,
                &password_policy_resource(denied("iam:GetAccountPasswordPolicy")),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("iam:GetAccountPasswordPolicy"),
            "{}",
            o.reason
        );
    }
}
