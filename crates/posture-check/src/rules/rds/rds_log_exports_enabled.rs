//! `rds_log_exports_enabled`: every standalone RDS DB instance exports engine logs to
//! CloudWatch Logs.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsLogExportsEnabled;

static META: RuleMeta = RuleMeta {
    id: "rds_log_exports_enabled",
    title: "RDS DB instance exports its logs to CloudWatch Logs",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "Engine logs (audit, error, general, postgresql) record who connected to the \
                database holding ePHI and what failed; kept only on the instance they rotate \
                away within days and are lost with it. Exported to CloudWatch Logs they can be \
                retained and reviewed (164.312(b), 164.308(a)(1)(ii)(D)).",
    remediation: "Modify the instance with --cloudwatch-logs-export-configuration \
                  EnableLogTypes=[...] (e.g. postgresql, or audit,error,general,slowquery for \
                  MySQL; audit needs the engine's audit plugin or pgaudit). Aurora exports are \
                  set on the cluster.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsLogExportsEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if let Some(cluster) = &db.cluster_identifier {
            return Outcome::not_applicable(format!(
                "the instance belongs to cluster {cluster}, whose log exports apply"
            ))
            .with("cluster_identifier", cluster);
        }
        let exports = &db.enabled_cloudwatch_logs_exports;
        let outcome = if exports.is_empty() {
            Outcome::fail("no logs are exported to CloudWatch Logs")
        } else {
            Outcome::pass(format!(
                "logs exported to CloudWatch Logs: {}",
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

    #[test]
    fn pass_when_logs_exported() {
        let mut db = instance("db1");
        db.enabled_cloudwatch_logs_exports = vec!["postgresql".into(), "upgrade".into()];
        let o = expect(
            run(&RdsLogExportsEnabled, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["enabled_cloudwatch_logs_exports"],
            serde_json::json!(["postgresql", "upgrade"])
        );
    }

    #[test]
    fn fail_when_nothing_exported() {
        let o = expect(
            run(
                &RdsLogExportsEnabled,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["enabled_cloudwatch_logs_exports"],
            serde_json::json!([])
        );
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsLogExportsEnabled,
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
            run(&RdsLogExportsEnabled, &instance_resource(db), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["cluster_identifier"], "aurora");
    }
}
