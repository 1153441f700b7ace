//! `ebs_volume_iac_provenance`: an EBS volume in the PHI scope carries the tags of the infrastructure-as-code
//! stack that created it (CloudFormation's, or one of `provenance_tag_keys` for Terraform and
//! Pulumi), so "no manual console configuration of ePHI resources" is a checked control. The
//! shipped baseline scopes it to PHI resources (`[scope] phi_only`). See
//! [`crate::rules::provenance`] for what counts.
//!
//! The volume's tags are part of `ec2:DescribeVolumes`. A volume created through an instance's
//! block device mapping is not itself a resource of the stack, so it may lack the stack's
//! tags even when the instance has them: have the stack tag its volumes (a launch template's
//! `TagSpecifications` for volumes, Terraform's `volume_tags` or `default_tags`), or list the
//! tag it does set in `provenance_tag_keys`.

use posture_model::{Resource, ResourceKind, Severity};

use crate::rules::provenance;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EbsVolumeIacProvenance;

static META: RuleMeta = RuleMeta {
    id: "ebs_volume_iac_provenance",
    title: "EBS volume holding ePHI was created by infrastructure as code",
    severity: Severity::Medium,
    subject: ResourceKind::Volume,
    rationale: provenance::RATIONALE,
    remediation: provenance::REMEDIATION,
    api_calls: &[
        // Its tags are part of the description.
        "ec2:DescribeVolumes",
    ],
    params: provenance::PARAMS,
};

impl Rule for EbsVolumeIacProvenance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        provenance::check(subject, ctx, "EBS volume")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Resource, Tags};

    use super::*;
    use crate::rules::ec2::fixtures::volume_resource;
    use crate::rules::provenance::cases;

    fn make(tags: Observed<Tags>) -> Resource {
        let mut r = volume_resource(true);
        r.tags = tags;
        r
    }

    #[test]
    fn pass_with_cloudformation_stack_tags() {
        cases::pass_with_cloudformation(&EbsVolumeIacProvenance, make);
    }

    #[test]
    fn pass_with_a_configured_terraform_or_pulumi_tag() {
        cases::pass_with_configured_tag(&EbsVolumeIacProvenance, make);
    }

    #[test]
    fn fail_without_provenance_tags() {
        cases::fail_without_provenance(&EbsVolumeIacProvenance, make);
    }

    #[test]
    fn pass_and_fail_at_a_custom_key_list() {
        cases::custom_key_list(&EbsVolumeIacProvenance, make);
    }

    #[test]
    fn error_when_tags_unavailable() {
        cases::error_when_tags_unavailable(&EbsVolumeIacProvenance, make, "ec2:DescribeVolumes");
    }
}
