//! `ec2_detailed_monitoring`: instances have detailed (1-minute) CloudWatch monitoring.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2DetailedMonitoring;

static META: RuleMeta = RuleMeta {
    id: "ec2_detailed_monitoring",
    title: "EC2 instance has detailed monitoring enabled",
    severity: Severity::Low,
    subject: ResourceKind::Instance,
    rationale: "One-minute metrics let alarms on systems that process ePHI notice outages and \
                unusual activity quickly, supporting the audit controls that record and examine \
                activity in those systems (164.312(b)).",
    remediation: "Enable it: aws ec2 monitor-instances --instance-ids ID (EC2 console > \
                  instance > Actions > Monitor and troubleshoot > Manage detailed monitoring), \
                  and set Monitoring.Enabled=true in launch templates.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[],
};

impl Rule for Ec2DetailedMonitoring {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        let id = &instance.instance_id;
        let state = instance.state.as_deref();
        if is_gone(state) {
            return Outcome::not_applicable(format!(
                "instance {id} is {}",
                state.unwrap_or_default()
            ))
            .with("state", state);
        }
        let monitoring = instance.monitoring_state.as_deref();
        let outcome = match monitoring {
            Some("enabled") => Outcome::pass(format!("instance {id} has detailed monitoring")),
            Some("pending") => Outcome::pass(format!(
                "instance {id} is enabling detailed monitoring (pending)"
            )),
            Some(other) => Outcome::fail(format!(
                "instance {id} has basic (5-minute) monitoring only: detailed monitoring is {other}"
            )),
            None => Outcome::error(format!(
                "instance {id} reports no monitoring state, so whether detailed monitoring is on \
                 is unknown"
            )),
        };
        outcome.with("monitoring_state", monitoring)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn with_state(state: Option<&str>) -> Resource {
        let mut i = instance();
        i.monitoring_state = state.map(str::to_owned);
        instance_resource(i)
    }

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(&Ec2DetailedMonitoring, &with_state(Some("enabled")), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["monitoring_state"], "enabled");
    }

    #[test]
    fn fail_when_disabled() {
        let o = expect(
            run(&Ec2DetailedMonitoring, &with_state(Some("disabled")), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("basic"), "{}", o.reason);
    }

    #[test]
    fn error_when_unknown() {
        let o = expect(
            run(&Ec2DetailedMonitoring, &with_state(None), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["monitoring_state"], serde_json::Value::Null);
    }

    #[test]
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("terminated".into());
        let o = expect(
            run(&Ec2DetailedMonitoring, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "terminated");
    }
}
