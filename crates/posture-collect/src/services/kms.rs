//! KMS keys in one region. Rotation status is read only for keys that support automatic
//! rotation, and policy and tags only for customer-managed keys: the rules ask nothing else.

use std::collections::BTreeMap;

use futures::StreamExt;
use posture_model::resources::{KmsKey, KmsKeyMetadata};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags, Unavailable, UnavailableKind};

use super::{Ctx, GapLog, Sink, malformed, parse_policy, time};
use crate::CollectError;

const KEY_CONCURRENCY: usize = 8;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "kms");
    let kms = ctx.clients.kms(region.as_str());

    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pages = kms.list_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("kms:ListAliases", page) else {
            break;
        };
        for a in page.aliases() {
            if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                aliases
                    .entry(target.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
    }

    let mut keys = Vec::new();
    let mut pages = kms.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("kms:ListKeys", page) else {
            break;
        };
        for k in page.keys() {
            if let Some(id) = k.key_id() {
                let arn = k
                    .key_arn()
                    .and_then(|a| Arn::new(a).ok())
                    .unwrap_or_else(|| {
                        Arn::from_parts(
                            "kms",
                            region.as_str(),
                            ctx.account.as_str(),
                            &format!("key/{id}"),
                        )
                    });
                keys.push((id.to_owned(), arn));
            }
        }
    }

    let mut reads = futures::stream::iter(keys)
        .map(|(id, arn)| {
            let kms = &kms;
            let key_aliases = aliases.get(&id).cloned().unwrap_or_default();
            async move { read_key(kms, id, arn, key_aliases).await }
        })
        .buffer_unordered(KEY_CONCURRENCY);
    while let Some((arn, tags, key, log)) = reads.next().await {
        sink.absorb(log);
        sink.emit(arn, tags, ResourceBody::KmsKey(key)).await?;
    }
    drop(reads);
    sink.finish().await
}

fn skipped(operation: &str, why: &str) -> Unavailable {
    Unavailable {
        kind: UnavailableKind::NotCollected,
        operation: operation.to_owned(),
        code: None,
        message: why.to_owned(),
    }
}

async fn read_key(
    kms: &aws_sdk_kms::Client,
    key_id: String,
    arn: Arn,
    aliases: Vec<String>,
) -> (Arn, Observed<Tags>, KmsKey, GapLog) {
    let mut log = GapLog::default();
    let metadata = match log.observe(
        "kms:DescribeKey",
        &arn,
        kms.describe_key().key_id(&key_id).send().await,
        &[],
    ) {
        Observed::Collected(out) => match out.key_metadata() {
            Some(m) => Observed::Collected(KmsKeyMetadata {
                key_manager: m
                    .key_manager()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
                key_state: m
                    .key_state()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
                key_spec: m.key_spec().map(|k| k.as_str().to_owned()),
                key_usage: m.key_usage().map(|k| k.as_str().to_owned()),
                origin: m.origin().map(|k| k.as_str().to_owned()),
                deletion_date: time(m.deletion_date()),
                description: m.description().map(str::to_owned),
                creation_date: time(m.creation_date()),
            }),
            None => Observed::Unavailable(malformed(
                "kms:DescribeKey",
                "no key metadata in the answer".to_owned(),
            )),
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    let (rotation_enabled, policy, tags) = match &metadata {
        Observed::Collected(m) if m.is_customer_managed() => {
            let rotation = if m.supports_automatic_rotation() && m.key_state != "PendingDeletion" {
                log.observe(
                    "kms:GetKeyRotationStatus",
                    &arn,
                    kms.get_key_rotation_status().key_id(&key_id).send().await,
                    &[],
                )
                .map(|o| o.key_rotation_enabled())
            } else {
                Observed::Absent
            };
            let policy = match log.observe(
                "kms:GetKeyPolicy",
                &arn,
                kms.get_key_policy()
                    .key_id(&key_id)
                    .policy_name("default")
                    .send()
                    .await,
                &[],
            ) {
                Observed::Collected(o) => match o.policy().map(parse_policy) {
                    Some(Ok(v)) => Observed::Collected(v),
                    Some(Err(e)) => Observed::Unavailable(malformed("kms:GetKeyPolicy", e)),
                    None => Observed::Absent,
                },
                Observed::Absent => Observed::Absent,
                Observed::Unavailable(u) => Observed::Unavailable(u),
            };
            let tags = log
                .observe(
                    "kms:ListResourceTags",
                    &arn,
                    kms.list_resource_tags().key_id(&key_id).send().await,
                    &[],
                )
                .map(|o| {
                    o.tags()
                        .iter()
                        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
                        .collect()
                });
            (rotation, policy, tags)
        }
        Observed::Collected(_) => {
            let why = "AWS-managed key: its rotation and policy are AWS's";
            (
                Observed::Unavailable(skipped("kms:GetKeyRotationStatus", why)),
                Observed::Unavailable(skipped("kms:GetKeyPolicy", why)),
                Observed::Collected(Tags::new()),
            )
        }
        Observed::Absent | Observed::Unavailable(_) => {
            let why = "DescribeKey failed, so the key's type is unknown";
            (
                Observed::Unavailable(skipped("kms:GetKeyRotationStatus", why)),
                Observed::Unavailable(skipped("kms:GetKeyPolicy", why)),
                Observed::Unavailable(skipped("kms:ListResourceTags", why)),
            )
        }
    };
    (
        arn,
        tags,
        KmsKey {
            key_id,
            metadata,
            rotation_enabled,
            policy,
            aliases,
        },
        log,
    )
}
