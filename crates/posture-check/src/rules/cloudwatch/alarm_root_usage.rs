//! `alarm_root_usage`: a metric filter on the log group a multi-region trail delivers to
//! matches root account usage, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmRootUsage;

static META: RuleMeta = RuleMeta {
    id: "alarm_root_usage",
    title: "A metric filter and alarm notify on root account usage",
    severity: Severity::High,
    subject: ResourceKind::Account,
    rationale: "Any use of the root user bypasses IAM's least-privilege controls over \
                ePHI; an alarm on it lets the security incident process start at once \
                (164.308(a)(6)(i), 164.308(a)(6)(ii)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ $.userIdentity.type = \"Root\" && \
                  $.userIdentity.invokedBy NOT EXISTS && $.eventType != \
                  \"AwsServiceEvent\" }` (PutMetricFilter), create a metric alarm on the \
                  filter's metric whose alarm action is an SNS topic (PutMetricAlarm \
                  --alarm-actions), and subscribe a monitored endpoint to the topic \
                  and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "root account usage",
    requirement: Requirement {
        required: &[
            "$.userIdentity.type = \"Root\"",
            "$.userIdentity.invokedBy NOT EXISTS",
            "$.eventType != \"AwsServiceEvent\"",
        ],
        any_of: &[],
        optional: &[],
    },
};

impl Rule for AlarmRootUsage {
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
    const PATTERN: &str = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmRootUsage,
            PATTERN,
            "{ $.userIdentity.type = \"Root\" }",
        );
    }
}
