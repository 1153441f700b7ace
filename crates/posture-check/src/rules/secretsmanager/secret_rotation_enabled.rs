//! `secret_rotation_enabled`: a secret has automatic rotation on, at most every
//! `max_rotation_days`, and has actually been rotated on that schedule.

use chrono::Duration;
use posture_model::resources::Secret;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::rule::{ParamSpec, ParamType};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SecretRotationEnabled;

/// Slack after a scheduled rotation before it counts as missed: rotation runs in a window,
/// and a schedule change moves the next date.
const GRACE_DAYS: i64 = 2;

static META: RuleMeta = RuleMeta {
    id: "secret_rotation_enabled",
    title: "Secrets Manager secret is rotated automatically and on schedule",
    severity: Severity::Medium,
    subject: ResourceKind::Secret,
    rationale: "Database passwords and API keys that reach ePHI are access credentials; \
                rotating them limits how long a leaked or departed user's copy works, as \
                access establishment, modification and password management require \
                (164.308(a)(4)(ii)(B)-(C), 164.308(a)(5)(ii)(D)).",
    remediation: "Turn on rotation for the secret (Secrets Manager console > secret > Rotation, \
                  or RotateSecret with RotationRules and a rotation function or managed \
                  rotation) at most every max_rotation_days days; when rotation is on but \
                  overdue, read the rotation function's logs and fix it.",
    api_calls: &["secretsmanager:ListSecrets"],
    params: &[ParamSpec {
        name: "max_rotation_days",
        ty: ParamType::Integer,
        default: "90",
        doc: "The longest rotation interval allowed, in days.",
    }],
};

/// The interval a `rate(N days)` / `rate(N hours)` schedule expression states, in days
/// (rounded up); `None` for `cron(...)` or anything else.
fn rate_days(expr: &str) -> Option<i64> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let mut parts = inner.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    match parts.next()? {
        "day" | "days" => Some(n),
        "hour" | "hours" => Some((n + 23) / 24),
        _ => None,
    }
}

fn interval_days(s: &Secret) -> Option<i64> {
    s.rotation_days
        .or_else(|| s.rotation_schedule.as_deref().and_then(rate_days))
}

impl Rule for SecretRotationEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Secret(secret) = &subject.body else {
            return Outcome::not_applicable("not a Secrets Manager secret");
        };
        let max = ctx.int("max_rotation_days");
        let interval = interval_days(secret);
        let described = |o: Outcome| {
            o.with("secret", &secret.name)
                .with("rotation_enabled", secret.rotation_enabled)
                .with("rotation_interval_days", interval)
                .with("rotation_schedule", &secret.rotation_schedule)
                .with("last_rotated", secret.last_rotated)
                .with("next_rotation", secret.next_rotation)
                .with("owning_service", &secret.owning_service)
                .with("max_rotation_days", max)
        };
        if let Some(deleted) = secret.deleted {
            return described(Outcome::not_applicable(format!(
                "the secret is scheduled for deletion ({deleted})"
            )));
        }
        if !secret.rotation_enabled {
            return described(Outcome::fail(format!(
                "automatic rotation is off for secret {}",
                secret.name
            )));
        }
        if let Some(days) = interval
            && days > max
        {
            return described(Outcome::fail(format!(
                "secret {} rotates every {days} days, more than the allowed {max}",
                secret.name
            )));
        }
        // When was it last rotated (or, never rotated, created)? It must have been rotated
        // within one interval (the allowed maximum for cron schedules) plus grace.
        let bound = interval.unwrap_or(max);
        let since = secret.last_rotated.or(secret.created);
        let Some(since) = since else {
            return described(Outcome::error(format!(
                "ListSecrets gave neither a last rotation nor a creation date for secret {}",
                secret.name
            )));
        };
        let age = ctx.now.signed_duration_since(since);
        if age > Duration::days(bound + GRACE_DAYS) {
            let what = if secret.last_rotated.is_some() {
                "last rotated"
            } else {
                "never rotated; created"
            };
            return described(Outcome::fail(format!(
                "rotation of secret {} is overdue: {what} {} days ago, schedule {bound} days",
                secret.name,
                age.num_days()
            )))
            .with("days_since_rotation", age.num_days());
        }
        described(Outcome::pass(format!(
            "secret {} rotates automatically every {} and was rotated {} days ago",
            secret.name,
            interval.map_or_else(
                || secret.rotation_schedule.clone().unwrap_or_default(),
                |d| format!("{d} days")
            ),
            age.num_days()
        )))
        .with("days_since_rotation", age.num_days())
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::baseline::ParamValue;
    use crate::rules::secretsmanager::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_rotated_on_schedule() {
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(secret()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["rotation_interval_days"], 30);
        assert_eq!(o.evidence["days_since_rotation"], 10);
    }

    #[test]
    fn pass_with_a_rate_schedule_expression() {
        let mut s = secret();
        s.rotation_days = None;
        s.rotation_schedule = Some("rate(4 hours)".into());
        s.last_rotated = Some(now() - chrono::Duration::hours(3));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["rotation_interval_days"], 1);
    }

    #[test]
    fn fail_when_rotation_is_off() {
        let mut s = secret();
        s.rotation_enabled = false;
        s.rotation_days = None;
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["rotation_enabled"], false);
    }

    #[test]
    fn fail_when_the_interval_is_too_long() {
        let mut s = secret();
        s.rotation_days = Some(180);
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s.clone()), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("every 180 days"), "{}", o.reason);
        assert_evidence(&o, "rotation_interval_days", serde_json::json!(180));
        let mut params = crate::Params::defaults(&SecretRotationEnabled);
        params.set("max_rotation_days", ParamValue::Integer(365));
        let o = expect(
            run_with(&SecretRotationEnabled, &secret_resource(s), &[], &params),
            Status::Pass,
        );
        assert_evidence(&o, "max_rotation_days", serde_json::json!(365));
    }

    /// The boundary at the default `max_rotation_days` of 90: a 90-day interval passes, 91
    /// fails (the rule's `days > max` as `>=` fails the first half).
    #[test]
    fn pass_at_a_90_day_interval_and_fail_at_91() {
        let mut s = secret();
        s.rotation_days = Some(90);
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s.clone()), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "rotation_interval_days", serde_json::json!(90));
        assert_evidence(&o, "max_rotation_days", serde_json::json!(90));
        assert!(o.reason.contains("every 90 days"), "{}", o.reason);
        s.rotation_days = Some(91);
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "rotation_interval_days", serde_json::json!(91));
        assert!(
            o.reason
                .contains("rotates every 91 days, more than the allowed 90"),
            "{}",
            o.reason
        );
    }

    /// The overdue boundary: a 30-day schedule allows 30 days plus 2 of grace since the
    /// last rotation, so exactly 32 days passes and 32 days and a minute fails (the rule's
    /// `age > bound + GRACE_DAYS` as `>=` fails the first half, `-` for `+` the second).
    #[test]
    fn overdue_only_after_the_interval_and_grace() {
        let mut s = secret();
        s.last_rotated = Some(days_ago(32));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s.clone()), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "days_since_rotation", serde_json::json!(32));
        s.last_rotated = Some(days_ago(32) - chrono::Duration::minutes(1));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "days_since_rotation", serde_json::json!(32));
        assert!(
            o.reason
                .contains("overdue: last rotated 32 days ago, schedule 30 days"),
            "{}",
            o.reason
        );
        // A cron schedule has no interval: the bound is the allowed maximum, 90 (+2).
        let mut s = secret();
        s.rotation_days = None;
        s.rotation_schedule = Some("cron(0 16 1 * ? *)".into());
        s.last_rotated = Some(days_ago(92));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s.clone()), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "rotation_interval_days", serde_json::Value::Null);
        s.last_rotated = Some(days_ago(93));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("schedule 90 days"), "{}", o.reason);
    }

    #[test]
    fn fail_when_rotation_is_overdue() {
        let mut s = secret();
        s.last_rotated = Some(days_ago(45));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["days_since_rotation"], 45);
        assert!(o.reason.contains("overdue"), "{}", o.reason);

        // Never rotated since creation long ago: rotation never succeeded.
        let mut s = secret();
        s.last_rotated = None;
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("never rotated"), "{}", o.reason);
    }

    #[test]
    fn error_without_any_date() {
        let mut s = secret();
        s.last_rotated = None;
        s.created = None;
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::Error,
        );
        assert!(
            o.reason
                .contains("neither a last rotation nor a creation date"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["rotation_enabled"], true);
    }

    #[test]
    fn not_applicable_when_scheduled_for_deletion() {
        let mut s = secret();
        s.rotation_enabled = false;
        s.deleted = Some(days_ago(1));
        let o = expect(
            run(&SecretRotationEnabled, &secret_resource(s), &[]),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("scheduled for deletion"), "{}", o.reason);
        assert_evidence(&o, "secret", serde_json::json!("prod/phi-db"));
        assert_evidence(&o, "rotation_enabled", serde_json::json!(false));
    }

    #[test]
    fn rate_expressions() {
        assert_eq!(rate_days("rate(10 days)"), Some(10));
        assert_eq!(rate_days("rate(1 day)"), Some(1));
        assert_eq!(rate_days("rate(25 hours)"), Some(2));
        assert_eq!(rate_days("cron(0 16 1,15 * ? *)"), None);
    }
}
