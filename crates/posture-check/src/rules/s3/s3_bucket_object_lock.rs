//! `s3_bucket_object_lock`: Object Lock is enabled on the bucket.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketObjectLock;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_object_lock",
    title: "S3 bucket has Object Lock enabled",
    severity: Severity::Medium,
    subject: ResourceKind::S3Bucket,
    rationale: "Object Lock stores objects write-once-read-many, so ePHI and audit records \
                cannot be altered or deleted during their retention period, even by an \
                administrator or ransomware with the account's credentials (164.312(c)(1)).",
    remediation: "Enable Object Lock (S3 console > bucket > Properties > Object Lock, or \
                  PutObjectLockConfiguration with ObjectLockEnabled=Enabled; versioning must be \
                  on) and set a default retention mode and period.",
    api_calls: &["s3:ListBuckets", "s3:GetObjectLockConfiguration"],
    params: &[],
};

impl Rule for S3BucketObjectLock {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        match try_observed!(bucket.object_lock, "Object Lock configuration") {
            Some(lock) if lock.enabled => {
                let retention = match (&lock.default_mode, lock.default_days, lock.default_years) {
                    (Some(mode), Some(days), _) => format!("default retention {mode} {days} days"),
                    (Some(mode), None, Some(years)) => {
                        format!("default retention {mode} {years} years")
                    }
                    _ => "no default retention".to_owned(),
                };
                Outcome::pass(format!("Object Lock is enabled, {retention}"))
                    .with("object_lock_enabled", true)
                    .with("default_mode", &lock.default_mode)
                    .with("default_days", lock.default_days)
                    .with("default_years", lock.default_years)
            }
            Some(_) => Outcome::fail("Object Lock is configured but not enabled")
                .with("object_lock_enabled", false),
            None => Outcome::fail("Object Lock is not enabled").with("object_lock_enabled", false),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::ObjectLock;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn locked(enabled: bool) -> Resource {
        let mut b = bucket("phi");
        b.object_lock = Observed::Collected(ObjectLock {
            enabled,
            default_mode: Some("COMPLIANCE".into()),
            default_days: Some(2190),
            default_years: None,
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_when_enabled() {
        let o = expect(run(&S3BucketObjectLock, &locked(true), &[]), Status::Pass);
        assert_eq!(o.evidence["object_lock_enabled"], true);
        assert_eq!(o.evidence["default_mode"], "COMPLIANCE");
        assert_eq!(o.evidence["default_days"], 2190);
    }

    #[test]
    fn fail_when_not_enabled() {
        let o = expect(run(&S3BucketObjectLock, &locked(false), &[]), Status::Fail);
        assert_eq!(o.evidence["object_lock_enabled"], false);
    }

    #[test]
    fn fail_when_absent() {
        let o = expect(
            run(&S3BucketObjectLock, &bucket_resource(bucket("phi")), &[]),
            Status::Fail,
        );
        assert_eq!(o.reason, "Object Lock is not enabled");
        assert_evidence(&o, "object_lock_enabled", serde_json::json!(false));
    }

    #[test]
    fn error_when_lookup_denied() {
        let mut b = bucket("phi");
        b.object_lock = denied("s3:GetObjectLockConfiguration");
        let o = expect(
            run(&S3BucketObjectLock, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("s3:GetObjectLockConfiguration"),
            "{}",
            o.reason
        );
    }
}
