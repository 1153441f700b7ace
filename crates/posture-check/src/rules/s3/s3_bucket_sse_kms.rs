//! `s3_bucket_sse_kms`: a bucket's default encryption uses SSE-KMS (or DSSE-KMS).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketSseKms;

/// The algorithms that encrypt with a KMS key.
const KMS_ALGORITHMS: &[&str] = &["aws:kms", "aws:kms:dsse"];

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_sse_kms",
    title: "S3 bucket default encryption uses SSE-KMS",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "With SSE-KMS every decryption of ePHI needs a KMS key permission and is logged \
                in CloudTrail, so access to the data can be restricted and audited separately \
                from S3 permissions; SSE-S3 keys are managed by S3 and give neither \
                (164.312(a)(2)(iv), 164.312(b)).",
    remediation: "Set the bucket's default encryption to SSE-KMS (aws:kms), preferably with a \
                  customer-managed key and an S3 Bucket Key: S3 console > bucket > Properties > \
                  Default encryption, or PutBucketEncryption.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketEncryption"],
    params: &[],
};

impl Rule for S3BucketSseKms {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let rules = match try_observed!(bucket.encryption, "default encryption") {
            Some(enc) if !enc.rules.is_empty() => &enc.rules,
            _ => {
                return Outcome::fail("no default encryption is configured")
                    .with("sse_algorithms", Vec::<&str>::new())
                    .with("kms_master_key_ids", Vec::<&str>::new());
            }
        };
        let algorithms: Vec<&str> = rules.iter().map(|r| r.sse_algorithm.as_str()).collect();
        let key_ids: Vec<Option<&str>> = rules
            .iter()
            .map(|r| r.kms_master_key_id.as_deref())
            .collect();
        let not_kms: Vec<&str> = algorithms
            .iter()
            .copied()
            .filter(|a| !KMS_ALGORITHMS.contains(a))
            .collect();
        let outcome = if not_kms.is_empty() {
            Outcome::pass(format!(
                "default encryption uses {} with KMS key {}",
                algorithms.join(", "),
                key_ids
                    .iter()
                    .map(|k| k.unwrap_or("aws/s3 (AWS-managed)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            Outcome::fail(format!(
                "default encryption uses {}, not SSE-KMS",
                not_kms.join(", ")
            ))
        };
        outcome
            .with("sse_algorithms", algorithms)
            .with("kms_master_key_ids", key_ids)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{BucketEncryption, EncryptionRule};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn encrypted(algorithm: &str, key: Option<&str>) -> Resource {
        let mut b = bucket("phi");
        b.encryption = Observed::Collected(BucketEncryption {
            rules: vec![EncryptionRule {
                sse_algorithm: algorithm.into(),
                kms_master_key_id: key.map(Into::into),
                bucket_key_enabled: Some(true),
            }],
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_with_sse_kms() {
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd";
        let o = expect(
            run(&S3BucketSseKms, &encrypted("aws:kms", Some(key)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["sse_algorithms"], serde_json::json!(["aws:kms"]));
        assert_eq!(o.evidence["kms_master_key_ids"], serde_json::json!([key]));
    }

    #[test]
    fn pass_with_dsse_kms_and_default_key() {
        let o = expect(
            run(&S3BucketSseKms, &encrypted("aws:kms:dsse", None), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("aws/s3"), "{}", o.reason);
        assert_evidence(&o, "sse_algorithms", serde_json::json!(["aws:kms:dsse"]));
        assert_evidence(&o, "kms_master_key_ids", serde_json::json!([null]));
    }

    #[test]
    fn fail_with_sse_s3() {
        let o = expect(
            run(&S3BucketSseKms, &encrypted("AES256", None), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["sse_algorithms"], serde_json::json!(["AES256"]));
    }

    #[test]
    fn fail_when_absent() {
        let o = expect(
            run(&S3BucketSseKms, &bucket_resource(bucket("plain")), &[]),
            Status::Fail,
        );
        assert_eq!(o.reason, "no default encryption is configured");
        assert_evidence(&o, "sse_algorithms", serde_json::json!([]));
    }

    #[test]
    fn fail_when_one_of_two_rules_is_not_kms() {
        // Boundary: every rule must name a KMS algorithm; an AES256 rule beside an aws:kms
        // one fails, and the reason names the AES256 one only.
        let mut b = bucket("phi");
        b.encryption = Observed::Collected(BucketEncryption {
            rules: ["aws:kms", "AES256"]
                .iter()
                .map(|a| EncryptionRule {
                    sse_algorithm: (*a).into(),
                    kms_master_key_id: None,
                    bucket_key_enabled: None,
                })
                .collect(),
        });
        let o = expect(run(&S3BucketSseKms, &bucket_resource(b), &[]), Status::Fail);
        assert_eq!(o.reason, "default encryption uses AES256, not SSE-KMS");
        assert_evidence(
            &o,
            "sse_algorithms",
            serde_json::json!(["aws:kms", "AES256"]),
        );
    }

    #[test]
    fn error_when_lookup_denied() {
        let mut b = bucket("denied");
        b.encryption = denied("s3:GetBucketEncryption");
        let o = expect(
            run(&S3BucketSseKms, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketEncryption"), "{}", o.reason);
    }
}
