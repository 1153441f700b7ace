//! `rds_auto_minor_version_upgrade`: every RDS DB instance upgrades minor engine versions
//! automatically.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsAutoMinorVersionUpgrade;

static META: RuleMeta = RuleMeta {
    id: "rds_auto_minor_version_upgrade",
    title: "RDS DB instance has automatic minor version upgrades",
    severity: Severity::Low,
    subject: ResourceKind::RdsInstance,
    rationale: "Minor engine versions carry security fixes; an instance that is not upgraded \
                automatically keeps known vulnerabilities in the database holding ePHI until \
                someone upgrades it by hand. Applying them is part of managing risk and \
                guarding against malicious software (164.308(a)(1)(ii)(B), \
                164.308(a)(5)(ii)(B)).",
    remediation: "Modify the instance with --auto-minor-version-upgrade; upgrades are applied \
                  in the instance's maintenance window.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsAutoMinorVersionUpgrade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        let enabled = db.auto_minor_version_upgrade;
        let outcome = if enabled {
            Outcome::pass("automatic minor version upgrades are enabled")
        } else {
            Outcome::fail("automatic minor version upgrades are disabled")
        };
        outcome.with("auto_minor_version_upgrade", enabled)
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
        let mut db = instance("db1");
        db.auto_minor_version_upgrade = true;
        let o = expect(
            run(&RdsAutoMinorVersionUpgrade, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["auto_minor_version_upgrade"], true);
    }

    #[test]
    fn fail_when_disabled() {
        let o = expect(
            run(
                &RdsAutoMinorVersionUpgrade,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["auto_minor_version_upgrade"], false);
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsAutoMinorVersionUpgrade,
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
}
