//! `rds_cluster_iac_provenance`: an RDS DB cluster in the PHI scope carries the tags of the infrastructure-as-code
//! stack that created it (CloudFormation's, or one of `provenance_tag_keys` for Terraform and
//! Pulumi), so "no manual console configuration of ePHI resources" is a checked control. The
//! shipped baseline scopes it to PHI resources (`[scope] phi_only`). See
//! [`crate::rules::provenance`] for what counts.
//!
//! The cluster's tags are the `TagList` of `rds:DescribeDBClusters`.

use posture_model::{Resource, ResourceKind, Severity};

use crate::rules::provenance;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterIacProvenance;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_iac_provenance",
    title: "RDS DB cluster holding ePHI was created by infrastructure as code",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: provenance::RATIONALE,
    remediation: provenance::REMEDIATION,
    api_calls: &[
        // Its tags are the TagList of the description.
        "rds:DescribeDBClusters",
    ],
    params: provenance::PARAMS,
};

impl Rule for RdsClusterIacProvenance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        provenance::check(subject, ctx, "RDS DB cluster")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Resource, Tags};

    use super::*;
    use crate::rules::provenance::cases;
    use crate::rules::rds::fixtures::{cluster, cluster_resource};

    fn make(tags: Observed<Tags>) -> Resource {
        let mut r = cluster_resource(cluster("claims-aurora"));
        r.tags = tags;
        r
    }

    #[test]
    fn pass_with_cloudformation_stack_tags() {
        cases::pass_with_cloudformation(&RdsClusterIacProvenance, make);
    }

    #[test]
    fn pass_with_a_configured_terraform_or_pulumi_tag() {
        cases::pass_with_configured_tag(&RdsClusterIacProvenance, make);
    }

    #[test]
    fn fail_without_provenance_tags() {
        cases::fail_without_provenance(&RdsClusterIacProvenance, make);
    }

    #[test]
    fn pass_and_fail_at_a_custom_key_list() {
        cases::custom_key_list(&RdsClusterIacProvenance, make);
    }

    #[test]
    fn error_when_tags_unavailable() {
        cases::error_when_tags_unavailable(
            &RdsClusterIacProvenance,
            make,
            "rds:DescribeDBClusters",
        );
    }
}
