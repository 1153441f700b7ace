//! `s3_bucket_versioning`: versioning is enabled on the bucket.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketVersioning;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_versioning",
    title: "S3 bucket has versioning enabled",
    severity: Severity::Medium,
    subject: ResourceKind::S3Bucket,
    rationale: "Versioning keeps every prior version of an object, so ePHI that is overwritten \
                or deleted by mistake or by ransomware can be recovered: part of a data backup \
                plan (164.308(a)(7)(ii)(A)) and of protecting integrity (164.312(c)(1)).",
    remediation: "Enable versioning on the bucket: S3 console > bucket > Properties > Bucket \
                  Versioning, or PutBucketVersioning with Status=Enabled.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketVersioning"],
    params: &[],
};

impl Rule for S3BucketVersioning {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let versioning = try_observed!(bucket.versioning, "versioning");
        let status = versioning.and_then(|v| v.status.as_deref());
        let mfa_delete = versioning.and_then(|v| v.mfa_delete.as_deref());
        let outcome = match status {
            Some("Enabled") => Outcome::pass("versioning is enabled"),
            Some("Suspended") => Outcome::fail("versioning is suspended"),
            Some(other) => Outcome::fail(format!("versioning status is {other}, not Enabled")),
            None => Outcome::fail("versioning has never been enabled"),
        };
        outcome
            .with("versioning_status", status.unwrap_or("never enabled"))
            .with("mfa_delete", mfa_delete)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::BucketVersioning;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn versioned(status: Option<&str>) -> Resource {
        let mut b = bucket("phi");
        b.versioning = Observed::Collected(BucketVersioning {
            status: status.map(Into::into),
            mfa_delete: None,
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(&S3BucketVersioning, &versioned(Some("Enabled")), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["versioning_status"], "Enabled");
    }

    #[test]
    fn fail_when_suspended() {
        let o = expect(
            run(&S3BucketVersioning, &versioned(Some("Suspended")), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["versioning_status"], "Suspended");
    }

    #[test]
    fn fail_when_never_enabled() {
        let o = expect(
            run(&S3BucketVersioning, &versioned(None), &[]),
            Status::Fail,
        );
        assert_eq!(o.reason, "versioning has never been enabled");
        assert_evidence(&o, "versioning_status", serde_json::json!("never enabled"));
    }

    #[test]
    fn error_when_lookup_denied() {
        let mut b = bucket("phi");
        b.versioning = denied("s3:GetBucketVersioning");
        let o = expect(
            run(&S3BucketVersioning, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketVersioning"), "{}", o.reason);
    }
}
