//! `iam_password_policy_complexity`: the account password policy requires an uppercase
//! letter, a lowercase letter, a number and a symbol.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamPasswordPolicyComplexity;

static META: RuleMeta = RuleMeta {
    id: "iam_password_policy_complexity",
    title: "Password policy requires uppercase, lowercase, numbers and symbols",
    severity: Severity::Medium,
    subject: ResourceKind::IamPasswordPolicy,
    rationale: "Passwords drawn from a small character set are guessed and cracked faster, \
                exposing the console access of users who can reach ePHI; password management \
                procedures must make passwords hard to guess (164.308(a)(5)(ii)(D), \
                164.312(d)).",
    remediation: "Set the account password policy (UpdateAccountPasswordPolicy) with \
                  --require-uppercase-characters --require-lowercase-characters \
                  --require-numbers --require-symbols.",
    api_calls: &["iam:GetAccountPasswordPolicy"],
    params: &[],
};

impl Rule for IamPasswordPolicyComplexity {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamPasswordPolicy(pp) = &subject.body else {
            return Outcome::not_applicable("not the account password policy");
        };
        let Some(policy) = try_observed!(pp.policy, "the account password policy") else {
            return Outcome::fail(
                "no password policy: AWS default does not require any character classes",
            )
            .with("password_policy", "none");
        };
        let flags = [
            (
                "require_uppercase_characters",
                policy.require_uppercase_characters,
            ),
            (
                "require_lowercase_characters",
                policy.require_lowercase_characters,
            ),
            ("require_numbers", policy.require_numbers),
            ("require_symbols", policy.require_symbols),
        ];
        let missing: Vec<&str> = flags
            .iter()
            .filter(|(_, on)| !on)
            .map(|(name, _)| *name)
            .collect();
        let mut outcome = if missing.is_empty() {
            Outcome::pass("the policy requires uppercase, lowercase, numbers and symbols")
        } else {
            Outcome::fail(format!("the policy does not set {}", missing.join(", ")))
        };
        for (name, on) in flags {
            outcome = outcome.with(name, on);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn complex() -> posture_model::resources::PasswordPolicy {
        let mut p = password_policy(Some(14), Some(24));
        p.require_uppercase_characters = true;
        p.require_lowercase_characters = true;
        p.require_numbers = true;
        p.require_symbols = true;
        p
    }

    #[test]
    fn pass_when_all_four_required() {
        let o = expect(
            run(
                &IamPasswordPolicyComplexity,
                &password_policy_resource(Observed::Collected(complex())),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["require_symbols"], true);
    }

    #[test]
    fn fail_when_one_is_missing() {
        let mut p = complex();
        p.require_lowercase_characters = false;
        let o = expect(
            run(
                &IamPasswordPolicyComplexity,
                &password_policy_resource(Observed::Collected(p)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["require_lowercase_characters"], false);
        assert!(
            o.reason.contains("require_lowercase_characters"),
            "{}",
            o.reason
        );
        assert!(!o.reason.contains("require_symbols"), "{}", o.reason);
    }

    #[test]
    fn fail_without_a_policy() {
        let o = expect(
            run(
                &IamPasswordPolicyComplexity,
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
                &IamPasswordPolicyComplexity,
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
