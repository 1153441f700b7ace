//! `alarm_console_login_without_mfa`: a metric filter on the log group a multi-region trail delivers to
//! matches console sign-in without MFA, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmConsoleLoginWithoutMfa;

static META: RuleMeta = RuleMeta {
    id: "alarm_console_login_without_mfa",
    title: "A metric filter and alarm notify on console sign-in without MFA",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "A console sign-in without MFA rests on a password alone, weaker than \
                the entity authentication ePHI access calls for; an alarm makes each \
                one visible (164.308(a)(5)(ii)(C), 164.312(d)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventName = \"ConsoleLogin\") && \
                  ($.additionalEventData.MFAUsed != \"Yes\") }` (PutMetricFilter), \
                  create a metric alarm on the filter's metric whose alarm action is \
                  an SNS topic (PutMetricAlarm --alarm-actions), and subscribe a \
                  monitored endpoint to the topic and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "console sign-in without MFA",
    requirement: Requirement {
        required: &[
            "$.eventName = \"ConsoleLogin\"",
            "$.additionalEventData.MFAUsed != \"Yes\"",
        ],
        any_of: &[],
        optional: &[
            "$.userIdentity.type = \"IAMUser\"",
            "$.responseElements.ConsoleLogin = \"Success\"",
        ],
    },
};

impl Rule for AlarmConsoleLoginWithoutMfa {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        metric_alarm::check(&SPEC, subject, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::cloudwatch::metric_alarm::fixtures::standard_cases;

    /// The CIS Benchmark's pattern.
    const PATTERN: &str =
        "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmConsoleLoginWithoutMfa,
            PATTERN,
            "{ ($.eventName = \"ConsoleLogin\") }",
        );
    }
}
