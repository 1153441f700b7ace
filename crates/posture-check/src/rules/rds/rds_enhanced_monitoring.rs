//! `rds_enhanced_monitoring`: every RDS DB instance has Enhanced Monitoring enabled.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsEnhancedMonitoring;

static META: RuleMeta = RuleMeta {
    id: "rds_enhanced_monitoring",
    title: "RDS DB instance has Enhanced Monitoring enabled",
    severity: Severity::Low,
    subject: ResourceKind::RdsInstance,
    rationale: "Enhanced Monitoring records the operating-system activity of the host running \
                the database holding ePHI (processes, CPU, memory, I/O) at up to one-second \
                granularity, so unusual activity can be examined and reviewed (164.312(b)).",
    remediation: "Modify the instance with --monitoring-interval (1, 5, 10, 15, 30 or 60 \
                  seconds) and --monitoring-role-arn naming a role with \
                  AmazonRDSEnhancedMonitoringRole.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsEnhancedMonitoring {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        match db.monitoring_interval {
            Some(n) if n > 0 => {
                Outcome::pass(format!("Enhanced Monitoring is enabled every {n} seconds"))
                    .with("monitoring_interval", n)
            }
            Some(n) => Outcome::fail("Enhanced Monitoring is disabled (interval 0)")
                .with("monitoring_interval", n),
            None => Outcome::error("DescribeDBInstances returned no monitoring interval")
                .with("monitoring_interval", serde_json::Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    fn with_interval(interval: Option<i32>) -> Resource {
        let mut db = instance("db1");
        db.monitoring_interval = interval;
        instance_resource(db)
    }

    #[test]
    fn pass_when_interval_set() {
        let o = expect(
            run(&RdsEnhancedMonitoring, &with_interval(Some(60)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["monitoring_interval"], 60);
    }

    #[test]
    fn fail_when_interval_zero() {
        let o = expect(
            run(&RdsEnhancedMonitoring, &with_interval(Some(0)), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["monitoring_interval"], 0);
    }

    #[test]
    fn error_when_interval_missing() {
        let o = expect(
            run(&RdsEnhancedMonitoring, &with_interval(None), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["monitoring_interval"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsEnhancedMonitoring,
            with_interval(Some(60)),
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
