//! `rds_instance_in_backup_plan`: an AWS Backup plan assigns the DB instance. Members of a
//! DB cluster are backed up with their cluster (see `rds_cluster_in_backup_plan`).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::membership;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInstanceInBackupPlan;

static META: RuleMeta = RuleMeta {
    id: "rds_instance_in_backup_plan",
    title: "RDS DB instance is protected by an AWS Backup plan",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "Automated RDS backups are deleted with the instance and kept at most 35 days; \
                an AWS Backup plan keeps independent, centrally governed copies of the ePHI \
                database (164.308(a)(4)(ii)(A), 164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C), \
                164.310(d)(2)(iv), 164.312(a)(2)(ii)).",
    remediation: "Assign the DB instance to a backup plan: AWS Backup console > Backup plans > \
                  plan > Assign resources (by DB instance ARN, resource type RDS, or a tag), \
                  or CreateBackupSelection.",
    api_calls: &[
        "rds:DescribeDBInstances",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:GetBackupSelection",
    ],
    params: &[],
};

impl Rule for RdsInstanceInBackupPlan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if let Some(cluster) = &db.cluster_identifier {
            return Outcome::not_applicable(format!(
                "a member of DB cluster {cluster}: AWS Backup backs up the cluster"
            ))
            .with("cluster_identifier", cluster);
        }
        membership::outcome(membership::membership(ctx, subject), "DB instance")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::rules::rds::fixtures::{instance, instance_resource};
    use crate::testing::*;

    #[test]
    fn pass_when_assigned() {
        let p = plan_resource(plan("db", vec![selection(&["arn:aws:rds:*:*:db:*"])]));
        let o = expect(
            run(
                &RdsInstanceInBackupPlan,
                &instance_resource(instance("phi")),
                &[p],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["selection"], "db-sel-0");
    }

    #[test]
    fn fail_when_only_clusters_selected() {
        let p = plan_resource(plan("c", vec![selection(&["arn:aws:rds:*:*:cluster:*"])]));
        let o = expect(
            run(
                &RdsInstanceInBackupPlan,
                &instance_resource(instance("phi")),
                &[p],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["plans_checked"], serde_json::json!(["c"]));
    }

    #[test]
    fn fail_when_assigned_but_rds_is_opted_out_of_backup() {
        let mut p = plan("db", vec![selection(&["arn:aws:rds:*:*:db:*"])]);
        p.resource_type_opt_in =
            posture_model::Observed::Collected([("RDS".to_owned(), false)].into());
        let o = expect(
            run(
                &RdsInstanceInBackupPlan,
                &instance_resource(instance("phi")),
                &[plan_resource(p)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["resource_type_opted_out"], "RDS");
    }

    #[test]
    fn error_when_assigned_but_opt_in_unknown() {
        let mut p = plan("db", vec![selection(&["arn:aws:rds:*:*:db:*"])]);
        p.resource_type_opt_in = denied("backup:DescribeRegionSettings");
        let o = expect(
            run(
                &RdsInstanceInBackupPlan,
                &instance_resource(instance("phi")),
                &[plan_resource(p)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("opted in"), "{}", o.reason);
    }

    #[test]
    fn error_when_selections_unreadable() {
        let mut p = plan("p", vec![]);
        p.selections = denied("backup:ListBackupSelections");
        let o = expect(
            run(
                &RdsInstanceInBackupPlan,
                &instance_resource(instance("phi")),
                &[plan_resource(p)],
            ),
            Status::Error,
        );
        assert!(o.evidence.contains_key("unavailable"));
    }

    #[test]
    fn not_applicable_to_cluster_members() {
        let mut i = instance("member");
        i.cluster_identifier = Some("phi-cluster".into());
        let o = expect(
            run(&RdsInstanceInBackupPlan, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["cluster_identifier"], "phi-cluster");
    }
}
