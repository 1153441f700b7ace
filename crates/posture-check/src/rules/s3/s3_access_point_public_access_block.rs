//! `s3_access_point_public_access_block`: an S3 access point has all four of its own Block
//! Public Access flags on.
//!
//! An access point's flags are fixed when it is created (all on unless turned off then), so
//! one with a flag off stays that way until it is replaced. Multi-region access points are
//! not collected (their control plane answers in us-west-2 only) and are not covered.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3AccessPointPublicAccessBlock;

static META: RuleMeta = RuleMeta {
    id: "s3_access_point_public_access_block",
    title: "S3 access point has Block Public Access enabled",
    severity: Severity::High,
    subject: ResourceKind::S3AccessPoint,
    rationale: "An access point is its own door into a bucket of ePHI, with its own policy; with \
                any of its Block Public Access flags off, a public access point policy can open \
                that door to anyone, whatever the bucket's settings say to a reviewer \
                (164.312(a)(1) access control, 164.308(a)(3)(i) workforce security).",
    remediation: "Access point Block Public Access cannot be changed after creation: create a \
                  replacement access point with all four flags on (the default), move clients \
                  to it, and delete the old one (DeleteAccessPoint). Prefer NetworkOrigin = VPC \
                  for access points that serve workloads.",
    api_calls: &["s3control:ListAccessPoints", "s3control:GetAccessPoint"],
    params: &[],
};

impl Rule for S3AccessPointPublicAccessBlock {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3AccessPoint(ap) = &subject.body else {
            return Outcome::not_applicable("not an S3 access point");
        };
        let Some(flags) = try_observed!(
            ap.public_access_block,
            "the access point's Block Public Access flags"
        ) else {
            return Outcome::fail("the access point has no Block Public Access configuration")
                .with("bucket", &ap.bucket);
        };
        let off: Vec<&str> = [
            ("BlockPublicAcls", flags.block_public_acls),
            ("IgnorePublicAcls", flags.ignore_public_acls),
            ("BlockPublicPolicy", flags.block_public_policy),
            ("RestrictPublicBuckets", flags.restrict_public_buckets),
        ]
        .iter()
        .filter(|(_, on)| !on)
        .map(|(name, _)| *name)
        .collect();
        let outcome = if off.is_empty() {
            Outcome::pass("all four Block Public Access flags are on for the access point")
        } else {
            Outcome::fail(format!(
                "the access point has Block Public Access {} off",
                off.join(", ")
            ))
        };
        outcome
            .with("public_access_block", flags)
            .with("flags_off", off)
            .with("bucket", &ap.bucket)
            .with("network_origin", &ap.network_origin)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{PublicAccessBlock, S3AccessPoint};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::s3::fixtures::{ALL_OFF, ALL_ON};
    use crate::testing::*;

    fn access_point(pab: Observed<PublicAccessBlock>) -> Resource {
        resource(
            "arn:aws:s3:us-east-1:111122223333:accesspoint/phi-ap",
            region(),
            ResourceBody::S3AccessPoint(S3AccessPoint {
                name: "phi-ap".into(),
                bucket: "phi".into(),
                network_origin: Some("Internet".into()),
                public_access_block: pab,
            }),
        )
    }

    #[test]
    fn pass_when_all_on() {
        let o = expect(
            run(
                &S3AccessPointPublicAccessBlock,
                &access_point(Observed::Collected(ALL_ON)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["flags_off"], serde_json::json!([]));
        assert_eq!(o.evidence["bucket"], "phi");
    }

    #[test]
    fn fail_when_a_flag_is_off() {
        let o = expect(
            run(
                &S3AccessPointPublicAccessBlock,
                &access_point(Observed::Collected(PublicAccessBlock {
                    block_public_policy: true,
                    ..ALL_OFF
                })),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("RestrictPublicBuckets"), "{}", o.reason);
        assert_eq!(
            o.evidence["flags_off"],
            serde_json::json!([
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "RestrictPublicBuckets"
            ])
        );
        let o = expect(
            run(
                &S3AccessPointPublicAccessBlock,
                &access_point(Observed::Absent),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.reason,
            "the access point has no Block Public Access configuration"
        );
        assert_evidence(&o, "bucket", serde_json::json!("phi"));
    }

    /// Boundary: three of four flags on fails, naming exactly the one that is off.
    #[test]
    fn each_single_flag_off_fails_and_is_named() {
        for name in [
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ] {
            let flags = PublicAccessBlock {
                block_public_acls: name != "BlockPublicAcls",
                ignore_public_acls: name != "IgnorePublicAcls",
                block_public_policy: name != "BlockPublicPolicy",
                restrict_public_buckets: name != "RestrictPublicBuckets",
            };
            let o = expect(
                run(
                    &S3AccessPointPublicAccessBlock,
                    &access_point(Observed::Collected(flags)),
                    &[],
                ),
                Status::Fail,
            );
            assert_eq!(
                o.reason,
                format!("the access point has Block Public Access {name} off")
            );
            assert_evidence(&o, "flags_off", serde_json::json!([name]));
        }
    }

    #[test]
    fn error_when_unavailable() {
        let o = expect(
            run(
                &S3AccessPointPublicAccessBlock,
                &access_point(denied("s3control:GetAccessPoint")),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("s3control:GetAccessPoint"),
            "{}",
            o.reason
        );
    }
}
