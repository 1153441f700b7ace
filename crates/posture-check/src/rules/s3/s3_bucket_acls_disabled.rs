//! `s3_bucket_acls_disabled`: Object Ownership is `BucketOwnerEnforced`, so ACLs are
//! disabled and only IAM and the bucket policy govern access.
//!
//! A bucket with no ownership controls (`OwnershipControlsNotFoundError`) behaves as
//! `ObjectWriter`: ACLs are in effect, a failure.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketAclsDisabled;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_acls_disabled",
    title: "S3 bucket has ACLs disabled (Object Ownership BucketOwnerEnforced)",
    severity: Severity::Medium,
    subject: ResourceKind::S3Bucket,
    rationale: "With ACLs enabled, any writer can grant access to the objects it uploads, and \
                object ACLs bypass the bucket policy reviewers read; with ACLs disabled, access \
                to ePHI is decided only by IAM and the bucket policy, which keeps access \
                authorization in one reviewable place (164.308(a)(4)(ii)(B), 164.312(a)(1)).",
    remediation: "Set Object Ownership to \"Bucket owner enforced\" (S3 console > bucket > \
                  Permissions > Object Ownership, or PutBucketOwnershipControls with \
                  ObjectOwnership=BucketOwnerEnforced) after moving any access granted by ACLs \
                  into the bucket policy.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketOwnershipControls"],
    params: &[],
};

const ENFORCED: &str = "BucketOwnerEnforced";

impl Rule for S3BucketAclsDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let ownership = try_observed!(bucket.object_ownership, "the bucket's Object Ownership");
        match ownership.map(String::as_str) {
            Some(ENFORCED) => {
                Outcome::pass("Object Ownership is BucketOwnerEnforced: ACLs are disabled")
            }
            Some(other) => Outcome::fail(format!(
                "Object Ownership is {other}, so ACLs are still in effect"
            )),
            None => Outcome::fail(
                "the bucket has no ownership controls, so ACLs are in effect (ObjectWriter)",
            ),
        }
        .with(
            "object_ownership",
            ownership.map_or("not set", String::as_str),
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn owned(ownership: Observed<String>) -> Resource {
        let mut b = bucket("phi");
        b.object_ownership = ownership;
        bucket_resource(b)
    }

    #[test]
    fn pass_when_enforced() {
        let o = expect(
            run(
                &S3BucketAclsDisabled,
                &owned(Observed::Collected(ENFORCED.into())),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["object_ownership"], ENFORCED);
    }

    #[test]
    fn fail_when_preferred_or_not_set() {
        let o = expect(
            run(
                &S3BucketAclsDisabled,
                &owned(Observed::Collected("BucketOwnerPreferred".into())),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("BucketOwnerPreferred"), "{}", o.reason);
        let o = expect(
            run(&S3BucketAclsDisabled, &owned(Observed::Absent), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["object_ownership"], "not set");
    }

    #[test]
    fn error_when_unavailable() {
        let o = expect(
            run(
                &S3BucketAclsDisabled,
                &owned(denied("s3:GetBucketOwnershipControls")),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("s3:GetBucketOwnershipControls"),
            "{}",
            o.reason
        );
    }
}
