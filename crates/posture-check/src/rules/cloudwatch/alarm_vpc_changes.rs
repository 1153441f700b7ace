//! `alarm_vpc_changes`: a metric filter on the log group a multi-region trail delivers to
//! matches VPC changes, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmVpcChanges;

static META: RuleMeta = RuleMeta {
    id: "alarm_vpc_changes",
    title: "A metric filter and alarm notify on VPC changes",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "New VPCs, peering connections or changed VPC attributes can join the \
                networks holding ePHI to others; an alarm makes the change a \
                reviewable security event (164.308(a)(6)(i)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventName = CreateVpc) || \
                  ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || \
                  ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = \
                  CreateVpcPeeringConnection) || ($.eventName = \
                  DeleteVpcPeeringConnection) || ($.eventName = \
                  RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) \
                  || ($.eventName = DetachClassicLinkVpc) || ($.eventName = \
                  DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }` \
                  (PutMetricFilter), create a metric alarm on the filter's metric \
                  whose alarm action is an SNS topic (PutMetricAlarm --alarm-actions), \
                  and subscribe a monitored endpoint to the topic and confirm the \
                  subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "VPC changes",
    requirement: Requirement {
        required: &[],
        any_of: &[
            "$.eventName = CreateVpc",
            "$.eventName = DeleteVpc",
            "$.eventName = ModifyVpcAttribute",
            "$.eventName = AcceptVpcPeeringConnection",
            "$.eventName = CreateVpcPeeringConnection",
            "$.eventName = DeleteVpcPeeringConnection",
            "$.eventName = RejectVpcPeeringConnection",
            "$.eventName = AttachClassicLinkVpc",
            "$.eventName = DetachClassicLinkVpc",
            "$.eventName = DisableVpcClassicLink",
            "$.eventName = EnableVpcClassicLink",
        ],
        optional: &["$.eventSource = ec2.amazonaws.com"],
    },
};

impl Rule for AlarmVpcChanges {
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
    const PATTERN: &str = "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmVpcChanges,
            PATTERN,
            "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) }",
        );
    }
}
