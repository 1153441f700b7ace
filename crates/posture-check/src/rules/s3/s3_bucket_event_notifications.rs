//! `s3_bucket_event_notifications`: the bucket sends event notifications somewhere (an SNS
//! topic, an SQS queue, a Lambda function or EventBridge), so object-level changes reach
//! someone who can react.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketEventNotifications;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_event_notifications",
    title: "S3 bucket has event notifications configured",
    severity: Severity::Low,
    subject: ResourceKind::S3Bucket,
    rationale: "Event notifications on object creation, deletion and restore let a monitoring \
                pipeline see changes to ePHI as they happen, supporting the regular review of \
                information system activity (164.308(a)(1)(ii)(D)) and audit controls \
                (164.312(b)).",
    remediation: "Configure event notifications for the bucket (S3 console > bucket > \
                  Properties > Event notifications, or PutBucketNotificationConfiguration) to an \
                  SNS topic, SQS queue or Lambda function, or turn on Amazon EventBridge \
                  delivery.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketNotificationConfiguration"],
    params: &[],
};

impl Rule for S3BucketEventNotifications {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let Some(n) = try_observed!(bucket.notifications, "the bucket's event notifications")
        else {
            return Outcome::fail("the bucket has no event notification configuration")
                .with("destinations", 0);
        };
        let count = n.topics.len() + n.queues.len() + n.lambda_functions.len();
        let outcome = if n.any() {
            Outcome::pass(format!(
                "the bucket sends event notifications to {count} destination(s){}",
                if n.event_bridge {
                    " and to EventBridge"
                } else {
                    ""
                }
            ))
        } else {
            Outcome::fail("the bucket sends no event notifications")
        };
        outcome
            .with("topics", &n.topics)
            .with("queues", &n.queues)
            .with("lambda_functions", &n.lambda_functions)
            .with("event_bridge", n.event_bridge)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::BucketNotifications;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn notifying(n: Observed<BucketNotifications>) -> Resource {
        let mut b = bucket("phi");
        b.notifications = n;
        bucket_resource(b)
    }

    fn none() -> BucketNotifications {
        BucketNotifications {
            topics: vec![],
            queues: vec![],
            lambda_functions: vec![],
            event_bridge: false,
        }
    }

    #[test]
    fn pass_with_a_queue_or_eventbridge() {
        let mut n = none();
        n.queues = vec!["arn:aws:sqs:us-east-1:111122223333:phi-events".into()];
        let o = expect(
            run(
                &S3BucketEventNotifications,
                &notifying(Observed::Collected(n)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["queues"][0],
            "arn:aws:sqs:us-east-1:111122223333:phi-events"
        );
        let mut n = none();
        n.event_bridge = true;
        let o = expect(
            run(
                &S3BucketEventNotifications,
                &notifying(Observed::Collected(n)),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("EventBridge"), "{}", o.reason);
    }

    #[test]
    fn fail_without_destinations() {
        let o = expect(
            run(
                &S3BucketEventNotifications,
                &notifying(Observed::Collected(none())),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["event_bridge"], false);
    }

    #[test]
    fn error_when_unavailable() {
        let o = expect(
            run(
                &S3BucketEventNotifications,
                &notifying(denied("s3:GetBucketNotificationConfiguration")),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("event notifications"), "{}", o.reason);
    }
}
