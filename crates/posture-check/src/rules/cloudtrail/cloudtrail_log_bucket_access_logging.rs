//! `cloudtrail_log_bucket_access_logging`: the S3 bucket a trail delivers to has server
//! access logging on, so every request for the audit logs is itself recorded.
//!
//! The bucket is looked up by name among the account's buckets (in any region), as
//! `cloudtrail_log_bucket_not_public` does. A bucket that is not in the snapshot (another
//! account's, or one that could not be listed) cannot be inspected: `Error`, never `Pass`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::trails;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailLogBucketAccessLogging;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_log_bucket_access_logging",
    title: "CloudTrail trail's log bucket has server access logging enabled",
    severity: Severity::Low,
    subject: ResourceKind::Trail,
    rationale: "The trail's bucket holds the audit record of activity on ePHI; with server \
                access logging on, every read, overwrite or deletion of those logs is recorded \
                too, so tampering with or harvesting the audit trail can be detected \
                (164.312(b)).",
    remediation: "Enable server access logging on the trail's log bucket (PutBucketLogging), \
                  delivering to a separate bucket that the trail's readers cannot change.",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "s3:ListBuckets",
        "s3:GetBucketLogging",
    ],
    params: &[],
};

impl Rule for CloudtrailLogBucketAccessLogging {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Trail(trail) = &subject.body else {
            return Outcome::not_applicable("not a CloudTrail trail");
        };
        let (name, found) = match trails::log_bucket(subject, trail, ctx) {
            Ok(found) => found,
            Err(outcome) => return outcome,
        };
        let ResourceBody::S3Bucket(bucket) = &found.body else {
            return Outcome::error(format!("{name} is not an S3 bucket"));
        };
        let logging = match bucket.logging.get() {
            Ok(l) => l,
            Err(why) => {
                return Outcome::unavailable(
                    &format!("the server access logging of log bucket {name}"),
                    why,
                )
                .with("s3_bucket_name", name);
            }
        };
        match logging.filter(|l| !l.target_bucket.is_empty()) {
            Some(l) => Outcome::pass(format!(
                "the log bucket {name} delivers server access logs to {}",
                l.target_bucket
            ))
            .with("target_bucket", &l.target_bucket),
            None => Outcome::fail(format!(
                "the log bucket {name} has server access logging off"
            ))
            .with("target_bucket", None::<&str>),
        }
        .with("s3_bucket_name", name)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::BucketLogging;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn subject() -> Resource {
        trail_resource(trail("main"))
    }

    #[test]
    fn pass_when_the_bucket_logs_access() {
        let mut b = bucket("trail-logs");
        b.logging = Observed::Collected(BucketLogging {
            target_bucket: "access-logs".into(),
            target_prefix: "trail-logs/".into(),
        });
        let o = expect(
            run(
                &CloudtrailLogBucketAccessLogging,
                &subject(),
                &[bucket_resource(b)],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["target_bucket"], "access-logs");
    }

    #[test]
    fn fail_when_logging_is_off() {
        let o = expect(
            run(
                &CloudtrailLogBucketAccessLogging,
                &subject(),
                &[bucket_resource(bucket("trail-logs"))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["s3_bucket_name"], "trail-logs");
    }

    #[test]
    fn error_when_the_bucket_is_not_in_the_snapshot() {
        let o = expect(
            run(
                &CloudtrailLogBucketAccessLogging,
                &subject(),
                &[bucket_resource(bucket("other"))],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("could not be inspected"), "{}", o.reason);
    }

    #[test]
    fn error_when_logging_is_unavailable() {
        let mut b = bucket("trail-logs");
        b.logging = denied("s3:GetBucketLogging");
        let o = expect(
            run(
                &CloudtrailLogBucketAccessLogging,
                &subject(),
                &[bucket_resource(b)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("log bucket trail-logs"), "{}", o.reason);
        assert!(o.reason.contains("s3:GetBucketLogging"), "{}", o.reason);
        assert_evidence(&o, "s3_bucket_name", serde_json::json!("trail-logs"));
    }

    /// Boundary: a logging configuration with an empty target bucket delivers nowhere.
    #[test]
    fn fail_when_the_target_bucket_is_empty() {
        let mut b = bucket("trail-logs");
        b.logging = Observed::Collected(BucketLogging {
            target_bucket: String::new(),
            target_prefix: "trail-logs/".into(),
        });
        let o = expect(
            run(
                &CloudtrailLogBucketAccessLogging,
                &subject(),
                &[bucket_resource(b)],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("logging off"), "{}", o.reason);
        assert_evidence(&o, "target_bucket", serde_json::json!(null));
    }
}
