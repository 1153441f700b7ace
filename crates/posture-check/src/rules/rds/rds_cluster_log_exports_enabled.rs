//! `rds_cluster_log_exports_enabled`: every RDS DB cluster exports engine logs to
//! CloudWatch Logs.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterLogExportsEnabled;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_log_exports_enabled",
    title: "RDS DB cluster exports its logs to CloudWatch Logs",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: "Engine logs (audit, error, general, postgresql) record who connected to the \
                cluster holding ePHI and what failed; kept only on the instances they rotate \
                away within days and are lost with them. Exported to CloudWatch Logs they can \
                be retained and reviewed (164.312(b), 164.308(a)(1)(ii)(D)).",
    remediation: "Modify the cluster with --cloudwatch-logs-export-configuration \
                  EnableLogTypes=[...] (postgresql for Aurora PostgreSQL; audit, error, general, \
                  slowquery for Aurora MySQL, with server_audit_logging on in the cluster \
                  parameter group for audit).",
    api_calls: &["rds:DescribeDBClusters"],
    params: &[],
};

impl Rule for RdsClusterLogExportsEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        let exports = &cluster.enabled_cloudwatch_logs_exports;
        let outcome = if exports.is_empty() {
            Outcome::fail(format!(
                "cluster {} exports no logs to CloudWatch Logs",
                cluster.identifier
            ))
        } else {
            Outcome::pass(format!(
                "cluster {} exports logs to CloudWatch Logs: {}",
                cluster.identifier,
                exports.join(", ")
            ))
        };
        outcome.with("enabled_cloudwatch_logs_exports", exports)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn pass_when_logs_exported() {
        let mut c = cluster("aurora");
        c.enabled_cloudwatch_logs_exports = vec!["postgresql".into()];
        let o = expect(
            run(&RdsClusterLogExportsEnabled, &cluster_resource(c), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["enabled_cloudwatch_logs_exports"],
            serde_json::json!(["postgresql"])
        );
    }

    #[test]
    fn fail_when_nothing_exported() {
        let o = expect(
            run(
                &RdsClusterLogExportsEnabled,
                &cluster_resource(cluster("aurora")),
                &[],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "enabled_cloudwatch_logs_exports", json!([]));
        assert!(
            o.reason.contains("cluster aurora exports no logs"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_cluster_list_failed() {
        let f = finding_with_list_gap(
            &RdsClusterLogExportsEnabled,
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
