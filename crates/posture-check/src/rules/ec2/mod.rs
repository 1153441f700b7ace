//! EC2, VPC and EBS rules.

use posture_model::resources::SgRule;
use posture_model::{Resource, ResourceBody};
use serde_json::{Value, json};

use crate::{Outcome, Rule};

mod ebs_default_encryption;
mod ebs_snapshot_block_public_access;
mod ebs_snapshot_encrypted;
mod ebs_snapshot_not_public;
mod ebs_volume_encrypted;
mod ebs_volume_iac_provenance;
mod ec2_account_imdsv2_default;
mod ec2_ami_not_public;
mod ec2_detailed_monitoring;
mod ec2_instance_ebs_optimized;
mod ec2_instance_imdsv2_required;
mod ec2_instance_in_vpc;
mod ec2_instance_max_age;
mod ec2_instance_no_public_ip;
mod ec2_instance_profile_attached;
mod ec2_launch_template_imdsv2;
mod ec2_nitro_enclave_host_hardening;
mod ec2_stopped_instance_age;
mod ec2_user_data_no_secrets;
mod igw_authorized_vpc_only;
mod nacl_no_world_ingress_all_ports;
mod nacl_no_world_remote_admin;
mod route_table_no_unrestricted_igw_route;
mod sg_no_world_common_ports;
mod sg_no_world_db_ports;
mod sg_no_world_rdp;
mod sg_no_world_ssh;
mod sg_only_authorized_ports_open;
mod subnet_no_auto_public_ip;
mod vpc_default_sg_closed;
mod vpc_flow_logs_enabled;
mod vpc_peering_least_privilege_routes;
mod vpc_uses_endpoints;
mod vpn_both_tunnels_up;

/// The EC2 rules, sorted by id.
pub const RULES: &[&dyn Rule] = &[
    &ebs_default_encryption::EbsDefaultEncryption,
    &ebs_snapshot_block_public_access::EbsSnapshotBlockPublicAccess,
    &ebs_snapshot_encrypted::EbsSnapshotEncrypted,
    &ebs_snapshot_not_public::EbsSnapshotNotPublic,
    &ebs_volume_encrypted::EbsVolumeEncrypted,
    &ebs_volume_iac_provenance::EbsVolumeIacProvenance,
    &ec2_account_imdsv2_default::Ec2AccountImdsv2Default,
    &ec2_ami_not_public::Ec2AmiNotPublic,
    &ec2_detailed_monitoring::Ec2DetailedMonitoring,
    &ec2_instance_ebs_optimized::Ec2InstanceEbsOptimized,
    &ec2_instance_imdsv2_required::Ec2InstanceImdsv2Required,
    &ec2_instance_in_vpc::Ec2InstanceInVpc,
    &ec2_instance_max_age::Ec2InstanceMaxAge,
    &ec2_instance_no_public_ip::Ec2InstanceNoPublicIp,
    &ec2_instance_profile_attached::Ec2InstanceProfileAttached,
    &ec2_launch_template_imdsv2::Ec2LaunchTemplateImdsv2,
    &ec2_nitro_enclave_host_hardening::Ec2NitroEnclaveHostHardening,
    &ec2_stopped_instance_age::Ec2StoppedInstanceAge,
    &ec2_user_data_no_secrets::Ec2UserDataNoSecrets,
    &igw_authorized_vpc_only::IgwAuthorizedVpcOnly,
    &nacl_no_world_ingress_all_ports::NaclNoWorldIngressAllPorts,
    &nacl_no_world_remote_admin::NaclNoWorldRemoteAdmin,
    &route_table_no_unrestricted_igw_route::RouteTableNoUnrestrictedIgwRoute,
    &sg_no_world_common_ports::SgNoWorldCommonPorts,
    &sg_no_world_db_ports::SgNoWorldDbPorts,
    &sg_no_world_rdp::SgNoWorldRdp,
    &sg_no_world_ssh::SgNoWorldSsh,
    &sg_only_authorized_ports_open::SgOnlyAuthorizedPortsOpen,
    &subnet_no_auto_public_ip::SubnetNoAutoPublicIp,
    &vpc_default_sg_closed::VpcDefaultSgClosed,
    &vpc_flow_logs_enabled::VpcFlowLogsEnabled,
    &vpc_peering_least_privilege_routes::VpcPeeringLeastPrivilegeRoutes,
    &vpc_uses_endpoints::VpcUsesEndpoints,
    &vpn_both_tunnels_up::VpnBothTunnelsUp,
];

/// Instance states in which an instance no longer runs and never will again.
const GONE_STATES: &[&str] = &["terminated", "shutting-down"];

/// Whether an instance in `state` is terminated or being terminated.
fn is_gone(state: Option<&str>) -> bool {
    state.is_some_and(|s| GONE_STATES.contains(&s))
}

/// The world CIDRs (`0.0.0.0/0`, `::/0`) a security group rule admits.
fn world_cidrs(rule: &SgRule) -> Vec<&str> {
    rule.ipv4_ranges
        .iter()
        .filter(|c| *c == "0.0.0.0/0")
        .chain(rule.ipv6_ranges.iter().filter(|c| *c == "::/0"))
        .map(String::as_str)
        .collect()
}

/// The ingress rules of `rules` open to the world on TCP `port`.
fn world_open_on(rules: &[SgRule], port: i32) -> Vec<&SgRule> {
    rules
        .iter()
        .filter(|r| r.open_to_world() && r.covers_tcp_port(port))
        .collect()
}

/// Evidence for one security group rule: protocol, ports and the world CIDRs it admits.
fn sg_rule_evidence(rule: &SgRule) -> Value {
    json!({
        "protocol": rule.ip_protocol,
        "from_port": rule.from_port,
        "to_port": rule.to_port,
        "cidrs": world_cidrs(rule),
    })
}

/// A one-line description of a security group rule: `tcp 22 from 0.0.0.0/0`.
fn describe_sg_rule(rule: &SgRule) -> String {
    let ports = match (rule.from_port, rule.to_port) {
        _ if matches!(rule.ip_protocol.as_str(), "-1" | "all") => "all traffic".to_owned(),
        (Some(from), Some(to)) if from == to && from != -1 => {
            format!("{} {from}", rule.ip_protocol)
        }
        (Some(from), Some(to)) if from != -1 => format!("{} {from}-{to}", rule.ip_protocol),
        _ => format!("{} all ports", rule.ip_protocol),
    };
    format!("{ports} from {}", world_cidrs(rule).join(", "))
}

/// The outcome of "no ingress rule of this security group admits the world on TCP
/// `port`" (`what` names the service, e.g. `SSH`).
fn world_port_outcome(subject: &Resource, port: i32, what: &str) -> Outcome {
    let ResourceBody::SecurityGroup(group) = &subject.body else {
        return Outcome::not_applicable("not a security group");
    };
    let open = world_open_on(&group.ingress, port);
    if open.is_empty() {
        return Outcome::pass(format!(
            "no ingress rule of {} admits {what} (TCP {port}) from 0.0.0.0/0 or ::/0",
            group.group_id
        ))
        .with("port", port)
        .with("ingress_rules", group.ingress.len());
    }
    let described: Vec<String> = open.iter().map(|r| describe_sg_rule(r)).collect();
    let evidence: Vec<Value> = open.iter().map(|r| sg_rule_evidence(r)).collect();
    Outcome::fail(format!(
        "{} admits {what} (TCP {port}) from the internet: {}",
        group.group_id,
        described.join("; ")
    ))
    .with("port", port)
    .with("offending_rules", evidence)
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Fixtures for EC2 rule tests, on top of `crate::testing`.

    use posture_model::resources::*;
    use posture_model::{Coverage, Finding, Observed, Resource, ResourceBody};

    use crate::testing::{list_gap, now, region, resource};
    use crate::{Baseline, Outcome, Params, Rule};

    /// The ARN prefix of every regional EC2 fixture.
    pub(crate) const EC2_ARN: &str = "arn:aws:ec2:us-east-1:111122223333";

    /// A security group `sg-1` in `vpc-1` with no rules.
    pub(crate) fn sg(name: &str) -> SecurityGroup {
        SecurityGroup {
            group_id: "sg-1".into(),
            group_name: name.into(),
            vpc_id: Some("vpc-1".into()),
            ingress: vec![],
            egress: vec![],
        }
    }

    /// A security group resource.
    pub(crate) fn sg_resource(group: SecurityGroup) -> Resource {
        resource(
            &format!("{EC2_ARN}:security-group/{}", group.group_id),
            region(),
            ResourceBody::SecurityGroup(group),
        )
    }

    /// A security group rule over IPv4 and IPv6 CIDRs.
    pub(crate) fn sg_rule(
        protocol: &str,
        from: Option<i32>,
        to: Option<i32>,
        ipv4: &[&str],
        ipv6: &[&str],
    ) -> SgRule {
        SgRule {
            ip_protocol: protocol.into(),
            from_port: from,
            to_port: to,
            ipv4_ranges: ipv4.iter().map(|c| (*c).to_owned()).collect(),
            ipv6_ranges: ipv6.iter().map(|c| (*c).to_owned()).collect(),
            source_groups: vec![],
            prefix_lists: vec![],
        }
    }

    /// A TCP rule for `from..=to` from `0.0.0.0/0`.
    pub(crate) fn world_tcp(from: i32, to: i32) -> SgRule {
        sg_rule("tcp", Some(from), Some(to), &["0.0.0.0/0"], &[])
    }

    /// A NACL entry.
    pub(crate) fn nacl_entry(
        rule_number: i32,
        protocol: &str,
        action: &str,
        cidr: &str,
        port_range: Option<(i32, i32)>,
    ) -> NaclEntry {
        let ipv6 = cidr.contains(':');
        NaclEntry {
            rule_number,
            protocol: protocol.into(),
            rule_action: action.into(),
            egress: false,
            cidr_block: (!ipv6).then(|| cidr.to_owned()),
            ipv6_cidr_block: ipv6.then(|| cidr.to_owned()),
            port_range,
        }
    }

    /// The implicit final deny-all of every NACL (rule `*`, reported as 32767).
    pub(crate) fn implicit_deny() -> NaclEntry {
        nacl_entry(32767, "-1", "deny", "0.0.0.0/0", None)
    }

    /// A NACL `acl-1` resource with `entries`.
    pub(crate) fn nacl_resource(entries: Vec<NaclEntry>) -> Resource {
        resource(
            &format!("{EC2_ARN}:network-acl/acl-1"),
            region(),
            ResourceBody::NetworkAcl(NetworkAcl {
                network_acl_id: "acl-1".into(),
                vpc_id: "vpc-1".into(),
                is_default: false,
                entries,
                subnet_ids: vec!["subnet-1".into()],
            }),
        )
    }

    /// The VPC `vpc-1`.
    pub(crate) fn vpc_resource() -> Resource {
        resource(
            &format!("{EC2_ARN}:vpc/vpc-1"),
            region(),
            ResourceBody::Vpc(Vpc {
                vpc_id: "vpc-1".into(),
                cidr_block: Some("10.0.0.0/16".into()),
                is_default: false,
                state: Some("available".into()),
            }),
        )
    }

    /// A flow log `fl-1` watching `resource_id`.
    pub(crate) fn flow_log_resource(resource_id: &str) -> Resource {
        resource(
            &format!("{EC2_ARN}:vpc-flow-log/fl-1"),
            region(),
            ResourceBody::FlowLog(FlowLog {
                flow_log_id: "fl-1".into(),
                resource_id: resource_id.into(),
                traffic_type: Some("ALL".into()),
                flow_log_status: Some("ACTIVE".into()),
                log_destination_type: Some("cloud-watch-logs".into()),
                log_destination: Some(
                    "arn:aws:logs:us-east-1:111122223333:log-group:vpc-flow".into(),
                ),
            }),
        )
    }

    /// The subnet `subnet-1`.
    pub(crate) fn subnet_resource(map_public_ip_on_launch: bool) -> Resource {
        resource(
            &format!("{EC2_ARN}:subnet/subnet-1"),
            region(),
            ResourceBody::Subnet(Subnet {
                subnet_id: "subnet-1".into(),
                vpc_id: "vpc-1".into(),
                cidr_block: Some("10.0.1.0/24".into()),
                availability_zone: Some("us-east-1a".into()),
                map_public_ip_on_launch,
                default_for_az: false,
            }),
        )
    }

    /// The volume `vol-1`.
    pub(crate) fn volume_resource(encrypted: bool) -> Resource {
        resource(
            &format!("{EC2_ARN}:volume/vol-1"),
            region(),
            ResourceBody::Volume(Volume {
                volume_id: "vol-1".into(),
                encrypted,
                kms_key_id: encrypted
                    .then(|| "arn:aws:kms:us-east-1:111122223333:key/1111-2222".to_owned()),
                state: Some("in-use".into()),
                size_gib: Some(8),
                attached_to: vec!["i-1".into()],
            }),
        )
    }

    /// The snapshot `snap-1`, encrypted or not, shared with nobody.
    pub(crate) fn snapshot(encrypted: bool) -> EbsSnapshot {
        EbsSnapshot {
            snapshot_id: "snap-1".into(),
            volume_id: Some("vol-1".into()),
            encrypted,
            create_volume_permissions: Observed::Collected(vec![]),
            start_time: None,
        }
    }

    /// A snapshot resource.
    pub(crate) fn snapshot_resource(s: EbsSnapshot) -> Resource {
        resource(
            &format!("{EC2_ARN}:snapshot/{}", s.snapshot_id),
            region(),
            ResourceBody::EbsSnapshot(s),
        )
    }

    /// A running instance `i-1` with IMDSv2 required and no public IP.
    pub(crate) fn instance() -> Instance {
        Instance {
            instance_id: "i-1".into(),
            state: Some("running".into()),
            public_ip_address: None,
            subnet_id: Some("subnet-1".into()),
            vpc_id: Some("vpc-1".into()),
            iam_instance_profile: None,
            metadata_http_tokens: Some("required".into()),
            metadata_http_endpoint: Some("enabled".into()),
            security_groups: vec!["sg-1".into()],
            launch_time: None,
            monitoring_state: Some("enabled".into()),
            ebs_optimized: Some(true),
            state_transition_reason: None,
            enclave_enabled: Some(false),
            instance_type: Some("m4.large".into()),
            ebs_optimized_support: Observed::Collected("supported".into()),
            user_data: Observed::Collected(UserDataScan {
                size_bytes: 0,
                scanned: true,
                unscanned_encoding: None,
                findings: vec![],
            }),
        }
    }

    /// An instance resource.
    pub(crate) fn instance_resource(i: Instance) -> Resource {
        resource(
            &format!("{EC2_ARN}:instance/{}", i.instance_id),
            region(),
            ResourceBody::Instance(i),
        )
    }

    /// Launch template `phi-lt` (`lt-1`) whose default version 1 sets `tokens` and has
    /// `user_data` (none when `None`).
    pub(crate) fn launch_template_resource(
        tokens: Option<&str>,
        user_data: Option<UserDataScan>,
    ) -> Resource {
        resource(
            &format!("{EC2_ARN}:launch-template/lt-1"),
            region(),
            ResourceBody::LaunchTemplate(LaunchTemplate {
                launch_template_id: "lt-1".into(),
                name: "phi-lt".into(),
                default_version_number: Some(1),
                latest_version_number: Some(1),
                versions: Observed::Collected(vec![LaunchTemplateVersion {
                    version_number: 1,
                    is_default: true,
                    metadata_http_tokens: tokens.map(str::to_owned),
                    metadata_http_endpoint: None,
                    user_data: user_data.unwrap_or(UserDataScan {
                        size_bytes: 0,
                        scanned: true,
                        unscanned_encoding: None,
                        findings: vec![],
                    }),
                }]),
            }),
        )
    }

    /// The region's EBS encryption-by-default setting.
    pub(crate) fn ebs_default_resource(enabled: Observed<bool>) -> Resource {
        resource(
            &format!("{EC2_ARN}:ebs-encryption-by-default"),
            region(),
            ResourceBody::EbsEncryptionByDefault(EbsEncryptionByDefault { enabled }),
        )
    }

    /// Runs `rule` on `subject` with default parameters, `others` in the snapshot, and
    /// `coverage` supplying the gaps.
    pub(crate) fn run_with_coverage(
        rule: &dyn Rule,
        subject: &Resource,
        others: &[Resource],
        coverage: &Coverage,
    ) -> Outcome {
        let mut all = vec![subject.clone()];
        all.extend_from_slice(others);
        // The rule's declared inputs count as collected unless the test says what was.
        let mut covered = if coverage.collected.is_empty() {
            crate::testing::declared_coverage(&[rule], &all)
        } else {
            coverage.clone()
        };
        covered.failed = coverage.failed.clone();
        crate::testing::run_covered(rule, subject, &all, &Params::defaults(rule), &covered)
    }

    /// Coverage with one failed list call for `operation` in the fixture region.
    pub(crate) fn gap_coverage(operation: &str) -> Coverage {
        Coverage {
            failed: vec![list_gap(operation, region())],
            ..Coverage::default()
        }
    }

    /// Evaluates a one-rule baseline holding `rule_id` over `resources`, with a failed
    /// list call for `operation` in the fixture region, and returns the finding about
    /// `arn`.
    pub(crate) fn evaluate_with_gap(
        rule_id: &str,
        resources: &[Resource],
        operation: &str,
        arn: &str,
    ) -> Finding {
        let baseline = Baseline::from_toml(
            "t.toml",
            &format!(
                "name=\"t\"\nversion=\"1\"\n[[citations]]\nid=\"x\"\ntitle=\"t\"\nrules=[\"{rule_id}\"]\n"
            ),
        )
        .expect("one-rule baseline is valid");
        let findings =
            crate::testing::evaluate(resources, &gap_coverage(operation), &baseline, now());
        findings
            .into_iter()
            .find(|f| f.resource.arn.as_str() == arn)
            .expect("a finding about the subject")
    }
}
