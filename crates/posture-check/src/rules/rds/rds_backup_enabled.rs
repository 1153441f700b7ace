//! `rds_backup_enabled`: every standalone RDS DB instance keeps automated backups for at
//! least `min_backup_retention_days` days.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsBackupEnabled;

static META: RuleMeta = RuleMeta {
    id: "rds_backup_enabled",
    title: "RDS DB instance keeps automated backups for the minimum retention period",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "Without automated backups (retention 0) or with too short a retention, ePHI lost to \
                corruption, deletion or ransomware cannot be restored to a point in time; covered \
                entities must be able to create and restore exact copies of ePHI \
                (164.308(a)(7)(ii)(A)).",
    remediation: "Modify the instance with --backup-retention-period set to at least the required \
                  number of days (1 to 35). Aurora instances are backed up by their cluster: set \
                  the retention on the cluster.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[ParamSpec {
        name: "min_backup_retention_days",
        ty: ParamType::Integer,
        default: "7",
        doc: "Minimum automated backup retention, in days.",
    }],
};

impl Rule for RdsBackupEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if let Some(cluster) = &db.cluster_identifier {
            return Outcome::not_applicable(format!(
                "the instance belongs to cluster {cluster}, whose backups cover it"
            ))
            .with("cluster_identifier", cluster);
        }
        let min = ctx.int("min_backup_retention_days");
        let days = i64::from(db.backup_retention_period);
        let outcome = if days == 0 {
            Outcome::fail("automated backups are off (backup retention period is 0 days)")
        } else if days < min {
            Outcome::fail(format!(
                "automated backups are kept {days} days, fewer than the required {min}"
            ))
        } else {
            Outcome::pass(format!(
                "automated backups are kept {days} days (at least {min} required)"
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

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    #[test]
    fn pass_at_the_minimum() {
        let mut db = instance("db1");
        db.backup_retention_period = 7;
        let o = expect(
            run(&RdsBackupEnabled, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["backup_retention_period"], 7);
        assert_eq!(o.evidence["min_backup_retention_days"], 7);
    }

    #[test]
    fn fail_when_backups_off() {
        let o = expect(
            run(&RdsBackupEnabled, &instance_resource(instance("db1")), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("off"), "{}", o.reason);
        assert_eq!(o.evidence["backup_retention_period"], 0);
    }

    #[test]
    fn fail_below_the_parameter() {
        let mut db = instance("db1");
        db.backup_retention_period = 7;
        let mut params = Params::defaults(&RdsBackupEnabled);
        params.set("min_backup_retention_days", ParamValue::Integer(14));
        let o = expect(
            run_with(&RdsBackupEnabled, &instance_resource(db), &[], &params),
            Status::Fail,
        );
        assert!(
            o.reason.contains("fewer than the required 14"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["min_backup_retention_days"], 14);
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsBackupEnabled,
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
        db.engine = "aurora-postgresql".into();
        db.cluster_identifier = Some("aurora".into());
        let o = expect(
            run(&RdsBackupEnabled, &instance_resource(db), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["cluster_identifier"], "aurora");
    }

    /// The boundary at the default minimum of 7 days: 7 passes, 6 fails, with the days
    /// and the minimum as evidence.
    #[test]
    fn pass_at_7_days_and_fail_at_6() {
        let mut db = instance("db7");
        db.backup_retention_period = 7;
        let o = expect(
            run(&RdsBackupEnabled, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "backup_retention_period", serde_json::json!(7));
        assert_evidence(&o, "min_backup_retention_days", serde_json::json!(7));
        let mut db = instance("db6");
        db.backup_retention_period = 6;
        let o = expect(
            run(&RdsBackupEnabled, &instance_resource(db), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "backup_retention_period", serde_json::json!(6));
        assert!(
            o.reason.contains("fewer than the required 7"),
            "{}",
            o.reason
        );
    }
}
