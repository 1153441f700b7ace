//! `rds_instance_deletion_protection`: every standalone RDS DB instance has deletion
//! protection.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInstanceDeletionProtection;

static META: RuleMeta = RuleMeta {
    id: "rds_instance_deletion_protection",
    title: "RDS DB instance has deletion protection",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "Without deletion protection one API call or console click, by mistake or by an \
                attacker with the right credentials, deletes the database holding ePHI (and, \
                unless a final snapshot is taken, its automated backups); ePHI must be protected \
                from improper destruction (164.312(c)(1), 164.308(a)(7)(ii)(A)).",
    remediation: "Modify the instance with --deletion-protection. Aurora instances are protected by \
                  their cluster's setting.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsInstanceDeletionProtection {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if let Some(cluster) = &db.cluster_identifier {
            return Outcome::not_applicable(format!(
                "the instance belongs to cluster {cluster}, whose deletion protection applies"
            ))
            .with("cluster_identifier", cluster);
        }
        if db.deletion_protection {
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
        let mut db = instance("db1");
        db.deletion_protection = true;
        let o = expect(
            run(&RdsInstanceDeletionProtection, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["deletion_protection"], true);
    }

    #[test]
    fn fail_when_unprotected() {
        let o = expect(
            run(
                &RdsInstanceDeletionProtection,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["deletion_protection"], false);
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsInstanceDeletionProtection,
            instance_resource(instance("db1")),
            "rds:DescribeDBInstances",
        );
        assert_eq!(f.status, Status::Error);
        assert!(
            f.reason
                .contains("rds:DescribeDBInstances failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "rds:DescribeDBInstances");
    }

    #[test]
    fn not_applicable_to_cluster_members() {
        let mut db = instance("aurora-1");
        db.cluster_identifier = Some("aurora".into());
        let o = expect(
            run(&RdsInstanceDeletionProtection, &instance_resource(db), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["cluster_identifier"], "aurora");
    }
}
