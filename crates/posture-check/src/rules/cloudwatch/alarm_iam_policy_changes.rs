//! `alarm_iam_policy_changes`: a metric filter on the log group a multi-region trail delivers to
//! matches IAM policy changes, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmIamPolicyChanges;

static META: RuleMeta = RuleMeta {
    id: "alarm_iam_policy_changes",
    title: "A metric filter and alarm notify on IAM policy changes",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "IAM policies decide who may reach ePHI; a policy created, changed or \
                attached outside the access-modification process should raise a \
                security event (164.308(a)(4)(ii)(C), 164.308(a)(6)(i)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventName = DeleteGroupPolicy) \
                  || ($.eventName = DeleteRolePolicy) || ($.eventName = \
                  DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName \
                  = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = \
                  CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = \
                  CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || \
                  ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) \
                  || ($.eventName = AttachUserPolicy) || ($.eventName = \
                  DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || \
                  ($.eventName = DetachGroupPolicy) }` (PutMetricFilter), create a \
                  metric alarm on the filter's metric whose alarm action is an SNS \
                  topic (PutMetricAlarm --alarm-actions), and subscribe a monitored \
                  endpoint to the topic and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "IAM policy changes",
    requirement: Requirement {
        required: &[],
        any_of: &[
            "$.eventName = DeleteGroupPolicy",
            "$.eventName = DeleteRolePolicy",
            "$.eventName = DeleteUserPolicy",
            "$.eventName = PutGroupPolicy",
            "$.eventName = PutRolePolicy",
            "$.eventName = PutUserPolicy",
            "$.eventName = CreatePolicy",
            "$.eventName = DeletePolicy",
            "$.eventName = CreatePolicyVersion",
            "$.eventName = DeletePolicyVersion",
            "$.eventName = AttachRolePolicy",
            "$.eventName = DetachRolePolicy",
            "$.eventName = AttachUserPolicy",
            "$.eventName = DetachUserPolicy",
            "$.eventName = AttachGroupPolicy",
            "$.eventName = DetachGroupPolicy",
        ],
        optional: &["$.eventSource = iam.amazonaws.com"],
    },
};

impl Rule for AlarmIamPolicyChanges {
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
    const PATTERN: &str = "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy) }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmIamPolicyChanges,
            PATTERN,
            "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) }",
        );
    }
}
