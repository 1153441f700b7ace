//! `nacl_no_world_remote_admin`: no network ACL lets SSH (TCP 22) or RDP (TCP 3389) in
//! from the whole internet.
//!
//! Entries are evaluated as AWS does: inbound entries in ascending rule number, the first
//! entry that matches the traffic decides, and traffic no entry matches is denied (rule
//! `*`, reported as 32767). IPv4 and IPv6 are decided separately, because an IPv4 entry
//! never matches an IPv6 packet: a deny of `0.0.0.0/0` does not stop an allow of `::/0`.

use posture_model::resources::NaclEntry;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct NaclNoWorldRemoteAdmin;

static META: RuleMeta = RuleMeta {
    id: "nacl_no_world_remote_admin",
    title: "Network ACL does not allow SSH or RDP from the internet",
    severity: Severity::High,
    subject: ResourceKind::NetworkAcl,
    rationale: "A network ACL that lets SSH or RDP in from 0.0.0.0/0 or ::/0 leaves security groups \
                as the only barrier between the internet and remote administration of every \
                instance in its subnets; one permissive group then exposes the hosts that process \
                ePHI (164.312(a)(1)).",
    remediation: "Add inbound deny entries for TCP 22 and 3389 from 0.0.0.0/0 and ::/0 numbered below \
                  any allow entry that covers them, or narrow those allow entries to known \
                  administrative CIDRs.",
    api_calls: &["ec2:DescribeNetworkAcls"],
    params: &[],
};

/// The remote-administration ports checked, with their service names.
const ADMIN_PORTS: &[(i32, &str)] = &[(22, "SSH"), (3389, "RDP")];

/// The world CIDR of each address family; each is decided on its own.
const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

/// Whether `entry` is for traffic from `world` (an IPv4 entry never matches IPv6 traffic).
fn is_from(entry: &NaclEntry, world: &str) -> bool {
    entry.from_world()
        && (entry.cidr_block.as_deref() == Some(world)
            || entry.ipv6_cidr_block.as_deref() == Some(world))
}

impl Rule for NaclNoWorldRemoteAdmin {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::NetworkAcl(acl) = &subject.body else {
            return Outcome::not_applicable("not a network ACL");
        };
        let mut inbound: Vec<&NaclEntry> = acl.entries.iter().filter(|e| !e.egress).collect();
        inbound.sort_by_key(|e| e.rule_number);

        let mut open_ports: Vec<i32> = Vec::new();
        let mut allowed: Vec<String> = Vec::new();
        let mut decisions: Vec<Value> = Vec::new();
        for &(port, service) in ADMIN_PORTS {
            for &world in WORLD {
                // The first entry that matches world traffic to this port decides it.
                let Some(entry) = inbound
                    .iter()
                    .find(|e| is_from(e, world) && e.covers_tcp_port(port))
                else {
                    continue;
                };
                decisions.push(entry_evidence(port, world, entry));
                if entry.rule_action.eq_ignore_ascii_case("allow") {
                    if !open_ports.contains(&port) {
                        open_ports.push(port);
                    }
                    allowed.push(format!(
                        "{service} (TCP {port}) from {world} at rule {}",
                        entry.rule_number
                    ));
                }
            }
        }

        let outcome = if open_ports.is_empty() {
            Outcome::pass(format!(
                "no inbound entry of {} lets SSH (TCP 22) or RDP (TCP 3389) in from 0.0.0.0/0 or ::/0",
                acl.network_acl_id
            ))
        } else {
            Outcome::fail(format!(
                "{} allows {}",
                acl.network_acl_id,
                allowed.join("; ")
            ))
        };
        outcome
            .with("open_ports", open_ports)
            .with("deciding_entries", decisions)
            .with("subnet_ids", &acl.subnet_ids)
    }
}

/// Evidence for the entry that decides world traffic from `world` to `port`.
fn entry_evidence(port: i32, world: &str, entry: &NaclEntry) -> Value {
    json!({
        "port": port,
        "source": world,
        "rule_number": entry.rule_number,
        "protocol": entry.protocol,
        "rule_action": entry.rule_action,
        "port_range": entry.port_range,
    })
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn pass_with_only_web_ports_open() {
        let o = expect(
            run(
                &NaclNoWorldRemoteAdmin,
                &nacl_resource(vec![
                    nacl_entry(100, "6", "allow", "0.0.0.0/0", Some((443, 443))),
                    nacl_entry(110, "6", "allow", "10.0.0.0/8", Some((22, 22))),
                    implicit_deny(),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([]));
        // The implicit deny decides both ports.
        assert_eq!(
            o.evidence["deciding_entries"][0],
            serde_json::json!({
                "port": 22, "source": "0.0.0.0/0", "rule_number": 32767,
                "protocol": "-1", "rule_action": "deny", "port_range": null,
            })
        );
    }

    #[test]
    fn fail_when_allow_all_from_world() {
        let o = expect(
            run(
                &NaclNoWorldRemoteAdmin,
                &nacl_resource(vec![
                    nacl_entry(100, "-1", "allow", "0.0.0.0/0", None),
                    implicit_deny(),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([22, 3389]));
        assert!(o.reason.contains("at rule 100"), "{}", o.reason);
    }

    /// Regression: the first matching entry decides, by rule number, not by list order.
    #[test]
    fn deny_before_allow_all_closes_ssh_but_not_rdp() {
        let o = expect(
            run(
                &NaclNoWorldRemoteAdmin,
                &nacl_resource(vec![
                    implicit_deny(),
                    nacl_entry(100, "-1", "allow", "0.0.0.0/0", None),
                    nacl_entry(50, "6", "deny", "0.0.0.0/0", Some((22, 22))),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([3389]));
        assert_eq!(
            o.evidence["deciding_entries"],
            serde_json::json!([
                {"port": 22, "source": "0.0.0.0/0", "rule_number": 50, "protocol": "6",
                 "rule_action": "deny", "port_range": [22, 22]},
                {"port": 3389, "source": "0.0.0.0/0", "rule_number": 100, "protocol": "-1",
                 "rule_action": "allow", "port_range": null},
            ])
        );
        assert!(!o.reason.contains("TCP 22)"), "{}", o.reason);
    }

    #[test]
    fn ipv4_deny_does_not_stop_ipv6_allow() {
        let o = expect(
            run(
                &NaclNoWorldRemoteAdmin,
                &nacl_resource(vec![
                    nacl_entry(50, "-1", "deny", "0.0.0.0/0", None),
                    nacl_entry(60, "6", "allow", "::/0", Some((22, 22))),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_ports"], serde_json::json!([22]));
        assert!(o.reason.contains("from ::/0 at rule 60"), "{}", o.reason);
    }

    #[test]
    fn egress_and_udp_entries_are_ignored() {
        let mut out = nacl_entry(10, "-1", "allow", "0.0.0.0/0", None);
        out.egress = true;
        let o = expect(
            run(
                &NaclNoWorldRemoteAdmin,
                &nacl_resource(vec![
                    out,
                    nacl_entry(20, "17", "allow", "0.0.0.0/0", Some((0, 65535))),
                    implicit_deny(),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "open_ports", json!([]));
        // Only the implicit deny matched SSH and RDP from each world CIDR.
        let rules: Vec<_> = o.evidence["deciding_entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["rule_number"].clone())
            .collect();
        assert!(rules.iter().all(|n| *n == json!(32767)), "{o:?}");
        assert!(!rules.is_empty(), "{o:?}");
    }

    /// NACLs have no `Observed` input; what the rule needs is the NACL list, and a failed
    /// `ec2:DescribeNetworkAcls` makes the result in that region `Error`.
    #[test]
    fn error_when_acls_could_not_be_listed() {
        let subject = nacl_resource(vec![implicit_deny()]);
        let f = evaluate_with_gap(
            "nacl_no_world_remote_admin",
            std::slice::from_ref(&subject),
            "ec2:DescribeNetworkAcls",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeNetworkAcls"), "{}", f.reason);
    }
}
