//! RDS: DB instances, clusters, instance and cluster snapshots, and the parameter groups
//! that instances use (only those: a parameter listing is several pages per group).

use std::collections::{BTreeMap, BTreeSet};

use posture_model::resources::{
    RDS_TRACKED_PARAMETERS, RdsCaCertificate, RdsCluster, RdsEventSubscription, RdsInstance,
    RdsParameterGroup, RdsSnapshot, RdsSnapshotOf,
};
use posture_model::{Observed, Region, ResourceBody, Tags};

use super::{Ctx, Sink, arn, malformed, time};
use crate::CollectError;
use crate::classify::classify;

fn tags(list: &[aws_sdk_rds::types::Tag]) -> Observed<Tags> {
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

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "rds");
    let rds = ctx.clients.rds(region.as_str());
    let account = ctx.account.as_str().to_owned();
    let r = region.as_str();

    // Listed once, and only when the region has DB instances.
    let mut certificates = None;
    let mut used_groups = BTreeSet::new();
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("rds:DescribeDBInstances", page) else {
            break;
        };
        if certificates.is_none() && !page.db_instances().is_empty() {
            certificates = Some(list_certificates(&rds, &mut sink).await);
        }
        let certificates = certificates.as_ref().unwrap_or(&Observed::Absent);
        for i in page.db_instances() {
            let id = i.db_instance_identifier().unwrap_or_default().to_owned();
            let groups: Vec<String> = i
                .db_parameter_groups()
                .iter()
                .filter_map(|g| g.db_parameter_group_name().map(str::to_owned))
                .collect();
            used_groups.extend(groups.iter().cloned());
            let body = RdsInstance {
                identifier: id.clone(),
                engine: i.engine().unwrap_or_default().to_owned(),
                engine_version: i.engine_version().map(str::to_owned),
                instance_class: i.db_instance_class().map(str::to_owned),
                cluster_identifier: i.db_cluster_identifier().map(str::to_owned),
                storage_encrypted: i.storage_encrypted().unwrap_or(false),
                kms_key_id: i.kms_key_id().map(str::to_owned),
                publicly_accessible: i.publicly_accessible().unwrap_or(false),
                backup_retention_period: i.backup_retention_period().unwrap_or(0),
                deletion_protection: i.deletion_protection().unwrap_or(false),
                multi_az: i.multi_az().unwrap_or(false),
                auto_minor_version_upgrade: i.auto_minor_version_upgrade().unwrap_or(false),
                iam_database_authentication_enabled: i
                    .iam_database_authentication_enabled()
                    .unwrap_or(false),
                enabled_cloudwatch_logs_exports: i.enabled_cloudwatch_logs_exports().to_vec(),
                parameter_groups: groups,
                db_subnet_group: i
                    .db_subnet_group()
                    .and_then(|g| g.db_subnet_group_name())
                    .map(str::to_owned),
                vpc_id: i
                    .db_subnet_group()
                    .and_then(|g| g.vpc_id())
                    .map(str::to_owned),
                monitoring_interval: i.monitoring_interval(),
                ca_certificate_identifier: i.ca_certificate_identifier().map(str::to_owned),
                created_at: time(i.instance_create_time()),
                subnet_ids: i
                    .db_subnet_group()
                    .map(|g| g.subnets())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| s.subnet_identifier().map(str::to_owned))
                    .collect(),
                server_certificate_valid_till: time(
                    i.certificate_details().and_then(|c| c.valid_till()),
                ),
                ca_certificate: match (certificates, i.ca_certificate_identifier()) {
                    (Observed::Unavailable(why), _) => Observed::Unavailable(why.clone()),
                    (Observed::Collected(all), Some(ca)) => all
                        .get(ca)
                        .cloned()
                        .map_or(Observed::Absent, Observed::Collected),
                    _ => Observed::Absent,
                },
            };
            let arn = arn(i.db_instance_arn(), "rds", r, &account, &format!("db:{id}"));
            sink.emit(arn, tags(i.tag_list()), ResourceBody::RdsInstance(body))
                .await?;
        }
    }

    // The cluster parameter groups the clusters use, read after them (TLS enforcement of
    // Aurora and Multi-AZ DB clusters lives there, not in the members' DB parameter groups).
    let mut used_cluster_groups = BTreeSet::new();
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("rds:DescribeDBClusters", page) else {
            break;
        };
        for c in page.db_clusters() {
            if let Some(group) = c.db_cluster_parameter_group() {
                used_cluster_groups.insert(group.to_owned());
            }
            let id = c.db_cluster_identifier().unwrap_or_default().to_owned();
            let body = RdsCluster {
                identifier: id.clone(),
                engine: c.engine().unwrap_or_default().to_owned(),
                storage_encrypted: c.storage_encrypted().unwrap_or(false),
                kms_key_id: c.kms_key_id().map(str::to_owned),
                deletion_protection: c.deletion_protection().unwrap_or(false),
                backup_retention_period: c.backup_retention_period().unwrap_or(0),
                multi_az: c.multi_az().unwrap_or(false),
                iam_database_authentication_enabled: c
                    .iam_database_authentication_enabled()
                    .unwrap_or(false),
                enabled_cloudwatch_logs_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
                parameter_group: c.db_cluster_parameter_group().map(str::to_owned),
                members: c
                    .db_cluster_members()
                    .iter()
                    .filter_map(|m| m.db_instance_identifier().map(str::to_owned))
                    .collect(),
            };
            let arn = arn(
                c.db_cluster_arn(),
                "rds",
                r,
                &account,
                &format!("cluster:{id}"),
            );
            sink.emit(arn, tags(c.tag_list()), ResourceBody::RdsCluster(body))
                .await?;
        }
    }

    let mut pages = rds.describe_db_snapshots().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("rds:DescribeDBSnapshots", page) else {
            break;
        };
        for s in page.db_snapshots() {
            let id = s.db_snapshot_identifier().unwrap_or_default().to_owned();
            let arn = arn(
                s.db_snapshot_arn(),
                "rds",
                r,
                &account,
                &format!("snapshot:{id}"),
            );
            let restore_accounts = if s.snapshot_type() == Some("automated") {
                // Automated snapshots cannot be shared; AWS rejects the attribute change.
                Observed::Collected(Vec::new())
            } else {
                let out = rds
                    .describe_db_snapshot_attributes()
                    .db_snapshot_identifier(&id)
                    .send()
                    .await;
                sink.observe("rds:DescribeDBSnapshotAttributes", &arn, out, &[])
                    .map(|o| {
                        o.db_snapshot_attributes_result()
                            .map(|r| r.db_snapshot_attributes())
                            .unwrap_or_default()
                            .iter()
                            .filter(|a| a.attribute_name() == Some("restore"))
                            .flat_map(|a| a.attribute_values().iter().cloned())
                            .collect()
                    })
            };
            let body = RdsSnapshot {
                identifier: id,
                of: RdsSnapshotOf::Instance,
                source: s.db_instance_identifier().map(str::to_owned),
                snapshot_type: s.snapshot_type().map(str::to_owned),
                encrypted: s.encrypted().unwrap_or(false),
                restore_accounts,
            };
            sink.emit(arn, tags(s.tag_list()), ResourceBody::RdsSnapshot(body))
                .await?;
        }
    }

    let mut pages = rds.describe_db_cluster_snapshots().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("rds:DescribeDBClusterSnapshots", page) else {
            break;
        };
        for s in page.db_cluster_snapshots() {
            let id = s
                .db_cluster_snapshot_identifier()
                .unwrap_or_default()
                .to_owned();
            let arn = arn(
                s.db_cluster_snapshot_arn(),
                "rds",
                r,
                &account,
                &format!("cluster-snapshot:{id}"),
            );
            let restore_accounts = if s.snapshot_type() == Some("automated") {
                Observed::Collected(Vec::new())
            } else {
                let out = rds
                    .describe_db_cluster_snapshot_attributes()
                    .db_cluster_snapshot_identifier(&id)
                    .send()
                    .await;
                sink.observe("rds:DescribeDBClusterSnapshotAttributes", &arn, out, &[])
                    .map(|o| {
                        o.db_cluster_snapshot_attributes_result()
                            .map(|r| r.db_cluster_snapshot_attributes())
                            .unwrap_or_default()
                            .iter()
                            .filter(|a| a.attribute_name() == Some("restore"))
                            .flat_map(|a| a.attribute_values().iter().cloned())
                            .collect()
                    })
            };
            let body = RdsSnapshot {
                identifier: id,
                of: RdsSnapshotOf::Cluster,
                source: s.db_cluster_identifier().map(str::to_owned),
                snapshot_type: s.snapshot_type().map(str::to_owned),
                encrypted: s.storage_encrypted().unwrap_or(false),
                restore_accounts,
            };
            sink.emit(arn, tags(s.tag_list()), ResourceBody::RdsSnapshot(body))
                .await?;
        }
    }

    let mut pages = rds.describe_event_subscriptions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("rds:DescribeEventSubscriptions", page) else {
            break;
        };
        for e in page.event_subscriptions_list() {
            let name = e.cust_subscription_id().unwrap_or_default().to_owned();
            let body = RdsEventSubscription {
                name: name.clone(),
                enabled: e.enabled().unwrap_or(false),
                status: e.status().map(str::to_owned),
                sns_topic_arn: e.sns_topic_arn().map(str::to_owned),
                source_type: e.source_type().map(str::to_owned),
                source_ids: e.source_ids_list().to_vec(),
                event_categories: e.event_categories_list().to_vec(),
            };
            let arn = arn(
                e.event_subscription_arn(),
                "rds",
                r,
                &account,
                &format!("es:{name}"),
            );
            sink.emit(
                arn,
                Observed::Absent,
                ResourceBody::RdsEventSubscription(body),
            )
            .await?;
        }
    }

    if !used_groups.is_empty() {
        let mut pages = rds.describe_db_parameter_groups().into_paginator().send();
        while let Some(page) = pages.next().await {
            let Some(page) = sink.list("rds:DescribeDBParameterGroups", page) else {
                break;
            };
            for g in page.db_parameter_groups() {
                let Some(name) = g.db_parameter_group_name() else {
                    continue;
                };
                if !used_groups.contains(name) {
                    continue;
                }
                let arn = arn(
                    g.db_parameter_group_arn(),
                    "rds",
                    r,
                    &account,
                    &format!("pg:{name}"),
                );
                let parameters = read_parameters(&rds, name, &arn, &mut sink).await;
                let body = RdsParameterGroup {
                    name: name.to_owned(),
                    family: g.db_parameter_group_family().map(str::to_owned),
                    parameters,
                };
                sink.emit(arn, Observed::Absent, ResourceBody::RdsParameterGroup(body))
                    .await?;
            }
        }
    }
    if !used_cluster_groups.is_empty() {
        let mut pages = rds
            .describe_db_cluster_parameter_groups()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let Some(page) = sink.list("rds:DescribeDBClusterParameterGroups", page) else {
                break;
            };
            for g in page.db_cluster_parameter_groups() {
                let Some(name) = g.db_cluster_parameter_group_name() else {
                    continue;
                };
                if !used_cluster_groups.contains(name) {
                    continue;
                }
                let arn = arn(
                    g.db_cluster_parameter_group_arn(),
                    "rds",
                    r,
                    &account,
                    &format!("cluster-pg:{name}"),
                );
                let parameters = read_cluster_parameters(&rds, name, &arn, &mut sink).await;
                let body = RdsParameterGroup {
                    name: name.to_owned(),
                    family: g.db_parameter_group_family().map(str::to_owned),
                    parameters,
                };
                sink.emit(
                    arn,
                    Observed::Absent,
                    ResourceBody::RdsClusterParameterGroup(body),
                )
                .await?;
            }
        }
    }
    sink.finish().await
}

/// The tracked parameters of a DB cluster parameter group (`DescribeDBClusterParameters`).
async fn read_cluster_parameters(
    rds: &aws_sdk_rds::Client,
    group: &str,
    arn: &posture_model::Arn,
    sink: &mut Sink<'_>,
) -> Observed<BTreeMap<String, Option<String>>> {
    let mut params = BTreeMap::new();
    let mut pages = rds
        .describe_db_cluster_parameters()
        .db_cluster_parameter_group_name(group)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match sink.observe("rds:DescribeDBClusterParameters", arn, page, &[]) {
            Observed::Collected(page) => keep_tracked(page.parameters(), &mut params),
            Observed::Absent => {
                return Observed::Unavailable(malformed(
                    "rds:DescribeDBClusterParameters",
                    "empty answer".into(),
                ));
            }
            Observed::Unavailable(u) => return Observed::Unavailable(u),
        }
    }
    Observed::Collected(params)
}

/// Keeps the parameters rules read ([`RDS_TRACKED_PARAMETERS`]) of one page of a DB or DB
/// cluster parameter group (both answer with the same `Parameter` type).
fn keep_tracked(
    page: &[aws_sdk_rds::types::Parameter],
    params: &mut BTreeMap<String, Option<String>>,
) {
    for p in page {
        if let Some(name) = p
            .parameter_name()
            .filter(|n| RDS_TRACKED_PARAMETERS.contains(n))
        {
            params.insert(name.to_owned(), p.parameter_value().map(str::to_owned));
        }
    }
}

async fn read_parameters(
    rds: &aws_sdk_rds::Client,
    group: &str,
    arn: &posture_model::Arn,
    sink: &mut Sink<'_>,
) -> Observed<BTreeMap<String, Option<String>>> {
    let mut params = BTreeMap::new();
    let mut pages = rds
        .describe_db_parameters()
        .db_parameter_group_name(group)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match sink.observe("rds:DescribeDBParameters", arn, page, &[]) {
            Observed::Collected(page) => keep_tracked(page.parameters(), &mut params),
            Observed::Absent => {
                return Observed::Unavailable(malformed(
                    "rds:DescribeDBParameters",
                    "empty answer".into(),
                ));
            }
            Observed::Unavailable(u) => return Observed::Unavailable(u),
        }
    }
    Observed::Collected(params)
}

/// The region's certificate authorities by identifier (`DescribeCertificates`); a failed
/// listing is a gap, and every instance's CA is then `Unavailable`.
async fn list_certificates(
    rds: &aws_sdk_rds::Client,
    sink: &mut Sink<'_>,
) -> Observed<BTreeMap<String, RdsCaCertificate>> {
    const OP: &str = "rds:DescribeCertificates";
    let mut all = BTreeMap::new();
    let mut pages = rds.describe_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                for c in page.certificates() {
                    let Some(id) = c.certificate_identifier() else {
                        continue;
                    };
                    all.insert(
                        id.to_owned(),
                        RdsCaCertificate {
                            identifier: id.to_owned(),
                            certificate_type: c.certificate_type().map(str::to_owned),
                            valid_from: time(c.valid_from()),
                            valid_till: time(c.valid_till()),
                        },
                    );
                }
            }
            Err(e) => {
                let err = classify(&e);
                sink.log.gap(OP, &err, None);
                return Observed::Unavailable(err.unavailable(OP));
            }
        }
    }
    Observed::Collected(all)
}
