//! `iam_access_key_rotated_90d`: every active access key of an IAM user was created or
//! rotated within `max_access_key_age_days` days.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamAccessKeyRotated90d;

static META: RuleMeta = RuleMeta {
    id: "iam_access_key_rotated_90d",
    title: "IAM user's active access keys are rotated within 90 days",
    severity: Severity::Medium,
    subject: ResourceKind::IamUser,
    rationale: "Access keys are long-lived passwords for the API; the older a key, the more \
                places (laptops, CI logs, repositories) it may have leaked to while still \
                granting access to ePHI. Password management includes changing credentials \
                periodically (164.308(a)(5)(ii)(D)).",
    remediation: "Create a second key, move every client to it, deactivate and then delete the old \
                  key; better, replace user keys with IAM roles and short-lived credentials.",
    api_calls: &[
        "iam:GetAccountAuthorizationDetails",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
    ],
    params: &[ParamSpec {
        name: "max_access_key_age_days",
        ty: ParamType::Integer,
        default: "90",
        doc: "Maximum age of an active access key since creation or rotation, in days.",
    }],
};

impl Rule for IamAccessKeyRotated90d {
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
        let max = ctx.int("max_access_key_age_days");
        let active: Vec<_> = creds.access_keys.iter().filter(|k| k.active).collect();
        if active.is_empty() {
            return Outcome::not_applicable("the user has no active access key")
                .with("active_access_keys", 0);
        }
        let mut old = Vec::new();
        let mut unknown = Vec::new();
        let mut keys = Vec::new();
        for key in &active {
            match key.last_rotated {
                Some(at) => {
                    let age = (ctx.now - at).num_days();
                    keys.push(json!({"slot": key.slot, "age_days": age}));
                    if age > max {
                        old.push(format!("key {} is {age} days old", key.slot));
                    }
                }
                None => {
                    keys.push(json!({"slot": key.slot, "age_days": null}));
                    unknown.push(key.slot);
                }
            }
        }
        let outcome = if !old.is_empty() {
            Outcome::fail(format!(
                "{}, older than the allowed {max}",
                old.join(" and ")
            ))
        } else if !unknown.is_empty() {
            let slots: Vec<String> = unknown.iter().map(u8::to_string).collect();
            Outcome::error(format!(
                "the credential report gives no rotation date for active key {}, so its age is \
                 unknown",
                slots.join(" and ")
            ))
        } else {
            Outcome::pass(format!("every active access key is at most {max} days old"))
        };
        outcome
            .with("access_keys", keys)
            .with("max_access_key_age_days", max)
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

    fn key(slot: u8, active: bool, age: Option<i64>) -> AccessKeyInfo {
        AccessKeyInfo {
            slot,
            active,
            last_rotated: age.map(days_ago),
            last_used: None,
        }
    }

    #[test]
    fn pass_when_active_keys_are_young() {
        let o = expect(
            run(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, true, Some(90)), key(2, false, Some(400))]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "age_days": 90}])
        );
        assert_eq!(o.evidence["max_access_key_age_days"], 90);
    }

    #[test]
    fn fail_when_an_active_key_is_old() {
        let o = expect(
            run(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, true, Some(10)), key(2, true, Some(91))]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("key 2 is 91 days old"), "{}", o.reason);
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "age_days": 10}, {"slot": 2, "age_days": 91}])
        );
    }

    #[test]
    fn fail_against_a_lowered_parameter() {
        let mut params = Params::defaults(&IamAccessKeyRotated90d);
        params.set("max_access_key_age_days", ParamValue::Integer(30));
        let o = expect(
            run_with(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, true, Some(45))]),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["max_access_key_age_days"], 30);
        assert!(
            o.reason
                .contains("key 1 is 45 days old, older than the allowed 30"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_rotation_date_unknown() {
        let o = expect(
            run(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, true, None)]),
                &[],
            ),
            Status::Error,
        );
        assert_eq!(
            o.evidence["access_keys"],
            serde_json::json!([{"slot": 1, "age_days": null}])
        );
    }

    #[test]
    fn error_when_credential_report_unavailable() {
        let mut u = user("ci");
        u.credentials = denied("iam:GetCredentialReport");
        let o = expect(
            run(&IamAccessKeyRotated90d, &user_resource(u), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("iam:GetCredentialReport"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_active_keys() {
        let o = expect(
            run(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, false, Some(500))]),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("no active access key"), "{}", o.reason);
        assert_evidence(&o, "active_access_keys", serde_json::json!(0));
    }

    /// An old key fails even when the other key's rotation date is unknown; an unknown
    /// date beside a young key is an error, not a pass.
    #[test]
    fn an_old_key_fails_beside_an_unknown_one() {
        let o = expect(
            run(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, true, None), key(2, true, Some(91))]),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("key 2 is 91 days old, older than the allowed 90"),
            "{}",
            o.reason
        );
        let o = expect(
            run(
                &IamAccessKeyRotated90d,
                &with_keys(vec![key(1, true, None), key(2, true, Some(5))]),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("no rotation date for active key 1,"),
            "{}",
            o.reason
        );
    }
}
