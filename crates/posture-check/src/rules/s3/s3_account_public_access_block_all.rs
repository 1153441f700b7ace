//! `s3_account_public_access_block_all`: the account-level S3 Block Public Access setting has
//! all four flags on.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3AccountPublicAccessBlockAll;

static META: RuleMeta = RuleMeta {
    id: "s3_account_public_access_block_all",
    title: "Account-level S3 Block Public Access has all four settings on",
    severity: Severity::High,
    subject: ResourceKind::S3AccountPublicAccessBlock,
    rationale: "The account-wide Block Public Access setting stops any bucket in the account, \
                including ones created later, from being made public by an ACL or bucket policy; \
                without it one mistaken grant can expose ePHI to the internet (164.312(a)(1)).",
    remediation: "Turn on all four settings (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, \
                  RestrictPublicBuckets) for the account: S3 console > Block Public Access settings \
                  for this account, or s3control PutPublicAccessBlock.",
    api_calls: &["s3control:GetPublicAccessBlock"],
    params: &[],
};

impl Rule for S3AccountPublicAccessBlockAll {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3AccountPublicAccessBlock(setting) = &subject.body else {
            return Outcome::not_applicable("not the account-level S3 Block Public Access setting");
        };
        let Some(flags) = try_observed!(setting.config, "account-level Block Public Access") else {
            return Outcome::fail("the account has no S3 Block Public Access configuration")
                .with("public_access_block", "absent");
        };
        let outcome = if flags.all_on() {
            Outcome::pass("all four account-level Block Public Access settings are on")
        } else {
            let off: Vec<&str> = [
                ("BlockPublicAcls", flags.block_public_acls),
                ("IgnorePublicAcls", flags.ignore_public_acls),
                ("BlockPublicPolicy", flags.block_public_policy),
                ("RestrictPublicBuckets", flags.restrict_public_buckets),
            ]
            .into_iter()
            .filter(|(_, on)| !on)
            .map(|(name, _)| name)
            .collect();
            Outcome::fail(format!(
                "account-level Block Public Access is off for {}",
                off.join(", ")
            ))
            .with("flags_off", off)
        };
        outcome
            .with("block_public_acls", flags.block_public_acls)
            .with("ignore_public_acls", flags.ignore_public_acls)
            .with("block_public_policy", flags.block_public_policy)
            .with("restrict_public_buckets", flags.restrict_public_buckets)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::PublicAccessBlock;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::s3::fixtures::{ALL_ON, account_block};
    use crate::testing::*;

    #[test]
    fn pass_when_all_four_on() {
        let o = expect(
            run(
                &S3AccountPublicAccessBlockAll,
                &account_block(Observed::Collected(ALL_ON)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["restrict_public_buckets"], true);
    }

    #[test]
    fn fail_when_one_flag_off() {
        let flags = PublicAccessBlock {
            restrict_public_buckets: false,
            ..ALL_ON
        };
        let o = expect(
            run(
                &S3AccountPublicAccessBlockAll,
                &account_block(Observed::Collected(flags)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["restrict_public_buckets"], false);
        assert_eq!(
            o.evidence["flags_off"],
            serde_json::json!(["RestrictPublicBuckets"])
        );
    }

    #[test]
    fn fail_when_absent() {
        let o = expect(
            run(
                &S3AccountPublicAccessBlockAll,
                &account_block(Observed::Absent),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["public_access_block"], "absent");
    }

    #[test]
    fn error_when_lookup_denied() {
        let o = expect(
            run(
                &S3AccountPublicAccessBlockAll,
                &account_block(denied("s3control:GetPublicAccessBlock")),
                &[],
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
