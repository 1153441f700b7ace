//! `rds_cluster_multi_az`: every RDS DB cluster spans more than one Availability Zone.
//!
//! Reads `MultiAZ` as `DescribeDBClusters` reports it: for Aurora, true once the cluster
//! has a replica in another zone; for Multi-AZ DB clusters, always true.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterMultiAz;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_multi_az",
    title: "RDS DB cluster spans multiple Availability Zones",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: "A cluster whose instances all sit in one Availability Zone is unavailable, and \
                the ePHI in it unreachable, for as long as that zone fails; a replica in another \
                zone keeps ePHI available during an emergency and limits data loss \
                (164.308(a)(7)(i), 164.308(a)(7)(ii)(B), 164.308(a)(7)(ii)(C)).",
    remediation: "Add a reader instance in another Availability Zone to the Aurora cluster \
                  (CreateDBInstance with --db-cluster-identifier and --availability-zone), or \
                  create the cluster as a Multi-AZ DB cluster.",
    api_calls: &["rds:DescribeDBClusters"],
    params: &[],
};

impl Rule for RdsClusterMultiAz {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        let outcome = if cluster.multi_az {
            Outcome::pass(format!(
                "cluster {} spans multiple Availability Zones",
                cluster.identifier
            ))
        } else {
            Outcome::fail(format!(
                "cluster {} is in a single Availability Zone",
                cluster.identifier
            ))
        };
        outcome
            .with("multi_az", cluster.multi_az)
            .with("members", &cluster.members)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_multi_az() {
        let mut c = cluster("aurora");
        c.multi_az = true;
        let o = expect(
            run(&RdsClusterMultiAz, &cluster_resource(c), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["multi_az"], true);
    }

    #[test]
    fn fail_when_single_az() {
        let o = expect(
            run(
                &RdsClusterMultiAz,
                &cluster_resource(cluster("aurora")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["multi_az"], false);
    }

    #[test]
    fn error_when_cluster_list_failed() {
        let f = finding_with_list_gap(
            &RdsClusterMultiAz,
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
