//! `sg_no_world_rdp`: no security group admits RDP (TCP 3389) from the whole internet.

use posture_model::{Resource, ResourceKind, Severity};

use super::world_port_outcome;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SgNoWorldRdp;

static META: RuleMeta = RuleMeta {
    id: "sg_no_world_rdp",
    title: "Security group does not allow RDP from the internet",
    severity: Severity::Critical,
    subject: ResourceKind::SecurityGroup,
    rationale: "RDP open to 0.0.0.0/0 or ::/0 exposes every Windows instance in the group to \
                internet-wide credential stuffing and RDP exploits; a single compromised host gives \
                direct access to the ePHI it processes (164.312(a)(1)).",
    remediation: "Remove the ingress rules admitting TCP 3389 (or all traffic) from 0.0.0.0/0 and \
                  ::/0; allow RDP only from known administrative CIDRs, a bastion security group or \
                  a VPN, or use Fleet Manager / Session Manager port forwarding instead.",
    api_calls: &["ec2:DescribeSecurityGroups"],
    params: &[],
};

impl Rule for SgNoWorldRdp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        world_port_outcome(subject, 3389, "RDP")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_rdp_is_restricted() {
        let mut g = sg("win");
        g.ingress = vec![
            sg_rule("tcp", Some(3389), Some(3389), &["192.0.2.0/24"], &[]),
            world_tcp(22, 22),
        ];
        let o = expect(run(&SgNoWorldRdp, &sg_resource(g), &[]), Status::Pass);
        assert_eq!(o.evidence["port"], serde_json::json!(3389));
    }

    #[test]
    fn fail_when_rdp_open_over_ipv6() {
        let mut g = sg("win");
        g.ingress = vec![sg_rule(
            "tcp",
            Some(3389),
            Some(3389),
            &["10.0.0.0/8"],
            &["::/0"],
        )];
        let o = expect(run(&SgNoWorldRdp, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(
            o.evidence["offending_rules"],
            serde_json::json!([{
                "protocol": "tcp",
                "from_port": 3389,
                "to_port": 3389,
                "cidrs": ["::/0"],
            }])
        );
    }

    #[test]
    fn fail_when_all_protocols_open_to_world() {
        let mut g = sg("open");
        g.ingress = vec![sg_rule("-1", None, None, &["0.0.0.0/0"], &[])];
        let o = expect(run(&SgNoWorldRdp, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(o.evidence["port"], serde_json::json!(3389));
        assert_eq!(
            o.evidence["offending_rules"],
            serde_json::json!([{"protocol": "-1", "from_port": null, "to_port": null, "cidrs": ["0.0.0.0/0"]}])
        );
        assert!(
            o.reason.contains("all traffic from 0.0.0.0/0"),
            "{}",
            o.reason
        );
    }

    /// 3389 from a /8 is not from the internet; 3388-3390 from `0.0.0.0/0` covers RDP.
    #[test]
    fn world_is_0_0_0_0_slash_0_not_a_slash_8_and_ranges_count() {
        let mut g = sg("win");
        g.ingress = vec![sg_rule("tcp", Some(3389), Some(3389), &["3.0.0.0/8"], &[])];
        let o = expect(run(&SgNoWorldRdp, &sg_resource(g), &[]), Status::Pass);
        assert_eq!(o.evidence["ingress_rules"], serde_json::json!(1));
        let mut g = sg("win");
        g.ingress = vec![world_tcp(3388, 3390)];
        let o = expect(run(&SgNoWorldRdp, &sg_resource(g), &[]), Status::Fail);
        assert!(
            o.reason.contains("tcp 3388-3390 from 0.0.0.0/0"),
            "{}",
            o.reason
        );
        let mut g = sg("win");
        g.ingress = vec![world_tcp(3390, 3400)];
        expect(run(&SgNoWorldRdp, &sg_resource(g), &[]), Status::Pass);
    }

    /// Security groups have no `Observed` input; what the rule needs is the group list,
    /// and a failed `ec2:DescribeSecurityGroups` makes the result in that region `Error`.
    #[test]
    fn error_when_groups_could_not_be_listed() {
        let subject = sg_resource(sg("win"));
        let f = evaluate_with_gap(
            "sg_no_world_rdp",
            std::slice::from_ref(&subject),
            "ec2:DescribeSecurityGroups",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeSecurityGroups failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeSecurityGroups");
    }
}
