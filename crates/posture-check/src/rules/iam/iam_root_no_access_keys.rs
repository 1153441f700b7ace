//! `iam_root_no_access_keys`: the root user has no access keys.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamRootNoAccessKeys;

static META: RuleMeta = RuleMeta {
    id: "iam_root_no_access_keys",
    title: "Root user has no access keys",
    severity: Severity::Critical,
    subject: ResourceKind::IamAccountSummary,
    rationale: "A root access key is a long-lived secret with unrestricted, unattributable power \
                over the account and all its ePHI; it cannot be limited by policy, and whoever \
                uses it acts as no particular person. Each user needs a unique identity \
                (164.312(a)(2)(i)) and authentication (164.312(d)).",
    remediation: "Sign in as root, delete every root access key under Security credentials, and \
                  give automation an IAM role or user with only the permissions it needs.",
    api_calls: &["iam:GetAccountSummary"],
    params: &[],
};

const KEY: &str = "AccountAccessKeysPresent";

impl Rule for IamRootNoAccessKeys {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamAccountSummary(s) = &subject.body else {
            return Outcome::not_applicable("not the IAM account summary");
        };
        let summary = try_observed!(s.summary, "the IAM account summary");
        match summary.and_then(|m| m.get(KEY)).copied() {
            Some(0) => Outcome::pass("the root user has no access keys").with(KEY, 0),
            Some(n) => Outcome::fail("the root user has access keys").with(KEY, n),
            None => Outcome::error(format!(
                "the account summary has no {KEY} entry, so whether root has access keys is \
                 unknown"
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
    fn pass_without_keys() {
        let o = expect(
            run(&IamRootNoAccessKeys, &summary_resource(&[(KEY, 0)]), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence[KEY], 0);
    }

    #[test]
    fn fail_with_keys() {
        let o = expect(
            run(&IamRootNoAccessKeys, &summary_resource(&[(KEY, 1)]), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence[KEY], 1);
    }

    #[test]
    fn error_when_key_missing() {
        let o = expect(
            run(&IamRootNoAccessKeys, &summary_resource(&[]), &[]),
            Status::Error,
        );
        assert!(o.reason.contains(KEY), "{}", o.reason);
    }

    #[test]
    fn error_when_summary_denied() {
        let o = expect(
            run(
                &IamRootNoAccessKeys,
                &summary_resource_observed(denied("iam:GetAccountSummary")),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetAccountSummary"), "{}", o.reason);
        assert_eq!(
            o.evidence["unavailable"]["operation"],
            "iam:GetAccountSummary"
        );
    }
}
