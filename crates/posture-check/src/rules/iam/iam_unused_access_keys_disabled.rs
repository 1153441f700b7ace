//! `iam_unused_access_keys_disabled`: no active access key has gone unused for more than
//! `max_unused_days` days.
//!
//! A key's last use is its `last_used` date; a key never used counts from its creation or
//! last rotation.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamUnusedAccessKeysDisabled;

static META: RuleMeta = RuleMeta {
    id: "iam_unused_access_keys_disabled",
    title: "IAM user's access keys unused for 90 days are disabled",
    severity: Severity::Medium,
    subject: ResourceKind::IamUser,
    rationale: "An active key nobody uses is a standing credential to ePHI that no process \
                depends on and no one watches: typically left behind by a departed person or \
                retired system. Access must end when it is no longer needed, and credentials \
                must be managed (164.308(a)(4)(ii)(C), 164.308(a)(5)(ii)(D), \
                164.312(a)(1)).",
    remediation: "Deactivate the unused key (UpdateAccessKey --status Inactive), confirm nothing \
                  breaks, then delete it; replace user keys with roles where possible.",
    api_calls: &[
        "iam:GetAccountAuthorizationDetails",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
    ],
    params: &[ParamSpec {
        name: "max_unused_days",
        ty: ParamType::Integer,
        default: "90",
        doc: "Maximum days an active access key may go unused (since last use, or since \
              creation or rotation if never used), in days.",
    }],
};

impl Rule for IamUnusedAccessKeysDisabled {
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
                "the credential report has no row for the user, so its access keys are unknown",
            );
        };
        let max = ctx.int("max_unused_days");
        let active: Vec<_> = creds.access_keys.iter().filter(|k| k.active).collect();
        if active.is_empty() {
            return Outcome::not_applicable("the user has no active access key")
                .with("active_access_keys", 0);
        }
        let mut stale = Vec::new();
        let mut unknown = Vec::new();
        let mut keys = Vec::new();
        for key in &active {
            let (since, basis) = match (key.last_used, key.last_rotated) {
                (Some(at), _) => (Some(at), "last used"),
                (None, Some(at)) => (Some(at), "never used; created or rotated"),
                (None, None) => (None, "unknown"),
            };
            match since {
                Some(at) => {
                    let days = (ctx.now - at).num_days();
                    keys.push(json!({"slot": key.slot, "unused_days": days, "basis": basis}));
                    if days > max {
                        stale.push(format!("key {} unused for {days} days ({basis})", key.slot));
                    }
                }
                None => {
                    keys.push(json!({"slot": key.slot, "unused_days": null, "basis": basis}));
                    unknown.push(key.slot.to_string());
                }
            }
        }
        let outcome = if !stale.is_empty() {
            Outcome::fail(format!(
                "active {}, more than the allowed {max}",
                stale.join(" and ")
            ))
        } else if !unknown.is_empty() {
            Outcome::error(format!(
                "the credential report gives neither a last-use nor a rotation date for active \
                 key {}, so how long it went unused is unknown",
                unknown.join(" and ")
            ))
        } else {
            Outcome::pass(format!(
                "every active access key was used (or created) within {max} days"
            ))
        };
        outcome
            .with("access_keys", keys)
            .with("max_unused_days", max)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::AccessKeyInfo;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    fn with_keys(keys: Vec<AccessKeyInfo>) -> Resource {
        let mut u = user("ci");
        if let Observed::Collected(c) = &mut u.credentials {
            c.access_keys = keys;
        }
        user_resource(u)
    }

    fn key(slot: u8, active: bool, rotated: Option<i64>, used: Option<i64>) -> AccessKeyInfo {
        AccessKeyInfo {
            slot,
            active,
            last_rotated: rotated.map(days_ago),
            last_used: used.map(days_ago),
        }
    }

    #[test]
    fn pass_when_recently_used_even_if_old() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![
                    key(1, true, Some(400), Some(3)),
                    key(2, false, Some(500), None),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "unused_days": 3, "basis": "last used"}])
        );
    }

    #[test]
    fn pass_when_new_and_never_used() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, true, Some(0), None)]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([
                {"slot": 1, "unused_days": 0, "basis": "never used; created or rotated"}
            ])
        );
        assert_eq!(o.evidence["max_unused_days"], 90);
    }

    #[test]
    fn fail_when_last_use_is_old() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, true, Some(300), Some(91))]),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.contains("key 1 unused for 91 days"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_when_never_used_and_created_long_ago() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(2, true, Some(120), None)]),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("key 2 unused for 120 days (never used; created or rotated)"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([
                {"slot": 2, "unused_days": 120, "basis": "never used; created or rotated"}
            ])
        );
    }

    #[test]
    fn fail_against_a_lowered_parameter() {
        let mut params = Params::defaults(&IamUnusedAccessKeysDisabled);
        params.set("max_unused_days", ParamValue::Integer(45));
        let o = expect(
            run_with(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, true, Some(100), Some(50))]),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["max_unused_days"], 45);
        assert!(
            o.reason
                .contains("unused for 50 days (last used), more than the allowed 45"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_credential_report_unavailable() {
        let mut u = user("ci");
        u.credentials = denied("iam:GetCredentialReport");
        let o = expect(
            run(&IamUnusedAccessKeysDisabled, &user_resource(u), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetCredentialReport"), "{}", o.reason);
        assert_eq!(
            o.evidence["unavailable"]["operation"],
            "iam:GetCredentialReport"
        );
    }

    #[test]
    fn error_when_no_dates_known() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, true, None, None), key(2, true, Some(10), None)]),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("active key 1,"), "{}", o.reason);
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([
                {"slot": 1, "unused_days": null, "basis": "unknown"},
                {"slot": 2, "unused_days": 10, "basis": "never used; created or rotated"}
            ])
        );
        // A key known to be stale fails even when the other key's dates are unknown.
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![
                    key(1, true, None, None),
                    key(2, true, Some(300), Some(91)),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.contains("key 2 unused for 91 days"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_without_active_keys() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, false, Some(500), None)]),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("no active access key"), "{}", o.reason);
        assert_evidence(&o, "active_access_keys", serde_json::json!(0));
    }

    /// The boundary: a key unused for exactly `max_unused_days` (90) passes, one more day
    /// fails, and the evidence carries the days the rule decided on.
    #[test]
    fn pass_at_90_days_unused_and_fail_at_91() {
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, true, Some(300), Some(90))]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "unused_days": 90, "basis": "last used"}])
        );
        assert_eq!(o.evidence["max_unused_days"], serde_json::json!(90));
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![key(1, true, Some(300), Some(91))]),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "unused_days": 91, "basis": "last used"}])
        );
        // An inactive key, however old, is not judged.
        let o = expect(
            run(
                &IamUnusedAccessKeysDisabled,
                &with_keys(vec![
                    key(1, true, Some(300), Some(5)),
                    key(2, false, Some(900), Some(800)),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "unused_days": 5, "basis": "last used"}])
        );
    }
}
