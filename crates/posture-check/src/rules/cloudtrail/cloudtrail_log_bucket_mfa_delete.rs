//! `cloudtrail_log_bucket_mfa_delete`: the S3 bucket a trail delivers to has MFA Delete
//! enabled, so log file versions cannot be destroyed with access keys alone.
//!
//! The bucket is found with [`super::trails::log_bucket`]: one not in the snapshot, or whose
//! versioning could not be read, is `Error`, never `Pass`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::trails;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailLogBucketMfaDelete;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_log_bucket_mfa_delete",
    title: "CloudTrail trail's log bucket has MFA Delete enabled",
    severity: Severity::Low,
    subject: ResourceKind::Trail,
    rationale: "The trail's bucket holds the audit record of activity on ePHI. With MFA Delete, \
                permanently deleting a log file version or suspending versioning needs the root \
                user's MFA code, so an intruder with stolen keys cannot erase the record of what \
                they did: integrity protection for the audit data (164.312(c)(1)).",
    remediation: "As the root user with its MFA device, enable versioning with MFA Delete on \
                  the log bucket: PutBucketVersioning with Status=Enabled,MFADelete=Enabled and \
                  --mfa \"SERIAL CODE\". Object Lock on the bucket is an alternative.",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "s3:ListBuckets",
        "s3:GetBucketVersioning",
    ],
    params: &[],
};

impl Rule for CloudtrailLogBucketMfaDelete {
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
        let versioning = match bucket.versioning.get() {
            Ok(v) => v,
            Err(why) => {
                return Outcome::unavailable(&format!("the versioning of log bucket {name}"), why)
                    .with("s3_bucket_name", name);
            }
        };
        let mfa_delete = versioning.and_then(|v| v.mfa_delete.as_deref());
        let status = versioning.and_then(|v| v.status.as_deref());
        match mfa_delete {
            Some("Enabled") => {
                Outcome::pass(format!("the log bucket {name} has MFA Delete enabled"))
            }
            Some(other) => Outcome::fail(format!(
                "the log bucket {name} has MFA Delete {other}, not Enabled"
            )),
            None => Outcome::fail(format!(
                "the log bucket {name} has never had MFA Delete configured"
            )),
        }
        .with("s3_bucket_name", name)
        .with("mfa_delete", mfa_delete.unwrap_or("never configured"))
        .with("versioning_status", status.unwrap_or("never enabled"))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::BucketVersioning;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn subject() -> Resource {
        trail_resource(trail("main"))
    }

    fn log_bucket(mfa_delete: Option<&str>) -> Resource {
        let mut b = bucket("trail-logs");
        b.versioning = Observed::Collected(BucketVersioning {
            status: Some("Enabled".into()),
            mfa_delete: mfa_delete.map(Into::into),
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_when_mfa_delete_enabled() {
        let o = expect(
            run(
                &CloudtrailLogBucketMfaDelete,
                &subject(),
                &[log_bucket(Some("Enabled"))],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["mfa_delete"], "Enabled");
        assert_eq!(o.evidence["s3_bucket_name"], "trail-logs");
    }

    #[test]
    fn fail_when_disabled_or_never_configured() {
        let o = expect(
            run(
                &CloudtrailLogBucketMfaDelete,
                &subject(),
                &[log_bucket(Some("Disabled"))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["mfa_delete"], "Disabled");
        let o = expect(
            run(
                &CloudtrailLogBucketMfaDelete,
                &subject(),
                &[log_bucket(None)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["mfa_delete"], "never configured");
    }

    #[test]
    fn error_when_bucket_missing_or_versioning_unavailable() {
        let o = expect(
            run(&CloudtrailLogBucketMfaDelete, &subject(), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("could not be inspected"), "{}", o.reason);
        let mut b = bucket("trail-logs");
        b.versioning = denied("s3:GetBucketVersioning");
        let o = expect(
            run(
                &CloudtrailLogBucketMfaDelete,
                &subject(),
                &[bucket_resource(b)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketVersioning"), "{}", o.reason);
    }
}
