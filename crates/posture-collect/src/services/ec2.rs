//! EC2, VPC and EBS in one region: every describe is paginated and runs concurrently with
//! the others; resources stream out page by page.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{InstanceAttributeName, SnapshotAttributeName};
use futures::StreamExt;
use posture_model::resources::{
    EbsEncryptionByDefault, EbsSnapshot, EbsSnapshotBlockPublicAccess, FlowLog, IgwAttachment,
    Image, ImdsDefaults, Instance, InstanceMetadataDefaults, InternetGateway, LaunchTemplate,
    LaunchTemplateVersion, NaclEntry, NetworkAcl, Route, RouteTable, RouteTableAssociation,
    SecurityGroup, SgRule, Subnet, Volume, Vpc, VpcEndpoint, VpnConnection, VpnTunnel,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, time};
use crate::CollectError;
use crate::classify::classify;

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
        gateways(&ec2, sink.fork()),
        templates_and_images(&ec2, sink.fork()),
    );
    for part in [parts.0, parts.1, parts.2, parts.3, parts.4, parts.5] {
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
    let arn = Arn::from_parts(
        "ec2",
        region.as_str(),
        ctx.account.as_str(),
        "instance-metadata-defaults",
    );
    let defaults = sink
        .observe(
            "ec2:GetInstanceMetadataDefaults",
            &arn,
            ec2.get_instance_metadata_defaults().send().await,
            &[],
        )
        .map(|o| {
            let d = o.account_level();
            ImdsDefaults {
                http_tokens: d
                    .and_then(|d| d.http_tokens())
                    .map(|t| t.as_str().to_owned()),
                http_endpoint: d
                    .and_then(|d| d.http_endpoint())
                    .map(|t| t.as_str().to_owned()),
                http_put_response_hop_limit: d.and_then(|d| d.http_put_response_hop_limit()),
            }
        });
    sink.emit(
        arn,
        Observed::Absent,
        ResourceBody::InstanceMetadataDefaults(InstanceMetadataDefaults { defaults }),
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
    // EBS optimization support by instance type: one DescribeInstanceTypes call for the
    // types a page of instances brings that earlier pages did not.
    let mut type_support: BTreeMap<String, Observed<String>> = BTreeMap::new();
    let mut pages = ec2.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeInstances", page) else {
            break;
        };
        let new_types: BTreeSet<String> = page
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.instance_type().map(|t| t.as_str().to_owned()))
            .filter(|t| !type_support.contains_key(t))
            .collect();
        if !new_types.is_empty() {
            instance_type_support(ec2, &mut sink, new_types, &mut type_support).await;
        }
        let mut listed = Vec::new();
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let id = i.instance_id().unwrap_or_default();
            let instance_type = i.instance_type().map(|t| t.as_str().to_owned());
            let ebs_optimized_support = instance_type
                .as_ref()
                .and_then(|t| type_support.get(t).cloned())
                .unwrap_or(Observed::Absent);
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
                monitoring_state: i
                    .monitoring()
                    .and_then(|m| m.state())
                    .map(|s| s.as_str().to_owned()),
                ebs_optimized: i.ebs_optimized(),
                state_transition_reason: i
                    .state_transition_reason()
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
                enclave_enabled: i.enclave_options().and_then(|e| e.enabled()),
                instance_type,
                ebs_optimized_support,
                user_data: Observed::Absent,
            };
            let arn = ec2_arn(&sink, "instance", id);
            listed.push((arn, tags(i.tags()), body));
        }
        // The user data of a page's instances, read a few at a time (one call each).
        let mut reads = futures::stream::iter(listed)
            .map(|(arn, instance_tags, body)| async move {
                let mut log = GapLog::default();
                let gone = matches!(body.state.as_deref(), Some("terminated" | "shutting-down"));
                let user_data = if gone {
                    Observed::Absent
                } else {
                    let out = ec2
                        .describe_instance_attribute()
                        .instance_id(&body.instance_id)
                        .attribute(InstanceAttributeName::UserData)
                        .send()
                        .await;
                    log.observe("ec2:DescribeInstanceAttribute", &arn, out, &[])
                        .map(|o| {
                            secrets::scan_base64(
                                o.user_data().and_then(|v| v.value()).unwrap_or(""),
                            )
                        })
                };
                (arn, instance_tags, Instance { user_data, ..body }, log)
            })
            .buffer_unordered(USER_DATA_CONCURRENCY);
        while let Some((arn, instance_tags, body, log)) = reads.next().await {
            sink.absorb(log);
            sink.emit(arn, instance_tags, ResourceBody::Instance(body))
                .await?;
        }
    }
    Ok(sink)
}

/// User-data reads in flight at once per region (each waits for the EC2 budget as well).
const USER_DATA_CONCURRENCY: usize = 8;

/// Reads `EbsInfo.EbsOptimizedSupport` of `types` (100 per call) into `support`; a failed
/// call makes those types `Unavailable` (one gap), a type AWS does not describe `Absent`.
async fn instance_type_support(
    ec2: &aws_sdk_ec2::Client,
    sink: &mut Sink<'_>,
    types: BTreeSet<String>,
    support: &mut BTreeMap<String, Observed<String>>,
) {
    let types: Vec<String> = types.into_iter().collect();
    for batch in types.chunks(100) {
        let request = batch.iter().fold(ec2.describe_instance_types(), |r, t| {
            r.instance_types(aws_sdk_ec2::types::InstanceType::from(t.as_str()))
        });
        let mut answered = BTreeMap::new();
        let mut failed = None;
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    for t in page.instance_types() {
                        if let Some(name) = t.instance_type() {
                            let value = t
                                .ebs_info()
                                .and_then(|e| e.ebs_optimized_support())
                                .map(|s| s.as_str().to_owned());
                            answered.insert(name.as_str().to_owned(), value);
                        }
                    }
                }
                Err(e) => {
                    let err = crate::classify::classify(&e);
                    let mut log = GapLog::default();
                    log.gap("ec2:DescribeInstanceTypes", &err, None);
                    sink.absorb(log);
                    failed = Some(err.unavailable("ec2:DescribeInstanceTypes"));
                    break;
                }
            }
        }
        for t in batch {
            let value = match (&failed, answered.remove(t)) {
                (Some(u), _) => Observed::Unavailable(u.clone()),
                (None, Some(Some(v))) => Observed::Collected(v),
                // Answered, without EBS information.
                (None, Some(None)) => Observed::Absent,
                // Asked for and not in the answer: unknown, not "no support".
                (None, None) => Observed::Unavailable(posture_model::Unavailable {
                    kind: posture_model::UnavailableKind::Failed,
                    operation: "ec2:DescribeInstanceTypes".to_owned(),
                    code: None,
                    message: format!("the answer did not include instance type {t}"),
                }),
            };
            support.insert(t.clone(), value);
        }
    }
}

/// Internet gateways, VPC endpoints and Site-to-Site VPN connections.
async fn gateways<'a>(
    ec2: &aws_sdk_ec2::Client,
    mut sink: Sink<'a>,
) -> Result<Sink<'a>, CollectError> {
    let mut pages = ec2.describe_internet_gateways().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeInternetGateways", page) else {
            break;
        };
        for g in page.internet_gateways() {
            let id = g.internet_gateway_id().unwrap_or_default();
            let body = InternetGateway {
                internet_gateway_id: id.to_owned(),
                attachments: g
                    .attachments()
                    .iter()
                    .map(|a| IgwAttachment {
                        vpc_id: a.vpc_id().unwrap_or_default().to_owned(),
                        state: a.state().map(|s| s.as_str().to_owned()),
                    })
                    .collect(),
            };
            sink.emit(
                ec2_arn(&sink, "internet-gateway", id),
                tags(g.tags()),
                ResourceBody::InternetGateway(body),
            )
            .await?;
        }
    }
    let mut pages = ec2.describe_vpc_endpoints().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeVpcEndpoints", page) else {
            break;
        };
        for e in page.vpc_endpoints() {
            let id = e.vpc_endpoint_id().unwrap_or_default();
            let body = VpcEndpoint {
                vpc_endpoint_id: id.to_owned(),
                vpc_id: e.vpc_id().unwrap_or_default().to_owned(),
                service_name: e.service_name().unwrap_or_default().to_owned(),
                endpoint_type: e.vpc_endpoint_type().map(|t| t.as_str().to_owned()),
                state: e.state().map(|s| s.as_str().to_lowercase()),
            };
            sink.emit(
                ec2_arn(&sink, "vpc-endpoint", id),
                tags(e.tags()),
                ResourceBody::VpcEndpoint(body),
            )
            .await?;
        }
    }
    // DescribeVpnConnections has no pagination: one answer holds every connection.
    let out = ec2.describe_vpn_connections().send().await;
    if let Some(out) = sink.list("ec2:DescribeVpnConnections", out) {
        for v in out.vpn_connections() {
            let id = v.vpn_connection_id().unwrap_or_default();
            let body = VpnConnection {
                vpn_connection_id: id.to_owned(),
                state: v.state().map(|s| s.as_str().to_owned()),
                vpn_gateway_id: v.vpn_gateway_id().map(str::to_owned),
                transit_gateway_id: v.transit_gateway_id().map(str::to_owned),
                tunnels: v
                    .vgw_telemetry()
                    .iter()
                    .map(|t| VpnTunnel {
                        outside_ip_address: t.outside_ip_address().map(str::to_owned),
                        status: t.status().map(|s| s.as_str().to_owned()),
                        status_message: t.status_message().map(str::to_owned),
                        last_status_change: time(t.last_status_change()),
                    })
                    .collect(),
            };
            sink.emit(
                ec2_arn(&sink, "vpn-connection", id),
                tags(v.tags()),
                ResourceBody::VpnConnection(body),
            )
            .await?;
        }
    }
    Ok(sink)
}

/// Launch templates (with their default and latest versions: one
/// `DescribeLaunchTemplateVersions` listing for all templates) and the account's own AMIs.
async fn templates_and_images<'a>(
    ec2: &aws_sdk_ec2::Client,
    mut sink: Sink<'a>,
) -> Result<Sink<'a>, CollectError> {
    let mut templates = Vec::new();
    let mut pages = ec2.describe_launch_templates().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeLaunchTemplates", page) else {
            break;
        };
        for t in page.launch_templates() {
            templates.push((
                t.launch_template_id().unwrap_or_default().to_owned(),
                t.launch_template_name().unwrap_or_default().to_owned(),
                t.default_version_number(),
                t.latest_version_number(),
                tags(t.tags()),
            ));
        }
    }
    if !templates.is_empty() {
        // Without a template id, `$Default` and `$Latest` select those versions of every
        // template in the region.
        const OP: &str = "ec2:DescribeLaunchTemplateVersions";
        let mut by_template: BTreeMap<String, Vec<LaunchTemplateVersion>> = BTreeMap::new();
        let mut failed = None;
        let mut pages = ec2
            .describe_launch_template_versions()
            .versions("$Default")
            .versions("$Latest")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    let err = classify(&e);
                    sink.log.gap(OP, &err, None);
                    failed = Some(err.unavailable(OP));
                    break;
                }
            };
            for v in page.launch_template_versions() {
                let data = v.launch_template_data();
                let metadata = data.and_then(|d| d.metadata_options());
                let version = LaunchTemplateVersion {
                    version_number: v.version_number().unwrap_or_default(),
                    is_default: v.default_version().unwrap_or(false),
                    metadata_http_tokens: metadata
                        .and_then(|m| m.http_tokens())
                        .map(|t| t.as_str().to_owned()),
                    metadata_http_endpoint: metadata
                        .and_then(|m| m.http_endpoint())
                        .map(|t| t.as_str().to_owned()),
                    user_data: secrets::scan_base64(
                        data.and_then(|d| d.user_data()).unwrap_or_default(),
                    ),
                };
                let list = by_template
                    .entry(v.launch_template_id().unwrap_or_default().to_owned())
                    .or_default();
                if !list
                    .iter()
                    .any(|known| known.version_number == version.version_number)
                {
                    list.push(version);
                }
            }
        }
        for (id, name, default, latest, tags) in templates {
            let versions = match &failed {
                Some(why) => Observed::Unavailable(why.clone()),
                None => {
                    let mut list = by_template.remove(&id).unwrap_or_default();
                    list.sort_by_key(|v| v.version_number);
                    Observed::Collected(list)
                }
            };
            let body = LaunchTemplate {
                launch_template_id: id.clone(),
                name,
                default_version_number: default,
                latest_version_number: latest,
                versions,
            };
            sink.emit(
                ec2_arn(&sink, "launch-template", &id),
                tags,
                ResourceBody::LaunchTemplate(body),
            )
            .await?;
        }
    }
    let mut pages = ec2.describe_images().owners("self").into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("ec2:DescribeImages", page) else {
            break;
        };
        for i in page.images() {
            let id = i.image_id().unwrap_or_default();
            let body = Image {
                image_id: id.to_owned(),
                name: i.name().map(str::to_owned),
                public: i.public(),
                state: i.state().map(|s| s.as_str().to_owned()),
                creation_date: i.creation_date().map(str::to_owned),
            };
            // AMI ARNs carry no account id.
            let arn = Arn::from_parts("ec2", sink.region().as_str(), "", &format!("image/{id}"));
            sink.emit(arn, tags(i.tags()), ResourceBody::Image(body))
                .await?;
        }
    }
    Ok(sink)
}

/// The user-data secret scan. User data is decoded here and never leaves this module: only
/// its size and redacted findings do, because the store is evidence auditors read and must
/// not become a copy of the secrets it reports.
///
/// Patterns, each reported at most once per line (at most [`MAX_FINDINGS`] in all):
/// - `private_key`: a PEM header `-----BEGIN … PRIVATE KEY-----`;
/// - `aws_access_key_id`: `AKIA`/`ASIA`/`ABIA`/`ACCA` followed by 16 upper-case letters or
///   digits, as a whole word;
/// - `github_token`: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` or `github_pat_` followed by
///   at least 20 letters, digits or `_`;
/// - `slack_token`: `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-` or `xoxs-` followed by at least 10
///   characters;
/// - `url_credentials`: a URL with a password in it (`scheme://user:password@host`);
/// - `credential_assignment`: an identifier containing `password`, `passwd`, `pwd`,
///   `secret`, `token`, `api_key`, `apikey`, `api-key`, `access_key`, `private_key` or
///   `credential` (any case), then `=` or `:` and a literal value of at least 4
///   characters — values that are references (`$VAR`, `${…}`, `{{…}}`, `$(…)`, `%…%`,
///   `<…>`, ARNs), numbers or booleans are not reported.
///
/// Excerpts keep the identifier or prefix and replace the secret with
/// `****(N chars)`. Gzip-compressed or non-UTF-8 user data is not scanned
/// (`scanned: false`), and rules report that as unknown.
pub(crate) mod secrets {
    use posture_model::resources::{SecretFinding, UserDataScan};

    /// Findings kept per piece of user data.
    pub(crate) const MAX_FINDINGS: usize = 50;

    const KEYWORDS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "api-key",
        "access_key",
        "private_key",
        "credential",
    ];

    /// Decodes base64 user data (as EC2 returns it) and scans it.
    pub(crate) fn scan_base64(b64: &str) -> UserDataScan {
        let b64 = b64.trim();
        if b64.is_empty() {
            return UserDataScan {
                scanned: true,
                ..UserDataScan::default()
            };
        }
        match aws_smithy_types::base64::decode(b64) {
            Ok(bytes) => scan_bytes(&bytes),
            Err(_) => UserDataScan {
                size_bytes: b64.len() as u64,
                scanned: false,
                unscanned_encoding: Some("invalid-base64".to_owned()),
                findings: Vec::new(),
            },
        }
    }

    /// Scans decoded user data.
    pub(crate) fn scan_bytes(bytes: &[u8]) -> UserDataScan {
        let size_bytes = bytes.len() as u64;
        let unscanned = |encoding: &str| UserDataScan {
            size_bytes,
            scanned: false,
            unscanned_encoding: Some(encoding.to_owned()),
            findings: Vec::new(),
        };
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return unscanned("gzip");
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return unscanned("binary");
        };
        UserDataScan {
            size_bytes,
            scanned: true,
            unscanned_encoding: None,
            findings: scan_text(text),
        }
    }

    /// Scans text line by line.
    pub(crate) fn scan_text(text: &str) -> Vec<SecretFinding> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let mut push = |pattern: &str, excerpt: String| {
                if out.len() < MAX_FINDINGS {
                    out.push(SecretFinding {
                        pattern: pattern.to_owned(),
                        line: line_no,
                        excerpt,
                    });
                }
            };
            if let Some(e) = private_key(line) {
                push("private_key", e);
            }
            if let Some(e) = aws_access_key_id(line) {
                push("aws_access_key_id", e);
            }
            if let Some(e) = prefixed_token(
                line,
                &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
                20,
            ) {
                push("github_token", e);
            }
            if let Some(e) =
                prefixed_token(line, &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"], 10)
            {
                push("slack_token", e);
            }
            if let Some(e) = url_credentials(line) {
                push("url_credentials", e);
            }
            if let Some(e) = credential_assignment(line) {
                push("credential_assignment", e);
            }
        }
        out
    }

    fn mask(secret: &str) -> String {
        format!("****({} chars)", secret.chars().count())
    }

    fn is_word(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }

    fn private_key(line: &str) -> Option<String> {
        let start = line.find("-----BEGIN ")?;
        let rest = &line[start..];
        let end = rest.find("PRIVATE KEY-----")? + "PRIVATE KEY-----".len();
        Some(rest[..end].to_owned())
    }

    fn aws_access_key_id(line: &str) -> Option<String> {
        let bytes = line.as_bytes();
        for prefix in ["AKIA", "ASIA", "ABIA", "ACCA"] {
            let mut from = 0;
            while let Some(pos) = line[from..].find(prefix) {
                let start = from + pos;
                from = start + 1;
                let end = start + 20;
                if end > bytes.len() {
                    continue;
                }
                let body = &bytes[start + 4..end];
                let before_ok = start == 0 || !is_word(char::from(bytes[start - 1]));
                let after_ok = end == bytes.len() || !is_word(char::from(bytes[end]));
                if before_ok
                    && after_ok
                    && body
                        .iter()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                {
                    return Some(format!("{prefix}{}", mask(&line[start + 4..end])));
                }
            }
        }
        None
    }

    fn prefixed_token(line: &str, prefixes: &[&str], min_len: usize) -> Option<String> {
        for prefix in prefixes {
            let mut from = 0;
            while let Some(pos) = line[from..].find(prefix) {
                let start = from + pos;
                from = start + 1;
                let before_ok = line[..start]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !is_word(c));
                let rest = &line[start + prefix.len()..];
                let len = rest
                    .find(|c: char| !(is_word(c) || c == '-'))
                    .unwrap_or(rest.len());
                if before_ok && len >= min_len {
                    return Some(format!("{prefix}{}", mask(&rest[..len])));
                }
            }
        }
        None
    }

    fn url_credentials(line: &str) -> Option<String> {
        let mut from = 0;
        while let Some(pos) = line[from..].find("://") {
            let sep = from + pos;
            from = sep + 3;
            let scheme_start = line[..sep]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                .map_or(0, |i| i + 1);
            let scheme = &line[scheme_start..sep];
            let rest = &line[sep + 3..];
            let authority_end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '`'))
                .unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            let Some(at) = authority.rfind('@') else {
                continue;
            };
            let userinfo = &authority[..at];
            let Some(colon) = userinfo.find(':') else {
                continue;
            };
            let password = &userinfo[colon + 1..];
            if password.is_empty() || is_reference(password) {
                continue;
            }
            return Some(format!(
                "{scheme}://{}:{}@{}",
                &userinfo[..colon],
                mask(password),
                &authority[at + 1..]
            ));
        }
        None
    }

    fn is_reference(value: &str) -> bool {
        value.starts_with('$')
            || value.starts_with("{{")
            || value.starts_with('%')
            || value.starts_with('<')
            || value.starts_with("arn:")
    }

    fn credential_assignment(line: &str) -> Option<String> {
        let lower = line.to_ascii_lowercase();
        for keyword in KEYWORDS {
            let mut from = 0;
            while let Some(pos) = lower[from..].find(keyword) {
                let at = from + pos;
                from = at + 1;
                let ident_char = |c: char| is_word(c) || c == '-' || c == '.';
                let start = line[..at]
                    .rfind(|c: char| !ident_char(c))
                    .map_or(0, |i| i + 1);
                let end = line[at..]
                    .find(|c: char| !ident_char(c))
                    .map_or(line.len(), |i| at + i);
                // An identifier inside a value (`arn:aws:secretsmanager:…`, a URL path)
                // is not the name of an assignment.
                if line[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| matches!(c, ':' | '=' | '/' | '@'))
                {
                    continue;
                }
                let ident = &line[start..end];
                let mut rest = line[end..].trim_start_matches(['"', '\'']).trim_start();
                let sep = if let Some(r) = rest.strip_prefix(":=") {
                    rest = r;
                    ":="
                } else if let Some(r) = rest.strip_prefix('=') {
                    rest = r;
                    "="
                } else if let Some(r) = rest.strip_prefix(':') {
                    rest = r;
                    ":"
                } else {
                    continue;
                };
                let rest = rest.trim_start().trim_start_matches(['"', '\'']);
                let value_end = rest
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | ','))
                    .unwrap_or(rest.len());
                let value = &rest[..value_end];
                if value.chars().count() < 4
                    || is_reference(value)
                    || value.starts_with('(')
                    || value.starts_with("//")
                    || value.chars().all(|c| c.is_ascii_digit())
                    || matches!(
                        value.to_ascii_lowercase().as_str(),
                        "true" | "false" | "null" | "none" | "yes" | "no"
                    )
                {
                    continue;
                }
                return Some(format!("{ident}{sep}{}", mask(value)));
            }
        }
        None
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn patterns(text: &str) -> Vec<(String, u32)> {
            scan_text(text)
                .into_iter()
                .map(|f| (f.pattern, f.line))
                .collect()
        }

        #[test]
        fn finds_each_pattern_and_never_copies_the_secret() {
            let text = "#!/bin/bash\n\
                export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n\
                export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
                -----BEGIN RSA PRIVATE KEY-----\n\
                psql postgres://admin:s3cr3tpass@db.internal:5432/phi\n\
                GH=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n\
                SLACK=xoxb-123456789012-abcdefghij\n";
            let found = scan_text(text);
            let got: Vec<(&str, u32)> =
                found.iter().map(|f| (f.pattern.as_str(), f.line)).collect();
            assert!(got.contains(&("aws_access_key_id", 2)), "{got:?}");
            assert!(got.contains(&("credential_assignment", 3)), "{got:?}");
            assert!(got.contains(&("private_key", 4)), "{got:?}");
            assert!(got.contains(&("url_credentials", 5)), "{got:?}");
            assert!(got.contains(&("github_token", 6)), "{got:?}");
            assert!(got.contains(&("slack_token", 7)), "{got:?}");
            for f in &found {
                for secret in [
                    "IOSFODNN7EXAMPLE",
                    "wJalrXUtnFEMI",
                    "s3cr3tpass",
                    "abcdefghijklmnop",
                    "123456789012-abc",
                ] {
                    assert!(!f.excerpt.contains(secret), "{f:?} leaks {secret}");
                }
            }
            let url = found
                .iter()
                .find(|f| f.pattern == "url_credentials")
                .expect("url finding");
            assert_eq!(
                url.excerpt,
                "postgres://admin:****(10 chars)@db.internal:5432"
            );
        }

        #[test]
        fn ignores_references_numbers_and_plain_text() {
            let text = "DB_PASSWORD=$(aws secretsmanager get-secret-value --secret-id x)\n\
                password: ${DB_PASSWORD}\n\
                token_ttl=3600\n\
                secret_arn=arn:aws:secretsmanager:us-east-1:1:secret:x\n\
                PasswordAuthentication no\n\
                echo hello https://example.com/path\n";
            assert_eq!(patterns(text), vec![]);
        }

        #[test]
        fn assignment_excerpt_masks_value() {
            let found = scan_text("  db_password = \"hunter2hunter2\"");
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].excerpt, "db_password=****(14 chars)");
        }

        #[test]
        fn base64_gzip_and_empty() {
            let empty = scan_base64("");
            assert!(empty.scanned && empty.size_bytes == 0);
            let gz = scan_bytes(&[0x1f, 0x8b, 8, 0]);
            assert!(!gz.scanned);
            assert_eq!(gz.unscanned_encoding.as_deref(), Some("gzip"));
            // "password=hunter2hunter2\n"
            let scan = scan_base64("cGFzc3dvcmQ9aHVudGVyMmh1bnRlcjIK");
            assert!(scan.scanned);
            assert_eq!(scan.size_bytes, 24);
            assert_eq!(scan.findings.len(), 1);
            assert_eq!(scan.findings[0].excerpt, "password=****(14 chars)");
        }
    }
}
