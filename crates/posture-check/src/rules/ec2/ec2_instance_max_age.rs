//! `ec2_instance_max_age`: no EC2 instance has been running since longer ago than
//! `max_instance_age_days` (default 180), judged from its launch time.
//!
//! Old instances tend to run old images: relaunching from a current, patched AMI is how
//! immutable fleets stay patched. Stopped instances count (they start again as they are);
//! terminated ones are not applicable. A launch time AWS did not return is an `Error`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceMaxAge;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_max_age",
    title: "EC2 instance is not older than the maximum age",
    severity: Severity::Low,
    subject: ResourceKind::Instance,
    rationale: "An instance running for many months usually runs an outdated image with missing \
                operating-system patches; regularly replacing instances from current, patched \
                AMIs reduces the vulnerabilities of systems holding ePHI to a reasonable and \
                appropriate level (164.308(a)(1)(ii)(B)).",
    remediation: "Build a current, patched AMI, launch a replacement instance from it (or \
                  refresh the Auto Scaling group) and terminate the old instance; waive \
                  long-lived instances that are patched in place, with the reason.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[ParamSpec {
        name: "max_instance_age_days",
        ty: ParamType::Integer,
        default: "180",
        doc: "The oldest an instance may be, in days since its launch.",
    }],
};

impl Rule for Ec2InstanceMaxAge {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
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
        let max = ctx.int("max_instance_age_days");
        let Some(launched) = instance.launch_time else {
            return Outcome::error(format!(
                "instance {id} has no launch time, so its age is unknown"
            ))
            .with("max_instance_age_days", max);
        };
        let age = (ctx.now - launched).num_days();
        let outcome = if age > max {
            Outcome::fail(format!(
                "instance {id} was launched {age} days ago, more than {max}"
            ))
        } else {
            Outcome::pass(format!(
                "instance {id} was launched {age} days ago, at most {max}"
            ))
        };
        outcome
            .with("launch_time", launched)
            .with("age_days", age)
            .with("max_instance_age_days", max)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};
    use serde_json::json;

    fn launched(days: i64) -> Resource {
        let mut i = instance();
        i.launch_time = Some(days_ago(days));
        instance_resource(i)
    }

    #[test]
    fn pass_when_young() {
        let o = expect(run(&Ec2InstanceMaxAge, &launched(180), &[]), Status::Pass);
        assert_eq!(o.evidence["age_days"], 180);
    }

    #[test]
    fn fail_when_old() {
        let o = expect(run(&Ec2InstanceMaxAge, &launched(181), &[]), Status::Fail);
        assert_eq!(o.evidence["max_instance_age_days"], 180);
        assert_evidence(&o, "age_days", json!(181));
        assert_evidence(&o, "launch_time", json!(days_ago(181)));
    }

    #[test]
    fn respects_the_parameter() {
        let mut params = Params::defaults(&Ec2InstanceMaxAge);
        params.set("max_instance_age_days", ParamValue::Integer(30));
        let o = expect(
            run_with(&Ec2InstanceMaxAge, &launched(31), &[], &params),
            Status::Fail,
        );
        assert_evidence(&o, "age_days", json!(31));
        assert_evidence(&o, "max_instance_age_days", json!(30));
        assert!(
            o.reason.contains("31 days ago, more than 30"),
            "{}",
            o.reason
        );
        let o = expect(
            run_with(&Ec2InstanceMaxAge, &launched(30), &[], &params),
            Status::Pass,
        );
        assert_evidence(&o, "age_days", json!(30));
    }

    #[test]
    fn error_without_launch_time() {
        let o = expect(
            run(&Ec2InstanceMaxAge, &instance_resource(instance()), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("launch time"), "{}", o.reason);
        assert_evidence(&o, "max_instance_age_days", json!(180));
    }

    #[test]
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("terminated".into());
        i.launch_time = Some(days_ago(1000));
        let o = expect(
            run(&Ec2InstanceMaxAge, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "state", json!("terminated"));
    }
}
