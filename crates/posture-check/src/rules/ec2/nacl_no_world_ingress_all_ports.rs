//! `nacl_no_world_ingress_all_ports`: no network ACL lets all traffic (every protocol and
//! port) in from the whole internet.
//!
//! Entries are evaluated as AWS does: inbound entries in ascending rule number, the first
//! matching entry decides. For each world CIDR (`0.0.0.0/0`, `::/0`, decided separately
//! because an IPv4 entry never matches IPv6 traffic), an inbound allow of every protocol
//! fails the rule unless a lower-numbered entry for that CIDR already denies every protocol.
//! Lower-numbered denies of a few ports do not save it: every other port stays open, and
//! they are listed in the evidence.

use posture_model::resources::NaclEntry;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct NaclNoWorldIngressAllPorts;

static META: RuleMeta = RuleMeta {
    id: "nacl_no_world_ingress_all_ports",
    title: "Network ACL does not allow all inbound traffic from the internet",
    severity: Severity::Medium,
    subject: ResourceKind::NetworkAcl,
    rationale: "A network ACL that admits every protocol and port from 0.0.0.0/0 or ::/0 adds no \
                layer of defence: a single permissive security group then exposes every service \
                of the instances in its subnets, including those handling ePHI \
                (164.308(a)(1)(ii)(B), 164.312(e)(1)).",
    remediation: "Replace the inbound allow-all entry from 0.0.0.0/0 and ::/0 with entries for \
                  the ports the subnets serve (and the ephemeral range for return traffic), or add \
                  a lower-numbered deny for the traffic that must not enter.",
    api_calls: &["ec2:DescribeNetworkAcls"],
    params: &[],
};

/// The world CIDR of each address family; each is decided on its own.
const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

/// Whether `entry` is for traffic from `world`.
fn is_from(entry: &NaclEntry, world: &str) -> bool {
    entry.cidr_block.as_deref() == Some(world) || entry.ipv6_cidr_block.as_deref() == Some(world)
}

/// Whether `entry` matches every protocol.
fn all_protocols(entry: &NaclEntry) -> bool {
    matches!(entry.protocol.as_str(), "-1" | "all")
}

fn is_allow(entry: &NaclEntry) -> bool {
    entry.rule_action.eq_ignore_ascii_case("allow")
}

fn entry_evidence(world: &str, entry: &NaclEntry) -> Value {
    json!({
        "source": world,
        "rule_number": entry.rule_number,
        "protocol": entry.protocol,
        "rule_action": entry.rule_action,
        "port_range": entry.port_range,
    })
}

impl Rule for NaclNoWorldIngressAllPorts {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::NetworkAcl(acl) = &subject.body else {
            return Outcome::not_applicable("not a network ACL");
        };
        let mut inbound: Vec<&NaclEntry> = acl.entries.iter().filter(|e| !e.egress).collect();
        inbound.sort_by_key(|e| e.rule_number);

        let mut allowed: Vec<String> = Vec::new();
        let mut offending: Vec<Value> = Vec::new();
        let mut narrowing: Vec<Value> = Vec::new();
        for &world in WORLD {
            // The first all-protocol entry for this source decides "all traffic".
            let Some(pos) = inbound
                .iter()
                .position(|e| is_from(e, world) && all_protocols(e))
            else {
                continue;
            };
            let entry = inbound[pos];
            if !is_allow(entry) {
                continue;
            }
            offending.push(entry_evidence(world, entry));
            narrowing.extend(
                inbound[..pos]
                    .iter()
                    .filter(|e| is_from(e, world) && !is_allow(e))
                    .map(|e| entry_evidence(world, e)),
            );
            allowed.push(format!(
                "all traffic from {world} at rule {}",
                entry.rule_number
            ));
        }

        let outcome = if allowed.is_empty() {
            Outcome::pass(format!(
                "no inbound entry of {} allows all traffic from 0.0.0.0/0 or ::/0",
                acl.network_acl_id
            ))
        } else {
            Outcome::fail(format!(
                "{} allows {}",
                acl.network_acl_id,
                allowed.join("; ")
            ))
            .with("earlier_denies", narrowing)
        };
        outcome
            .with("allow_all_entries", offending)
            .with("subnet_ids", &acl.subnet_ids)
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
    fn pass_with_port_scoped_allows() {
        let o = expect(
            run(
                &NaclNoWorldIngressAllPorts,
                &nacl_resource(vec![
                    nacl_entry(100, "6", "allow", "0.0.0.0/0", Some((443, 443))),
                    nacl_entry(110, "6", "allow", "0.0.0.0/0", Some((1024, 65535))),
                    implicit_deny(),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["allow_all_entries"], serde_json::json!([]));
    }

    #[test]
    fn pass_when_a_lower_deny_all_comes_first() {
        let o = expect(
            run(
                &NaclNoWorldIngressAllPorts,
                &nacl_resource(vec![
                    nacl_entry(200, "-1", "allow", "0.0.0.0/0", None),
                    nacl_entry(50, "-1", "deny", "0.0.0.0/0", None),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "allow_all_entries", json!([]));
        assert!(!o.evidence.contains_key("earlier_denies"), "{o:?}");
    }

    #[test]
    fn fail_on_allow_all_even_after_a_port_deny() {
        let o = expect(
            run(
                &NaclNoWorldIngressAllPorts,
                &nacl_resource(vec![
                    nacl_entry(100, "-1", "allow", "0.0.0.0/0", None),
                    nacl_entry(90, "6", "deny", "0.0.0.0/0", Some((22, 22))),
                    implicit_deny(),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("at rule 100"), "{}", o.reason);
        assert_eq!(o.evidence["earlier_denies"][0]["rule_number"], 90);
    }

    #[test]
    fn ipv4_deny_does_not_stop_ipv6_allow() {
        let o = expect(
            run(
                &NaclNoWorldIngressAllPorts,
                &nacl_resource(vec![
                    nacl_entry(50, "-1", "deny", "0.0.0.0/0", None),
                    nacl_entry(60, "-1", "allow", "::/0", None),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("from ::/0 at rule 60"), "{}", o.reason);
    }

    #[test]
    fn egress_allow_all_is_ignored() {
        let mut out = nacl_entry(10, "-1", "allow", "0.0.0.0/0", None);
        out.egress = true;
        let o = expect(
            run(
                &NaclNoWorldIngressAllPorts,
                &nacl_resource(vec![out, implicit_deny()]),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "allow_all_entries", json!([]));
    }

    #[test]
    fn error_when_acls_could_not_be_listed() {
        let subject = nacl_resource(vec![implicit_deny()]);
        let f = evaluate_with_gap(
            "nacl_no_world_ingress_all_ports",
            std::slice::from_ref(&subject),
            "ec2:DescribeNetworkAcls",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeNetworkAcls failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeNetworkAcls");
    }
}
