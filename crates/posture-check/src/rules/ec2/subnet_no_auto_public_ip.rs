//! `subnet_no_auto_public_ip`: no subnet gives instances a public IPv4 address by default.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SubnetNoAutoPublicIp;

static META: RuleMeta = RuleMeta {
    id: "subnet_no_auto_public_ip",
    title: "Subnet does not auto-assign public IPv4 addresses",
    severity: Severity::Medium,
    subject: ResourceKind::Subnet,
    rationale: "Every instance launched into a subnet with MapPublicIpOnLaunch gets an internet-\
                routable address unless the launcher opts out, so systems processing ePHI become \
                reachable from the internet by default (164.312(a)(1)).",
    remediation: "Turn off auto-assign public IPv4 (ModifySubnetAttribute \
                  --no-map-public-ip-on-launch) and assign public addresses explicitly only where a \
                  public endpoint is intended.",
    api_calls: &["ec2:DescribeSubnets"],
    params: &[],
};

impl Rule for SubnetNoAutoPublicIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Subnet(subnet) = &subject.body else {
            return Outcome::not_applicable("not a subnet");
        };
        let outcome = if subnet.map_public_ip_on_launch {
            Outcome::fail(format!(
                "subnet {} assigns a public IPv4 address to every instance launched in it",
                subnet.subnet_id
            ))
        } else {
            Outcome::pass(format!(
                "subnet {} does not auto-assign public IPv4 addresses",
                subnet.subnet_id
            ))
        };
        outcome
            .with("map_public_ip_on_launch", subnet.map_public_ip_on_launch)
            .with("vpc_id", &subnet.vpc_id)
            .with("default_for_az", subnet.default_for_az)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_not_mapping_public_ips() {
        let o = expect(
            run(&SubnetNoAutoPublicIp, &subnet_resource(false), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["map_public_ip_on_launch"],
            serde_json::json!(false)
        );
    }

    #[test]
    fn fail_when_mapping_public_ips() {
        let o = expect(
            run(&SubnetNoAutoPublicIp, &subnet_resource(true), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["map_public_ip_on_launch"],
            serde_json::json!(true)
        );
        assert!(o.reason.contains("subnet-1"), "{}", o.reason);
    }

    /// Subnets have no `Observed` input; what the rule needs is the subnet list, and a
    /// failed `ec2:DescribeSubnets` makes the result in that region `Error`.
    #[test]
    fn error_when_subnets_could_not_be_listed() {
        let subject = subnet_resource(true);
        let f = evaluate_with_gap(
            "subnet_no_auto_public_ip",
            std::slice::from_ref(&subject),
            "ec2:DescribeSubnets",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeSubnets failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeSubnets");
    }
}
