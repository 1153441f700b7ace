//! `rds_cluster_deletion_protection`: every RDS / Aurora DB cluster has deletion protection.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterDeletionProtection;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_deletion_protection",
    title: "RDS DB cluster has deletion protection",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: "Without deletion protection one API call, by mistake or by an attacker with the \
                right credentials, deletes the cluster holding ePHI together with its automated \
                backups; ePHI must be protected from improper destruction and stay recoverable \
                (164.312(c)(1), 164.308(a)(7)(ii)(A)).",
    remediation: "Modify the cluster with --deletion-protection (ModifyDBCluster \
                  DeletionProtection=true).",
    api_calls: &["rds:DescribeDBClusters"],
    params: &[],
};

impl Rule for RdsClusterDeletionProtection {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        if cluster.deletion_protection {
            Outcome::pass("deletion protection is enabled").with("deletion_protection", true)
        } else {
            Outcome::fail("deletion protection is disabled").with("deletion_protection", false)
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_protected() {
        let mut c = cluster("aurora");
        c.deletion_protection = true;
        let o = expect(
            run(&RdsClusterDeletionProtection, &cluster_resource(c), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["deletion_protection"], true);
    }

    #[test]
    fn fail_when_unprotected() {
        let o = expect(
            run(
                &RdsClusterDeletionProtection,
                &cluster_resource(cluster("aurora")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["deletion_protection"], false);
    }

    #[test]
    fn error_when_cluster_list_failed() {
        let f = finding_with_list_gap(
            &RdsClusterDeletionProtection,
            cluster_resource(cluster("aurora")),
            "rds:DescribeDBClusters",
        );
        assert_eq!(f.status, Status::Error);
        assert!(
            f.reason
                .contains("rds:DescribeDBClusters failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "rds:DescribeDBClusters");
    }
}
