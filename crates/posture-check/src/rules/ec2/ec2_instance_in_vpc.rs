//! `ec2_instance_in_vpc`: every EC2 instance runs inside a VPC (none on EC2-Classic's
//! shared network).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceInVpc;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_in_vpc",
    title: "EC2 instance runs in a VPC",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "An instance outside a VPC sits on a network shared with other customers, without \
                the subnets, route tables, network ACLs and flow logs that isolate ePHI \
                workloads and limit who can reach them (164.308(a)(1)(ii)(B), 164.312(a)(1), \
                164.312(e)(1)).",
    remediation: "Launch a replacement instance in a VPC subnet (from an AMI of the old one) and \
                  terminate the instance that runs outside a VPC.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[],
};

impl Rule for Ec2InstanceInVpc {
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
        match &instance.vpc_id {
            Some(vpc) => Outcome::pass(format!("instance {id} runs in {vpc}")),
            None => Outcome::fail(format!("instance {id} does not run in a VPC")),
        }
        .with("vpc_id", &instance.vpc_id)
        .with("subnet_id", &instance.subnet_id)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn pass_in_a_vpc() {
        let o = expect(
            run(&Ec2InstanceInVpc, &instance_resource(instance()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["vpc_id"], "vpc-1");
    }

    #[test]
    fn fail_outside_a_vpc() {
        let mut i = instance();
        i.vpc_id = None;
        i.subnet_id = None;
        let o = expect(
            run(&Ec2InstanceInVpc, &instance_resource(i), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["vpc_id"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_instances_could_not_be_listed() {
        let subject = instance_resource(instance());
        let f = evaluate_with_gap(
            "ec2_instance_in_vpc",
            std::slice::from_ref(&subject),
            "ec2:DescribeInstances",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeInstances failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeInstances");
    }

    #[test]
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("terminated".into());
        i.vpc_id = None;
        let o = expect(
            run(&Ec2InstanceInVpc, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "state", json!("terminated"));
        assert!(o.reason.contains("terminated"), "{}", o.reason);
    }
}
