//! `iam_unused_console_password_disabled`: no console password has gone unused for more
//! than `max_unused_days` days.
//!
//! A password never used counts from the user's creation date.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamUnusedConsolePasswordDisabled;

static META: RuleMeta = RuleMeta {
    id: "iam_unused_console_password_disabled",
    title: "IAM user's console password unused for 90 days is disabled",
    severity: Severity::Medium,
    subject: ResourceKind::IamUser,
    rationale: "A console password nobody has used in months usually belongs to someone who no \
                longer needs access to ePHI; it can still be guessed, phished or reused from a \
                breach. Access must end when it is no longer needed (164.308(a)(4)(ii)(C), \
                164.308(a)(5)(ii)(D), 164.312(a)(1)).",
    remediation: "Delete the user's login profile (DeleteLoginProfile) or the user; re-create \
                  the password when the person needs console access again.",
    api_calls: &[
        "iam:GetAccountAuthorizationDetails",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
    ],
    params: &[ParamSpec {
        name: "max_unused_days",
        ty: ParamType::Integer,
        default: "90",
        doc: "Maximum days a console password may go unused (since last sign-in, or since the \
              user was created if never used), in days.",
    }],
};

impl Rule for IamUnusedConsolePasswordDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamUser(user) = &subject.body else {
            return Outcome::not_applicable("not an IAM user");
        };
        let Some(creds) = try_observed!(user.credentials, "the user's credential report row")
        else {
            return Outcome::error(
                "the credential report has no row for the user, so its password is unknown",
            );
        };
        if !creds.password_enabled {
            return Outcome::not_applicable("the user has no console password")
                .with("password_enabled", false);
        }
        let max = ctx.int("max_unused_days");
        let (since, basis) = match (creds.password_last_used, user.create_date) {
            (Some(at), _) => (at, "last used"),
            (None, Some(at)) => (at, "never used; user created"),
            (None, None) => {
                return Outcome::error(
                    "the password was never used and the user's creation date is unknown, so \
                     how long it went unused is unknown",
                )
                .with("password_enabled", true);
            }
        };
        let days = (ctx.now - since).num_days();
        let outcome = if days > max {
            Outcome::fail(format!(
                "the console password has gone unused for {days} days ({basis}), more than the \
                 allowed {max}"
            ))
        } else {
            Outcome::pass(format!(
                "the console password was used (or the user created) {days} days ago, within \
                 {max}"
            ))
        };
        outcome
            .with("unused_days", days)
            .with("basis", basis)
            .with("max_unused_days", max)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn console_user(created: Option<i64>, used: Option<i64>) -> Resource {
        let mut u = user("alice");
        u.create_date = created.map(days_ago);
        if let Observed::Collected(c) = &mut u.credentials {
            c.password_enabled = true;
            c.password_last_used = used.map(days_ago);
        }
        user_resource(u)
    }

    #[test]
    fn pass_when_used_recently() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(900), Some(10)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["unused_days"], 10);
    }

    #[test]
    fn pass_when_new_and_never_used() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(5), None),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(5));
        assert_evidence(&o, "basis", serde_json::json!("never used; user created"));
        assert_evidence(&o, "max_unused_days", serde_json::json!(90));
    }

    /// The boundary at the default `max_unused_days` of 90: a password last used 90 days
    /// ago passes, 91 days ago fails (the rule's `days > max`; `>=` fails the first half).
    /// The same boundary holds for a password never used, counted from the user's creation.
    #[test]
    fn pass_at_90_days_unused_and_fail_at_91() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(900), Some(90)),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(90));
        assert_evidence(&o, "basis", serde_json::json!("last used"));
        assert!(o.reason.contains("90 days ago, within 90"), "{}", o.reason);
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(900), Some(91)),
                &[],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(91));
        assert_evidence(&o, "max_unused_days", serde_json::json!(90));
        assert!(
            o.reason
                .contains("unused for 91 days (last used), more than the allowed 90"),
            "{}",
            o.reason
        );
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(90), None),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(90));
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(91), None),
                &[],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(91));
        assert_evidence(&o, "basis", serde_json::json!("never used; user created"));
    }

    /// A recent sign-in wins over an old creation date, and an old sign-in is not excused by
    /// a recent creation date: the last use, when known, is what counts.
    #[test]
    fn last_use_takes_precedence_over_creation() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(5), Some(200)),
                &[],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(200));
        assert_evidence(&o, "basis", serde_json::json!("last used"));
    }

    #[test]
    fn fail_against_a_lowered_parameter() {
        let mut params = crate::Params::defaults(&IamUnusedConsolePasswordDisabled);
        params.set("max_unused_days", crate::ParamValue::Integer(30));
        let o = expect(
            run_with(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(900), Some(31)),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert_evidence(&o, "unused_days", serde_json::json!(31));
        assert_evidence(&o, "max_unused_days", serde_json::json!(30));
        assert!(
            o.reason.contains("more than the allowed 30"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_when_last_use_is_old() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(900), Some(91)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["basis"], "last used");
        assert_eq!(o.evidence["unused_days"], 91);
    }

    #[test]
    fn fail_when_never_used_and_old() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(Some(200), None),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("never used"), "{}", o.reason);
        assert_evidence(&o, "unused_days", serde_json::json!(200));
        assert_evidence(&o, "basis", serde_json::json!("never used; user created"));
    }

    #[test]
    fn error_when_credential_report_unavailable() {
        let mut u = user("alice");
        u.credentials = denied("iam:GetCredentialReport");
        let o = expect(
            run(&IamUnusedConsolePasswordDisabled, &user_resource(u), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetCredentialReport"), "{}", o.reason);
        assert_eq!(
            o.evidence["unavailable"]["operation"],
            "iam:GetCredentialReport"
        );
        // No row for the user in a report that was read: unknown, not a pass.
        let mut u = user("alice");
        u.credentials = Observed::Absent;
        let o = expect(
            run(&IamUnusedConsolePasswordDisabled, &user_resource(u), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("no row for the user"), "{}", o.reason);
    }

    #[test]
    fn error_when_never_used_and_creation_unknown() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &console_user(None, None),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("creation date is unknown"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "password_enabled", serde_json::json!(true));
    }

    #[test]
    fn not_applicable_without_password() {
        let o = expect(
            run(
                &IamUnusedConsolePasswordDisabled,
                &user_resource(user("svc")),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("no console password"), "{}", o.reason);
        assert_evidence(&o, "password_enabled", serde_json::json!(false));
    }
}
