//! `alarm_unauthorized_api_calls`: a metric filter on the log group a multi-region trail delivers to
//! matches unauthorized API calls, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmUnauthorizedApiCalls;

static META: RuleMeta = RuleMeta {
    id: "alarm_unauthorized_api_calls",
    title: "A metric filter and alarm notify on unauthorized API calls",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Calls refused for lack of permission are the trace of a probing \
                attacker or a misused credential near ePHI; log-in and incident \
                monitoring ask that they be noticed (164.308(a)(5)(ii)(C), \
                164.308(a)(6)(i)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ (($.errorCode = \
                  \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\")) && \
                  ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName \
                  != \"HeadBucket\") }` (PutMetricFilter), create a metric alarm on the \
                  filter's metric whose alarm action is an SNS topic (PutMetricAlarm \
                  --alarm-actions), and subscribe a monitored endpoint to the topic \
                  and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "unauthorized API calls",
    requirement: Requirement {
        required: &[],
        any_of: &[
            "$.errorCode = \"*UnauthorizedOperation\"",
            "$.errorCode = \"AccessDenied*\"",
        ],
        optional: &[
            "$.sourceIPAddress != \"delivery.logs.amazonaws.com\"",
            "$.eventName != \"HeadBucket\"",
        ],
    },
};

impl Rule for AlarmUnauthorizedApiCalls {
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
    const PATTERN: &str = "{ (($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\")) && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmUnauthorizedApiCalls,
            PATTERN,
            "{ ($.errorCode = \"*UnauthorizedOperation\") }",
        );
    }
}
