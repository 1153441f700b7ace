//! `sg_no_world_ssh`: no security group admits SSH (TCP 22) from the whole internet.

use posture_model::{Resource, ResourceKind, Severity};

use super::world_port_outcome;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SgNoWorldSsh;

static META: RuleMeta = RuleMeta {
    id: "sg_no_world_ssh",
    title: "Security group does not allow SSH from the internet",
    severity: Severity::Critical,
    subject: ResourceKind::SecurityGroup,
    rationale: "SSH open to 0.0.0.0/0 or ::/0 exposes every instance in the group to internet-wide \
                brute-force and exploit attempts; a single compromised host gives direct access to \
                the ePHI it processes (164.312(a)(1)).",
    remediation: "Remove the ingress rules admitting TCP 22 (or all traffic) from 0.0.0.0/0 and ::/0; \
                  allow SSH only from known administrative CIDRs or a bastion security group, or use \
                  Session Manager instead.",
    api_calls: &["ec2:DescribeSecurityGroups"],
    params: &[],
};

impl Rule for SgNoWorldSsh {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        world_port_outcome(subject, 22, "SSH")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_ssh_is_restricted() {
        let mut g = sg("web");
        g.ingress = vec![
            sg_rule("tcp", Some(22), Some(22), &["10.0.0.0/8"], &[]),
            world_tcp(443, 443),
        ];
        let o = expect(run(&SgNoWorldSsh, &sg_resource(g), &[]), Status::Pass);
        assert_eq!(o.evidence["port"], serde_json::json!(22));
        assert_eq!(o.evidence["ingress_rules"], serde_json::json!(2));
    }

    #[test]
    fn fail_when_port_range_covers_ssh() {
        let mut g = sg("web");
        g.ingress = vec![world_tcp(443, 443), world_tcp(20, 25)];
        let o = expect(run(&SgNoWorldSsh, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(
            o.evidence["offending_rules"],
            serde_json::json!([{
                "protocol": "tcp",
                "from_port": 20,
                "to_port": 25,
                "cidrs": ["0.0.0.0/0"],
            }])
        );
        assert!(
            o.reason.contains("tcp 20-25 from 0.0.0.0/0"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_when_all_protocols_open_to_world() {
        let mut g = sg("open");
        g.ingress = vec![sg_rule("-1", None, None, &[], &["::/0"])];
        let o = expect(run(&SgNoWorldSsh, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(
            o.evidence["offending_rules"][0]["protocol"],
            serde_json::json!("-1")
        );
        assert_eq!(
            o.evidence["offending_rules"][0]["cidrs"],
            serde_json::json!(["::/0"])
        );
        assert!(o.reason.contains("all traffic from ::/0"), "{}", o.reason);
    }

    #[test]
    fn udp_22_is_not_ssh() {
        let mut g = sg("udp");
        g.ingress = vec![sg_rule("udp", Some(22), Some(22), &["0.0.0.0/0"], &[])];
        let o = expect(run(&SgNoWorldSsh, &sg_resource(g), &[]), Status::Pass);
        assert_eq!(o.evidence["port"], serde_json::json!(22));
        assert_eq!(o.evidence["ingress_rules"], serde_json::json!(1));
    }

    /// Security groups have no `Observed` input; what the rule needs is the group list,
    /// and a failed `ec2:DescribeSecurityGroups` makes the result in that region `Error`.
    #[test]
    fn error_when_groups_could_not_be_listed() {
        let subject = sg_resource(sg("web"));
        let f = evaluate_with_gap(
            "sg_no_world_ssh",
            std::slice::from_ref(&subject),
            "ec2:DescribeSecurityGroups",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("ec2:DescribeSecurityGroups"),
            "{}",
            f.reason
        );
    }
}
