//! `s3_bucket_replication`: the bucket replicates its objects to another bucket (at least
//! one replication rule is `Enabled`).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketReplication;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_replication",
    title: "S3 bucket replicates objects to another bucket",
    severity: Severity::Low,
    subject: ResourceKind::S3Bucket,
    rationale: "A copy of ePHI in another bucket (ideally another region or account) keeps it \
                retrievable when the bucket, its region or its account is lost, corrupted or \
                compromised: an exact copy for the data backup plan and for restoring data in a \
                disaster (164.308(a)(7)(ii)(A), 164.308(a)(7)(ii)(B)).",
    remediation: "Enable versioning on the bucket and a destination bucket in another region \
                  (or account), then add a replication configuration with an Enabled rule \
                  (PutBucketReplication) and a role S3 can assume to replicate.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketReplication"],
    params: &[],
};

impl Rule for S3BucketReplication {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let Some(config) = try_observed!(bucket.replication, "the replication configuration")
        else {
            return Outcome::fail("the bucket has no replication configuration")
                .with("replication_rules", json!([]));
        };
        let rules: Vec<_> = config
            .rules
            .iter()
            .map(|r| json!({"id": r.id, "status": r.status, "destination_bucket": r.destination_bucket}))
            .collect();
        let enabled: Vec<&str> = config
            .rules
            .iter()
            .filter(|r| r.status.eq_ignore_ascii_case("enabled"))
            .map(|r| r.destination_bucket.as_str())
            .collect();
        let outcome = if enabled.is_empty() {
            Outcome::fail("the bucket has a replication configuration but no Enabled rule")
        } else {
            Outcome::pass(format!("the bucket replicates to {}", enabled.join(", ")))
        };
        outcome.with("replication_rules", rules)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{BucketReplication, ReplicationRule};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn replicated(status: &str) -> Resource {
        let mut b = bucket("phi");
        b.replication = Observed::Collected(BucketReplication {
            role: "arn:aws:iam::111122223333:role/replication".into(),
            rules: vec![ReplicationRule {
                id: Some("all".into()),
                status: status.into(),
                destination_bucket: "arn:aws:s3:::phi-replica".into(),
            }],
        });
        bucket_resource(b)
    }

    #[test]
    fn pass_with_an_enabled_rule() {
        let o = expect(
            run(&S3BucketReplication, &replicated("Enabled"), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("phi-replica"), "{}", o.reason);
        assert_evidence(
            &o,
            "replication_rules",
            serde_json::json!([{
                "id": "all",
                "status": "Enabled",
                "destination_bucket": "arn:aws:s3:::phi-replica"
            }]),
        );
    }

    #[test]
    fn fail_with_only_disabled_rules() {
        let o = expect(
            run(&S3BucketReplication, &replicated("Disabled"), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no Enabled rule"), "{}", o.reason);
        assert_eq!(o.evidence["replication_rules"][0]["status"], "Disabled");
    }

    #[test]
    fn enabled_status_is_matched_without_case() {
        let o = expect(
            run(&S3BucketReplication, &replicated("ENABLED"), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.reason,
            "the bucket replicates to arn:aws:s3:::phi-replica"
        );
    }

    #[test]
    fn fail_without_configuration() {
        let o = expect(
            run(&S3BucketReplication, &bucket_resource(bucket("phi")), &[]),
            Status::Fail,
        );
        assert_eq!(o.reason, "the bucket has no replication configuration");
        assert_evidence(&o, "replication_rules", serde_json::json!([]));
    }

    #[test]
    fn error_when_unavailable() {
        let mut b = bucket("phi");
        b.replication = denied("s3:GetBucketReplication");
        let o = expect(
            run(&S3BucketReplication, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketReplication"), "{}", o.reason);
    }
}
