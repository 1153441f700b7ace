//! `sg_only_authorized_ports_open`: a security group admits the internet (`0.0.0.0/0`,
//! `::/0`) only on authorized ports (`authorized_ports`, default 80 and 443), over TCP or
//! UDP.
//!
//! A world-open rule fails when its port range reaches any port not in the list, when it
//! admits all ports (no range, or -1) or all protocols (`-1`), or when it admits another
//! protocol that has no ports (ESP, GRE, ...). ICMP and ICMPv6 carry no ports and are left
//! to the other rules.

use posture_model::resources::SgRule;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use super::{describe_sg_rule, sg_rule_evidence};
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SgOnlyAuthorizedPortsOpen;

static META: RuleMeta = RuleMeta {
    id: "sg_only_authorized_ports_open",
    title: "Security group is open to the internet only on authorized ports",
    severity: Severity::High,
    subject: ResourceKind::SecurityGroup,
    rationale: "Every port open to 0.0.0.0/0 or ::/0 is a service anyone on the internet can \
                probe and attack; limiting world-open ports to an approved list (web traffic by \
                default) keeps the instances that store or process ePHI reachable only as \
                intended (164.308(a)(1)(ii)(B), 164.312(e)(1)).",
    remediation: "Remove or narrow the ingress rules that admit the internet on other ports (or \
                  all traffic): admit those ports only from known CIDRs, security groups or a \
                  VPN; or add a port the organisation approves to authorized_ports.",
    api_calls: &["ec2:DescribeSecurityGroups"],
    params: &[ParamSpec {
        name: "authorized_ports",
        ty: ParamType::IntegerList,
        default: "80,443",
        doc: "TCP and UDP ports that may be open to the internet.",
    }],
};

/// Why a world-open rule reaches beyond the authorized ports, if it does.
fn unauthorized(rule: &SgRule, authorized: &[i64]) -> Option<String> {
    match rule.ip_protocol.as_str() {
        "-1" | "all" => Some("all protocols and ports".to_owned()),
        "icmp" | "1" | "icmpv6" | "58" => None,
        "tcp" | "6" | "udp" | "17" => match (rule.from_port, rule.to_port) {
            (Some(from), Some(to)) if from != -1 && to != -1 => {
                let (from, to) = (i64::from(from.min(to)), i64::from(from.max(to)));
                let covered = authorized
                    .iter()
                    .filter(|p| (from..=to).contains(*p))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                let width = usize::try_from(to - from + 1).unwrap_or(usize::MAX);
                (covered < width).then(|| {
                    if from == to {
                        format!("port {from}")
                    } else {
                        format!("ports {from}-{to}")
                    }
                })
            }
            _ => Some("all ports".to_owned()),
        },
        other => Some(format!("protocol {other}")),
    }
}

impl Rule for SgOnlyAuthorizedPortsOpen {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::SecurityGroup(group) = &subject.body else {
            return Outcome::not_applicable("not a security group");
        };
        let authorized = ctx.ints("authorized_ports");
        let offending: Vec<(&SgRule, String)> = group
            .ingress
            .iter()
            .filter(|r| r.open_to_world())
            .filter_map(|r| unauthorized(r, &authorized).map(|why| (r, why)))
            .collect();
        if offending.is_empty() {
            return Outcome::pass(format!(
                "{} admits the internet only on authorized ports, if at all",
                group.group_id
            ))
            .with("authorized_ports", authorized)
            .with("ingress_rules", group.ingress.len());
        }
        let described: Vec<String> = offending
            .iter()
            .map(|(r, why)| format!("{} ({why})", describe_sg_rule(r)))
            .collect();
        let evidence: Vec<Value> = offending.iter().map(|(r, _)| sg_rule_evidence(r)).collect();
        Outcome::fail(format!(
            "{} admits the internet beyond the authorized ports: {}",
            group.group_id,
            described.join("; ")
        ))
        .with("authorized_ports", authorized)
        .with("offending_rules", evidence)
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

    fn group(ingress: Vec<SgRule>) -> Resource {
        let mut g = sg("web");
        g.ingress = ingress;
        sg_resource(g)
    }

    #[test]
    fn pass_with_web_ports_and_private_ssh() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![
                    world_tcp(80, 80),
                    sg_rule("tcp", Some(443), Some(443), &[], &["::/0"]),
                    sg_rule("tcp", Some(22), Some(22), &["10.0.0.0/8"], &[]),
                    sg_rule("icmp", Some(-1), Some(-1), &["0.0.0.0/0"], &[]),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["ingress_rules"], 4);
    }

    #[test]
    fn fail_on_other_port() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![world_tcp(443, 443), world_tcp(8443, 8443)]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("port 8443"), "{}", o.reason);
        assert_eq!(
            o.evidence["offending_rules"].as_array().map(Vec::len),
            Some(1)
        );
    }

    /// 80-443 admits 362 ports of which two are authorized: the range is the offence.
    #[test]
    fn fail_on_range_beyond_authorized() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![world_tcp(80, 443)]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("(ports 80-443)"), "{}", o.reason);
        assert_evidence(&o, "authorized_ports", json!([80, 443]));
        assert_evidence(
            &o,
            "offending_rules",
            json!([{"protocol": "tcp", "from_port": 80, "to_port": 443, "cidrs": ["0.0.0.0/0"]}]),
        );
    }

    /// A range made only of authorized ports is allowed: 80-81 with 80 and 81 authorized
    /// passes, 80-82 fails on the one port more.
    #[test]
    fn pass_on_a_range_of_authorized_ports_only() {
        let mut params = Params::defaults(&SgOnlyAuthorizedPortsOpen);
        params.set("authorized_ports", ParamValue::IntegerList(vec![80, 81]));
        let o = expect(
            run_with(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![world_tcp(81, 80)]),
                &[],
                &params,
            ),
            Status::Pass,
        );
        assert_evidence(&o, "authorized_ports", json!([80, 81]));
        assert_evidence(&o, "ingress_rules", json!(1));
        let o = expect(
            run_with(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![world_tcp(80, 82)]),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("ports 80-82"), "{}", o.reason);
    }

    /// Port 8443 from a /8 is not from the internet; from `0.0.0.0/0` it is.
    #[test]
    fn pass_when_an_unauthorized_port_is_open_to_a_slash_8_only() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![sg_rule(
                    "tcp",
                    Some(8443),
                    Some(8443),
                    &["3.0.0.0/8"],
                    &["2600::/8"],
                )]),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "ingress_rules", json!(1));
    }

    #[test]
    fn fail_on_all_traffic() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![sg_rule("-1", None, None, &["0.0.0.0/0"], &[])]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("all protocols"), "{}", o.reason);
    }

    #[test]
    fn fail_on_all_udp_ports() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![sg_rule("udp", Some(-1), Some(-1), &[], &["::/0"])]),
                &[],
            ),
            Status::Fail,
        );
        // The rule's own verdict in parentheses: every port, not "port -1".
        assert!(o.reason.contains("(all ports)"), "{}", o.reason);
        assert_evidence(
            &o,
            "offending_rules",
            json!([{"protocol": "udp", "from_port": -1, "to_port": -1, "cidrs": ["::/0"]}]),
        );
    }

    /// A protocol that is neither TCP, UDP nor ICMP (GRE, 47) open to the world has no
    /// ports to authorize.
    #[test]
    fn fail_on_another_protocol() {
        let o = expect(
            run(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![sg_rule("47", None, None, &["0.0.0.0/0"], &[])]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("protocol 47"), "{}", o.reason);
    }

    #[test]
    fn respects_the_parameter() {
        let mut params = Params::defaults(&SgOnlyAuthorizedPortsOpen);
        params.set(
            "authorized_ports",
            ParamValue::IntegerList(vec![8443, 8444]),
        );
        let o = expect(
            run_with(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![world_tcp(8443, 8444)]),
                &[],
                &params,
            ),
            Status::Pass,
        );
        assert_evidence(&o, "authorized_ports", json!([8443, 8444]));
        // 443 is authorized by default, not once the parameter replaces the list.
        let o = expect(
            run_with(
                &SgOnlyAuthorizedPortsOpen,
                &group(vec![world_tcp(443, 443)]),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("port 443"), "{}", o.reason);
    }

    #[test]
    fn error_when_groups_could_not_be_listed() {
        let subject = group(vec![]);
        let f = evaluate_with_gap(
            "sg_only_authorized_ports_open",
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
