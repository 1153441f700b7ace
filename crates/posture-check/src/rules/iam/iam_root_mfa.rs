//! `iam_root_mfa`: the root user has MFA enabled.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamRootMfa;

static META: RuleMeta = RuleMeta {
    id: "iam_root_mfa",
    title: "Root user has MFA enabled",
    severity: Severity::Critical,
    subject: ResourceKind::IamAccountSummary,
    rationale: "The root user can do anything in the account, including reading every store of \
                ePHI and disabling logging; with only a password, one phished or reused password \
                compromises the whole account. Person or entity authentication must be strong \
                enough for the access it grants (164.312(d)).",
    remediation: "Sign in as root and assign an MFA device (preferably a hardware key) under \
                  Security credentials; keep the device in a controlled location.",
    api_calls: &["iam:GetAccountSummary"],
    params: &[],
};

const KEY: &str = "AccountMFAEnabled";

impl Rule for IamRootMfa {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamAccountSummary(s) = &subject.body else {
            return Outcome::not_applicable("not the IAM account summary");
        };
        let summary = try_observed!(s.summary, "the IAM account summary");
        match summary.and_then(|m| m.get(KEY)).copied() {
            Some(1) => Outcome::pass("the root user has MFA enabled").with(KEY, 1),
            Some(0) => Outcome::fail("the root user has no MFA device").with(KEY, 0),
            Some(other) => {
                Outcome::error(format!("{KEY} has the unexpected value {other}")).with(KEY, other)
            }
            None => Outcome::error(format!(
                "the account summary has no {KEY} entry, so whether root has MFA is unknown"
            ))
            .with(KEY, None::<i32>),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_mfa_enabled() {
        let o = expect(
            run(&IamRootMfa, &summary_resource(&[(KEY, 1)]), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence[KEY], 1);
    }

    #[test]
    fn fail_without_mfa() {
        let o = expect(
            run(&IamRootMfa, &summary_resource(&[(KEY, 0)]), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence[KEY], 0);
    }

    #[test]
    fn error_when_key_missing() {
        let o = expect(
            run(
                &IamRootMfa,
                &summary_resource(&[("AccountAccessKeysPresent", 0)]),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains(KEY), "{}", o.reason);
    }

    #[test]
    fn error_when_summary_denied() {
        let o = expect(
            run(
                &IamRootMfa,
                &summary_resource_observed(denied("iam:GetAccountSummary")),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetAccountSummary"), "{}", o.reason);
    }
}
