//! S3: buckets (listed once per account, each read in its own region) and the account-level
//! Block Public Access setting.

use futures::StreamExt;
use posture_model::resources::{
    AclGrant, BucketAcl, BucketEncryption, BucketLogging, BucketNotifications, BucketReplication,
    BucketVersioning, EncryptionRule, LifecycleRule, ObjectLock, PublicAccessBlock,
    ReplicationRule, S3AccessPoint, S3AccountPublicAccessBlock, S3Bucket,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Tags};

use super::{Ctx, GapLog, Sink, malformed, parse_policy, time};
use crate::CollectError;
use crate::classify::CallError;

/// Buckets read at the same time within one account.
const BUCKET_CONCURRENCY: usize = 16;

pub(crate) async fn collect(ctx: &Ctx<'_>) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, Region::global(), "s3");
    account_public_access_block(ctx, &mut sink).await?;
    access_points(ctx, &mut sink).await?;

    let client = ctx.clients.s3(&ctx.clients.home_region());
    let mut listed = Vec::new();
    let mut pages = client
        .list_buckets()
        .max_buckets(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("s3:ListBuckets", page) else {
            break;
        };
        for b in page.buckets() {
            if let Some(name) = b.name() {
                listed.push((
                    name.to_owned(),
                    b.bucket_region().map(str::to_owned),
                    time(b.creation_date()),
                ));
            }
        }
    }

    let results: Vec<_> = futures::stream::iter(listed)
        .map(|(name, region, created)| read_bucket(ctx, name, region, created))
        .buffer_unordered(BUCKET_CONCURRENCY)
        .collect()
        .await;
    let mut unread = Vec::new();
    let mut results: Vec<_> = results
        .into_iter()
        .filter_map(|r| r.map_err(|log| unread.push(log)).ok())
        .collect();
    // Buckets that were listed but not read (outside the scanned regions): their gaps
    // name them, so the report says what was left out.
    for log in unread {
        sink.absorb(log);
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (arn, region, tags, body, log) in results {
        // The bucket's gaps stay with this (account, global, s3) collection, whose
        // completeness they decide; each names its bucket.
        sink.absorb(log);
        sink.emit_in(arn, region, tags, ResourceBody::S3Bucket(body))
            .await?;
    }
    sink.finish().await
}

async fn account_public_access_block(
    ctx: &Ctx<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), CollectError> {
    let arn = Arn::from_parts(
        "s3",
        "",
        ctx.account.as_str(),
        "account-public-access-block",
    );
    let result = ctx
        .clients
        .s3control()
        .get_public_access_block()
        .account_id(ctx.account.as_str())
        .send()
        .await;
    let config = sink
        .observe(
            "s3control:GetPublicAccessBlock",
            &arn,
            result,
            &["NoSuchPublicAccessBlockConfiguration"],
        )
        .map(|out| {
            out.public_access_block_configuration()
                .map(pab_from_s3control)
                .unwrap_or(ALL_OFF)
        });
    sink.emit(
        arn,
        Observed::Absent,
        ResourceBody::S3AccountPublicAccessBlock(S3AccountPublicAccessBlock { config }),
    )
    .await
}

/// The access points of every scanned region (S3 Control is regional: one
/// `ListAccessPoints` per region, each answer kept only for access points of that region),
/// each with its Block Public Access flags (`GetAccessPoint`). The S3 collection is
/// account-wide (region `global`), so each region's failed `ListAccessPoints` is a gap there
/// whose message names the region (any one turns the rule into `Error` for the account).
async fn access_points(ctx: &Ctx<'_>, sink: &mut Sink<'_>) -> Result<(), CollectError> {
    let client = ctx.clients.s3control();
    for region in ctx.regions {
        let in_region = || {
            aws_sdk_s3control::config::Builder::default().region(
                aws_sdk_s3control::config::Region::new(region.as_str().to_owned()),
            )
        };
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_access_points()
                .account_id(ctx.account.as_str())
                .set_next_token(token.take())
                .customize()
                .config_override(in_region())
                .send()
                .await;
            let page = match out {
                Ok(page) => page,
                Err(e) => {
                    let mut err = crate::classify::classify(&e);
                    err.message = format!("in {region}: {}", err.message);
                    let mut log = GapLog::default();
                    log.gap("s3control:ListAccessPoints", &err, None);
                    sink.absorb(log);
                    break;
                }
            };
            for ap in page.access_point_list() {
                let Some(arn) = ap.access_point_arn().and_then(|a| Arn::new(a).ok()) else {
                    continue;
                };
                // Emulators may list every region's access points from each region.
                if arn.as_str().split(':').nth(3) != Some(region.as_str()) {
                    continue;
                }
                let name = ap.name().to_owned();
                let public_access_block = match sink.observe(
                    "s3control:GetAccessPoint",
                    &arn,
                    client
                        .get_access_point()
                        .account_id(ctx.account.as_str())
                        .name(&name)
                        .customize()
                        .config_override(in_region())
                        .send()
                        .await,
                    &[],
                ) {
                    // No configuration in the answer is "not configured", not "all off".
                    Observed::Collected(o) => match o.public_access_block_configuration() {
                        Some(c) => Observed::Collected(pab_from_s3control(c)),
                        None => Observed::Absent,
                    },
                    Observed::Absent => Observed::Absent,
                    Observed::Unavailable(u) => Observed::Unavailable(u),
                };
                let body = S3AccessPoint {
                    name,
                    bucket: ap.bucket().to_owned(),
                    network_origin: Some(ap.network_origin().as_str().to_owned()),
                    public_access_block,
                };
                // Access point tags need one more call each; they are not read.
                sink.emit_in(
                    arn,
                    region.clone(),
                    Observed::Absent,
                    ResourceBody::S3AccessPoint(body),
                )
                .await?;
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    Ok(())
}

const ALL_OFF: PublicAccessBlock = PublicAccessBlock {
    block_public_acls: false,
    ignore_public_acls: false,
    block_public_policy: false,
    restrict_public_buckets: false,
};

fn pab_from_s3control(
    c: &aws_sdk_s3control::types::PublicAccessBlockConfiguration,
) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: c.block_public_acls().unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
        block_public_policy: c.block_public_policy().unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
    }
}

type BucketRead = (Arn, Region, Observed<Tags>, S3Bucket, GapLog);

/// The operation a gap names for a bucket listed but not read because its region is not
/// scanned (no call failed: the scan chose not to make it).
pub(crate) const BUCKET_REGION_NOT_SCANNED: &str = "s3:GetBucket* (region not scanned)";

/// Reads one bucket's settings; `Err` with a gap naming it when the bucket is outside the
/// scanned regions (or its region is not a region name), instead of dropping it silently
/// (issue 11).
async fn read_bucket(
    ctx: &Ctx<'_>,
    name: String,
    listed_region: Option<String>,
    creation_date: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<BucketRead, GapLog> {
    let mut log = GapLog::default();
    let arn = Arn::from_parts("s3", "", "", &name);
    let home = ctx.clients.home_region();
    // ListBuckets returns BucketRegion on current AWS; emulators may not, so ask.
    let region_name = match listed_region {
        Some(r) => r,
        None => {
            let out = ctx
                .clients
                .s3(&home)
                .get_bucket_location()
                .bucket(&name)
                .send()
                .await;
            match log.list("s3:GetBucketLocation", out) {
                Some(out) => match out.location_constraint().map(|c| c.as_str().to_owned()) {
                    None => "us-east-1".to_owned(),
                    Some(c) if c.is_empty() => "us-east-1".to_owned(),
                    Some(c) if c == "EU" => "eu-west-1".to_owned(),
                    Some(c) => c,
                },
                // Without a region we cannot scope the bucket: keep it, in the home region,
                // so its settings are still read and the gap is on record.
                None => home.clone(),
            }
        }
    };
    let Some(region) = Region::new(region_name.clone())
        .ok()
        .filter(|r| ctx.regions.contains(r))
    else {
        log.gap(
            BUCKET_REGION_NOT_SCANNED,
            &region_not_scanned(&name, &region_name, ctx.regions),
            Some(&arn),
        );
        return Err(log);
    };
    let s3 = ctx.clients.s3(&region_name);
    let b = name.as_str();

    // Every setting is read at once: one round trip of latency per bucket, not twelve.
    let (enc_r, pab_r, pol_r, acl_r, ver_r, lock_r, log_r, rep_r, tag_r, own_r, life_r, notif_r) = futures::join!(
        s3.get_bucket_encryption().bucket(b).send(),
        s3.get_public_access_block().bucket(b).send(),
        s3.get_bucket_policy().bucket(b).send(),
        s3.get_bucket_acl().bucket(b).send(),
        s3.get_bucket_versioning().bucket(b).send(),
        s3.get_object_lock_configuration().bucket(b).send(),
        s3.get_bucket_logging().bucket(b).send(),
        s3.get_bucket_replication().bucket(b).send(),
        s3.get_bucket_tagging().bucket(b).send(),
        s3.get_bucket_ownership_controls().bucket(b).send(),
        s3.get_bucket_lifecycle_configuration().bucket(b).send(),
        s3.get_bucket_notification_configuration().bucket(b).send(),
    );
    let encryption = log
        .observe(
            "s3:GetBucketEncryption",
            &arn,
            enc_r,
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )
        .map(|o| BucketEncryption {
            rules: o
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .map(|r| EncryptionRule {
                    sse_algorithm: r
                        .apply_server_side_encryption_by_default()
                        .map(|d| d.sse_algorithm().as_str().to_owned())
                        .unwrap_or_default(),
                    kms_master_key_id: r
                        .apply_server_side_encryption_by_default()
                        .and_then(|d| d.kms_master_key_id())
                        .map(str::to_owned),
                    bucket_key_enabled: r.bucket_key_enabled(),
                })
                .collect(),
        });
    let public_access_block = log
        .observe(
            "s3:GetPublicAccessBlock",
            &arn,
            pab_r,
            &["NoSuchPublicAccessBlockConfiguration"],
        )
        .map(|o| {
            o.public_access_block_configuration()
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls().unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                    block_public_policy: c.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                })
                .unwrap_or(ALL_OFF)
        });
    let policy = match log.observe("s3:GetBucketPolicy", &arn, pol_r, &["NoSuchBucketPolicy"]) {
        Observed::Collected(o) => match o.policy() {
            Some(text) => match parse_policy(text) {
                Ok(v) => Observed::Collected(v),
                Err(e) => Observed::Unavailable(malformed("s3:GetBucketPolicy", e)),
            },
            None => Observed::Absent,
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    let acl = log
        .observe("s3:GetBucketAcl", &arn, acl_r, &[])
        .map(|o| BucketAcl {
            owner_id: o.owner().and_then(|w| w.id()).map(str::to_owned),
            grants: o
                .grants()
                .iter()
                .map(|g| AclGrant {
                    grantee_type: g
                        .grantee()
                        .map(|e| e.r#type().as_str().to_owned())
                        .unwrap_or_default(),
                    grantee_uri: g.grantee().and_then(|e| e.uri()).map(str::to_owned),
                    grantee_id: g.grantee().and_then(|e| e.id()).map(str::to_owned),
                    permission: g
                        .permission()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                })
                .collect(),
        });
    let versioning = log
        .observe("s3:GetBucketVersioning", &arn, ver_r, &[])
        .map(|o| BucketVersioning {
            status: o.status().map(|s| s.as_str().to_owned()),
            mfa_delete: o.mfa_delete().map(|s| s.as_str().to_owned()),
        });
    let object_lock = log
        .observe(
            "s3:GetObjectLockConfiguration",
            &arn,
            lock_r,
            &["ObjectLockConfigurationNotFoundError"],
        )
        .map(|o| {
            let c = o.object_lock_configuration();
            let retention = c.and_then(|c| c.rule()).and_then(|r| r.default_retention());
            ObjectLock {
                enabled: c
                    .and_then(|c| c.object_lock_enabled())
                    .is_some_and(|e| e.as_str() == "Enabled"),
                default_mode: retention
                    .and_then(|r| r.mode())
                    .map(|m| m.as_str().to_owned()),
                default_days: retention.and_then(|r| r.days()),
                default_years: retention.and_then(|r| r.years()),
            }
        });
    let logging = match log.observe("s3:GetBucketLogging", &arn, log_r, &[]) {
        Observed::Collected(o) => match o.logging_enabled() {
            Some(l) => Observed::Collected(BucketLogging {
                target_bucket: l.target_bucket().to_owned(),
                target_prefix: l.target_prefix().to_owned(),
            }),
            None => Observed::Absent,
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    let replication = log
        .observe(
            "s3:GetBucketReplication",
            &arn,
            rep_r,
            &["ReplicationConfigurationNotFoundError"],
        )
        .map(|o| {
            let c = o.replication_configuration();
            BucketReplication {
                role: c.map(|c| c.role().to_owned()).unwrap_or_default(),
                rules: c
                    .map(|c| c.rules())
                    .unwrap_or_default()
                    .iter()
                    .map(|r| ReplicationRule {
                        id: r.id().map(str::to_owned),
                        status: r.status().as_str().to_owned(),
                        destination_bucket: r
                            .destination()
                            .map(|d| d.bucket().to_owned())
                            .unwrap_or_default(),
                    })
                    .collect(),
            }
        });
    let tags = match log.observe("s3:GetBucketTagging", &arn, tag_r, &["NoSuchTagSet"]) {
        Observed::Collected(o) => Observed::Collected(
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        ),
        Observed::Absent => Observed::Collected(Tags::new()),
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };

    let object_ownership = match log.observe(
        "s3:GetBucketOwnershipControls",
        &arn,
        own_r,
        &["OwnershipControlsNotFoundError"],
    ) {
        Observed::Collected(o) => match o
            .ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_owned())
        {
            Some(ownership) => Observed::Collected(ownership),
            None => Observed::Absent,
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };
    let lifecycle = log
        .observe(
            "s3:GetBucketLifecycleConfiguration",
            &arn,
            life_r,
            &["NoSuchLifecycleConfiguration"],
        )
        .map(|o| {
            o.rules()
                .iter()
                .map(|r| LifecycleRule {
                    filter: lifecycle_filter(r),
                    id: r.id().map(str::to_owned),
                    status: r.status().as_str().to_owned(),
                    noncurrent_expiration_days: r
                        .noncurrent_version_expiration()
                        .and_then(|e| e.noncurrent_days()),
                    noncurrent_transitions: r
                        .noncurrent_version_transitions()
                        .iter()
                        .map(|t| {
                            (
                                t.noncurrent_days(),
                                t.storage_class()
                                    .map(|c| c.as_str().to_owned())
                                    .unwrap_or_default(),
                            )
                        })
                        .collect(),
                })
                .collect()
        });
    let notifications = log
        .observe("s3:GetBucketNotificationConfiguration", &arn, notif_r, &[])
        .map(|o| BucketNotifications {
            topics: o
                .topic_configurations()
                .iter()
                .map(|c| c.topic_arn().to_owned())
                .collect(),
            queues: o
                .queue_configurations()
                .iter()
                .map(|c| c.queue_arn().to_owned())
                .collect(),
            lambda_functions: o
                .lambda_function_configurations()
                .iter()
                .map(|c| c.lambda_function_arn().to_owned())
                .collect(),
            event_bridge: o.event_bridge_configuration().is_some(),
        });

    let bucket = S3Bucket {
        name,
        creation_date,
        encryption,
        public_access_block,
        policy,
        acl,
        versioning,
        object_lock,
        logging,
        replication,
        object_ownership,
        lifecycle,
        notifications,
    };
    Ok((arn, region, tags, bucket, log))
}

/// What a lifecycle rule applies to, described; `None` for the whole bucket (no filter, or
/// an empty prefix).
/// Why a listed bucket was not read: its region is not among the scanned ones.
fn region_not_scanned(name: &str, region: &str, scanned: &[Region]) -> CallError {
    let scanned: Vec<&str> = scanned.iter().map(Region::as_str).collect();
    CallError {
        code: None,
        message: format!(
            "bucket {name} is in {region}, outside the scanned regions ({}): its settings \
             were not read; scan {region} too to evaluate it",
            scanned.join(", ")
        ),
        kind: posture_model::UnavailableKind::NotCollected,
    }
}

fn lifecycle_filter(rule: &aws_sdk_s3::types::LifecycleRule) -> Option<String> {
    let mut parts = Vec::new();
    #[allow(
        deprecated,
        reason = "rules written before Filter existed carry a bare Prefix"
    )]
    if let Some(p) = rule.prefix().filter(|p| !p.is_empty()) {
        parts.push(format!("prefix {p}"));
    }
    if let Some(f) = rule.filter() {
        let and = f.and();
        if let Some(p) = f
            .prefix()
            .or_else(|| and.and_then(|a| a.prefix()))
            .filter(|p| !p.is_empty())
        {
            parts.push(format!("prefix {p}"));
        }
        let tags = f
            .tag()
            .into_iter()
            .chain(and.map(|a| a.tags()).unwrap_or_default());
        for t in tags {
            parts.push(format!("tag {}={}", t.key(), t.value()));
        }
        if let Some(n) = f
            .object_size_greater_than()
            .or_else(|| and.and_then(|a| a.object_size_greater_than()))
        {
            parts.push(format!("size > {n}"));
        }
        if let Some(n) = f
            .object_size_less_than()
            .or_else(|| and.and_then(|a| a.object_size_less_than()))
        {
            parts.push(format!("size < {n}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

#[cfg(test)]
mod lifecycle_filter_tests {
    use aws_sdk_s3::types::{
        ExpirationStatus, LifecycleRule, LifecycleRuleAndOperator, LifecycleRuleFilter, Tag,
    };

    use super::lifecycle_filter;

    fn rule(filter: Option<LifecycleRuleFilter>) -> LifecycleRule {
        LifecycleRule::builder()
            .status(ExpirationStatus::Enabled)
            .set_filter(filter)
            .build()
            .expect("a valid rule")
    }

    #[test]
    fn whole_bucket_rules_have_no_filter() {
        assert_eq!(lifecycle_filter(&rule(None)), None);
        let empty = LifecycleRuleFilter::builder().prefix("").build();
        assert_eq!(lifecycle_filter(&rule(Some(empty))), None);
    }

    #[test]
    fn filters_are_described() {
        let prefix = LifecycleRuleFilter::builder().prefix("logs/").build();
        assert_eq!(
            lifecycle_filter(&rule(Some(prefix))).as_deref(),
            Some("prefix logs/")
        );
        let and = LifecycleRuleFilter::builder()
            .and(
                LifecycleRuleAndOperator::builder()
                    .prefix("exports/")
                    .tags(Tag::builder().key("env").value("dev").build().expect("tag"))
                    .object_size_greater_than(1024)
                    .build(),
            )
            .build();
        assert_eq!(
            lifecycle_filter(&rule(Some(and))).as_deref(),
            Some("prefix exports/ and tag env=dev and size > 1024")
        );
    }
}
