//! EC2, VPC and EBS in one region: every describe is paginated and runs concurrently with
//! the others; resources stream out page by page.

use aws_sdk_ec2::types::SnapshotAttributeName;
use posture_model::resources::{
    EbsEncryptionByDefault, EbsSnapshot, EbsSnapshotBlockPublicAccess, FlowLog, Instance,
    NaclEntry, NetworkAcl, Route, RouteTable, RouteTableAssociation, SecurityGroup, SgRule, Subnet,
    Volume, Vpc,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, Sink, time};
use crate::CollectError;

fn tags(list: &[aws_sdk_ec2::types::Tag]) -> Observed<Tags> {
    Observed::Collected(
        list.iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
    )
}

fn ec2_arn(sink: &Sink<'_>, kind: &str, id: &str) -> Arn {
    Arn::from_parts(
        "ec2",
        sink.region().as_str(),
        sink.account().as_str(),
        &format!("{kind}/{id}"),
    )
}

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "ec2");
    let ec2 = ctx.clients.ec2(region.as_str());
    let parts = futures::join!(
        network(&ec2, sink.fork()),
        security(&ec2, sink.fork()),
        storage(&ec2, sink.fork()),
        instances(&ec2, sink.fork()),
    );
    for part in [parts.0, parts.1, parts.2, parts.3] {
        sink.join(part?);
    }
    let arn = Arn::from_parts(
        "ec2",
        region.as_str(),
        ctx.account.as_str(),
        "ebs-encryption-by-default",
    );
    let enabled = sink
        .observe(
            "ec2:GetEbsEncryptionByDefault",
            &arn,
            ec2.get_ebs_encryption_by_default().send().await,
            &[],
        )
        .map(|o| o.ebs_encryption_by_default().unwrap_or(false));
    sink.emit(
        arn,
        Observed::Absent,
        ResourceBody::EbsEncryptionByDefault(EbsEncryptionByDefault { enabled }),
    )
    .await?;
    let arn = Arn::from_parts(
        "ec2",
        region.as_str(),
        ctx.account.as_str(),
        "snapshot-block-public-access",
    );
    let state = sink
        .observe(
            "ec2:GetSnapshotBlockPublicAccessState",
            &arn,
            ec2.get_snapshot_block_public_access_state().send().await,
            &[],
        )
        .map(|o| o.state().map(|s| s.as_str().to_owned()).unwrap_or_default());
    sink.emit(
        arn,
        Observed::Absent,
        ResourceBody::EbsSnapshotBlockPublicAccess(EbsSnapshotBlockPublicAccess { state }),
    )
    .await?;
    sink.finish().await
}

async fn network<'a>(
    ec2: &aws_sdk_ec2::Client,
    mut sink: Sink<'a>,
) -> Result<Sink<'a>, CollectError> {
    let mut pages = ec2.describe_vpcs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeVpcs", page) else {
            break;
        };
        for v in page.vpcs() {
            let id = v.vpc_id().unwrap_or_default();
            let body = Vpc {
                vpc_id: id.to_owned(),
                cidr_block: v.cidr_block().map(str::to_owned),
                is_default: v.is_default().unwrap_or(false),
                state: v.state().map(|s| s.as_str().to_owned()),
            };
            sink.emit(
                ec2_arn(&sink, "vpc", id),
                tags(v.tags()),
                ResourceBody::Vpc(body),
            )
            .await?;
        }
    }
    let mut pages = ec2.describe_subnets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeSubnets", page) else {
            break;
        };
        for s in page.subnets() {
            let id = s.subnet_id().unwrap_or_default();
            let body = Subnet {
                subnet_id: id.to_owned(),
                vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
                cidr_block: s.cidr_block().map(str::to_owned),
                availability_zone: s.availability_zone().map(str::to_owned),
                map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                default_for_az: s.default_for_az().unwrap_or(false),
            };
            let arn = s
                .subnet_arn()
                .and_then(|a| Arn::new(a).ok())
                .unwrap_or_else(|| ec2_arn(&sink, "subnet", id));
            sink.emit(arn, tags(s.tags()), ResourceBody::Subnet(body))
                .await?;
        }
    }
    let mut pages = ec2.describe_route_tables().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeRouteTables", page) else {
            break;
        };
        for t in page.route_tables() {
            let id = t.route_table_id().unwrap_or_default();
            let body = RouteTable {
                route_table_id: id.to_owned(),
                vpc_id: t.vpc_id().unwrap_or_default().to_owned(),
                routes: t
                    .routes()
                    .iter()
                    .map(|r| Route {
                        destination_cidr_block: r.destination_cidr_block().map(str::to_owned),
                        destination_ipv6_cidr_block: r
                            .destination_ipv6_cidr_block()
                            .map(str::to_owned),
                        gateway_id: r.gateway_id().map(str::to_owned),
                        nat_gateway_id: r.nat_gateway_id().map(str::to_owned),
                        other_target: r
                            .vpc_peering_connection_id()
                            .or(r.transit_gateway_id())
                            .or(r.instance_id())
                            .or(r.network_interface_id())
                            .map(str::to_owned),
                    })
                    .collect(),
                associations: t
                    .associations()
                    .iter()
                    .map(|a| RouteTableAssociation {
                        main: a.main().unwrap_or(false),
                        subnet_id: a.subnet_id().map(str::to_owned),
                    })
                    .collect(),
            };
            sink.emit(
                ec2_arn(&sink, "route-table", id),
                tags(t.tags()),
                ResourceBody::RouteTable(body),
            )
            .await?;
        }
    }
    let mut pages = ec2.describe_flow_logs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeFlowLogs", page) else {
            break;
        };
        for f in page.flow_logs() {
            let id = f.flow_log_id().unwrap_or_default();
            let body = FlowLog {
                flow_log_id: id.to_owned(),
                resource_id: f.resource_id().unwrap_or_default().to_owned(),
                traffic_type: f.traffic_type().map(|t| t.as_str().to_owned()),
                flow_log_status: f.flow_log_status().map(str::to_owned),
                log_destination_type: f.log_destination_type().map(|t| t.as_str().to_owned()),
                log_destination: f.log_destination().map(str::to_owned),
            };
            sink.emit(
                ec2_arn(&sink, "vpc-flow-log", id),
                tags(f.tags()),
                ResourceBody::FlowLog(body),
            )
            .await?;
        }
    }
    Ok(sink)
}

fn sg_rules(perms: &[aws_sdk_ec2::types::IpPermission]) -> Vec<SgRule> {
    perms
        .iter()
        .map(|p| SgRule {
            ip_protocol: p.ip_protocol().unwrap_or("-1").to_owned(),
            from_port: p.from_port(),
            to_port: p.to_port(),
            ipv4_ranges: p
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_owned))
                .collect(),
            ipv6_ranges: p
                .ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6().map(str::to_owned))
                .collect(),
            source_groups: p
                .user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_owned))
                .collect(),
            prefix_lists: p
                .prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id().map(str::to_owned))
                .collect(),
        })
        .collect()
}

async fn security<'a>(
    ec2: &aws_sdk_ec2::Client,
    mut sink: Sink<'a>,
) -> Result<Sink<'a>, CollectError> {
    let mut pages = ec2.describe_security_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeSecurityGroups", page) else {
            break;
        };
        for g in page.security_groups() {
            let id = g.group_id().unwrap_or_default();
            let body = SecurityGroup {
                group_id: id.to_owned(),
                group_name: g.group_name().unwrap_or_default().to_owned(),
                vpc_id: g.vpc_id().map(str::to_owned),
                ingress: sg_rules(g.ip_permissions()),
                egress: sg_rules(g.ip_permissions_egress()),
            };
            let arn = g
                .security_group_arn()
                .and_then(|a| Arn::new(a).ok())
                .unwrap_or_else(|| ec2_arn(&sink, "security-group", id));
            sink.emit(arn, tags(g.tags()), ResourceBody::SecurityGroup(body))
                .await?;
        }
    }
    let mut pages = ec2.describe_network_acls().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeNetworkAcls", page) else {
            break;
        };
        for n in page.network_acls() {
            let id = n.network_acl_id().unwrap_or_default();
            let mut entries: Vec<NaclEntry> = n
                .entries()
                .iter()
                .map(|e| NaclEntry {
                    rule_number: e.rule_number().unwrap_or(32767),
                    protocol: e.protocol().unwrap_or("-1").to_owned(),
                    rule_action: e
                        .rule_action()
                        .map(|a| a.as_str().to_owned())
                        .unwrap_or_default(),
                    egress: e.egress().unwrap_or(false),
                    cidr_block: e.cidr_block().map(str::to_owned),
                    ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_owned),
                    port_range: e
                        .port_range()
                        .map(|r| (r.from().unwrap_or(0), r.to().unwrap_or(65535))),
                })
                .collect();
            entries.sort_by_key(|e| (e.egress, e.rule_number));
            let body = NetworkAcl {
                network_acl_id: id.to_owned(),
                vpc_id: n.vpc_id().unwrap_or_default().to_owned(),
                is_default: n.is_default().unwrap_or(false),
                entries,
                subnet_ids: n
                    .associations()
                    .iter()
                    .filter_map(|a| a.subnet_id().map(str::to_owned))
                    .collect(),
            };
            sink.emit(
                ec2_arn(&sink, "network-acl", id),
                tags(n.tags()),
                ResourceBody::NetworkAcl(body),
            )
            .await?;
        }
    }
    Ok(sink)
}

async fn storage<'a>(
    ec2: &aws_sdk_ec2::Client,
    mut sink: Sink<'a>,
) -> Result<Sink<'a>, CollectError> {
    let mut pages = ec2.describe_volumes().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeVolumes", page) else {
            break;
        };
        for v in page.volumes() {
            let id = v.volume_id().unwrap_or_default();
            let body = Volume {
                volume_id: id.to_owned(),
                encrypted: v.encrypted().unwrap_or(false),
                kms_key_id: v.kms_key_id().map(str::to_owned),
                state: v.state().map(|s| s.as_str().to_owned()),
                size_gib: v.size(),
                attached_to: v
                    .attachments()
                    .iter()
                    .filter_map(|a| a.instance_id().map(str::to_owned))
                    .collect(),
            };
            sink.emit(
                ec2_arn(&sink, "volume", id),
                tags(v.tags()),
                ResourceBody::Volume(body),
            )
            .await?;
        }
    }
    let mut pages = ec2
        .describe_snapshots()
        .owner_ids("self")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeSnapshots", page) else {
            break;
        };
        for s in page.snapshots() {
            let id = s.snapshot_id().unwrap_or_default();
            // EBS snapshot ARNs carry no account id.
            let arn = Arn::from_parts("ec2", sink.region().as_str(), "", &format!("snapshot/{id}"));
            let out = ec2
                .describe_snapshot_attribute()
                .snapshot_id(id)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .send()
                .await;
            let create_volume_permissions = sink
                .observe("ec2:DescribeSnapshotAttribute", &arn, out, &[])
                .map(|o| {
                    o.create_volume_permissions()
                        .iter()
                        .filter_map(|p| {
                            p.group()
                                .map(|g| g.as_str().to_owned())
                                .or(p.user_id().map(str::to_owned))
                        })
                        .collect()
                });
            let body = EbsSnapshot {
                snapshot_id: id.to_owned(),
                volume_id: s.volume_id().map(str::to_owned),
                encrypted: s.encrypted().unwrap_or(false),
                create_volume_permissions,
                start_time: time(s.start_time()),
            };
            sink.emit(arn, tags(s.tags()), ResourceBody::EbsSnapshot(body))
                .await?;
        }
    }
    Ok(sink)
}

async fn instances<'a>(
    ec2: &aws_sdk_ec2::Client,
    mut sink: Sink<'a>,
) -> Result<Sink<'a>, CollectError> {
    let mut pages = ec2.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeInstances", page) else {
            break;
        };
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let id = i.instance_id().unwrap_or_default();
            let body = Instance {
                instance_id: id.to_owned(),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned()),
                public_ip_address: i.public_ip_address().map(str::to_owned),
                subnet_id: i.subnet_id().map(str::to_owned),
                vpc_id: i.vpc_id().map(str::to_owned),
                iam_instance_profile: i
                    .iam_instance_profile()
                    .and_then(|p| p.arn())
                    .map(str::to_owned),
                metadata_http_tokens: i
                    .metadata_options()
                    .and_then(|m| m.http_tokens())
                    .map(|t| t.as_str().to_owned()),
                metadata_http_endpoint: i
                    .metadata_options()
                    .and_then(|m| m.http_endpoint())
                    .map(|t| t.as_str().to_owned()),
                security_groups: i
                    .security_groups()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_owned))
                    .collect(),
                launch_time: time(i.launch_time()),
            };
            sink.emit(
                ec2_arn(&sink, "instance", id),
                tags(i.tags()),
                ResourceBody::Instance(body),
            )
            .await?;
        }
    }
    Ok(sink)
}
