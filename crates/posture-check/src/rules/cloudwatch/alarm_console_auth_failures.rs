//! `alarm_console_auth_failures`: a metric filter on the log group a multi-region trail delivers to
//! matches console authentication failures, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmConsoleAuthFailures;

static META: RuleMeta = RuleMeta {
    id: "alarm_console_auth_failures",
    title: "A metric filter and alarm notify on console authentication failures",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Repeated failed console sign-ins are the trace of password guessing \
                against accounts that can reach ePHI; log-in monitoring asks that they \
                be noticed (164.308(a)(5)(ii)(C), 164.308(a)(6)(i), \
                164.308(a)(6)(ii)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventName = ConsoleLogin) && \
                  ($.errorMessage = \"Failed authentication\") }` (PutMetricFilter), \
                  create a metric alarm on the filter's metric whose alarm action is \
                  an SNS topic (PutMetricAlarm --alarm-actions), and subscribe a \
                  monitored endpoint to the topic and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "console authentication failures",
    requirement: Requirement {
        required: &[
            "$.eventName = ConsoleLogin",
            "$.errorMessage = \"Failed authentication\"",
        ],
        any_of: &[],
        optional: &[],
    },
};

impl Rule for AlarmConsoleAuthFailures {
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
        "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmConsoleAuthFailures,
            PATTERN,
            "{ ($.eventName = ConsoleLogin) }",
        );
    }
}
