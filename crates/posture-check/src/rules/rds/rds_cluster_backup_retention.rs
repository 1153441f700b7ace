//! `rds_cluster_backup_retention`: every Aurora and Multi-AZ DB cluster keeps automated
//! backups for at least `min_backup_retention_days` (the cluster, not its members, holds
//! the retention of a cluster's backups).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterBackupRetention;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_backup_retention",
    title: "RDS DB cluster keeps automated backups long enough",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: "A cluster's automated backups are the point-in-time copies that restore ePHI after \
                corruption or deletion; too short a retention loses them before a problem is \
                noticed (164.308(a)(7)(ii)(A) data backup plan, 164.308(a)(7)(ii)(B) disaster \
                recovery).",
    remediation: "Set the cluster's backup retention period (modify-db-cluster \
                  --backup-retention-period) to at least the baseline's minimum.",
    api_calls: &["rds:DescribeDBClusters"],
    params: &[ParamSpec {
        name: "min_backup_retention_days",
        ty: ParamType::Integer,
        default: "7",
        doc: "Fewest days of automated backups a cluster keeps.",
    }],
};

impl Rule for RdsClusterBackupRetention {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        let min = ctx.int("min_backup_retention_days");
        let days = i64::from(cluster.backup_retention_period);
        let outcome = if days >= min {
            Outcome::pass(format!(
                "automated backups are kept {days} days (at least {min})"
            ))
        } else {
            Outcome::fail(format!(
                "automated backups are kept {days} days, fewer than {min}"
            ))
        };
        outcome
            .with("backup_retention_period", days)
            .with("min_backup_retention_days", min)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    fn keeping(days: i32) -> Resource {
        let mut c = cluster("c1");
        c.backup_retention_period = days;
        cluster_resource(c)
    }

    #[test]
    fn pass_at_the_minimum() {
        let o = expect(
            run(&RdsClusterBackupRetention, &keeping(7), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "backup_retention_period", json!(7));
        assert_evidence(&o, "min_backup_retention_days", json!(7));
    }

    #[test]
    fn fail_one_day_short() {
        let o = expect(
            run(&RdsClusterBackupRetention, &keeping(6), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "backup_retention_period", json!(6));
        assert!(o.reason.contains("fewer than 7"), "{}", o.reason);
    }

    #[test]
    fn the_minimum_is_a_parameter() {
        let mut params = Params::defaults(&RdsClusterBackupRetention);
        params.set("min_backup_retention_days", ParamValue::Integer(14));
        let o = expect(
            run_with(&RdsClusterBackupRetention, &keeping(13), &[], &params),
            Status::Fail,
        );
        assert_evidence(&o, "min_backup_retention_days", json!(14));
        expect(
            run_with(&RdsClusterBackupRetention, &keeping(14), &[], &params),
            Status::Pass,
        );
    }

    #[test]
    fn error_when_clusters_could_not_be_listed() {
        let f = crate::rules::ec2::fixtures::evaluate_with_gap(
            "rds_cluster_backup_retention",
            &[keeping(30)],
            "rds:DescribeDBClusters",
            "arn:aws:rds:us-east-1:111122223333:cluster:c1",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("rds:DescribeDBClusters"), "{}", f.reason);
    }
}
