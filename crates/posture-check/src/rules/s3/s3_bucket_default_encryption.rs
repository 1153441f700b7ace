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
        let Some(enc) = try_observed!(bucket.encryption, "default encryption") else {
            return Outcome::fail("no default encryption is configured").with("encryption", "none");
        };
        if enc.rules.is_empty() {
            return Outcome::fail("no default encryption is configured").with("encryption", "none");
        }
        // A rule without `ApplyServerSideEncryptionByDefault` (only `BucketKeyEnabled`,
        // say) is collected with an empty algorithm: it encrypts nothing by default.
        let algorithms: Vec<&str> = enc
            .rules
            .iter()
            .map(|r| r.sse_algorithm.trim())
            .filter(|a| !a.is_empty())
            .collect();
        if algorithms.is_empty() {
            return Outcome::fail(format!(
                "the bucket's {} default encryption rule(s) name no algorithm, so nothing is \
                 encrypted by default",
                enc.rules.len()
            ))
            .with("encryption_rules", enc.rules.len())
            .with("sse_algorithms", algorithms);
        }
        Outcome::pass(format!("default encryption is {}", algorithms.join(", ")))
            .with("sse_algorithms", algorithms)
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
        let o = expect(
            run(
                &S3BucketDefaultEncryption,
                &bucket_resource(bucket("plain")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.reason, "no default encryption is configured");
        assert_evidence(&o, "encryption", serde_json::json!("none"));
    }

    /// Boundary of the empty-algorithm fix: whitespace is no algorithm either.
    #[test]
    fn fail_when_the_algorithm_is_only_whitespace() {
        let o = expect(
            run(&S3BucketDefaultEncryption, &encrypted_with(&[" "]), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "sse_algorithms", serde_json::json!([]));
        assert_evidence(&o, "encryption_rules", serde_json::json!(1));
    }

    fn encrypted_with(algorithms: &[&str]) -> Resource {
        let mut b = bucket("phi");
        b.encryption = Observed::Collected(BucketEncryption {
            rules: algorithms
                .iter()
                .map(|a| EncryptionRule {
                    sse_algorithm: (*a).into(),
                    kms_master_key_id: None,
                    bucket_key_enabled: Some(true),
                })
                .collect(),
        });
        bucket_resource(b)
    }

    /// A rule that names no algorithm (only `BucketKeyEnabled`, say) applies no default
    /// encryption (regression: it passed as "default encryption is ").
    #[test]
    fn fail_when_the_only_rule_names_no_algorithm() {
        let o = expect(
            run(&S3BucketDefaultEncryption, &encrypted_with(&[""]), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no algorithm"), "{}", o.reason);
        assert_eq!(o.evidence["encryption_rules"], 1);
        assert_eq!(o.evidence["sse_algorithms"], serde_json::json!([]));
    }

    /// One rule with an algorithm is enough; the empty one is left out of the evidence.
    #[test]
    fn pass_lists_only_named_algorithms() {
        let o = expect(
            run(
                &S3BucketDefaultEncryption,
                &encrypted_with(&["", "aws:kms"]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["sse_algorithms"], serde_json::json!(["aws:kms"]));
    }

    #[test]
    fn fail_when_no_rules() {
        let o = expect(
            run(&S3BucketDefaultEncryption, &encrypted_with(&[]), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["encryption"], "none");
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
}
