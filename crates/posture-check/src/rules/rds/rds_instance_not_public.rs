//! `rds_instance_not_public`: no RDS DB instance is publicly accessible.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInstanceNotPublic;

static META: RuleMeta = RuleMeta {
    id: "rds_instance_not_public",
    title: "RDS DB instance is not publicly accessible",
    severity: Severity::Critical,
    subject: ResourceKind::RdsInstance,
    rationale: "A publicly accessible instance gets a public DNS name and IP address, so the only \
                barriers between the internet and the database holding ePHI are its security \
                groups and password; access to ePHI must be limited to authorised users and \
                systems (164.312(a)(1)).",
    remediation: "Modify the instance with --no-publicly-accessible, place it in private subnets, \
                  and reach it through a VPN, bastion or VPC peering instead.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsInstanceNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if db.publicly_accessible {
            Outcome::fail("the instance is publicly accessible: it has a public endpoint")
                .with("publicly_accessible", true)
                .with("vpc_id", &db.vpc_id)
                .with("db_subnet_group", &db.db_subnet_group)
        } else {
            Outcome::pass("the instance is not publicly accessible")
                .with("publicly_accessible", false)
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
    fn pass_when_private() {
        let o = expect(
            run(
                &RdsInstanceNotPublic,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["publicly_accessible"], false);
    }

    #[test]
    fn fail_when_public() {
        let mut db = instance("db1");
        db.publicly_accessible = true;
        db.vpc_id = Some("vpc-1".into());
        let o = expect(
            run(&RdsInstanceNotPublic, &instance_resource(db), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["publicly_accessible"], true);
        assert_eq!(o.evidence["vpc_id"], "vpc-1");
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsInstanceNotPublic,
            instance_resource(instance("db1")),
            "rds:DescribeDBInstances",
        );
        assert_eq!(f.status, Status::Error);
        assert!(f.reason.contains("rds:DescribeDBInstances"), "{}", f.reason);
    }
}
