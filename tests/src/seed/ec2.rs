//! EC2, VPC and EBS in both regions, plus the findings for what moto creates by itself.
//!
//! moto creates in every region a default VPC with one default subnet per availability zone
//! (MapPublicIpOnLaunch on), a default security group (no ingress, egress to 0.0.0.0/0) and
//! a default network ACL (allow all in and out) per VPC, and a root EBS volume for every
//! instance. Those findings are deterministic and are expected below: default subnets and
//! NACLs fail, default security groups fail `vpc_default_sg_closed` (unless the seed emptied
//! them) and pass the world-open port rules, default NACLs also fail
//! `nacl_no_world_ingress_all_ports`. moto gives default VPCs no internet gateway, so their
//! main route tables pass `route_table_no_unrestricted_igw_route`; the seed adds an internet
//! gateway and a route table routing 0.0.0.0/0 to it in us-west-2 for the fail state.
//!
//! moto reports EBS encryption by default but does not apply it to new volumes, so the
//! unencrypted volume lives in us-west-2, where the default is off (as it would have to on
//! AWS). `GetSnapshotBlockPublicAccessState` is not implemented (HTTP 500): the rule
//! `ebs_snapshot_block_public_access` must be `error` in each region, with a coverage gap.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    AttributeBooleanValue, BlockDeviceMapping, EbsBlockDevice, Filter, FlowLogsResourceType,
    GatewayType, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceNetworkInterfaceSpecification, InstanceType,
    IpPermission, IpRange, Ipv6Range, LaunchPermission, LaunchPermissionModifications,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    LogDestinationType, PermissionGroup, PortRange, RequestLaunchTemplateData, ResourceType,
    RuleAction, RunInstancesMonitoringEnabled, SnapshotAttributeName, Tag, TagSpecification,
    TrafficType, VpcEndpointType,
};

use super::{Keys, LogBuckets, PRIMARY, REGIONS, SECONDARY, Seed, Step};
use crate::Status::{Error, Fail, NotApplicable, Pass};

/// The instance profile the private instance runs with.
const INSTANCE_PROFILE: &str = "phi-instance-profile";

const IMAGE: &str = "ami-12c6146b"; // moto accepts any image id with default AMIs off

const SSH: &str = "sg_no_world_ssh";
const RDP: &str = "sg_no_world_rdp";
const DB: &str = "sg_no_world_db_ports";
const DEFAULT_SG: &str = "vpc_default_sg_closed";
const NACL: &str = "nacl_no_world_remote_admin";
const SUBNET: &str = "subnet_no_auto_public_ip";
const FLOW: &str = "vpc_flow_logs_enabled";
const VOLUME: &str = "ebs_volume_encrypted";
const SNAP_ENC: &str = "ebs_snapshot_encrypted";
const SNAP_PUBLIC: &str = "ebs_snapshot_not_public";
const IMDS: &str = "ec2_instance_imdsv2_required";
const PUBLIC_IP: &str = "ec2_instance_no_public_ip";
const EBS_DEFAULT: &str = "ebs_default_encryption";
const SNAPSHOT_BPA: &str = "ebs_snapshot_block_public_access";
const COMMON: &str = "sg_no_world_common_ports";
const NACL_ALL: &str = "nacl_no_world_ingress_all_ports";
const IGW_ROUTE: &str = "route_table_no_unrestricted_igw_route";
const PEERING_ROUTE: &str = "vpc_peering_least_privilege_routes";
const AUTHORIZED_PORTS: &str = "sg_only_authorized_ports_open";
const IN_VPC: &str = "ec2_instance_in_vpc";
const MAX_AGE: &str = "ec2_instance_max_age";
const PROFILE: &str = "ec2_instance_profile_attached";
const IMDS_DEFAULT: &str = "ec2_account_imdsv2_default";
const LT_IMDS: &str = "ec2_launch_template_imdsv2";
const STOPPED_AGE: &str = "ec2_stopped_instance_age";
const MONITORING: &str = "ec2_detailed_monitoring";
const EBS_OPTIMIZED: &str = "ec2_instance_ebs_optimized";
const AMI_PUBLIC: &str = "ec2_ami_not_public";
const USER_DATA: &str = "ec2_user_data_no_secrets";
const IGW_AUTHORIZED: &str = "igw_authorized_vpc_only";
const ENDPOINTS: &str = "vpc_uses_endpoints";
const VPN_TUNNELS: &str = "vpn_both_tunnels_up";

/// User data with nothing secret in it.
const CLEAN_USER_DATA: &str = "#!/bin/bash\nyum -y update\n\
    DB_PASSWORD=$(aws secretsmanager get-secret-value --secret-id phi-db --query SecretString)\n";
/// User data with a password in it (line 2), which the scan must report redacted.
const SECRET_USER_DATA: &str = "#!/bin/bash\nexport DB_PASSWORD=hunter2-not-real\n";

/// What the region-wide pass at the end needs to know about the seeded resources.
#[derive(Default)]
struct Seeded {
    /// VPCs with a flow log.
    flow_logged: BTreeSet<String>,
    /// VPCs whose default security group the seed emptied.
    closed_default_sg: BTreeSet<String>,
    /// Route tables the seed gave a 0.0.0.0/0 route to an internet gateway.
    igw_routed: BTreeSet<String>,
    /// Route tables the seed gave a 0.0.0.0/0 route to a VPC peering connection.
    peering_default_routed: BTreeSet<String>,
    /// Root volumes of seeded instances → (encrypted, instance name).
    root_volumes: BTreeMap<String, (bool, &'static str)>,
    /// Seeded instances → (detailed monitoring, EBS-optimized, name).
    instance_flags: BTreeMap<String, (bool, bool, &'static str)>,
    /// VPCs the seed gave an S3 gateway endpoint.
    endpoint_vpcs: BTreeSet<String>,
}

pub(crate) async fn seed(s: &mut Seed, keys: &Keys, logs: &LogBuckets) -> anyhow::Result<()> {
    let mut seeded = Seeded::default();
    primary(s, keys, logs, &mut seeded).await?;
    secondary(s, keys, &mut seeded).await?;
    for region in REGIONS {
        region_wide(s, region, &seeded).await?;
    }
    Ok(())
}

fn client(s: &Seed, region: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&s.config(region))
}

fn arn(s: &Seed, region: &str, kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{}:{kind}/{id}", s.account)
}

fn name_tag(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

fn world_tcp(port_from: i32, port_to: i32, v6: bool) -> IpPermission {
    let p = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port_from)
        .to_port(port_to);
    if v6 {
        p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
            .build()
    } else {
        p.ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build()
    }
}

fn tcp_from(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

async fn create_vpc(ec2: &aws_sdk_ec2::Client, name: &str, cidr: &str) -> anyhow::Result<String> {
    let out = ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(name_tag(ResourceType::Vpc, name))
        .send()
        .await
        .step(format!("ec2 CreateVpc {name}"))?;
    out.vpc()
        .and_then(|v| v.vpc_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateVpc {name} returned no id"))
}

async fn create_subnet(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    vpc: &str,
    cidr: &str,
    az: &str,
    auto_public_ip: bool,
) -> anyhow::Result<String> {
    let out = ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(name_tag(ResourceType::Subnet, name))
        .send()
        .await
        .step(format!("ec2 CreateSubnet {name}"))?;
    let id = out
        .subnet()
        .and_then(|v| v.subnet_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateSubnet {name} returned no id"))?;
    if auto_public_ip {
        ec2.modify_subnet_attribute()
            .subnet_id(&id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .step(format!("ec2 ModifySubnetAttribute {name}"))?;
    }
    Ok(id)
}

async fn create_sg(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    vpc: &str,
    ingress: Vec<IpPermission>,
) -> anyhow::Result<String> {
    let out = ec2
        .create_security_group()
        .group_name(name)
        .description(format!("posture e2e: {name}"))
        .vpc_id(vpc)
        .tag_specifications(name_tag(ResourceType::SecurityGroup, name))
        .send()
        .await
        .step(format!("ec2 CreateSecurityGroup {name}"))?;
    let id = out
        .group_id()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateSecurityGroup {name} returned no id"))?;
    if !ingress.is_empty() {
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(ingress))
            .send()
            .await
            .step(format!("ec2 AuthorizeSecurityGroupIngress {name}"))?;
    }
    Ok(id)
}

/// A NACL entry: (rule number, protocol, action, egress, from port, to port).
type NaclEntry = (i32, &'static str, RuleAction, bool, i32, i32);

async fn create_nacl(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    vpc: &str,
    entries: &[NaclEntry],
) -> anyhow::Result<String> {
    let out = ec2
        .create_network_acl()
        .vpc_id(vpc)
        .tag_specifications(name_tag(ResourceType::NetworkAcl, name))
        .send()
        .await
        .step(format!("ec2 CreateNetworkAcl {name}"))?;
    let id = out
        .network_acl()
        .and_then(|n| n.network_acl_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateNetworkAcl {name} returned no id"))?;
    for (number, protocol, action, egress, from, to) in entries {
        ec2.create_network_acl_entry()
            .network_acl_id(&id)
            .rule_number(*number)
            .protocol(*protocol)
            .rule_action(action.clone())
            .egress(*egress)
            .cidr_block("0.0.0.0/0")
            .port_range(PortRange::builder().from(*from).to(*to).build())
            .send()
            .await
            .step(format!("ec2 CreateNetworkAclEntry {name} #{number}"))?;
    }
    Ok(id)
}

struct InstanceSeed<'a> {
    name: &'static str,
    subnet: &'a str,
    security_group: Option<&'a str>,
    /// `Some(false)` launches through a network interface that refuses a public address.
    public_ip: Option<bool>,
    tokens: HttpTokensState,
    metadata_endpoint: InstanceMetadataEndpointState,
    root_kms_key: Option<&'a str>,
    /// The name of an instance profile to launch with.
    instance_profile: Option<&'a str>,
    /// Detailed CloudWatch monitoring.
    monitoring: bool,
    /// EBS-optimized.
    ebs_optimized: bool,
    /// User data (plain text; base64-encoded here).
    user_data: Option<&'static str>,
}

/// Launches an instance; returns (instance id, root volume id).
async fn run_instance(
    ec2: &aws_sdk_ec2::Client,
    spec: &InstanceSeed<'_>,
) -> anyhow::Result<(String, String)> {
    let name = spec.name;
    let ebs = match spec.root_kms_key {
        Some(key) => EbsBlockDevice::builder().encrypted(true).kms_key_id(key),
        None => EbsBlockDevice::builder().encrypted(false),
    }
    .volume_size(8)
    .delete_on_termination(true)
    .build();
    let mut req = ec2
        .run_instances()
        .image_id(IMAGE)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(spec.tokens.clone())
                .http_endpoint(spec.metadata_endpoint.clone())
                .build(),
        )
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sda1")
                .ebs(ebs)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value(name).build())
                .tags(Tag::builder().key("data-class").value("phi").build())
                .build(),
        )
        .monitoring(
            RunInstancesMonitoringEnabled::builder()
                .enabled(spec.monitoring)
                .build(),
        )
        .ebs_optimized(spec.ebs_optimized);
    if let Some(text) = spec.user_data {
        req = req.user_data(aws_smithy_types::base64::encode(text));
    }
    if let Some(profile) = spec.instance_profile {
        req = req.iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name(profile)
                .build(),
        );
    }
    match spec.public_ip {
        Some(associate) => {
            let mut nic = InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .subnet_id(spec.subnet)
                .associate_public_ip_address(associate);
            if let Some(sg) = spec.security_group {
                nic = nic.groups(sg);
            }
            req = req.network_interfaces(nic.build());
        }
        None => {
            req = req.subnet_id(spec.subnet);
            if let Some(sg) = spec.security_group {
                req = req.security_group_ids(sg);
            }
        }
    }
    let out = req.send().await.step(format!("ec2 RunInstances {name}"))?;
    let instance = out
        .instances()
        .first()
        .ok_or_else(|| anyhow::anyhow!("RunInstances {name} returned no instance"))?;
    let id = instance
        .instance_id()
        .ok_or_else(|| anyhow::anyhow!("RunInstances {name} returned no id"))?
        .to_owned();
    let root = instance
        .block_device_mappings()
        .iter()
        .find_map(|m| m.ebs().and_then(|e| e.volume_id()))
        .ok_or_else(|| anyhow::anyhow!("RunInstances {name} returned no root volume"))?
        .to_owned();
    Ok((id, root))
}

async fn create_volume(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    az: &str,
    kms_key: Option<&str>,
) -> anyhow::Result<String> {
    let mut req = ec2
        .create_volume()
        .availability_zone(az)
        .size(1)
        .tag_specifications(name_tag(ResourceType::Volume, name));
    req = match kms_key {
        Some(key) => req.encrypted(true).kms_key_id(key),
        None => req.encrypted(false),
    };
    let out = req.send().await.step(format!("ec2 CreateVolume {name}"))?;
    out.volume_id()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateVolume {name} returned no id"))
}

async fn create_snapshot(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    volume: &str,
    public: bool,
) -> anyhow::Result<String> {
    let out = ec2
        .create_snapshot()
        .volume_id(volume)
        .description(name)
        .tag_specifications(name_tag(ResourceType::Snapshot, name))
        .send()
        .await
        .step(format!("ec2 CreateSnapshot {name}"))?;
    let id = out
        .snapshot_id()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateSnapshot {name} returned no id"))?;
    if public {
        ec2.modify_snapshot_attribute()
            .snapshot_id(&id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(aws_sdk_ec2::types::OperationType::Add)
            .group_names("all")
            .send()
            .await
            .step(format!("ec2 ModifySnapshotAttribute {name} (public)"))?;
    }
    Ok(id)
}

/// Creates an AMI of `instance`, public when asked; returns its id.
async fn create_image(
    ec2: &aws_sdk_ec2::Client,
    instance: &str,
    name: &str,
    public: bool,
) -> anyhow::Result<String> {
    let id = ec2
        .create_image()
        .instance_id(instance)
        .name(name)
        .send()
        .await
        .step(format!("ec2 CreateImage {name}"))?
        .image_id()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateImage {name} returned no id"))?;
    if public {
        ec2.modify_image_attribute()
            .image_id(&id)
            .launch_permission(
                LaunchPermissionModifications::builder()
                    .add(
                        LaunchPermission::builder()
                            .group(PermissionGroup::All)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .step(format!("ec2 ModifyImageAttribute {name} (public)"))?;
    }
    Ok(id)
}

/// Creates a launch template whose only version sets `tokens` and `user_data`.
async fn create_launch_template(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    tokens: LaunchTemplateHttpTokensState,
    user_data: &str,
) -> anyhow::Result<String> {
    ec2.create_launch_template()
        .launch_template_name(name)
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(IMAGE)
                .metadata_options(
                    LaunchTemplateInstanceMetadataOptionsRequest::builder()
                        .http_tokens(tokens)
                        .build(),
                )
                .user_data(aws_smithy_types::base64::encode(user_data))
                .build(),
        )
        .send()
        .await
        .step(format!("ec2 CreateLaunchTemplate {name}"))?
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateLaunchTemplate {name} returned no id"))
}

async fn primary(
    s: &mut Seed,
    keys: &Keys,
    logs: &LogBuckets,
    seeded: &mut Seeded,
) -> anyhow::Result<()> {
    let r = PRIMARY;
    let ec2 = client(s, r);
    let az = "us-east-1a";

    ec2.enable_ebs_encryption_by_default()
        .send()
        .await
        .step("ec2 EnableEbsEncryptionByDefault us-east-1")?;
    let arn_ = format!("arn:aws:ec2:{r}:{}:ebs-encryption-by-default", s.account);
    s.expect(
        EBS_DEFAULT,
        &arn_,
        Pass,
        "EBS encryption by default enabled in us-east-1",
    );

    // A VPC with a flow log and an emptied default security group.
    let vpc = create_vpc(&ec2, "phi-vpc-good", "10.20.0.0/16").await?;
    let out = ec2
        .create_flow_logs()
        .resource_ids(&vpc)
        .resource_type(FlowLogsResourceType::Vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::S3)
        .log_destination(format!("arn:aws:s3:::{}", logs.primary))
        .send()
        .await
        .step("ec2 CreateFlowLogs phi-vpc-good")?;
    if let Some(problem) = out.unsuccessful().first() {
        anyhow::bail!("ec2 CreateFlowLogs phi-vpc-good was refused: {problem:?}");
    }
    seeded.flow_logged.insert(vpc.clone());
    let default_sg = default_security_group(&ec2, &vpc).await?;
    ec2.revoke_security_group_egress()
        .group_id(&default_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .step("ec2 RevokeSecurityGroupEgress (default group of phi-vpc-good)")?;
    seeded.closed_default_sg.insert(vpc.clone());

    let private =
        create_subnet(&ec2, "phi-subnet-private", &vpc, "10.20.1.0/24", az, false).await?;
    let a = arn(s, r, "subnet", &private);
    s.expect(
        SUBNET,
        &a,
        Pass,
        "phi-subnet-private: no auto-assigned public IPs",
    );

    // A custom NACL that denies SSH from anywhere and admits only HTTPS and ephemeral ports.
    let nacl = create_nacl(
        &ec2,
        "phi-nacl-good",
        &vpc,
        &[
            (90, "6", RuleAction::Deny, false, 22, 22),
            (100, "6", RuleAction::Allow, false, 443, 443),
            (110, "6", RuleAction::Allow, false, 32768, 65535),
            (100, "-1", RuleAction::Allow, true, 0, 65535),
        ],
    )
    .await?;
    let a = arn(s, r, "network-acl", &nacl);
    s.expect(
        NACL,
        &a,
        Pass,
        "phi-nacl-good: SSH denied, RDP not allowed from 0.0.0.0/0",
    );
    s.expect(
        NACL_ALL,
        &a,
        Pass,
        "phi-nacl-good: inbound allows are for TCP 443 and ephemeral ports only",
    );

    let ssh_open = create_sg(
        &ec2,
        "phi-sg-ssh-open",
        &vpc,
        vec![world_tcp(22, 22, false)],
    )
    .await?;
    let a = arn(s, r, "security-group", &ssh_open);
    s.expect(SSH, &a, Fail, "phi-sg-ssh-open: TCP 22 from 0.0.0.0/0");
    s.expect(RDP, &a, Pass, "phi-sg-ssh-open: only port 22 is open");
    s.expect(DB, &a, Pass, "phi-sg-ssh-open: only port 22 is open");
    s.expect(COMMON, &a, Pass, "phi-sg-ssh-open: only port 22 is open");
    s.expect(
        AUTHORIZED_PORTS,
        &a,
        Fail,
        "phi-sg-ssh-open: TCP 22 from 0.0.0.0/0 is not an authorized port (80, 443)",
    );
    s.expect(DEFAULT_SG, &a, NotApplicable, "not a default group");

    let restricted = create_sg(
        &ec2,
        "phi-sg-restricted",
        &vpc,
        vec![tcp_from(443, "10.0.0.0/8"), tcp_from(5432, "10.20.0.0/16")],
    )
    .await?;
    let a = arn(s, r, "security-group", &restricted);
    for rule in [SSH, RDP, DB, COMMON, AUTHORIZED_PORTS] {
        s.expect(
            rule,
            &a,
            Pass,
            "phi-sg-restricted: HTTPS and PostgreSQL from private CIDRs only",
        );
    }
    s.expect(DEFAULT_SG, &a, NotApplicable, "not a default group");

    let iam = aws_sdk_iam::Client::new(&s.config(PRIMARY));
    iam.create_instance_profile()
        .instance_profile_name(INSTANCE_PROFILE)
        .send()
        .await
        .step(format!("iam CreateInstanceProfile {INSTANCE_PROFILE}"))?;
    let (instance, root) = run_instance(
        &ec2,
        &InstanceSeed {
            name: "phi-instance-private-imdsv2",
            subnet: &private,
            security_group: Some(&restricted),
            public_ip: None,
            tokens: HttpTokensState::Required,
            metadata_endpoint: InstanceMetadataEndpointState::Enabled,
            root_kms_key: Some(&keys.primary),
            instance_profile: Some(INSTANCE_PROFILE),
            monitoring: true,
            ebs_optimized: true,
            user_data: Some(CLEAN_USER_DATA),
        },
    )
    .await?;
    let a = arn(s, r, "instance", &instance);
    s.expect(
        IMDS,
        &a,
        Pass,
        "phi-instance-private-imdsv2: HttpTokens required",
    );
    s.expect(
        PUBLIC_IP,
        &a,
        Pass,
        "phi-instance-private-imdsv2: private subnet",
    );
    s.expect(
        PROFILE,
        &a,
        Pass,
        format!("phi-instance-private-imdsv2: launched with {INSTANCE_PROFILE}"),
    );
    s.exp.tags.insert(
        a,
        [
            ("Name".to_owned(), "phi-instance-private-imdsv2".to_owned()),
            ("data-class".to_owned(), "phi".to_owned()),
        ]
        .into(),
    );
    seeded
        .root_volumes
        .insert(root, (true, "phi-instance-private-imdsv2"));
    seeded.instance_flags.insert(
        instance.clone(),
        (true, true, "phi-instance-private-imdsv2"),
    );

    // An AMI of the private instance, shared with nobody.
    let image = create_image(&ec2, &instance, "phi-ami-private", false).await?;
    let a = format!("arn:aws:ec2:{r}::image/{image}");
    s.expect(AMI_PUBLIC, &a, Pass, "phi-ami-private: not public");

    // A launch template requiring IMDSv2, with clean user data.
    let lt = create_launch_template(
        &ec2,
        "phi-lt-imdsv2",
        LaunchTemplateHttpTokensState::Required,
        CLEAN_USER_DATA,
    )
    .await?;
    let a = arn(s, r, "launch-template", &lt);
    s.expect(LT_IMDS, &a, Pass, "phi-lt-imdsv2: HttpTokens required");
    let a = format!("arn:aws:ec2:{r}:{}:region/{r}", s.account);
    s.expect(
        USER_DATA,
        &a,
        Pass,
        "us-east-1: the instance's and phi-lt-imdsv2's user data fetch the password from \
         Secrets Manager instead of holding it",
    );

    // An internet gateway attached to nothing.
    let igw = ec2
        .create_internet_gateway()
        .tag_specifications(name_tag(ResourceType::InternetGateway, "phi-igw-detached"))
        .send()
        .await
        .step("ec2 CreateInternetGateway phi-igw-detached")?
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateInternetGateway returned no id"))?;
    let a = arn(s, r, "internet-gateway", &igw);
    s.expect(
        IGW_AUTHORIZED,
        &a,
        Pass,
        "phi-igw-detached: attached to no VPC",
    );

    // An S3 gateway endpoint in phi-vpc-good.
    ec2.create_vpc_endpoint()
        .vpc_id(&vpc)
        .service_name(format!("com.amazonaws.{r}.s3"))
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .send()
        .await
        .step("ec2 CreateVpcEndpoint phi-vpc-good s3")?;
    seeded.endpoint_vpcs.insert(vpc.clone());

    let volume = create_volume(&ec2, "phi-vol-encrypted", az, Some(&keys.primary)).await?;
    let a = arn(s, r, "volume", &volume);
    s.expect(VOLUME, &a, Pass, "phi-vol-encrypted: KMS-encrypted");
    let snap = create_snapshot(&ec2, "phi-snap-encrypted-private", &volume, false).await?;
    let a = format!("arn:aws:ec2:{r}::snapshot/{snap}");
    s.expect(
        SNAP_ENC,
        &a,
        Pass,
        "phi-snap-encrypted-private: of an encrypted volume",
    );
    s.expect(
        SNAP_PUBLIC,
        &a,
        Pass,
        "phi-snap-encrypted-private: not shared",
    );
    Ok(())
}

async fn secondary(s: &mut Seed, keys: &Keys, seeded: &mut Seeded) -> anyhow::Result<()> {
    let r = SECONDARY;
    let ec2 = client(s, r);
    let az = "us-west-2a";
    let a = format!("arn:aws:ec2:{r}:{}:ebs-encryption-by-default", s.account);
    s.expect(
        EBS_DEFAULT,
        &a,
        Fail,
        "EBS encryption by default left off in us-west-2",
    );

    // A VPC without flow logs; its default security group keeps its egress rule.
    let vpc = create_vpc(&ec2, "phi-vpc-west-no-flow-logs", "10.30.0.0/16").await?;
    let public = create_subnet(
        &ec2,
        "phi-subnet-public-west",
        &vpc,
        "10.30.1.0/24",
        az,
        true,
    )
    .await?;
    let a = arn(s, r, "subnet", &public);
    s.expect(
        SUBNET,
        &a,
        Fail,
        "phi-subnet-public-west: MapPublicIpOnLaunch",
    );

    let nacl = create_nacl(
        &ec2,
        "phi-nacl-ssh-open-west",
        &vpc,
        &[
            (100, "6", RuleAction::Allow, false, 22, 22),
            (100, "-1", RuleAction::Allow, true, 0, 65535),
        ],
    )
    .await?;
    let a = arn(s, r, "network-acl", &nacl);
    s.expect(
        NACL,
        &a,
        Fail,
        "phi-nacl-ssh-open-west: allows TCP 22 from 0.0.0.0/0",
    );
    s.expect(
        NACL_ALL,
        &a,
        Pass,
        "phi-nacl-ssh-open-west: the only inbound allow is TCP 22",
    );

    // An internet gateway and a route table sending 0.0.0.0/0 to it (moto gives its default
    // VPCs no internet gateway, so their main tables have only the local route).
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .step("ec2 CreateInternetGateway phi-vpc-west-no-flow-logs")?
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateInternetGateway returned no id"))?;
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .step(format!("ec2 AttachInternetGateway {igw}"))?;
    let a = arn(s, r, "internet-gateway", &igw);
    s.expect(
        IGW_AUTHORIZED,
        &a,
        Fail,
        format!("{igw} is attached to {vpc}, and authorized_vpc_ids is empty by default"),
    );
    let rtb = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .tag_specifications(name_tag(ResourceType::RouteTable, "phi-rtb-public-west"))
        .send()
        .await
        .step("ec2 CreateRouteTable phi-rtb-public-west")?
        .route_table()
        .and_then(|t| t.route_table_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateRouteTable returned no id"))?;
    ec2.create_route()
        .route_table_id(&rtb)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .step("ec2 CreateRoute phi-rtb-public-west 0.0.0.0/0")?;
    ec2.associate_route_table()
        .route_table_id(&rtb)
        .subnet_id(&public)
        .send()
        .await
        .step("ec2 AssociateRouteTable phi-rtb-public-west")?;
    seeded.igw_routed.insert(rtb);

    // A peering connection to the region's default VPC, and a route table sending
    // 0.0.0.0/0 over it (the fail state of vpc_peering_least_privilege_routes).
    let default_vpc = ec2
        .describe_vpcs()
        .send()
        .await
        .step(format!("ec2 DescribeVpcs {r}"))?
        .vpcs()
        .iter()
        .find(|v| v.is_default() == Some(true))
        .and_then(|v| v.vpc_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no default VPC in {r}"))?;
    let pcx = ec2
        .create_vpc_peering_connection()
        .vpc_id(&vpc)
        .peer_vpc_id(&default_vpc)
        .send()
        .await
        .step("ec2 CreateVpcPeeringConnection phi-vpc-west-no-flow-logs")?
        .vpc_peering_connection()
        .and_then(|p| p.vpc_peering_connection_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateVpcPeeringConnection returned no id"))?;
    let rtb = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .tag_specifications(name_tag(ResourceType::RouteTable, "phi-rtb-peering-west"))
        .send()
        .await
        .step("ec2 CreateRouteTable phi-rtb-peering-west")?
        .route_table()
        .and_then(|t| t.route_table_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateRouteTable returned no id"))?;
    ec2.create_route()
        .route_table_id(&rtb)
        .destination_cidr_block("0.0.0.0/0")
        .vpc_peering_connection_id(&pcx)
        .send()
        .await
        .step("ec2 CreateRoute phi-rtb-peering-west 0.0.0.0/0")?;
    seeded.peering_default_routed.insert(rtb);

    let rdp_db = create_sg(
        &ec2,
        "phi-sg-rdp-db-open-west",
        &vpc,
        vec![world_tcp(3389, 3389, false), world_tcp(3306, 3306, true)],
    )
    .await?;
    let a = arn(s, r, "security-group", &rdp_db);
    s.expect(SSH, &a, Pass, "phi-sg-rdp-db-open-west: port 22 is closed");
    s.expect(
        RDP,
        &a,
        Fail,
        "phi-sg-rdp-db-open-west: TCP 3389 from 0.0.0.0/0",
    );
    s.expect(DB, &a, Fail, "phi-sg-rdp-db-open-west: TCP 3306 from ::/0");
    s.expect(
        COMMON,
        &a,
        Pass,
        "phi-sg-rdp-db-open-west: 3389 and 3306 are not among the common ports",
    );
    s.expect(
        AUTHORIZED_PORTS,
        &a,
        Fail,
        "phi-sg-rdp-db-open-west: 3389 and 3306 open to the internet are not authorized ports",
    );
    s.expect(DEFAULT_SG, &a, NotApplicable, "not a default group");

    let all_open = create_sg(
        &ec2,
        "phi-sg-all-open-west",
        &vpc,
        vec![
            IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        ],
    )
    .await?;
    let a = arn(s, r, "security-group", &all_open);
    for rule in [SSH, RDP, DB, COMMON, AUTHORIZED_PORTS] {
        s.expect(
            rule,
            &a,
            Fail,
            "phi-sg-all-open-west: all traffic from 0.0.0.0/0",
        );
    }
    s.expect(DEFAULT_SG, &a, NotApplicable, "not a default group");

    let (instance, root) = run_instance(
        &ec2,
        &InstanceSeed {
            name: "phi-instance-public-imdsv1-west",
            subnet: &public,
            security_group: Some(&all_open),
            public_ip: None,
            tokens: HttpTokensState::Optional,
            metadata_endpoint: InstanceMetadataEndpointState::Enabled,
            root_kms_key: None,
            instance_profile: None,
            monitoring: false,
            ebs_optimized: false,
            user_data: Some(SECRET_USER_DATA),
        },
    )
    .await?;
    let a = arn(s, r, "instance", &instance);
    s.expect(
        IMDS,
        &a,
        Fail,
        "phi-instance-public-imdsv1-west: HttpTokens optional",
    );
    s.expect(
        PUBLIC_IP,
        &a,
        Fail,
        "phi-instance-public-imdsv1-west: launched in a subnet that auto-assigns public IPs",
    );
    s.expect(
        PROFILE,
        &a,
        Fail,
        "phi-instance-public-imdsv1-west: no instance profile",
    );
    seeded
        .root_volumes
        .insert(root, (false, "phi-instance-public-imdsv1-west"));
    seeded.instance_flags.insert(
        instance.clone(),
        (false, false, "phi-instance-public-imdsv1-west"),
    );

    let (instance, root) = run_instance(
        &ec2,
        &InstanceSeed {
            name: "phi-instance-metadata-off-west",
            subnet: &public,
            security_group: None,
            public_ip: Some(false),
            tokens: HttpTokensState::Optional,
            metadata_endpoint: InstanceMetadataEndpointState::Disabled,
            root_kms_key: Some(&keys.secondary),
            instance_profile: None,
            monitoring: true,
            ebs_optimized: false,
            user_data: None,
        },
    )
    .await?;
    let a = arn(s, r, "instance", &instance);
    s.expect(
        IMDS,
        &a,
        Pass,
        "phi-instance-metadata-off-west: the metadata service is disabled",
    );
    s.expect(
        PUBLIC_IP,
        &a,
        Pass,
        "phi-instance-metadata-off-west: its interface refuses a public IP",
    );
    s.expect(
        PROFILE,
        &a,
        Fail,
        "phi-instance-metadata-off-west: no instance profile",
    );
    seeded
        .root_volumes
        .insert(root, (true, "phi-instance-metadata-off-west"));
    seeded.instance_flags.insert(
        instance.clone(),
        (true, false, "phi-instance-metadata-off-west"),
    );

    let (instance, root) = run_instance(
        &ec2,
        &InstanceSeed {
            name: "phi-instance-terminated-west",
            subnet: &public,
            security_group: None,
            public_ip: None,
            tokens: HttpTokensState::Optional,
            metadata_endpoint: InstanceMetadataEndpointState::Enabled,
            root_kms_key: Some(&keys.secondary),
            instance_profile: None,
            monitoring: false,
            ebs_optimized: false,
            user_data: None,
        },
    )
    .await?;
    ec2.terminate_instances()
        .instance_ids(&instance)
        .send()
        .await
        .step("ec2 TerminateInstances phi-instance-terminated-west")?;
    let a = arn(s, r, "instance", &instance);
    s.expect(
        IMDS,
        &a,
        NotApplicable,
        "phi-instance-terminated-west: terminated",
    );
    s.expect(
        PUBLIC_IP,
        &a,
        NotApplicable,
        "phi-instance-terminated-west: terminated",
    );
    s.expect(
        PROFILE,
        &a,
        NotApplicable,
        "phi-instance-terminated-west: terminated",
    );
    seeded
        .root_volumes
        .insert(root, (true, "phi-instance-terminated-west"));
    seeded.instance_flags.insert(
        instance.clone(),
        (false, false, "phi-instance-terminated-west"),
    );

    // The metadata-off instance is stopped: moto stamps the stop with the current time, so
    // it has not been stopped for long.
    let stopped = seeded
        .instance_flags
        .iter()
        .find(|(_, (_, _, name))| *name == "phi-instance-metadata-off-west")
        .map(|(id, _)| id.clone())
        .ok_or_else(|| anyhow::anyhow!("phi-instance-metadata-off-west was not recorded"))?;
    ec2.stop_instances()
        .instance_ids(&stopped)
        .send()
        .await
        .step("ec2 StopInstances phi-instance-metadata-off-west")?;

    // A public AMI of the IMDSv1 instance.
    let imdsv1 = seeded
        .instance_flags
        .iter()
        .find(|(_, (_, _, name))| *name == "phi-instance-public-imdsv1-west")
        .map(|(id, _)| id.clone())
        .ok_or_else(|| anyhow::anyhow!("phi-instance-public-imdsv1-west was not recorded"))?;
    let image = create_image(&ec2, &imdsv1, "phi-ami-public-west", true).await?;
    let a = format!("arn:aws:ec2:{r}::image/{image}");
    s.expect(
        AMI_PUBLIC,
        &a,
        Fail,
        "phi-ami-public-west: launch permission group all",
    );

    // A launch template allowing IMDSv1, with a password in its user data.
    let lt = create_launch_template(
        &ec2,
        "phi-lt-imdsv1-west",
        LaunchTemplateHttpTokensState::Optional,
        SECRET_USER_DATA,
    )
    .await?;
    let a = arn(s, r, "launch-template", &lt);
    s.expect(LT_IMDS, &a, Fail, "phi-lt-imdsv1-west: HttpTokens optional");
    let a = format!("arn:aws:ec2:{r}:{}:region/{r}", s.account);
    s.expect(
        USER_DATA,
        &a,
        Fail,
        "us-west-2: phi-instance-public-imdsv1-west and phi-lt-imdsv1-west export \
         DB_PASSWORD=<literal> in their user data",
    );

    // A Site-to-Site VPN connection: moto reports no tunnel telemetry (AWS always reports
    // two tunnels), so the rule cannot tell whether they are up.
    let cgw = ec2
        .create_customer_gateway()
        .bgp_asn(65000)
        .public_ip("203.0.113.10")
        .r#type(GatewayType::Ipsec1)
        .send()
        .await
        .step("ec2 CreateCustomerGateway")?
        .customer_gateway()
        .and_then(|g| g.customer_gateway_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateCustomerGateway returned no id"))?;
    let vgw = ec2
        .create_vpn_gateway()
        .r#type(GatewayType::Ipsec1)
        .send()
        .await
        .step("ec2 CreateVpnGateway")?
        .vpn_gateway()
        .and_then(|g| g.vpn_gateway_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateVpnGateway returned no id"))?;
    let vpn = ec2
        .create_vpn_connection()
        .customer_gateway_id(&cgw)
        .vpn_gateway_id(&vgw)
        .r#type("ipsec.1")
        .send()
        .await
        .step("ec2 CreateVpnConnection")?
        .vpn_connection()
        .and_then(|v| v.vpn_connection_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("CreateVpnConnection returned no id"))?;
    let a = arn(s, r, "vpn-connection", &vpn);
    s.expect(
        VPN_TUNNELS,
        &a,
        Error,
        "moto reports no VgwTelemetry for the connection, so the tunnels' status is unknown",
    );

    let volume = create_volume(&ec2, "phi-vol-plain-west", az, None).await?;
    let a = arn(s, r, "volume", &volume);
    s.expect(VOLUME, &a, Fail, "phi-vol-plain-west: not encrypted");
    let snap = create_snapshot(&ec2, "phi-snap-plain-public-west", &volume, true).await?;
    let a = format!("arn:aws:ec2:{r}::snapshot/{snap}");
    s.expect(
        SNAP_ENC,
        &a,
        Fail,
        "phi-snap-plain-public-west: of an unencrypted volume",
    );
    s.expect(
        SNAP_PUBLIC,
        &a,
        Fail,
        "phi-snap-plain-public-west: createVolumePermission group all",
    );
    Ok(())
}

async fn default_security_group(ec2: &aws_sdk_ec2::Client, vpc: &str) -> anyhow::Result<String> {
    let out = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .filters(
            Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .step(format!("ec2 DescribeSecurityGroups (default of {vpc})"))?;
    out.security_groups()
        .iter()
        .find(|g| g.group_name() == Some("default") && g.vpc_id() == Some(vpc))
        .and_then(|g| g.group_id())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("{vpc} has no default security group"))
}

/// Findings for what moto created by itself, and the region-wide settings.
async fn region_wide(s: &mut Seed, r: &str, seeded: &Seeded) -> anyhow::Result<()> {
    let ec2 = client(s, r);

    // Every VPC: flow logs. Seeded VPCs are told apart from moto's default VPC by the set.
    let vpcs = ec2
        .describe_vpcs()
        .send()
        .await
        .step(format!("ec2 DescribeVpcs {r}"))?;
    for v in vpcs.vpcs() {
        let id = v.vpc_id().unwrap_or_default();
        let label = if v.is_default() == Some(true) {
            "moto's default VPC"
        } else {
            "seeded VPC"
        };
        let (status, why) = if seeded.flow_logged.contains(id) {
            (Pass, format!("{label} {id} has a flow log"))
        } else {
            (Fail, format!("{label} {id} has no flow log"))
        };
        let a = arn(s, r, "vpc", id);
        s.expect(FLOW, &a, status, why);
        let (status, why) = if seeded.endpoint_vpcs.contains(id) {
            (Pass, format!("{label} {id} has an S3 gateway endpoint"))
        } else {
            (Fail, format!("{label} {id} has no VPC endpoint"))
        };
        s.expect(ENDPOINTS, &a, status, why);
    }

    // Route tables: only the seeded phi-rtb-public-west routes 0.0.0.0/0 to an internet
    // gateway. moto 5.2.5 gives its default VPCs no internet gateway (AWS does), so their
    // main tables hold only the local route and pass.
    let tables = ec2
        .describe_route_tables()
        .send()
        .await
        .step(format!("ec2 DescribeRouteTables {r}"))?;
    for t in tables.route_tables() {
        let id = t.route_table_id().unwrap_or_default();
        let vpc = t.vpc_id().unwrap_or_default();
        let a = arn(s, r, "route-table", id);
        let (status, why) = if seeded.igw_routed.contains(id) {
            (
                Fail,
                format!("phi-rtb-public-west {id} of {vpc}: 0.0.0.0/0 to an internet gateway"),
            )
        } else {
            (
                Pass,
                format!("route table {id} of {vpc}: no internet gateway route"),
            )
        };
        s.expect(IGW_ROUTE, &a, status, why);
        let (status, why) = if seeded.peering_default_routed.contains(id) {
            (
                Fail,
                format!("phi-rtb-peering-west {id} of {vpc}: 0.0.0.0/0 to a peering connection"),
            )
        } else {
            (
                Pass,
                format!("route table {id} of {vpc}: no default route to a peering connection"),
            )
        };
        s.expect(PEERING_ROUTE, &a, status, why);
    }

    // Default subnets: moto turns MapPublicIpOnLaunch on, as AWS does.
    let subnets = ec2
        .describe_subnets()
        .send()
        .await
        .step(format!("ec2 DescribeSubnets {r}"))?;
    for sn in subnets.subnets() {
        if sn.default_for_az() == Some(true) {
            let id = sn.subnet_id().unwrap_or_default();
            let a = arn(s, r, "subnet", id);
            s.expect(
                SUBNET,
                &a,
                Fail,
                format!("moto's default subnet {id} auto-assigns public IPs"),
            );
        }
    }

    // Default security groups: no ingress; egress to 0.0.0.0/0 unless the seed removed it.
    let groups = ec2
        .describe_security_groups()
        .send()
        .await
        .step(format!("ec2 DescribeSecurityGroups {r}"))?;
    for g in groups.security_groups() {
        if g.group_name() != Some("default") {
            continue;
        }
        let id = g.group_id().unwrap_or_default();
        let vpc = g.vpc_id().unwrap_or_default();
        let a = arn(s, r, "security-group", id);
        let (status, why) = if seeded.closed_default_sg.contains(vpc) {
            (
                Pass,
                format!("default group {id} of {vpc}: the seed removed its egress rule"),
            )
        } else {
            (
                Fail,
                format!("default group {id} of {vpc}: egress to 0.0.0.0/0"),
            )
        };
        s.expect(DEFAULT_SG, &a, status, why);
        for rule in [SSH, RDP, DB, COMMON, AUTHORIZED_PORTS] {
            s.expect(
                rule,
                &a,
                Pass,
                format!("default group {id} of {vpc} has no ingress from the internet"),
            );
        }
    }

    // Every instance runs in a VPC (moto has no EC2-Classic) and was launched just now
    // (moto cannot backdate LaunchTime): both rules pass, or are not applicable once the
    // instance is terminated.
    let reservations = ec2
        .describe_instances()
        .send()
        .await
        .step(format!("ec2 DescribeInstances {r}"))?;
    for i in reservations
        .reservations()
        .iter()
        .flat_map(|res| res.instances())
    {
        let id = i.instance_id().unwrap_or_default();
        let a = arn(s, r, "instance", id);
        let state = i
            .state()
            .and_then(|st| st.name())
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        if matches!(state.as_str(), "terminated" | "shutting-down") {
            for rule in [IN_VPC, MAX_AGE, MONITORING, EBS_OPTIMIZED, STOPPED_AGE] {
                s.expect(rule, &a, NotApplicable, format!("instance {id} is {state}"));
            }
        } else {
            let Some(&(monitoring, ebs, name)) = seeded.instance_flags.get(id) else {
                anyhow::bail!("instance {id} in {r} was not seeded by the EC2 seed");
            };
            s.expect(
                MONITORING,
                &a,
                if monitoring { Pass } else { Fail },
                format!("{name}: launched with detailed monitoring {monitoring}"),
            );
            // Every seeded instance is a t3.micro, EBS-optimized by default whatever the
            // EbsOptimized attribute says (it was launched with {ebs}).
            s.expect(
                EBS_OPTIMIZED,
                &a,
                Pass,
                format!("{name}: a t3.micro, EBS-optimized by default (attribute {ebs})"),
            );
            if state == "stopped" {
                s.expect(
                    STOPPED_AGE,
                    &a,
                    Pass,
                    format!("{name}: stopped by the seed moments ago"),
                );
            } else {
                s.expect(STOPPED_AGE, &a, NotApplicable, format!("{name} is {state}"));
            }
            let vpc = i.vpc_id().unwrap_or_default();
            s.expect(IN_VPC, &a, Pass, format!("instance {id} runs in {vpc}"));
            s.expect(
                MAX_AGE,
                &a,
                Pass,
                format!("instance {id} was launched by the seed moments ago"),
            );
        }
    }

    // Default NACLs allow all traffic in.
    let nacls = ec2
        .describe_network_acls()
        .send()
        .await
        .step(format!("ec2 DescribeNetworkAcls {r}"))?;
    for n in nacls.network_acls() {
        if n.is_default() == Some(true) {
            let id = n.network_acl_id().unwrap_or_default();
            let a = arn(s, r, "network-acl", id);
            s.expect(
                NACL,
                &a,
                Fail,
                format!("default NACL {id} allows all inbound traffic from 0.0.0.0/0"),
            );
            s.expect(
                NACL_ALL,
                &a,
                Fail,
                format!("default NACL {id} allows all inbound traffic from 0.0.0.0/0"),
            );
        }
    }

    // Root volumes of the seeded instances that still exist (moto keeps a terminated
    // instance's root volume unless DeleteOnTermination removed it).
    let volumes = ec2
        .describe_volumes()
        .send()
        .await
        .step(format!("ec2 DescribeVolumes {r}"))?;
    for v in volumes.volumes() {
        let id = v.volume_id().unwrap_or_default();
        if let Some((encrypted, instance)) = seeded.root_volumes.get(id) {
            let a = arn(s, r, "volume", id);
            let (status, why) = if *encrypted {
                (Pass, format!("root volume of {instance}, KMS-encrypted"))
            } else {
                (Fail, format!("root volume of {instance}, not encrypted"))
            };
            s.expect(VOLUME, &a, status, why);
        }
    }

    // Not implemented by moto: must be an error and a recorded gap, never a pass.
    let a = format!("arn:aws:ec2:{r}:{}:snapshot-block-public-access", s.account);
    // ---- ebs_snapshot_block_public_access (moto: GetSnapshotBlockPublicAccessState → 500) ----
    s.expect(
        SNAPSHOT_BPA,
        &a,
        Error,
        format!("moto does not implement GetSnapshotBlockPublicAccessState ({r})"),
    );
    s.exp.expect_gap(
        "ec2:GetSnapshotBlockPublicAccessState",
        Some(r),
        Some(a),
        "moto answers HTTP 500 (not implemented)",
    );

    // ---- ec2_account_imdsv2_default (moto: GetInstanceMetadataDefaults → 500) ----
    let a = format!("arn:aws:ec2:{r}:{}:instance-metadata-defaults", s.account);
    s.expect(
        IMDS_DEFAULT,
        &a,
        Error,
        format!("moto does not implement GetInstanceMetadataDefaults ({r})"),
    );
    s.exp.expect_gap(
        "ec2:GetInstanceMetadataDefaults",
        Some(r),
        Some(a),
        "moto answers HTTP 500 (not implemented)",
    );

    // CreateImage makes moto snapshot the root volume; those snapshots are the account's.
    let images = ec2
        .describe_images()
        .owners("self")
        .send()
        .await
        .step(format!("ec2 DescribeImages {r}"))?;
    for image in images.images() {
        let name = image.name().unwrap_or_default().to_owned();
        for snap in image
            .block_device_mappings()
            .iter()
            .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()))
        {
            let out = ec2
                .describe_snapshots()
                .snapshot_ids(snap)
                .send()
                .await
                .step(format!("ec2 DescribeSnapshots {snap}"))?;
            let encrypted = out
                .snapshots()
                .first()
                .and_then(|x| x.encrypted())
                .unwrap_or(false);
            let a = format!("arn:aws:ec2:{r}::snapshot/{snap}");
            s.expect(
                SNAP_ENC,
                &a,
                if encrypted { Pass } else { Fail },
                format!("moto's snapshot for AMI {name} (encrypted: {encrypted})"),
            );
            s.expect(
                SNAP_PUBLIC,
                &a,
                Pass,
                format!("moto's snapshot for AMI {name}: not shared"),
            );
        }
    }
    Ok(())
}
