//! EFS file systems in one region: `DescribeFileSystems` (which carries encryption and
//! tags), then per file system its policy and its automatic-backup policy. Mount targets are
//! not read: no rule needs them.

use futures::StreamExt;
use posture_model::resources::EfsFileSystem;
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, arn, malformed, parse_policy, time};
use crate::CollectError;

const FS_CONCURRENCY: usize = 8;

/// `DescribeFileSystemPolicy` / `DescribeBackupPolicy` when none was ever set.
const POLICY_NOT_FOUND: &[&str] = &["PolicyNotFound"];

/// What `DescribeFileSystems` says about one file system.
struct Listed {
    arn: Arn,
    tags: Tags,
    fs: EfsFileSystem,
}

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "efs");
    let efs = ctx.clients.efs(region.as_str());

    let mut listed = Vec::new();
    let mut pages = efs.describe_file_systems().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("elasticfilesystem:DescribeFileSystems", page) else {
            break;
        };
        for f in page.file_systems() {
            let id = f.file_system_id().to_owned();
            listed.push(Listed {
                arn: arn(
                    f.file_system_arn(),
                    "elasticfilesystem",
                    region.as_str(),
                    ctx.account.as_str(),
                    &format!("file-system/{id}"),
                ),
                tags: f
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                fs: EfsFileSystem {
                    file_system_id: id,
                    name: f.name().filter(|n| !n.is_empty()).map(str::to_owned),
                    life_cycle_state: Some(f.life_cycle_state().as_str().to_owned()),
                    encrypted: f.encrypted().unwrap_or(false),
                    kms_key_id: f.kms_key_id().map(str::to_owned),
                    creation_time: time(Some(f.creation_time())),
                    policy: Observed::Absent,
                    backup_policy_status: Observed::Absent,
                },
            });
        }
    }

    let mut reads = futures::stream::iter(listed)
        .map(|l| {
            let efs = &efs;
            async move { read_policies(efs, l).await }
        })
        .buffer_unordered(FS_CONCURRENCY);
    while let Some((l, log)) = reads.next().await {
        sink.absorb(log);
        sink.emit(
            l.arn,
            Observed::Collected(l.tags),
            ResourceBody::EfsFileSystem(l.fs),
        )
        .await?;
    }
    drop(reads);
    sink.finish().await
}

async fn read_policies(efs: &aws_sdk_efs::Client, mut l: Listed) -> (Listed, GapLog) {
    let mut log = GapLog::default();
    let id = l.fs.file_system_id.clone();
    l.fs.policy = match log.observe(
        "elasticfilesystem:DescribeFileSystemPolicy",
        &l.arn,
        efs.describe_file_system_policy()
            .file_system_id(&id)
            .send()
            .await,
        POLICY_NOT_FOUND,
    ) {
        Observed::Collected(o) => match o.policy().map(parse_policy) {
            Some(Ok(v)) => Observed::Collected(v),
            Some(Err(e)) => {
                Observed::Unavailable(malformed("elasticfilesystem:DescribeFileSystemPolicy", e))
            }
            None => Observed::Absent,
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    l.fs.backup_policy_status = match log.observe(
        "elasticfilesystem:DescribeBackupPolicy",
        &l.arn,
        efs.describe_backup_policy()
            .file_system_id(&id)
            .send()
            .await,
        POLICY_NOT_FOUND,
    ) {
        Observed::Collected(o) => match o.backup_policy() {
            Some(p) => Observed::Collected(p.status().as_str().to_owned()),
            None => Observed::Absent,
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    (l, log)
}
