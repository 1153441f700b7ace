//! `s3_bucket_mfa_delete`: MFA Delete is enabled on the bucket's versioning.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketMfaDelete;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_mfa_delete",
    title: "S3 bucket has MFA Delete enabled",
    severity: Severity::Low,
    subject: ResourceKind::S3Bucket,
    rationale: "With MFA Delete, permanently deleting an object version or suspending versioning \
                needs the root user's MFA code, so stolen access keys alone cannot destroy the \
                prior versions of ePHI that versioning keeps for recovery (164.312(c)(1), \
                164.308(a)(7)(ii)(A)).",
    remediation: "As the root user with its MFA device, call PutBucketVersioning with \
                  Status=Enabled,MFADelete=Enabled and --mfa \"SERIAL CODE\" (the console \
                  cannot set it). Object Lock is an alternative that does not depend on root.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketVersioning"],
    params: &[],
};

impl Rule for S3BucketMfaDelete {
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
        let outcome = match mfa_delete {
            Some("Enabled") => Outcome::pass("MFA Delete is enabled"),
            Some(other) => Outcome::fail(format!("MFA Delete is {other}, not Enabled")),
            None => Outcome::fail("MFA Delete has never been configured"),
        };
        outcome
            .with("mfa_delete", mfa_delete.unwrap_or("never configured"))
            .with("versioning_status", status.unwrap_or("never enabled"))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::BucketVersioning;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn versioned(status: Option<&str>, mfa_delete: Option<&str>) -> Resource {
        let mut b = bucket("phi");
        b.versioning = Observed::Collected(BucketVersioning {
            status: status.map(Into::into),
            mfa_delete: mfa_delete.map(Into::into),
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(
                &S3BucketMfaDelete,
                &versioned(Some("Enabled"), Some("Enabled")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["mfa_delete"], "Enabled");
        assert_eq!(o.evidence["versioning_status"], "Enabled");
    }

    #[test]
    fn fail_when_disabled() {
        let o = expect(
            run(
                &S3BucketMfaDelete,
                &versioned(Some("Enabled"), Some("Disabled")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["mfa_delete"], "Disabled");
    }

    #[test]
    fn fail_when_never_configured() {
        let o = expect(
            run(&S3BucketMfaDelete, &versioned(None, None), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["mfa_delete"], "never configured");
        assert_eq!(o.evidence["versioning_status"], "never enabled");
    }

    #[test]
    fn error_when_versioning_unavailable() {
        let mut b = bucket("phi");
        b.versioning = denied("s3:GetBucketVersioning");
        let o = expect(
            run(&S3BucketMfaDelete, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("versioning"), "{}", o.reason);
    }
}
