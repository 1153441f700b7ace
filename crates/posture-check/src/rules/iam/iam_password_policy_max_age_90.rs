//! `iam_password_policy_max_age_90`: the account password policy expires passwords within
//! `max_password_age_days`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamPasswordPolicyMaxAge90;

static META: RuleMeta = RuleMeta {
    id: "iam_password_policy_max_age_90",
    title: "Password policy expires passwords within 90 days",
    severity: Severity::Low,
    subject: ResourceKind::IamPasswordPolicy,
    rationale: "A password that never expires keeps working indefinitely after it leaks, \
                leaving ePHI reachable with stolen credentials; password management procedures \
                should bound how long one password stays valid (164.308(a)(5)(ii)(D)).",
    remediation: "Set the account password policy (UpdateAccountPasswordPolicy) with \
                  --max-password-age of at most the required number of days.",
    api_calls: &["iam:GetAccountPasswordPolicy"],
    params: &[ParamSpec {
        name: "max_password_age_days",
        ty: ParamType::Integer,
        default: "90",
        doc: "The longest password lifetime, in days, the policy may allow.",
    }],
};

impl Rule for IamPasswordPolicyMaxAge90 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamPasswordPolicy(pp) = &subject.body else {
            return Outcome::not_applicable("not the account password policy");
        };
        let max = ctx.int("max_password_age_days");
        let Some(policy) = try_observed!(pp.policy, "the account password policy") else {
            return Outcome::fail("no password policy: AWS default never expires passwords")
                .with("password_policy", "none")
                .with("max_password_age_days", max);
        };
        let outcome = match policy.max_password_age.map(i64::from) {
            Some(n) if n <= max => Outcome::pass(format!(
                "passwords expire after {n} days (at most {max} allowed)"
            )),
            Some(n) => Outcome::fail(format!(
                "passwords expire after {n} days, more than the allowed {max}"
            )),
            None => Outcome::fail("the password policy never expires passwords"),
        };
        outcome
            .with("max_password_age", policy.max_password_age)
            .with("max_password_age_days", max)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn with_age(age: Option<i32>) -> Resource {
        let mut p = password_policy(Some(14), Some(24));
        p.max_password_age = age;
        password_policy_resource(Observed::Collected(p))
    }

    #[test]
    fn pass_at_90() {
        let o = expect(
            run(&IamPasswordPolicyMaxAge90, &with_age(Some(90)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["max_password_age"], 90);
        assert_eq!(o.evidence["max_password_age_days"], 90);
    }

    #[test]
    fn fail_above_the_parameter() {
        let o = expect(
            run(&IamPasswordPolicyMaxAge90, &with_age(Some(91)), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["max_password_age"], 91);
        assert_eq!(o.evidence["max_password_age_days"], 90);
        assert!(
            o.reason.contains("91 days, more than the allowed 90"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_when_passwords_never_expire() {
        let o = expect(
            run(&IamPasswordPolicyMaxAge90, &with_age(None), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["max_password_age"], serde_json::Value::Null);
    }

    #[test]
    fn fail_without_a_policy() {
        let o = expect(
            run(
                &IamPasswordPolicyMaxAge90,
                &password_policy_resource(Observed::Absent),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("no password policy"), "{}", o.reason);
    }

    #[test]
    fn error_when_policy_denied() {
        let o = expect(
            run(
                &IamPasswordPolicyMaxAge90,
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
