//! `rds_cluster_iam_authentication`: every RDS DB cluster has IAM database authentication
//! enabled.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterIamAuthentication;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_iam_authentication",
    title: "RDS DB cluster has IAM database authentication enabled",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: "With IAM database authentication, access to the cluster holding ePHI is \
                granted to IAM identities with short-lived tokens and is revoked with them, \
                instead of long-lived shared database passwords that outlive role changes and \
                departures (164.312(a)(1), 164.312(d)). The cluster's setting applies to all \
                its instances.",
    remediation: "Modify the cluster with --enable-iam-database-authentication, then create \
                  database users that authenticate with IAM and grant rds-db:connect to the \
                  identities that need access.",
    api_calls: &["rds:DescribeDBClusters"],
    params: &[],
};

impl Rule for RdsClusterIamAuthentication {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        let enabled = cluster.iam_database_authentication_enabled;
        let outcome = if enabled {
            Outcome::pass(format!(
                "cluster {} has IAM database authentication enabled",
                cluster.identifier
            ))
        } else {
            Outcome::fail(format!(
                "cluster {} has IAM database authentication disabled",
                cluster.identifier
            ))
        };
        outcome
            .with("iam_database_authentication_enabled", enabled)
            .with("engine", &cluster.engine)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_enabled() {
        let mut c = cluster("aurora");
        c.iam_database_authentication_enabled = true;
        let o = expect(
            run(&RdsClusterIamAuthentication, &cluster_resource(c), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["iam_database_authentication_enabled"], true);
    }

    #[test]
    fn fail_when_disabled() {
        let o = expect(
            run(
                &RdsClusterIamAuthentication,
                &cluster_resource(cluster("aurora")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["iam_database_authentication_enabled"], false);
    }

    #[test]
    fn error_when_cluster_list_failed() {
        let f = finding_with_list_gap(
            &RdsClusterIamAuthentication,
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
