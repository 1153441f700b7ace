//! `s3_bucket_server_access_logging`: server access logging is on for the bucket.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketServerAccessLogging;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_server_access_logging",
    title: "S3 bucket has server access logging enabled",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "Server access logs record every request made to the bucket, including object \
                reads that CloudTrail management events do not capture, so access to ePHI can \
                be reviewed and investigated (164.308(a)(1)(ii)(D), 164.312(b)).",
    remediation: "Enable server access logging to a separate, access-restricted log bucket: S3 \
                  console > bucket > Properties > Server access logging, or PutBucketLogging.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketLogging"],
    params: &[],
};

impl Rule for S3BucketServerAccessLogging {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        match try_observed!(bucket.logging, "server access logging") {
            Some(logging) if !logging.target_bucket.is_empty() => {
                let reason = if logging.target_bucket == bucket.name {
                    format!(
                        "server access logs are delivered to the bucket itself ({}); this works \
                         but each log delivery is logged again, so a separate log bucket is \
                         better",
                        logging.target_bucket
                    )
                } else {
                    format!(
                        "server access logs are delivered to {}",
                        logging.target_bucket
                    )
                };
                Outcome::pass(reason)
                    .with("target_bucket", &logging.target_bucket)
                    .with("target_prefix", &logging.target_prefix)
            }
            _ => Outcome::fail("server access logging is off").with("target_bucket", None::<&str>),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::BucketLogging;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn logging_to(target: &str) -> Resource {
        let mut b = bucket("phi");
        b.logging = Observed::Collected(BucketLogging {
            target_bucket: target.into(),
            target_prefix: "phi/".into(),
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_when_logging_to_another_bucket() {
        let o = expect(
            run(&S3BucketServerAccessLogging, &logging_to("logs"), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["target_bucket"], "logs");
        assert!(!o.reason.contains("itself"), "{}", o.reason);
    }

    #[test]
    fn pass_with_note_when_logging_to_itself() {
        let o = expect(
            run(&S3BucketServerAccessLogging, &logging_to("phi"), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("itself"), "{}", o.reason);
        assert_eq!(o.evidence["target_bucket"], "phi");
    }

    #[test]
    fn fail_when_absent() {
        let o = expect(
            run(
                &S3BucketServerAccessLogging,
                &bucket_resource(bucket("phi")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["target_bucket"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_lookup_denied() {
        let mut b = bucket("phi");
        b.logging = denied("s3:GetBucketLogging");
        let o = expect(
            run(&S3BucketServerAccessLogging, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketLogging"), "{}", o.reason);
    }
}
