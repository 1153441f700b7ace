//! `efs_iac_provenance`: an EFS file system in the PHI scope carries the tags of the infrastructure-as-code
//! stack that created it (CloudFormation's, or one of `provenance_tag_keys` for Terraform and
//! Pulumi), so "no manual console configuration of ePHI resources" is a checked control. The
//! shipped baseline scopes it to PHI resources (`[scope] phi_only`). See
//! [`crate::rules::provenance`] for what counts.
//!
//! The file system's tags are part of `elasticfilesystem:DescribeFileSystems`.

use posture_model::{Resource, ResourceKind, Severity};

use crate::rules::provenance;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EfsIacProvenance;

static META: RuleMeta = RuleMeta {
    id: "efs_iac_provenance",
    title: "EFS file system holding ePHI was created by infrastructure as code",
    severity: Severity::Medium,
    subject: ResourceKind::EfsFileSystem,
    rationale: provenance::RATIONALE,
    remediation: provenance::REMEDIATION,
    api_calls: &[
        // Its tags are part of the description.
        "elasticfilesystem:DescribeFileSystems",
    ],
    params: provenance::PARAMS,
};

impl Rule for EfsIacProvenance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        provenance::check(subject, ctx, "EFS file system")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Resource, Tags};

    use super::*;
    use crate::rules::efs::fixtures::{fs, fs_resource};
    use crate::rules::provenance::cases;

    fn make(tags: Observed<Tags>) -> Resource {
        let mut r = fs_resource(fs());
        r.tags = tags;
        r
    }

    #[test]
    fn pass_with_cloudformation_stack_tags() {
        cases::pass_with_cloudformation(&EfsIacProvenance, make);
    }

    #[test]
    fn pass_with_a_configured_terraform_or_pulumi_tag() {
        cases::pass_with_configured_tag(&EfsIacProvenance, make);
    }

    #[test]
    fn fail_without_provenance_tags() {
        cases::fail_without_provenance(&EfsIacProvenance, make);
    }

    #[test]
    fn pass_and_fail_at_a_custom_key_list() {
        cases::custom_key_list(&EfsIacProvenance, make);
    }

    #[test]
    fn error_when_tags_unavailable() {
        cases::error_when_tags_unavailable(
            &EfsIacProvenance,
            make,
            "elasticfilesystem:DescribeFileSystems",
        );
    }
}
