//! `ec2_instance_no_public_ip`: no instance has a public IPv4 address.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceNoPublicIp;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_no_public_ip",
    title: "EC2 instance has no public IPv4 address",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "An instance with a public IP address is reachable from the internet whenever a \
                security group or NACL rule allows it, so a single mistaken rule exposes the ePHI it \
                processes (164.312(a)(1)); instances without one can only be reached through \
                controlled entry points.",
    remediation: "Launch the instance in a private subnet without a public address (disable \
                   auto-assign public IP, release any Elastic IP) and reach it through a load \
                   balancer, VPN or Session Manager.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[],
};

impl Rule for Ec2InstanceNoPublicIp {
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
        match &instance.public_ip_address {
            Some(ip) => Outcome::fail(format!("instance {id} has public IPv4 address {ip}"))
                .with("public_ip_address", ip)
                .with("subnet_id", &instance.subnet_id)
                .with("state", state),
            None => Outcome::pass(format!("instance {id} has no public IPv4 address"))
                .with("public_ip_address", None::<&str>)
                .with("state", state),
        }
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
    fn pass_without_public_ip() {
        let o = expect(
            run(&Ec2InstanceNoPublicIp, &instance_resource(instance()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["public_ip_address"], serde_json::Value::Null);
    }

    #[test]
    fn fail_with_public_ip() {
        let mut i = instance();
        i.public_ip_address = Some("203.0.113.10".into());
        let o = expect(
            run(&Ec2InstanceNoPublicIp, &instance_resource(i), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["public_ip_address"],
            serde_json::json!("203.0.113.10")
        );
        assert!(o.reason.contains("203.0.113.10"), "{}", o.reason);
    }

    /// The public IP is a plain field; what the rule needs is the instance list, and a
    /// failed `ec2:DescribeInstances` makes the result in that region `Error`.
    #[test]
    fn error_when_instances_could_not_be_listed() {
        let subject = instance_resource(instance());
        let f = evaluate_with_gap(
            "ec2_instance_no_public_ip",
            std::slice::from_ref(&subject),
            "ec2:DescribeInstances",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeInstances"), "{}", f.reason);
    }

    #[test]
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("terminated".into());
        i.public_ip_address = Some("203.0.113.10".into());
        let o = expect(
            run(&Ec2InstanceNoPublicIp, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "state", json!("terminated"));
    }
}
