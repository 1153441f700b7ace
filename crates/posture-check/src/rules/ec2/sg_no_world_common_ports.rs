//! `sg_no_world_common_ports`: no security group admits the internet to a list of
//! commonly attacked service ports (FTP, Telnet, SMTP, POP3, IMAP, NetBIOS/SMB, SQL Server
//! browser, VNC, Kibana, web consoles), over TCP or UDP.
//!
//! Both TCP and UDP count: several of these services (NetBIOS 137-139, SQL Server Browser
//! 1434) answer over UDP, and an all-protocol rule (`-1`) opens both.

use posture_model::resources::SgRule;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use super::{describe_sg_rule, sg_rule_evidence};
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SgNoWorldCommonPorts;

static META: RuleMeta = RuleMeta {
    id: "sg_no_world_common_ports",
    title: "Security group does not allow commonly attacked ports from the internet",
    severity: Severity::High,
    subject: ResourceKind::SecurityGroup,
    rationale: "FTP, Telnet, SMTP, POP3, IMAP, NetBIOS/SMB, VNC and unauthenticated web consoles \
                are routinely scanned for and exploited; open to 0.0.0.0/0 or ::/0 they expose the \
                instances that store or process ePHI, often over clear-text protocols \
                (164.312(a)(1), 164.312(e)(1)).",
    remediation: "Remove the ingress rules admitting the listed ports (or all traffic) from \
                  0.0.0.0/0 and ::/0; admit them only from known CIDRs or security groups, or put \
                  the service behind a load balancer or VPN.",
    api_calls: &["ec2:DescribeSecurityGroups"],
    params: &[ParamSpec {
        name: "ports",
        ty: ParamType::IntegerList,
        default: "20,21,23,25,110,135,139,143,445,1434,3020,5500,5601,8080,8888,9090",
        doc: "Port numbers (TCP and UDP) that must not be open to the internet.",
    }],
};

/// Whether `rule` admits TCP or UDP traffic to `port`.
fn covers_port(rule: &SgRule, port: i32) -> bool {
    match rule.ip_protocol.as_str() {
        "-1" | "all" => true,
        "tcp" | "6" | "udp" | "17" => match (rule.from_port, rule.to_port) {
            (Some(from), Some(to)) => (from == -1 && to == -1) || (from <= port && port <= to),
            _ => true,
        },
        _ => false,
    }
}

impl Rule for SgNoWorldCommonPorts {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::SecurityGroup(group) = &subject.body else {
            return Outcome::not_applicable("not a security group");
        };
        let ports = ctx.ints("ports");
        let mut open_ports: Vec<i64> = Vec::new();
        let mut offending: Vec<&SgRule> = Vec::new();
        for rule in group.ingress.iter().filter(|r| r.open_to_world()) {
            let hit: Vec<i64> = ports
                .iter()
                .copied()
                .filter(|p| i32::try_from(*p).is_ok_and(|p| covers_port(rule, p)))
                .collect();
            if hit.is_empty() {
                continue;
            }
            offending.push(rule);
            for p in hit {
                if !open_ports.contains(&p) {
                    open_ports.push(p);
                }
            }
        }
        open_ports.sort_unstable();
        if offending.is_empty() {
            return Outcome::pass(format!(
                "no ingress rule of {} admits any of the {} listed ports from 0.0.0.0/0 or ::/0",
                group.group_id,
                ports.len()
            ))
            .with("ports", ports)
            .with("ingress_rules", group.ingress.len());
        }
        let described: Vec<String> = offending.iter().map(|r| describe_sg_rule(r)).collect();
        let evidence: Vec<Value> = offending.iter().map(|r| sg_rule_evidence(r)).collect();
        let list: Vec<String> = open_ports.iter().map(i64::to_string).collect();
        Outcome::fail(format!(
            "{} admits port(s) {} from the internet: {}",
            group.group_id,
            list.join(", "),
            described.join("; ")
        ))
        .with("open_ports", open_ports)
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

    #[test]
    fn pass_with_only_https_open() {
        let mut g = sg("web");
        g.ingress = vec![
            world_tcp(443, 443),
            sg_rule("tcp", Some(21), Some(21), &["10.0.0.0/8"], &[]),
        ];
        let o = expect(
            run(&SgNoWorldCommonPorts, &sg_resource(g), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["ingress_rules"], 2);
    }

    #[test]
    fn fail_on_ftp_range() {
        let mut g = sg("ftp");
        g.ingress = vec![world_tcp(20, 21)];
        let o = expect(
            run(&SgNoWorldCommonPorts, &sg_resource(g), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([20, 21]));
        assert!(
            o.reason.contains("tcp 20-21 from 0.0.0.0/0"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_on_udp_and_ipv6() {
        let mut g = sg("sql");
        g.ingress = vec![sg_rule("udp", Some(1434), Some(1434), &[], &["::/0"])];
        let o = expect(
            run(&SgNoWorldCommonPorts, &sg_resource(g), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([1434]));
    }

    #[test]
    fn fail_on_all_traffic_and_respects_parameter() {
        let mut g = sg("open");
        g.ingress = vec![sg_rule("-1", None, None, &["0.0.0.0/0"], &[])];
        let mut params = Params::defaults(&SgNoWorldCommonPorts);
        params.set("ports", ParamValue::IntegerList(vec![8080]));
        let o = expect(
            run_with(&SgNoWorldCommonPorts, &sg_resource(g), &[], &params),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([8080]));
    }

    #[test]
    fn error_when_groups_could_not_be_listed() {
        let subject = sg_resource(sg("web"));
        let f = evaluate_with_gap(
            "sg_no_world_common_ports",
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
