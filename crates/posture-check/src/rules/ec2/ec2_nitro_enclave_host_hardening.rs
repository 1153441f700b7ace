//! `ec2_nitro_enclave_host_hardening`: the parent instance of a Nitro Enclave (a confidential
//! workload) has no public IP, requires IMDSv2, and its security groups open nothing to the
//! world beyond the allowed ports — so the vsock proxy and other parent-side services that
//! feed the enclave are not exposed.

use posture_model::resources::SecurityGroup;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use super::sg_rule_evidence;
use crate::rule::{ParamSpec, ParamType};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2NitroEnclaveHostHardening;

static META: RuleMeta = RuleMeta {
    id: "ec2_nitro_enclave_host_hardening",
    title: "Nitro Enclave parent instance is not exposed",
    severity: Severity::High,
    subject: ResourceKind::Instance,
    rationale: "An enclave protects ePHI only as far as the parent instance that relays its \
                traffic: a public address, IMDSv1 (credential theft by SSRF) or world-open \
                ports other than the service's own reach the vsock proxy and the parent's \
                credentials (164.308(a)(1)(ii)(B), 164.312(a)(1), 164.312(e)(1)).",
    remediation: "Move the parent instance into a private subnet behind a load balancer \
                  (no public IP), require IMDSv2 (ModifyInstanceMetadataOptions \
                  HttpTokens=required), and remove security group rules that open ports other \
                  than allowed_world_ports to 0.0.0.0/0 or ::/0.",
    api_calls: &["ec2:DescribeInstances", "ec2:DescribeSecurityGroups"],
    params: &[ParamSpec {
        name: "allowed_world_ports",
        ty: ParamType::IntegerList,
        default: "443",
        doc: "TCP ports the parent's security groups may open to the world (the service the \
              enclave backs).",
    }],
};

impl Rule for Ec2NitroEnclaveHostHardening {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        let id = &instance.instance_id;
        if matches!(
            instance.state.as_deref(),
            Some("terminated" | "shutting-down")
        ) {
            return Outcome::not_applicable(format!("instance {id} is terminated"))
                .with("instance_id", id);
        }
        match instance.enclave_enabled {
            Some(true) => {}
            Some(false) => {
                return Outcome::not_applicable(format!("instance {id} has no Nitro Enclave"))
                    .with("instance_id", id)
                    .with("enclave_enabled", false);
            }
            // AWS always reports EnclaveOptions: not knowing is not "no enclave".
            None => {
                return Outcome::error(format!(
                    "DescribeInstances reported no EnclaveOptions for instance {id}, so whether \
                     it hosts an enclave is unknown"
                ))
                .with("instance_id", id)
                .with("enclave_enabled", "not reported");
            }
        }
        let allowed = ctx.ints("allowed_world_ports");
        let mut problems: Vec<String> = Vec::new();
        if let Some(ip) = &instance.public_ip_address {
            problems.push(format!("public IP {ip}"));
        }
        if instance.metadata_http_tokens.as_deref() != Some("required") {
            problems.push(format!(
                "IMDSv2 not required (HttpTokens {})",
                instance
                    .metadata_http_tokens
                    .as_deref()
                    .unwrap_or("unknown")
            ));
        }
        let groups: Vec<&SecurityGroup> = ctx
            .resources(
                ResourceKind::SecurityGroup,
                &subject.account,
                &subject.region,
            )
            .filter_map(|r| match &r.body {
                ResourceBody::SecurityGroup(g)
                    if instance.security_groups.contains(&g.group_id) =>
                {
                    Some(g)
                }
                _ => None,
            })
            .collect();
        let missing: Vec<&String> = instance
            .security_groups
            .iter()
            .filter(|id| !groups.iter().any(|g| &&g.group_id == id))
            .collect();
        let mut exposed: Vec<Value> = Vec::new();
        for g in &groups {
            for rule in g.ingress.iter().filter(|r| r.open_to_world()) {
                let only_allowed = rule.ip_protocol == "tcp"
                    && matches!((rule.from_port, rule.to_port), (Some(f), Some(t))
                        if f == t && allowed.contains(&i64::from(f)));
                if !only_allowed {
                    let mut e = sg_rule_evidence(rule);
                    e["group_id"] = Value::from(g.group_id.clone());
                    exposed.push(e);
                }
            }
        }
        if !exposed.is_empty() {
            problems.push(format!(
                "{} world-open ingress rule(s) beyond ports {allowed:?}",
                exposed.len()
            ));
        }
        let described = |o: Outcome| {
            o.with("instance_id", id)
                .with("public_ip_address", &instance.public_ip_address)
                .with("metadata_http_tokens", &instance.metadata_http_tokens)
                .with("security_groups", &instance.security_groups)
                .with("world_open_rules", &exposed)
                .with("allowed_world_ports", &allowed)
        };
        if !problems.is_empty() {
            return described(Outcome::fail(format!(
                "enclave parent {id} is exposed: {}",
                problems.join("; ")
            )));
        }
        if !missing.is_empty() {
            return described(Outcome::error(format!(
                "security group(s) {} of enclave parent {id} were not collected, so its \
                 exposure is unknown",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        described(Outcome::pass(format!(
            "enclave parent {id} has no public IP, requires IMDSv2 and opens only {allowed:?} \
             to the world"
        )))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::Instance;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn parent() -> Instance {
        let mut i = instance();
        i.enclave_enabled = Some(true);
        i
    }

    fn group(ports: &[(i32, i32)]) -> Resource {
        let mut g = sg("enclave-parent");
        g.ingress = ports.iter().map(|&(f, t)| world_tcp(f, t)).collect();
        sg_resource(g)
    }

    #[test]
    fn pass_when_private_imdsv2_and_only_https_open() {
        let o = expect(
            run(
                &Ec2NitroEnclaveHostHardening,
                &instance_resource(parent()),
                &[group(&[(443, 443)])],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["world_open_rules"], serde_json::json!([]));
    }

    #[test]
    fn fail_on_public_ip_imdsv1_or_a_world_open_proxy_port() {
        let mut i = parent();
        i.public_ip_address = Some("203.0.113.7".into());
        i.metadata_http_tokens = Some("optional".into());
        let o = expect(
            run(
                &Ec2NitroEnclaveHostHardening,
                &instance_resource(i),
                &[group(&[(443, 443), (8000, 8000)])],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("public IP 203.0.113.7"), "{}", o.reason);
        assert!(o.reason.contains("IMDSv2 not required"), "{}", o.reason);
        assert_eq!(o.evidence["world_open_rules"][0]["from_port"], 8000);
        assert_eq!(o.evidence["world_open_rules"][0]["group_id"], "sg-1");
    }

    #[test]
    fn error_when_a_security_group_was_not_collected() {
        let o = expect(
            run(
                &Ec2NitroEnclaveHostHardening,
                &instance_resource(parent()),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("sg-1"), "{}", o.reason);
    }

    #[test]
    fn error_when_enclave_options_were_not_reported() {
        let mut i = instance();
        i.enclave_enabled = None;
        let o = expect(
            run(&Ec2NitroEnclaveHostHardening, &instance_resource(i), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["enclave_enabled"], "not reported");
    }

    #[test]
    fn not_applicable_without_an_enclave() {
        let o = expect(
            run(
                &Ec2NitroEnclaveHostHardening,
                &instance_resource(instance()),
                &[group(&[(22, 22)])],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["enclave_enabled"], false);
    }
}
