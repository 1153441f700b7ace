//! `s3_bucket_public_access_block`: Block Public Access is fully in force for the bucket,
//! set on the bucket itself or for its whole account.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::public_access::{EffectiveBlock, Flag};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketPublicAccessBlock;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_public_access_block",
    title: "S3 bucket is covered by all four Block Public Access settings",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "Block Public Access overrides public ACLs and bucket policies, so a bucket it \
                covers cannot be exposed by a single mistaken grant; a bucket holding ePHI \
                without it relies on every ACL and policy edit being right (164.312(a)(1)).",
    remediation: "Turn on all four Block Public Access settings for the bucket (S3 console > \
                  bucket > Permissions > Block public access, or PutPublicAccessBlock), or for \
                  the whole account (s3control PutPublicAccessBlock).",
    api_calls: &[
        "s3:ListBuckets",
        "s3:GetPublicAccessBlock",
        "s3control:GetPublicAccessBlock",
    ],
    params: &[],
};

impl Rule for S3BucketPublicAccessBlock {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let block = EffectiveBlock::of(subject, bucket, ctx);
        // S3 enforces the most restrictive combination, flag by flag.
        let flags = [
            ("BlockPublicAcls", block.flag(|p| p.block_public_acls)),
            ("IgnorePublicAcls", block.flag(|p| p.ignore_public_acls)),
            ("BlockPublicPolicy", block.flag(|p| p.block_public_policy)),
            (
                "RestrictPublicBuckets",
                block.flag(|p| p.restrict_public_buckets),
            ),
        ];
        let effective: serde_json::Map<String, serde_json::Value> = flags
            .iter()
            .map(|(name, f)| ((*name).to_owned(), f.describe().into()))
            .collect();
        let off: Vec<&str> = flags
            .iter()
            .filter(|(_, f)| *f == Flag::Off)
            .map(|(name, _)| *name)
            .collect();
        let unknown = flags.iter().find_map(|(_, f)| match f {
            Flag::Unknown(why) => Some(*why),
            _ => None,
        });
        let outcome = if !off.is_empty() {
            Outcome::fail(format!(
                "Block Public Access is off at both bucket and account level for {}",
                off.join(", ")
            ))
            .with("flags_off", &off)
        } else if let Some(why) = unknown {
            Outcome::unavailable(
                "Block Public Access (bucket or account level, whichever is not already on)",
                why,
            )
        } else {
            let levels: Vec<&str> = flags
                .iter()
                .filter_map(|(_, f)| match f {
                    Flag::On(level) => Some(*level),
                    _ => None,
                })
                .collect();
            let source = if levels.iter().all(|l| *l == "bucket") {
                "the bucket's own setting"
            } else if levels.iter().all(|l| *l == "account") {
                "the account-level setting"
            } else {
                "the bucket and account settings combined"
            };
            Outcome::pass(format!(
                "all four Block Public Access settings are in force, from {source}"
            ))
        };
        block.evidence(outcome.with("effective", effective))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::PublicAccessBlock;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::s3::fixtures::{ALL_OFF, ALL_ON, account_block};
    use crate::testing::*;

    fn with_block(block: Observed<PublicAccessBlock>) -> Resource {
        let mut b = bucket("phi");
        b.public_access_block = block;
        bucket_resource(b)
    }

    #[test]
    fn pass_with_bucket_setting() {
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Collected(ALL_ON)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["effective"]["IgnorePublicAcls"], "on (bucket)");
        assert_eq!(o.evidence["account_public_access_block"], "absent");
    }

    #[test]
    fn pass_with_account_setting_only() {
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Absent),
                &[account_block(Observed::Collected(ALL_ON))],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("account-level"), "{}", o.reason);
        assert_evidence(
            &o,
            "effective",
            serde_json::json!({
                "BlockPublicAcls": "on (account)",
                "IgnorePublicAcls": "on (account)",
                "BlockPublicPolicy": "on (account)",
                "RestrictPublicBuckets": "on (account)"
            }),
        );
        assert_evidence(
            &o,
            "bucket_public_access_block",
            serde_json::json!("absent"),
        );
    }

    #[test]
    fn pass_when_account_setting_covers_an_unreadable_bucket_setting() {
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(denied("s3:GetPublicAccessBlock")),
                &[account_block(Observed::Collected(ALL_ON))],
            ),
            Status::Pass,
        );
        assert_evidence(
            &o,
            "bucket_public_access_block",
            serde_json::json!("unavailable"),
        );
        assert_eq!(o.evidence["effective"]["BlockPublicPolicy"], "on (account)");
    }

    #[test]
    fn pass_when_bucket_and_account_flags_combine() {
        let acls = PublicAccessBlock {
            block_public_policy: false,
            restrict_public_buckets: false,
            ..ALL_ON
        };
        let policies = PublicAccessBlock {
            block_public_acls: false,
            ignore_public_acls: false,
            ..ALL_ON
        };
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Collected(acls)),
                &[account_block(Observed::Collected(policies))],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("combined"), "{}", o.reason);
        assert_eq!(
            o.evidence["effective"]["RestrictPublicBuckets"],
            "on (account)"
        );
    }

    #[test]
    fn fail_when_neither_level_is_complete() {
        let partial = PublicAccessBlock {
            block_public_policy: false,
            ..ALL_ON
        };
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Collected(partial)),
                &[account_block(Observed::Collected(ALL_OFF))],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["flags_off"],
            serde_json::json!(["BlockPublicPolicy"])
        );
    }

    #[test]
    fn fail_when_nothing_is_set() {
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Absent),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.contains(
                "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets"
            ),
            "{}",
            o.reason
        );
        assert_evidence(
            &o,
            "flags_off",
            serde_json::json!([
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets"
            ]),
        );
    }

    #[test]
    fn three_of_four_flags_is_not_enough() {
        // Boundary: every flag but RestrictPublicBuckets, at the bucket; the account adds
        // nothing.
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Collected(PublicAccessBlock {
                    restrict_public_buckets: false,
                    ..ALL_ON
                })),
                &[account_block(Observed::Collected(ALL_OFF))],
            ),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "flags_off",
            serde_json::json!(["RestrictPublicBuckets"]),
        );
        assert_eq!(o.evidence["effective"]["BlockPublicAcls"], "on (bucket)");
    }

    #[test]
    fn error_when_bucket_setting_denied_and_account_not_all_on() {
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(denied("s3:GetPublicAccessBlock")),
                &[account_block(Observed::Absent)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetPublicAccessBlock"), "{}", o.reason);
    }

    #[test]
    fn error_when_account_setting_denied_and_bucket_not_all_on() {
        let o = expect(
            run(
                &S3BucketPublicAccessBlock,
                &with_block(Observed::Absent),
                &[account_block(denied("s3control:GetPublicAccessBlock"))],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("s3control:GetPublicAccessBlock"),
            "{}",
            o.reason
        );
    }
}
