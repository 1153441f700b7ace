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
    /// Detailed CloudWatch monitoring (`Monitoring.State`: `enabled`, `disabled`,
    /// `pending`, `disabling`).
    #[serde(default)]
    pub monitoring_state: Option<String>,
    /// `EbsOptimized`.
    #[serde(default)]
    pub ebs_optimized: Option<bool>,
    /// `StateTransitionReason`, e.g. `User initiated (2026-01-02 03:04:05 GMT)`.
    #[serde(default)]
    pub state_transition_reason: Option<String>,
    /// Nitro Enclaves enabled (`EnclaveOptions.Enabled`): the instance is the parent of a
    /// confidential workload.
    #[serde(default)]
    pub enclave_enabled: Option<bool>,
    /// Instance type (`t3.micro`).
    #[serde(default)]
    pub instance_type: Option<String>,
    /// The type's EBS optimization (`DescribeInstanceTypes` `EbsInfo.EbsOptimizedSupport`):
    /// `default` (always on, whatever `ebs_optimized` says), `supported` (on only when the
    /// attribute is set) or `unsupported`.
    #[serde(default = "Observed::not_recorded")]
    pub ebs_optimized_support: Observed<String>,
    /// The secret scan of the instance's user data (`DescribeInstanceAttribute userData`);
    /// `Absent` for terminated instances, which are not read.
    #[serde(default = "Observed::not_recorded")]
    pub user_data: Observed<UserDataScan>,
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

/// What the collector's secret scan found in a piece of EC2 user data. The user data itself
/// is never stored: only its size, whether it could be scanned, and redacted findings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserDataScan {
    /// Size of the decoded user data in bytes (0 = none).
    pub size_bytes: u64,
    /// Whether the content was scanned: `false` when it is gzip-compressed or not UTF-8
    /// text, so the scan could not read it.
    pub scanned: bool,
    /// The encoding when it could not be scanned (`gzip`, `binary`).
    pub unscanned_encoding: Option<String>,
    /// Suspected secrets, in line order.
    pub findings: Vec<SecretFinding>,
}

/// One suspected secret in user data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// The pattern that matched (`aws_access_key_id`, `private_key`, `credential_assignment`,
    /// `url_credentials`, `github_token`, `slack_token`).
    pub pattern: String,
    /// 1-based line number in the decoded user data.
    pub line: u32,
    /// The match with its secret part masked (`password=****(12 chars)`).
    pub excerpt: String,
}

/// One launch template version's relevant settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateVersion {
    /// Version number.
    pub version_number: i64,
    /// This is the template's default version.
    pub is_default: bool,
    /// `MetadataOptions.HttpTokens` (`None` = not set: the account default or AMI decides).
    pub metadata_http_tokens: Option<String>,
    /// `MetadataOptions.HttpEndpoint`.
    pub metadata_http_endpoint: Option<String>,
    /// The secret scan of the version's user data.
    pub user_data: UserDataScan,
}

/// An EC2 launch template, with its default and latest versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplate {
    /// Template id.
    pub launch_template_id: String,
    /// Template name.
    pub name: String,
    /// Default version number.
    pub default_version_number: Option<i64>,
    /// Latest version number.
    pub latest_version_number: Option<i64>,
    /// The default and latest versions (one entry when they are the same), from
    /// `DescribeLaunchTemplateVersions` with `$Default` and `$Latest`.
    pub versions: Observed<Vec<LaunchTemplateVersion>>,
}

/// The region's instance metadata defaults for new instances
/// (`GetInstanceMetadataDefaults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceMetadataDefaults {
    /// The account-level defaults.
    pub defaults: Observed<ImdsDefaults>,
}

/// Account-level instance metadata defaults; `None` fields are "no preference".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImdsDefaults {
    /// `HttpTokens` (`required` = IMDSv2 only).
    pub http_tokens: Option<String>,
    /// `HttpEndpoint`.
    pub http_endpoint: Option<String>,
    /// `HttpPutResponseHopLimit`.
    pub http_put_response_hop_limit: Option<i32>,
}

/// An AMI owned by the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Image id.
    pub image_id: String,
    /// Name.
    pub name: Option<String>,
    /// `Public`: launch permission granted to everyone; `None` when DescribeImages did not
    /// say (the rule then reports Error).
    pub public: Option<bool>,
    /// State.
    pub state: Option<String>,
    /// Created.
    pub creation_date: Option<String>,
}

/// An internet gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternetGateway {
    /// Gateway id.
    pub internet_gateway_id: String,
    /// Attachments: (VPC id, state).
    pub attachments: Vec<IgwAttachment>,
}

/// An internet gateway attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgwAttachment {
    /// VPC id.
    pub vpc_id: String,
    /// `attached`, `attaching`, `detaching`, `detached` (or `available`).
    pub state: Option<String>,
}

/// A VPC endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcEndpoint {
    /// Endpoint id.
    pub vpc_endpoint_id: String,
    /// VPC id.
    pub vpc_id: String,
    /// Service name, e.g. `com.amazonaws.us-east-1.s3`.
    pub service_name: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`, ...
    pub endpoint_type: Option<String>,
    /// State (`available`, `pending`, ...).
    pub state: Option<String>,
}

/// A Site-to-Site VPN connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpnConnection {
    /// Connection id.
    pub vpn_connection_id: String,
    /// State (`pending`, `available`, `deleting`, `deleted`).
    pub state: Option<String>,
    /// Virtual private gateway.
    pub vpn_gateway_id: Option<String>,
    /// Transit gateway.
    pub transit_gateway_id: Option<String>,
    /// Tunnel telemetry (`VgwTelemetry`), one entry per tunnel.
    pub tunnels: Vec<VpnTunnel>,
}

/// One VPN tunnel's telemetry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpnTunnel {
    /// Outside IP address.
    pub outside_ip_address: Option<String>,
    /// `UP` or `DOWN`.
    pub status: Option<String>,
    /// Status message.
    pub status_message: Option<String>,
    /// Last status change.
    pub last_status_change: Option<DateTime<Utc>>,
}
