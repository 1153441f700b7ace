//! `rds_instance_multi_az`: every standalone RDS DB instance is a Multi-AZ deployment.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInstanceMultiAz;

static META: RuleMeta = RuleMeta {
    id: "rds_instance_multi_az",
    title: "RDS DB instance is a Multi-AZ deployment",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "A Single-AZ instance is unavailable, and ePHI in it unreachable, for as long as \
                its Availability Zone or host fails; a synchronous standby in another zone \
                keeps ePHI available during an emergency and limits data loss (164.308(a)(7)(i), \
                164.308(a)(7)(ii)(B), 164.308(a)(7)(ii)(C)).",
    remediation: "Modify the instance with --multi-az (applied in the next maintenance window \
                  unless --apply-immediately). Aurora instances get availability from the \
                  cluster's replicas in other zones.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsInstanceMultiAz {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if let Some(cluster) = &db.cluster_identifier {
            return Outcome::not_applicable(format!(
                "the instance belongs to cluster {cluster}, whose replicas provide availability"
            ))
            .with("cluster_identifier", cluster);
        }
        if db.multi_az {
            Outcome::pass("the instance is a Multi-AZ deployment").with("multi_az", true)
        } else {
            Outcome::fail("the instance is a Single-AZ deployment").with("multi_az", false)
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
    fn pass_when_multi_az() {
        let mut db = instance("db1");
        db.multi_az = true;
        let o = expect(
            run(&RdsInstanceMultiAz, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["multi_az"], true);
    }

    #[test]
    fn fail_when_single_az() {
        let o = expect(
            run(
                &RdsInstanceMultiAz,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["multi_az"], false);
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsInstanceMultiAz,
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
            run(&RdsInstanceMultiAz, &instance_resource(db), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["cluster_identifier"], "aurora");
    }
}
