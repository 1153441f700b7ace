//! `alarm_nacl_changes`: a metric filter on the log group a multi-region trail delivers to
//! matches network ACL changes, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmNaclChanges;

static META: RuleMeta = RuleMeta {
    id: "alarm_nacl_changes",
    title: "A metric filter and alarm notify on network ACL changes",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "A changed network ACL can open the subnets holding ePHI to new \
                traffic; an alarm makes the change a reviewable security event \
                (164.308(a)(6)(i)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventName = CreateNetworkAcl) \
                  || ($.eventName = CreateNetworkAclEntry) || ($.eventName = \
                  DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || \
                  ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = \
                  ReplaceNetworkAclAssociation) }` (PutMetricFilter), create a metric \
                  alarm on the filter's metric whose alarm action is an SNS topic \
                  (PutMetricAlarm --alarm-actions), and subscribe a monitored endpoint \
                  to the topic and confirm the subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "network ACL changes",
    requirement: Requirement {
        required: &[],
        any_of: &[
            "$.eventName = CreateNetworkAcl",
            "$.eventName = CreateNetworkAclEntry",
            "$.eventName = DeleteNetworkAcl",
            "$.eventName = DeleteNetworkAclEntry",
            "$.eventName = ReplaceNetworkAclEntry",
            "$.eventName = ReplaceNetworkAclAssociation",
        ],
        optional: &["$.eventSource = ec2.amazonaws.com"],
    },
};

impl Rule for AlarmNaclChanges {
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
    const PATTERN: &str = "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmNaclChanges,
            PATTERN,
            "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) }",
        );
    }
}
