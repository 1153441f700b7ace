//! `iam_root_not_used`: the root user has not been used within the last `recent_use_days`
//! days: neither its password (console sign-in) nor any of its access keys, as the
//! credential report's `<root_account>` row states.
//!
//! A report that could not be read, or that has no root row, is `Error`, never `Pass`.

use chrono::{DateTime, Utc};
use posture_model::resources::ROOT_ACCOUNT_ROW;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamRootNotUsed;

static META: RuleMeta = RuleMeta {
    id: "iam_root_not_used",
    title: "Root user has not been used recently",
    severity: Severity::High,
    subject: ResourceKind::IamCredentialReport,
    rationale: "Root bypasses every IAM policy, and its actions are not attributable to a \
                person; everyday work, including any access to ePHI, should go through \
                individual identities with least privilege, keeping root for the few tasks \
                that need it (164.308(a)(3)(ii)(A), 164.312(a)(2)(i) unique user \
                identification).",
    remediation: "Find out who used root and why (CloudTrail events with userIdentity.type = \
                  Root); give them an IAM Identity Center or IAM identity for that work, \
                  delete any root access keys, and keep the root password and MFA device \
                  under break-glass control.",
    api_calls: &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
    params: &[ParamSpec {
        name: "recent_use_days",
        ty: ParamType::Integer,
        default: "90",
        doc: "A root password or access key used within this many days counts as recent use, \
              in days.",
    }],
};

impl Rule for IamRootNotUsed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamCredentialReport(report) = &subject.body else {
            return Outcome::not_applicable("not the IAM credential report");
        };
        let Some(rows) = try_observed!(report.rows, "the credential report") else {
            return Outcome::error("the credential report was not present");
        };
        let Some(root) = rows.iter().find(|r| r.user == ROOT_ACCOUNT_ROW) else {
            return Outcome::error(format!(
                "the credential report has no {ROOT_ACCOUNT_ROW} row, so root's last use is \
                 unknown"
            ))
            .with("rows", rows.len());
        };
        let creds = &root.credentials;
        let mut uses: Vec<(&str, DateTime<Utc>)> = Vec::new();
        if let Some(at) = creds.password_last_used {
            uses.push(("password", at));
        }
        for k in &creds.access_keys {
            if let Some(at) = k.last_used {
                uses.push((
                    if k.slot == 1 {
                        "access key 1"
                    } else {
                        "access key 2"
                    },
                    at,
                ));
            }
        }
        let window = ctx.int("recent_use_days");
        let last = uses.iter().max_by_key(|(_, at)| *at).copied();
        let outcome = match last {
            Some((what, at)) if (ctx.now - at).num_days() <= window => Outcome::fail(format!(
                "root's {what} was used {} day(s) ago, within the last {window}",
                (ctx.now - at).num_days()
            )),
            Some((what, at)) => Outcome::pass(format!(
                "root was last used ({what}) {} days ago, more than {window}",
                (ctx.now - at).num_days()
            )),
            None => {
                Outcome::pass("the credential report records no use of root's password or keys")
            }
        };
        outcome
            .with("password_last_used", creds.password_last_used)
            .with(
                "access_keys_last_used",
                creds
                    .access_keys
                    .iter()
                    .map(|k| (k.slot, k.last_used))
                    .collect::<Vec<_>>(),
            )
            .with("recent_use_days", window)
            .with("report_generated_at", report.generated_at)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{
        AccessKeyInfo, CredentialReportRow, IamCredentialReport, UserCredentials,
    };
    use posture_model::{Observed, Region, Status};

    use super::*;
    use crate::testing::*;

    fn root_row(password: Option<i64>, key: Option<i64>) -> CredentialReportRow {
        CredentialReportRow {
            user: ROOT_ACCOUNT_ROW.into(),
            arn: "arn:aws:iam::111122223333:root".into(),
            credentials: UserCredentials {
                password_enabled: true,
                password_last_used: password.map(days_ago),
                mfa_active: true,
                access_keys: key
                    .map(|d| AccessKeyInfo {
                        slot: 1,
                        active: true,
                        last_rotated: None,
                        last_used: Some(days_ago(d)),
                    })
                    .into_iter()
                    .collect(),
            },
        }
    }

    fn report(rows: Observed<Vec<CredentialReportRow>>) -> Resource {
        resource(
            "arn:aws:iam::111122223333:credential-report",
            Region::global(),
            ResourceBody::IamCredentialReport(IamCredentialReport {
                generated_at: None,
                rows,
            }),
        )
    }

    #[test]
    fn pass_when_never_or_long_ago() {
        let o = expect(
            run(
                &IamRootNotUsed,
                &report(Observed::Collected(vec![root_row(None, None)])),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("no use"), "{}", o.reason);
        let o = expect(
            run(
                &IamRootNotUsed,
                &report(Observed::Collected(vec![root_row(Some(200), Some(120))])),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("access key 1"), "{}", o.reason);
        assert_eq!(o.evidence["recent_use_days"], 90);
    }

    #[test]
    fn fail_when_used_recently() {
        let o = expect(
            run(
                &IamRootNotUsed,
                &report(Observed::Collected(vec![root_row(Some(3), Some(400))])),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("password"), "{}", o.reason);
        assert!(o.evidence["password_last_used"].is_string());
    }

    /// The boundary at the default `recent_use_days` of 90: root used 90 days ago is
    /// recent use (Fail), 91 days ago is not (Pass); the rule's `<= window` as `<` fails
    /// the first half. The most recent of the password and the keys is the one judged.
    #[test]
    fn fail_at_90_days_and_pass_at_91() {
        let o = expect(
            run(
                &IamRootNotUsed,
                &report(Observed::Collected(vec![root_row(Some(400), Some(90))])),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("root's access key 1 was used 90 day(s) ago, within the last 90"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "recent_use_days", serde_json::json!(90));
        assert_eq!(
            o.evidence["access_keys_last_used"],
            serde_json::json!([[1, days_ago(90)]])
        );
        assert_eq!(
            o.evidence["password_last_used"],
            serde_json::json!(days_ago(400))
        );
        let o = expect(
            run(
                &IamRootNotUsed,
                &report(Observed::Collected(vec![root_row(Some(91), Some(400))])),
                &[],
            ),
            Status::Pass,
        );
        assert!(
            o.reason
                .contains("root was last used (password) 91 days ago, more than 90"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["password_last_used"],
            serde_json::json!(days_ago(91))
        );
    }

    #[test]
    fn error_without_root_row_or_report() {
        let o = expect(
            run(&IamRootNotUsed, &report(Observed::Collected(vec![])), &[]),
            Status::Error,
        );
        assert!(o.reason.contains(ROOT_ACCOUNT_ROW), "{}", o.reason);
        assert_evidence(&o, "rows", serde_json::json!(0));
        let o = expect(
            run(
                &IamRootNotUsed,
                &report(denied("iam:GetCredentialReport")),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetCredentialReport"), "{}", o.reason);
        assert_eq!(
            o.evidence["unavailable"]["operation"],
            "iam:GetCredentialReport"
        );
    }
}
