//! `alarm_s3_bucket_policy_changes`: a metric filter on the log group a multi-region trail delivers to
//! matches S3 bucket policy changes, and an alarm on its metric notifies a subscribed SNS topic.

use posture_model::{Resource, ResourceKind, Severity};

use super::metric_alarm::{self, AlarmSpec};
use super::pattern::Requirement;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct AlarmS3BucketPolicyChanges;

static META: RuleMeta = RuleMeta {
    id: "alarm_s3_bucket_policy_changes",
    title: "A metric filter and alarm notify on S3 bucket policy changes",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Bucket policies, ACLs, CORS, lifecycle and replication settings decide \
                who can read, copy or delete ePHI stored in S3; an alarm makes their \
                change a security event (164.308(a)(6)(i)).",
    remediation: "Send a multi-region trail's events to a CloudWatch Logs log group \
                  (UpdateTrail --cloud-watch-logs-log-group-arn), add a metric filter \
                  on that group with the pattern `{ ($.eventName = PutBucketAcl) || \
                  ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || \
                  ($.eventName = PutBucketLifecycle) || ($.eventName = \
                  PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || \
                  ($.eventName = DeleteBucketCors) || ($.eventName = \
                  DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication) }` \
                  (PutMetricFilter), create a metric alarm on the filter's metric \
                  whose alarm action is an SNS topic (PutMetricAlarm --alarm-actions), \
                  and subscribe a monitored endpoint to the topic and confirm the \
                  subscription.",
    api_calls: metric_alarm::API_CALLS,
    params: &[],
};

/// What the metric filter must match.
pub(crate) static SPEC: AlarmSpec = AlarmSpec {
    what: "S3 bucket policy changes",
    requirement: Requirement {
        required: &[],
        any_of: &[
            "$.eventName = PutBucketAcl",
            "$.eventName = PutBucketPolicy",
            "$.eventName = PutBucketCors",
            "$.eventName = PutBucketLifecycle",
            "$.eventName = PutBucketReplication",
            "$.eventName = DeleteBucketPolicy",
            "$.eventName = DeleteBucketCors",
            "$.eventName = DeleteBucketLifecycle",
            "$.eventName = DeleteBucketReplication",
        ],
        optional: &["$.eventSource = s3.amazonaws.com"],
    },
};

impl Rule for AlarmS3BucketPolicyChanges {
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
    const PATTERN: &str = "{ ($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication) }";

    #[test]
    fn pass_fail_error_and_not_applicable() {
        standard_cases(
            &AlarmS3BucketPolicyChanges,
            PATTERN,
            "{ ($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) }",
        );
    }
}
