//! `iam_password_policy_reuse_24`: the account password policy prevents reuse of at least
//! the last `min_password_reuse_prevention` passwords.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamPasswordPolicyReuse24;

static META: RuleMeta = RuleMeta {
    id: "iam_password_policy_reuse_24",
    title: "Password policy prevents reuse of the last 24 passwords",
    severity: Severity::Medium,
    subject: ResourceKind::IamPasswordPolicy,
    rationale: "When users may cycle back to old passwords, a password that leaked once keeps \
                working after a forced change, leaving ePHI reachable with known credentials; \
                password management procedures must prevent this (164.308(a)(5)(ii)(D)).",
    remediation: "Set the account password policy (UpdateAccountPasswordPolicy) with \
                  --password-reuse-prevention of at least the required count (at most 24).",
    api_calls: &["iam:GetAccountPasswordPolicy"],
    params: &[ParamSpec {
        name: "min_password_reuse_prevention",
        ty: ParamType::Integer,
        default: "24",
        doc: "How many previous passwords the policy must forbid reusing.",
    }],
};

impl Rule for IamPasswordPolicyReuse24 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamPasswordPolicy(pp) = &subject.body else {
            return Outcome::not_applicable("not the account password policy");
        };
        let min = ctx.int("min_password_reuse_prevention");
        let Some(policy) = try_observed!(pp.policy, "the account password policy") else {
            return Outcome::fail(
                "no password policy: AWS default does not restrict password reuse",
            )
            .with("password_policy", "none")
            .with("min_password_reuse_prevention", min);
        };
        let outcome = match policy.password_reuse_prevention.map(i64::from) {
            Some(n) if n >= min => Outcome::pass(format!(
                "the last {n} passwords cannot be reused (at least {min} required)"
            )),
            Some(n) => Outcome::fail(format!(
                "only the last {n} passwords cannot be reused, fewer than the required {min}"
            )),
            None => Outcome::fail("the password policy does not restrict password reuse"),
        };
        outcome
            .with(
                "password_reuse_prevention",
                policy.password_reuse_prevention,
            )
            .with("min_password_reuse_prevention", min)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn with_reuse(reuse: Option<i32>) -> Resource {
        password_policy_resource(Observed::Collected(password_policy(Some(14), reuse)))
    }

    #[test]
    fn pass_at_24() {
        let o = expect(
            run(&IamPasswordPolicyReuse24, &with_reuse(Some(24)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["password_reuse_prevention"], 24);
        assert_eq!(o.evidence["min_password_reuse_prevention"], 24);
    }

    #[test]
    fn fail_below_the_parameter() {
        let o = expect(
            run(&IamPasswordPolicyReuse24, &with_reuse(Some(23)), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["password_reuse_prevention"], 23);
        assert_eq!(o.evidence["min_password_reuse_prevention"], 24);
    }

    #[test]
    fn fail_when_reuse_unrestricted() {
        let o = expect(
            run(&IamPasswordPolicyReuse24, &with_reuse(None), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["password_reuse_prevention"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn fail_without_a_policy() {
        let o = expect(
            run(
                &IamPasswordPolicyReuse24,
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
                &IamPasswordPolicyReuse24,
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
