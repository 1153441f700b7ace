//! EC2, VPC and EBS resources.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// A VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    /// VPC id.
    pub vpc_id: String,
    /// Primary IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// The region's default VPC.
    pub is_default: bool,
    /// State.
    pub state: Option<String>,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// Subnet id.
    pub subnet_id: String,
    /// VPC id.
    pub vpc_id: String,
    /// IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// Availability zone.
    pub availability_zone: Option<String>,
    /// Instances launched here get a public IPv4 address by default.
    pub map_public_ip_on_launch: bool,
    /// The default subnet of its AZ.
    pub default_for_az: bool,
}

/// A route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    /// Route table id.
    pub route_table_id: String,
    /// VPC id.
    pub vpc_id: String,
    /// Routes.
    pub routes: Vec<Route>,
    /// Associations.
    pub associations: Vec<RouteTableAssociation>,
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// IPv4 destination.
    pub destination_cidr_block: Option<String>,
    /// IPv6 destination.
    pub destination_ipv6_cidr_block: Option<String>,
    /// Gateway (`igw-...`, `local`, `vgw-...`).
    pub gateway_id: Option<String>,
    /// NAT gateway.
    pub nat_gateway_id: Option<String>,
    /// Other target (peering, transit gateway, instance, ENI), as returned.
    pub other_target: Option<String>,
}

/// A route table association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableAssociation {
    /// The VPC's main route table.
    pub main: bool,
    /// Associated subnet.
    pub subnet_id: Option<String>,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    /// Group id.
    pub group_id: String,
    /// Group name (`default` for a VPC's default group).
    pub group_name: String,
    /// VPC id.
    pub vpc_id: Option<String>,
    /// Inbound rules.
    pub ingress: Vec<SgRule>,
    /// Outbound rules.
    pub egress: Vec<SgRule>,
}

/// One security group permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SgRule {
    /// `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all.
    pub ip_protocol: String,
    /// First port (or ICMP type); `None` for all.
    pub from_port: Option<i32>,
    /// Last port; `None` for all.
    pub to_port: Option<i32>,
    /// IPv4 CIDRs.
    pub ipv4_ranges: Vec<String>,
    /// IPv6 CIDRs.
    pub ipv6_ranges: Vec<String>,
    /// Referenced security groups.
    pub source_groups: Vec<String>,
    /// Referenced prefix lists.
    pub prefix_lists: Vec<String>,
}

impl SgRule {
    /// Whether the rule admits traffic from anywhere on the internet.
    pub fn open_to_world(&self) -> bool {
        self.ipv4_ranges.iter().any(|c| c == "0.0.0.0/0")
            || self.ipv6_ranges.iter().any(|c| c == "::/0")
    }

    /// Whether the rule covers TCP `port` (all-protocol rules cover every port).
    pub fn covers_tcp_port(&self, port: i32) -> bool {
        match self.ip_protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => match (self.from_port, self.to_port) {
                (Some(from), Some(to)) => (from == -1 && to == -1) || (from <= port && port <= to),
                _ => true,
            },
            _ => false,
        }
    }
}

/// A network ACL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkAcl {
    /// NACL id.
    pub network_acl_id: String,
    /// VPC id.
    pub vpc_id: String,
    /// The VPC's default NACL.
    pub is_default: bool,
    /// Entries, in rule-number order.
    pub entries: Vec<NaclEntry>,
    /// Associated subnets.
    pub subnet_ids: Vec<String>,
}

/// A NACL entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaclEntry {
    /// Rule number (evaluated lowest first).
    pub rule_number: i32,
    /// `-1` for all, or a protocol number (`6` TCP, `17` UDP).
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    /// Outbound.
    pub egress: bool,
    /// IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// IPv6 CIDR.
    pub ipv6_cidr_block: Option<String>,
    /// Port range (from, to); `None` = all ports.
    pub port_range: Option<(i32, i32)>,
}

impl NaclEntry {
    /// Whether the entry matches traffic from anywhere.
    pub fn from_world(&self) -> bool {
        self.cidr_block.as_deref() == Some("0.0.0.0/0")
            || self.ipv6_cidr_block.as_deref() == Some("::/0")
    }

    /// Whether the entry matches TCP traffic to `port`.
    pub fn covers_tcp_port(&self, port: i32) -> bool {
        let proto = self.protocol == "-1" || self.protocol == "6";
        proto
            && self
                .port_range
                .is_none_or(|(from, to)| from <= port && port <= to)
    }
}

/// A VPC flow log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLog {
    /// Flow log id.
    pub flow_log_id: String,
    /// The VPC, subnet or ENI it watches.
    pub resource_id: String,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: Option<String>,
    /// `ACTIVE` when delivering.
    pub flow_log_status: Option<String>,
    /// `cloud-watch-logs`, `s3` or `kinesis-data-firehose`.
    pub log_destination_type: Option<String>,
    /// Destination.
    pub log_destination: Option<String>,
}

/// An EBS volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Volume id.
    pub volume_id: String,
    /// Encrypted.
    pub encrypted: bool,
    /// KMS key.
    pub kms_key_id: Option<String>,
    /// State (`in-use`, `available`, ...).
    pub state: Option<String>,
    /// Size in GiB.
    pub size_gib: Option<i32>,
    /// Instances it is attached to.
    pub attached_to: Vec<String>,
}

/// An EBS snapshot owned by the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EbsSnapshot {
    /// Snapshot id.
    pub snapshot_id: String,
    /// Source volume.
    pub volume_id: Option<String>,
    /// Encrypted.
    pub encrypted: bool,
    /// Who may create volumes from it (`all` = public), from `createVolumePermission`.
    pub create_volume_permissions: Observed<Vec<String>>,
    /// Started.
    pub start_time: Option<DateTime<Utc>>,
}

/// An EC2 instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Instance id.
    pub instance_id: String,
    /// State (`running`, `stopped`, ...).
    pub state: Option<String>,
    /// Public IPv4 address.
    pub public_ip_address: Option<String>,
    /// Subnet.
    pub subnet_id: Option<String>,
    /// VPC.
    pub vpc_id: Option<String>,
    /// Instance profile ARN.
    pub iam_instance_profile: Option<String>,
    /// IMDS `HttpTokens` (`required` = IMDSv2 only).
    pub metadata_http_tokens: Option<String>,
    /// IMDS `HttpEndpoint` (`disabled` turns IMDS off).
    pub metadata_http_endpoint: Option<String>,
    /// Security group ids.
    pub security_groups: Vec<String>,
    /// Launched.
    pub launch_time: Option<DateTime<Utc>>,
}

/// The region's EBS encryption-by-default setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EbsEncryptionByDefault {
    /// `GetEbsEncryptionByDefault`.
    pub enabled: Observed<bool>,
}

/// The region's EBS snapshot Block Public Access setting
/// (`GetSnapshotBlockPublicAccessState`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EbsSnapshotBlockPublicAccess {
    /// `block-all-sharing`, `block-new-sharing` or `unblocked`.
    pub state: Observed<String>,
}
