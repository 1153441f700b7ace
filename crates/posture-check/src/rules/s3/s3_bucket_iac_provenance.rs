//! `s3_bucket_iac_provenance`: an S3 bucket in the PHI scope carries the tags of the infrastructure-as-code
//! stack that created it (CloudFormation's, or one of `provenance_tag_keys` for Terraform and
//! Pulumi), so "no manual console configuration of ePHI resources" is a checked control. The
//! shipped baseline scopes it to PHI resources (`[scope] phi_only`). See
//! [`crate::rules::provenance`] for what counts.
//!
//! The bucket's tags come from `s3:GetBucketTagging` (a bucket without a tag set has none);
//! a tagging call that failed is an `Error`.

use posture_model::{Resource, ResourceKind, Severity};

use crate::rules::provenance;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketIacProvenance;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_iac_provenance",
    title: "S3 bucket holding ePHI was created by infrastructure as code",
    severity: Severity::Medium,
    subject: ResourceKind::S3Bucket,
    rationale: provenance::RATIONALE,
    remediation: provenance::REMEDIATION,
    api_calls: &[
        "s3:ListBuckets",
        // The bucket's tags.
        "s3:GetBucketTagging",
    ],
    params: provenance::PARAMS,
};

impl Rule for S3BucketIacProvenance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        provenance::check(subject, ctx, "S3 bucket")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Resource, Tags};

    use super::*;
    use crate::rules::provenance::cases;
    use crate::testing::{bucket, bucket_resource};

    fn make(tags: Observed<Tags>) -> Resource {
        let mut r = bucket_resource(bucket("phi-claims"));
        r.tags = tags;
        r
    }

    #[test]
    fn pass_with_cloudformation_stack_tags() {
        cases::pass_with_cloudformation(&S3BucketIacProvenance, make);
    }

    #[test]
    fn pass_with_a_configured_terraform_or_pulumi_tag() {
        cases::pass_with_configured_tag(&S3BucketIacProvenance, make);
    }

    #[test]
    fn fail_without_provenance_tags() {
        cases::fail_without_provenance(&S3BucketIacProvenance, make);
    }

    #[test]
    fn pass_and_fail_at_a_custom_key_list() {
        cases::custom_key_list(&S3BucketIacProvenance, make);
    }

    #[test]
    fn error_when_tags_unavailable() {
        cases::error_when_tags_unavailable(&S3BucketIacProvenance, make, "s3:GetBucketTagging");
    }
}
