//! `rds_instance_iac_provenance`: an RDS DB instance in the PHI scope carries the tags of the infrastructure-as-code
//! stack that created it (CloudFormation's, or one of `provenance_tag_keys` for Terraform and
//! Pulumi), so "no manual console configuration of ePHI resources" is a checked control. The
//! shipped baseline scopes it to PHI resources (`[scope] phi_only`). See
//! [`crate::rules::provenance`] for what counts.
//!
//! The instance's tags are the `TagList` of `rds:DescribeDBInstances`.

use posture_model::{Resource, ResourceKind, Severity};

use crate::rules::provenance;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInstanceIacProvenance;

static META: RuleMeta = RuleMeta {
    id: "rds_instance_iac_provenance",
    title: "RDS DB instance holding ePHI was created by infrastructure as code",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: provenance::RATIONALE,
    remediation: provenance::REMEDIATION,
    api_calls: &[
        // Its tags are the TagList of the description.
        "rds:DescribeDBInstances",
    ],
    params: provenance::PARAMS,
};

impl Rule for RdsInstanceIacProvenance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        provenance::check(subject, ctx, "RDS DB instance")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Resource, Tags};

    use super::*;
    use crate::rules::provenance::cases;
    use crate::rules::rds::fixtures::{instance, instance_resource};

    fn make(tags: Observed<Tags>) -> Resource {
        let mut r = instance_resource(instance("claims-db"));
        r.tags = tags;
        r
    }

    #[test]
    fn pass_with_cloudformation_stack_tags() {
        cases::pass_with_cloudformation(&RdsInstanceIacProvenance, make);
    }

    #[test]
    fn pass_with_a_configured_terraform_or_pulumi_tag() {
        cases::pass_with_configured_tag(&RdsInstanceIacProvenance, make);
    }

    #[test]
    fn fail_without_provenance_tags() {
        cases::fail_without_provenance(&RdsInstanceIacProvenance, make);
    }

    #[test]
    fn pass_and_fail_at_a_custom_key_list() {
        cases::custom_key_list(&RdsInstanceIacProvenance, make);
    }

    #[test]
    fn error_when_tags_unavailable() {
        cases::error_when_tags_unavailable(
            &RdsInstanceIacProvenance,
            make,
            "rds:DescribeDBInstances",
        );
    }
}
