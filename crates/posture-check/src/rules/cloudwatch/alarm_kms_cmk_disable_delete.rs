//! `alarm_kms_cmk_disable_delete`: a metric filter on the log group a multi-region trail delivers to
//! matches disabling or scheduled deletion of KMS keys, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmKmsCmkDisableDelete;

static META: RuleMeta = RuleMeta {
    id: "alarm_kms_cmk_disable_delete",
    title: "A metric filter and alarm notify on disabling or scheduling deletion of KMS keys",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Disabling or deleting a customer-managed key makes the ePHI encrypted \
                under it unreadable, for good once deleted; an alarm leaves time to \
                cancel (164.308(a)(6)(i), 164.312(a)(2)(iv)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventSource = \
                  kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = \
                  ScheduleKeyDeletion)) }` (PutMetricFilter), create a metric alarm on \
                  the filter's metric whose alarm action is an SNS topic \
                  (PutMetricAlarm --alarm-actions), and subscribe a monitored endpoint \
                  to the topic and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "disabling or scheduled deletion of KMS keys",
    requirement: Requirement {
        required: &[],
        any_of: &[
            "$.eventName = DisableKey",
            "$.eventName = ScheduleKeyDeletion",
        ],
        optional: &["$.eventSource = kms.amazonaws.com"],
    },
};

impl Rule for AlarmKmsCmkDisableDelete {
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
    const PATTERN: &str = "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmKmsCmkDisableDelete,
            PATTERN,
            "{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }",
        );
    }
}
