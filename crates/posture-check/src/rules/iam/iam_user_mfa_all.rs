//! `iam_user_mfa_all`: every IAM user, with or without a console password, has an active
//! MFA device (from the credential report's `mfa_active`: no per-user call).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamUserMfaAll;

static META: RuleMeta = RuleMeta {
    id: "iam_user_mfa_all",
    title: "Every IAM user has an MFA device",
    severity: Severity::Medium,
    subject: ResourceKind::IamUser,
    rationale: "An MFA device on every user lets policies require aws:MultiFactorAuthPresent for \
                access to ePHI, and keeps a user who gains a console password later from \
                signing in with the password alone: person or entity authentication \
                (164.312(d)) and access authorization (164.308(a)(4)(ii)(B), \
                164.308(a)(3)(ii)(A)).",
    remediation: "Assign an MFA device to the user (IAM console > user > Security credentials > \
                  Assign MFA device, or EnableMFADevice); for workloads, replace the user with \
                  a role.",
    api_calls: &[
        "iam:GetAccountAuthorizationDetails",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
    ],
    params: &[],
};

impl Rule for IamUserMfaAll {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamUser(user) = &subject.body else {
            return Outcome::not_applicable("not an IAM user");
        };
        let Some(creds) = try_observed!(user.credentials, "the user's credential report row")
        else {
            return Outcome::error(
                "the credential report has no row for the user, so its MFA is unknown",
            );
        };
        let outcome = if creds.mfa_active {
            Outcome::pass("the user has an active MFA device")
        } else {
            Outcome::fail("the user has no MFA device")
        };
        outcome
            .with("mfa_active", creds.mfa_active)
            .with("password_enabled", creds.password_enabled)
            .with(
                "access_keys",
                creds.access_keys.iter().filter(|k| k.active).count(),
            )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn with_mfa(mfa: bool) -> Resource {
        let mut u = user("svc");
        if let Observed::Collected(c) = &mut u.credentials {
            c.mfa_active = mfa;
        }
        user_resource(u)
    }

    #[test]
    fn pass_with_mfa() {
        let o = expect(run(&IamUserMfaAll, &with_mfa(true), &[]), Status::Pass);
        assert_eq!(o.evidence["mfa_active"], true);
    }

    #[test]
    fn fail_without_mfa_even_without_console_password() {
        let o = expect(run(&IamUserMfaAll, &with_mfa(false), &[]), Status::Fail);
        assert_eq!(o.evidence["mfa_active"], false);
        assert_eq!(o.evidence["password_enabled"], false);
    }

    #[test]
    fn error_when_report_unavailable_or_row_missing() {
        let mut u = user("svc");
        u.credentials = denied("iam:GetCredentialReport");
        let o = expect(run(&IamUserMfaAll, &user_resource(u), &[]), Status::Error);
        assert!(o.reason.contains("iam:GetCredentialReport"), "{}", o.reason);
        let mut u = user("svc");
        u.credentials = Observed::Absent;
        let o = expect(run(&IamUserMfaAll, &user_resource(u), &[]), Status::Error);
        assert!(o.reason.contains("no row"), "{}", o.reason);
    }
}
