//! `rds_cluster_in_backup_plan`: an AWS Backup plan assigns the DB cluster.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::membership;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterInBackupPlan;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_in_backup_plan",
    title: "Aurora / RDS DB cluster is protected by an AWS Backup plan",
    severity: Severity::Medium,
    subject: ResourceKind::RdsCluster,
    rationale: "Automated cluster backups are deleted with the cluster and kept at most 35 \
                days; an AWS Backup plan keeps independent, centrally governed copies of the \
                ePHI database (164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), \
                164.312(a)(2)(ii)).",
    remediation: "Assign the cluster to a backup plan: AWS Backup console > Backup plans > plan \
                  > Assign resources (by cluster ARN, resource type Aurora, or a tag), or \
                  CreateBackupSelection; for Aurora, the Aurora service opt-in must be on \
                  (UpdateRegionSettings).",
    api_calls: &[
        "rds:DescribeDBClusters",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:GetBackupSelection",
    ],
    params: &[],
};

impl Rule for RdsClusterInBackupPlan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        membership::outcome(membership::membership(ctx, subject), "DB cluster")
            .with("engine", &cluster.engine)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::SelectionCondition;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::rules::rds::fixtures::{cluster, cluster_resource};
    use crate::testing::*;

    fn tagged_selection() -> posture_model::resources::BackupSelection {
        let mut s = selection(&["arn:aws:rds:*:*:cluster:*"]);
        s.conditions = vec![SelectionCondition {
            operator: "StringEquals".into(),
            key: "aws:ResourceTag/backup".into(),
            value: "true".into(),
        }];
        s
    }

    #[test]
    fn pass_when_resources_and_conditions_match() {
        let mut c = cluster_resource(cluster("phi"));
        c.tags = Observed::Collected([("backup".to_owned(), "true".to_owned())].into());
        let o = expect(
            run(
                &RdsClusterInBackupPlan,
                &c,
                &[plan_resource(plan("p", vec![tagged_selection()]))],
            ),
            Status::Pass,
        );
        assert!(
            o.evidence["matched_by"]
                .as_str()
                .unwrap()
                .contains("Conditions")
        );
    }

    #[test]
    fn fail_when_a_condition_is_not_met() {
        let o = expect(
            run(
                &RdsClusterInBackupPlan,
                &cluster_resource(cluster("phi")),
                &[plan_resource(plan("p", vec![tagged_selection()]))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["engine"], "aurora-postgresql");
    }

    #[test]
    fn error_when_tags_unreadable_and_tested() {
        let mut c = cluster_resource(cluster("phi"));
        c.tags = denied("rds:ListTagsForResource");
        let o = expect(
            run(
                &RdsClusterInBackupPlan,
                &c,
                &[plan_resource(plan("p", vec![tagged_selection()]))],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("tags"), "{}", o.reason);
    }
}
