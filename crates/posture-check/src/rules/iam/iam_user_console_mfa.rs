//! `iam_user_console_mfa`: every IAM user with a console password has an MFA device.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamUserConsoleMfa;

static META: RuleMeta = RuleMeta {
    id: "iam_user_console_mfa",
    title: "IAM user with a console password has MFA",
    severity: Severity::High,
    subject: ResourceKind::IamUser,
    rationale: "A console user protected only by a password is one phished or reused password away \
                from whatever ePHI the user can reach; person or entity authentication must \
                verify that the person is who they claim to be (164.312(d)).",
    remediation: "Have the user assign an MFA device (Security credentials > Assign MFA device), \
                  and enforce it with a policy that denies actions when \
                  aws:MultiFactorAuthPresent is false; or remove the console password if the user \
                  does not need the console.",
    api_calls: &[
        "iam:GetAccountAuthorizationDetails",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
    ],
    params: &[],
};

impl Rule for IamUserConsoleMfa {
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
                "the credential report has no row for the user, so console MFA is unknown",
            );
        };
        if !creds.password_enabled {
            return Outcome::not_applicable("the user has no console password")
                .with("password_enabled", false);
        }
        let outcome = if creds.mfa_active {
            Outcome::pass("the user has a console password and an active MFA device")
        } else {
            Outcome::fail("the user has a console password but no MFA device")
        };
        outcome
            .with("password_enabled", true)
            .with("mfa_active", creds.mfa_active)
            .with("password_last_used", creds.password_last_used)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn console_user(mfa: bool) -> Resource {
        let mut u = user("alice");
        if let Observed::Collected(c) = &mut u.credentials {
            c.password_enabled = true;
            c.mfa_active = mfa;
            c.password_last_used = Some(days_ago(1));
        }
        user_resource(u)
    }

    #[test]
    fn pass_with_mfa() {
        let o = expect(
            run(&IamUserConsoleMfa, &console_user(true), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["mfa_active"], true);
        assert_eq!(o.evidence["password_enabled"], true);
    }

    #[test]
    fn fail_without_mfa() {
        let o = expect(
            run(&IamUserConsoleMfa, &console_user(false), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["mfa_active"], false);
    }

    #[test]
    fn error_when_credential_report_unavailable() {
        let mut u = user("alice");
        u.credentials = denied("iam:GetCredentialReport");
        let o = expect(
            run(&IamUserConsoleMfa, &user_resource(u), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetCredentialReport"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_console_password() {
        let o = expect(
            run(&IamUserConsoleMfa, &user_resource(user("robot")), &[]),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("no console password"), "{}", o.reason);
        assert_eq!(o.evidence["password_enabled"], false);
    }
}
