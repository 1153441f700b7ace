//! `s3_bucket_default_encryption`: every bucket has default server-side encryption.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketDefaultEncryption;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_default_encryption",
    title: "S3 bucket has default server-side encryption",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "Objects written without an encryption header are stored unencrypted unless the bucket \
                has default encryption; ePHI at rest must be encrypted (164.312(a)(2)(iv)).",
    remediation: "Set default encryption on the bucket (PutBucketEncryption), preferably SSE-KMS with a \
                  customer-managed key.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketEncryption"],
    params: &[],
};

impl Rule for S3BucketDefaultEncryption {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        match try_observed!(bucket.encryption, "default encryption") {
            Some(enc) if !enc.rules.is_empty() => {
                let algorithms: Vec<&str> =
                    enc.rules.iter().map(|r| r.sse_algorithm.as_str()).collect();
                Outcome::pass(format!("default encryption is {}", algorithms.join(", ")))
                    .with("sse_algorithms", algorithms)
            }
            _ => Outcome::fail("no default encryption is configured").with("encryption", "none"),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{BucketEncryption, EncryptionRule};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    #[test]
    fn pass_with_sse_s3() {
        let mut b = bucket("phi");
        b.encryption = Observed::Collected(BucketEncryption {
            rules: vec![EncryptionRule {
                sse_algorithm: "AES256".into(),
                kms_master_key_id: None,
                bucket_key_enabled: None,
            }],
        });
        let o = expect(
            run(&S3BucketDefaultEncryption, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["sse_algorithms"], serde_json::json!(["AES256"]));
    }

    #[test]
    fn fail_when_absent() {
        expect(
            run(
                &S3BucketDefaultEncryption,
                &bucket_resource(bucket("plain")),
                &[],
            ),
            Status::Fail,
        );
    }

    #[test]
    fn error_when_lookup_denied() {
        let mut b = bucket("denied");
        b.encryption = denied("s3:GetBucketEncryption");
        let o = expect(
            run(&S3BucketDefaultEncryption, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketEncryption"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_other_kinds() {
        let other = resource(
            "arn:aws:iam::111122223333:root",
            posture_model::Region::global(),
            ResourceBody::Account(posture_model::resources::AccountInfo {
                account_id: account(),
                scanned_as: "arn:aws:iam::111122223333:user/scanner".into(),
            }),
        );
        expect(
            run(&S3BucketDefaultEncryption, &other, &[]),
            Status::NotApplicable,
        );
    }
}
