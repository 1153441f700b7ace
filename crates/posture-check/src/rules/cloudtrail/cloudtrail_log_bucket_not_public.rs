//! `cloudtrail_log_bucket_not_public`: the S3 bucket a trail delivers to allows neither
//! public read nor public write, judged exactly as `s3_bucket_no_public_read` and
//! `s3_bucket_no_public_write` judge it.
//!
//! The bucket is looked up by name among the account's buckets (in any region). A bucket
//! that is not in the snapshot (another account's, or one that could not be listed) cannot
//! be inspected: `Error`, never `Pass`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity, Status};

use super::trails;
use crate::rules::s3::public_access::{self, Access};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailLogBucketNotPublic;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_log_bucket_not_public",
    title: "CloudTrail trail's log bucket is not public",
    severity: Severity::High,
    subject: ResourceKind::Trail,
    rationale: "CloudTrail logs record who accessed ePHI and how the account is configured; \
                readable by anyone they disclose that map to attackers, writable by anyone they \
                can be altered or deleted to hide an intrusion. Audit records must be kept and \
                protected from improper alteration (164.312(b), 164.312(c)(1)).",
    remediation: "Remove public ACL grants and public bucket-policy statements from the log \
                  bucket (keep only the statements letting cloudtrail.amazonaws.com write, \
                  limited with aws:SourceArn), and turn on Block Public Access for it.",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "s3:ListBuckets",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicy",
        "s3:GetPublicAccessBlock",
    ],
    params: &[],
};

impl Rule for CloudtrailLogBucketNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Trail(trail) = &subject.body else {
            return Outcome::not_applicable("not a CloudTrail trail");
        };
        let (name, bucket) = match trails::log_bucket(subject, trail, ctx) {
            Ok(found) => found,
            Err(outcome) => return outcome,
        };
        let read = public_access::check(bucket, ctx, Access::Read);
        let write = public_access::check(bucket, ctx, Access::Write);
        let evidence = |o: Outcome| {
            o.with("s3_bucket_name", name)
                .with("bucket_arn", &bucket.arn)
                .with("public_read", &read.evidence)
                .with("public_write", &write.evidence)
        };
        let failed: Vec<&str> = [(&read, "read"), (&write, "write")]
            .iter()
            .filter(|(o, _)| o.status == Status::Fail)
            .map(|(o, _)| o.reason.as_str())
            .collect();
        if !failed.is_empty() {
            return evidence(Outcome::fail(format!(
                "the log bucket {name} is public: {}",
                failed.join("; ")
            )));
        }
        for (o, word) in [(&read, "read"), (&write, "write")] {
            if o.status != Status::Pass {
                return evidence(Outcome::error(format!(
                    "whether the log bucket {name} allows public {word} is unknown: {}",
                    o.reason
                )));
            }
        }
        evidence(Outcome::pass(format!(
            "the log bucket {name} allows neither public read nor public write"
        )))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{ACL_ALL_USERS, BucketAcl};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::rules::s3::fixtures::group_grant;
    use crate::testing::*;

    fn subject() -> Resource {
        trail_resource(trail("main"))
    }

    #[test]
    fn pass_when_the_bucket_is_private() {
        let o = expect(
            run(
                &CloudtrailLogBucketNotPublic,
                &subject(),
                &[bucket_resource(bucket("trail-logs"))],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["bucket_arn"], "arn:aws:s3:::trail-logs");
    }

    #[test]
    fn fail_when_the_bucket_acl_is_public() {
        let mut b = bucket("trail-logs");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: Some("owner".into()),
            grants: vec![group_grant(ACL_ALL_USERS, "READ")],
        });
        let o = expect(
            run(
                &CloudtrailLogBucketNotPublic,
                &subject(),
                &[bucket_resource(b)],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("trail-logs is public"), "{}", o.reason);
    }

    #[test]
    fn error_when_the_bucket_is_not_in_the_snapshot() {
        let o = expect(
            run(
                &CloudtrailLogBucketNotPublic,
                &subject(),
                &[bucket_resource(bucket("other"))],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("could not be inspected"), "{}", o.reason);
    }

    #[test]
    fn error_when_the_acl_is_unavailable() {
        let mut b = bucket("trail-logs");
        b.acl = denied("s3:GetBucketAcl");
        let o = expect(
            run(
                &CloudtrailLogBucketNotPublic,
                &subject(),
                &[bucket_resource(b)],
            ),
            Status::Error,
        );
        assert!(
            o.reason
                .contains("whether the log bucket trail-logs allows public read is unknown"),
            "{}",
            o.reason
        );
        assert!(o.reason.contains("s3:GetBucketAcl"), "{}", o.reason);
        assert_eq!(
            o.evidence["public_read"]["acl_public_grants"],
            "unavailable"
        );
        assert_evidence(&o, "s3_bucket_name", serde_json::json!("trail-logs"));
    }
}
