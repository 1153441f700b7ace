//! S3 buckets in both regions, and the account-level Block Public Access setting.
//!
//! moto behaves like S3 before 2023: a new bucket has no default encryption and no Block
//! Public Access, so "plain" buckets really are plain. It does not enforce Block Public
//! Access on ACL or policy changes either; the seed still orders the calls as AWS would
//! need them (public grants first, the account-level block last).

use aws_sdk_s3::types::{
    BucketCannedAcl, BucketLocationConstraint, BucketLoggingStatus, BucketVersioningStatus,
    CreateBucketConfiguration, DefaultRetention, DeleteMarkerReplication,
    DeleteMarkerReplicationStatus, Destination, LoggingEnabled, ObjectLockConfiguration,
    ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule, PublicAccessBlockConfiguration,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, Event, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, NotificationConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, TopicConfiguration,
};
use serde_json::json;

use super::{Keys, LogBuckets, PRIMARY, SECONDARY, Seed, Step};
use crate::Status::{self, Fail, NotApplicable, Pass};

/// The account-level Block Public Access flags the seed sets (last):
/// (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets).
/// IgnorePublicAcls and RestrictPublicBuckets stay off, so existing public ACLs and policies
/// still count unless a bucket's own setting neutralises them.
const ACCOUNT_PAB: (bool, bool, bool, bool) = (true, false, true, false);

// moto 5.2.5 answers GetBucketVersioning, GetBucketNotificationConfiguration (for a bucket
// without notifications) and S3 Control ListAccessPoints with XML roots AWS does not use,
// which the SDK for Rust rejects; the harness starts moto through scripts/moto_shim.py,
// which renames those roots, so the seed expects the states it sets.

/// Buckets whose Object Ownership is set to BucketOwnerEnforced (ACLs disabled); no bucket
/// with an ACL grant can be among them.
const ACLS_DISABLED: &[&str] = &["phi-good-encrypted", "phi-good-west"];
/// Buckets with a lifecycle rule expiring noncurrent versions (both versioned).
const NONCURRENT_LIFECYCLE: &[&str] = &["phi-good-encrypted"];
/// Buckets sending event notifications (to an SNS topic; moto does not keep an
/// EventBridge configuration).
const NOTIFYING: &[&str] = &["phi-good-encrypted"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sse {
    None,
    Aes256,
    Kms,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Versioning {
    Never,
    Enabled,
    Suspended,
}

/// A bucket's own Block Public Access setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pab {
    None,
    All,
    /// Only IgnorePublicAcls and RestrictPublicBuckets: with the account's BlockPublicAcls
    /// and BlockPublicPolicy, all four are in force.
    IgnoreAndRestrict,
}

impl Pab {
    fn flags(self) -> Option<(bool, bool, bool, bool)> {
        match self {
            Pab::None => None,
            Pab::All => Some((true, true, true, true)),
            Pab::IgnoreAndRestrict => Some((false, true, false, true)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    None,
    /// Deny s3:* to everyone on the bucket and its objects when aws:SecureTransport is false.
    TlsOnly,
    /// Allow everyone s3:GetObject, plus a TLS deny that covers only the bucket ARN (not the
    /// objects), which does not make the bucket TLS-only.
    PublicReadAndPartialTlsDeny,
    /// Allow `Principal "*"` s3:GetObject only with a fixed aws:PrincipalOrgID: not public.
    OrgOnlyRead,
}

#[derive(Debug, Clone, Copy)]
struct BucketSeed {
    name: &'static str,
    region: &'static str,
    sse: Sse,
    versioning: Versioning,
    object_lock: bool,
    log_to: Option<&'static str>,
    acl: Option<&'static str>,
    pab: Pab,
    policy: Policy,
    tags: &'static [(&'static str, &'static str)],
}

const LOGS_PRIMARY: &str = "phi-access-logs";
/// The one replicated bucket, and where it replicates to (both versioned, as S3 requires).
const REPLICATED: (&str, &str) = ("phi-good-encrypted", "phi-good-west");
const LOGS_SECONDARY: &str = "phi-access-logs-west";
/// A bucket anyone can write to, in us-west-2 (a CloudTrail trail delivers to it).
pub(crate) const PUBLIC_WRITE_WEST: &str = "phi-bad-public-write-west";

const BUCKETS: &[BucketSeed] = &[
    // Log buckets first: the others deliver access logs to them.
    BucketSeed {
        name: LOGS_PRIMARY,
        region: PRIMARY,
        sse: Sse::Aes256,
        versioning: Versioning::Enabled,
        object_lock: false,
        log_to: None,
        acl: Some("log-delivery-write"),
        pab: Pab::All,
        policy: Policy::None,
        tags: &[],
    },
    BucketSeed {
        name: LOGS_SECONDARY,
        region: SECONDARY,
        sse: Sse::Aes256,
        versioning: Versioning::Enabled,
        object_lock: false,
        log_to: None,
        acl: Some("log-delivery-write"),
        pab: Pab::All,
        policy: Policy::None,
        tags: &[],
    },
    // Passes every bucket rule.
    BucketSeed {
        name: "phi-good-encrypted",
        region: PRIMARY,
        sse: Sse::Kms,
        versioning: Versioning::Enabled,
        object_lock: true,
        log_to: Some(LOGS_PRIMARY),
        acl: None,
        pab: Pab::All,
        policy: Policy::TlsOnly,
        // PHI made by a Pulumi stack: passes s3_bucket_iac_provenance (seed/provenance.rs).
        tags: &[
            ("data-class", "phi"),
            ("owner", "e2e"),
            ("phi", "true"),
            ("pulumi:stack", "phi-prod"),
        ],
    },
    // Fails every rule that needs a setting; passes the public-access ones (nothing public).
    BucketSeed {
        name: "phi-bad-plain",
        region: PRIMARY,
        sse: Sse::None,
        versioning: Versioning::Never,
        object_lock: false,
        log_to: None,
        acl: None,
        pab: Pab::None,
        policy: Policy::None,
        tags: &[],
    },
    BucketSeed {
        name: "phi-bad-public-read",
        region: PRIMARY,
        sse: Sse::Aes256,
        versioning: Versioning::Suspended,
        object_lock: false,
        log_to: None,
        acl: Some("public-read"),
        pab: Pab::None,
        policy: Policy::None,
        tags: &[],
    },
    // A public-read ACL that the bucket's IgnorePublicAcls neutralises.
    BucketSeed {
        name: "phi-good-public-acl-neutralised",
        region: PRIMARY,
        sse: Sse::Aes256,
        versioning: Versioning::Enabled,
        object_lock: false,
        log_to: None,
        acl: Some("public-read"),
        pab: Pab::IgnoreAndRestrict,
        policy: Policy::None,
        tags: &[],
    },
    BucketSeed {
        name: "phi-good-west",
        region: SECONDARY,
        sse: Sse::Kms,
        versioning: Versioning::Enabled,
        object_lock: true,
        log_to: Some(LOGS_SECONDARY),
        acl: None,
        pab: Pab::All,
        policy: Policy::TlsOnly,
        // PHI made by hand: fails s3_bucket_iac_provenance (seed/provenance.rs).
        tags: &[("data-class", "phi"), ("phi", "true")],
    },
    BucketSeed {
        name: PUBLIC_WRITE_WEST,
        region: SECONDARY,
        sse: Sse::None,
        versioning: Versioning::Never,
        object_lock: false,
        log_to: None,
        acl: Some("public-read-write"),
        pab: Pab::None,
        policy: Policy::None,
        tags: &[],
    },
    BucketSeed {
        name: "phi-good-org-only-policy",
        region: PRIMARY,
        sse: Sse::Aes256,
        versioning: Versioning::Never,
        object_lock: false,
        log_to: None,
        acl: None,
        pab: Pab::None,
        policy: Policy::OrgOnlyRead,
        tags: &[],
    },
    BucketSeed {
        name: "phi-bad-policy-public-west",
        region: SECONDARY,
        sse: Sse::Aes256,
        versioning: Versioning::Never,
        object_lock: false,
        log_to: None,
        acl: None,
        pab: Pab::None,
        policy: Policy::PublicReadAndPartialTlsDeny,
        tags: &[],
    },
];

pub(crate) async fn seed_buckets(s: &mut Seed, keys: &Keys) -> anyhow::Result<LogBuckets> {
    for b in BUCKETS {
        let key = if b.region == PRIMARY {
            &keys.primary
        } else {
            &keys.secondary
        };
        seed_bucket(s, b, key).await?;
        s.exp
            .resource_regions
            .insert(format!("arn:aws:s3:::{}", b.name), b.region.to_owned());
        expect_bucket(s, b);
    }
    seed_replication(s).await?;
    Ok(LogBuckets {
        primary: LOGS_PRIMARY.to_owned(),
        secondary: LOGS_SECONDARY.to_owned(),
    })
}

/// Replicates [`REPLICATED`]'s source to its destination (moto does not check the role).
async fn seed_replication(s: &Seed) -> anyhow::Result<()> {
    let (source, destination) = REPLICATED;
    let s3 = client(s, PRIMARY);
    let rule = ReplicationRule::builder()
        .id("phi-to-west")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("").build())
        .delete_marker_replication(
            DeleteMarkerReplication::builder()
                .status(DeleteMarkerReplicationStatus::Disabled)
                .build(),
        )
        .destination(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{destination}"))
                .build()
                .step("building the replication destination")?,
        )
        .build()
        .step("building the replication rule")?;
    s3.put_bucket_replication()
        .bucket(source)
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role(format!(
                    "arn:aws:iam::{}:role/phi-s3-replication",
                    s.account
                ))
                .rules(rule)
                .build()
                .step("building the replication configuration")?,
        )
        .send()
        .await
        .step(format!("s3 PutBucketReplication {source}"))?;
    Ok(())
}

fn client(s: &Seed, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&s.config(region))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn seed_bucket(s: &mut Seed, b: &BucketSeed, kms_key: &str) -> anyhow::Result<()> {
    let s3 = client(s, b.region);
    let name = b.name;
    let mut create = s3.create_bucket().bucket(name);
    if b.region != PRIMARY {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(b.region))
                .build(),
        );
    }
    if b.object_lock {
        create = create.object_lock_enabled_for_bucket(true);
    }
    create
        .send()
        .await
        .step(format!("s3 CreateBucket {name}"))?;

    if !b.tags.is_empty() {
        let mut tagging = Tagging::builder();
        for (k, v) in b.tags {
            tagging = tagging.tag_set(Tag::builder().key(*k).value(*v).build()?);
        }
        s3.put_bucket_tagging()
            .bucket(name)
            .tagging(tagging.build()?)
            .send()
            .await
            .step(format!("s3 PutBucketTagging {name}"))?;
        let arn = format!("arn:aws:s3:::{name}");
        s.exp.tags.insert(
            arn,
            b.tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
    }
    if b.acl == Some("public-read-write") {
        // moto stores the canned public-read-write ACL as one AllUsers grant with two
        // permissions and then answers GetBucketAcl with READ only, so the write grant
        // would vanish: grant the same permissions as separate grants instead.
        let current = s3
            .get_bucket_acl()
            .bucket(name)
            .send()
            .await
            .step(format!("s3 GetBucketAcl {name}"))?;
        let owner = current
            .owner()
            .and_then(|o| o.id())
            .ok_or_else(|| anyhow::anyhow!("GetBucketAcl {name} returned no owner id"))?;
        let all_users = "uri=http://acs.amazonaws.com/groups/global/AllUsers";
        s3.put_bucket_acl()
            .bucket(name)
            .grant_full_control(format!("id={owner}"))
            .grant_read(all_users)
            .grant_write(all_users)
            .send()
            .await
            .step(format!("s3 PutBucketAcl {name} (AllUsers READ and WRITE)"))?;
    } else if let Some(acl) = b.acl {
        s3.put_bucket_acl()
            .bucket(name)
            .acl(BucketCannedAcl::from(acl))
            .send()
            .await
            .step(format!("s3 PutBucketAcl {name} {acl}"))?;
    }
    let sse = match b.sse {
        Sse::None => None,
        Sse::Aes256 => Some(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?,
        ),
        Sse::Kms => Some(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(kms_key)
                .build()?,
        ),
    };
    if let Some(sse) = sse {
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(sse)
                            .bucket_key_enabled(b.sse == Sse::Kms)
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await
            .step(format!("s3 PutBucketEncryption {name}"))?;
    }
    let statuses: &[BucketVersioningStatus] = match b.versioning {
        // Object Lock turns versioning on by itself.
        Versioning::Enabled if b.object_lock => &[],
        Versioning::Never => &[],
        Versioning::Enabled => &[BucketVersioningStatus::Enabled],
        Versioning::Suspended => &[
            BucketVersioningStatus::Enabled,
            BucketVersioningStatus::Suspended,
        ],
    };
    for status in statuses {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(status.clone())
                    .build(),
            )
            .send()
            .await
            .step(format!("s3 PutBucketVersioning {name} {status}"))?;
    }
    if b.object_lock {
        s3.put_object_lock_configuration()
            .bucket(name)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(ObjectLockRetentionMode::Governance)
                                    .days(2190)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .step(format!("s3 PutObjectLockConfiguration {name}"))?;
    }
    if let Some(target) = b.log_to {
        s3.put_bucket_logging()
            .bucket(name)
            .bucket_logging_status(
                BucketLoggingStatus::builder()
                    .logging_enabled(
                        LoggingEnabled::builder()
                            .target_bucket(target)
                            .target_prefix(format!("{name}/"))
                            .build()?,
                    )
                    .build(),
            )
            .send()
            .await
            .step(format!("s3 PutBucketLogging {name} -> {target}"))?;
    }
    if let Some((bpa, ipa, bpp, rpb)) = b.pab.flags() {
        s3.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(bpa)
                    .ignore_public_acls(ipa)
                    .block_public_policy(bpp)
                    .restrict_public_buckets(rpb)
                    .build(),
            )
            .send()
            .await
            .step(format!("s3 PutPublicAccessBlock {name}"))?;
    }
    if ACLS_DISABLED.contains(&name) {
        s3.put_bucket_ownership_controls()
            .bucket(name)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await
            .step(format!("s3 PutBucketOwnershipControls {name}"))?;
    }
    if NONCURRENT_LIFECYCLE.contains(&name) {
        s3.put_bucket_lifecycle_configuration()
            .bucket(name)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("expire-noncurrent")
                            .status(ExpirationStatus::Enabled)
                            .filter(LifecycleRuleFilter::builder().prefix("").build())
                            .noncurrent_version_expiration(
                                NoncurrentVersionExpiration::builder()
                                    .noncurrent_days(2190)
                                    .build(),
                            )
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await
            .step(format!("s3 PutBucketLifecycleConfiguration {name}"))?;
    }
    if NOTIFYING.contains(&name) {
        s3.put_bucket_notification_configuration()
            .bucket(name)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .topic_configurations(
                        TopicConfiguration::builder()
                            .topic_arn(format!(
                                "arn:aws:sns:{}:{}:phi-object-events",
                                b.region, s.account
                            ))
                            .events(Event::from("s3:ObjectCreated:*"))
                            .events(Event::from("s3:ObjectRemoved:*"))
                            .build()?,
                    )
                    .build(),
            )
            .send()
            .await
            .step(format!("s3 PutBucketNotificationConfiguration {name}"))?;
    }
    // The policy goes last: moto applies a SecureTransport deny to every later request.
    let arn = format!("arn:aws:s3:::{name}");
    let policy = match b.policy {
        Policy::None => None,
        Policy::TlsOnly => Some(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, format!("{arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        })),
        Policy::PublicReadAndPartialTlsDeny => Some(json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": format!("{arn}/*")
                },
                {
                    "Sid": "DenyInsecureTransportOnBucketOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                }
            ]
        })),
        Policy::OrgOnlyRead => Some(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "OrganizationRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": format!("{arn}/*"),
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-phiexample1"}}
            }]
        })),
    };
    if let Some(policy) = policy {
        s3.put_bucket_policy()
            .bucket(name)
            .policy(policy.to_string())
            .send()
            .await
            .step(format!("s3 PutBucketPolicy {name}"))?;
    }
    Ok(())
}

/// The findings of the bucket rules for `b`, from its seeded settings.
fn expect_bucket(s: &mut Seed, b: &BucketSeed) {
    let arn = format!("arn:aws:s3:::{}", b.name);
    let name = b.name;
    let flags = b.pab.flags().unwrap_or((false, false, false, false));
    let (a_bpa, a_ipa, a_bpp, a_rpb) = ACCOUNT_PAB;
    let ignore_acls = flags.1 || a_ipa;
    let restrict_policy = flags.3 || a_rpb;
    let acl_reads = matches!(
        b.acl,
        Some("public-read" | "public-read-write" | "authenticated-read")
    );
    let acl_writes = b.acl == Some("public-read-write");
    let policy_reads = b.policy == Policy::PublicReadAndPartialTlsDeny;
    let notifying = NOTIFYING.contains(&name);
    let mut e = |rule: &str, status: Status, why: String| {
        s.expect(rule, &arn, status, format!("{name}: {why}"));
    };

    e(
        "s3_bucket_default_encryption",
        if b.sse == Sse::None { Fail } else { Pass },
        format!("default encryption {:?}", b.sse),
    );
    e(
        "s3_bucket_sse_kms",
        if b.sse == Sse::Kms { Pass } else { Fail },
        format!("default encryption {:?}", b.sse),
    );
    let public_read = (acl_reads && !ignore_acls) || (policy_reads && !restrict_policy);
    e(
        "s3_bucket_no_public_read",
        if public_read { Fail } else { Pass },
        format!(
            "ACL {:?}, policy {:?}, IgnorePublicAcls {ignore_acls}, RestrictPublicBuckets {restrict_policy}",
            b.acl, b.policy
        ),
    );
    e(
        "s3_bucket_no_public_write",
        if acl_writes && !ignore_acls {
            Fail
        } else {
            Pass
        },
        format!("ACL {:?}, IgnorePublicAcls {ignore_acls}", b.acl),
    );
    let replicated = b.name == REPLICATED.0;
    e(
        "s3_bucket_replication",
        if replicated { Pass } else { Fail },
        if replicated {
            format!("replicates to {}", REPLICATED.1)
        } else {
            "no replication configuration".to_owned()
        },
    );
    e(
        "s3_bucket_object_lock",
        if b.object_lock { Pass } else { Fail },
        format!("object lock {}", b.object_lock),
    );
    let all_four = (flags.0 || a_bpa) && ignore_acls && (flags.2 || a_bpp) && restrict_policy;
    e(
        "s3_bucket_public_access_block",
        if all_four { Pass } else { Fail },
        format!(
            "bucket Block Public Access {:?} combined with the account's",
            b.pab
        ),
    );
    e(
        "s3_bucket_server_access_logging",
        if b.log_to.is_some() { Pass } else { Fail },
        format!("access logs to {:?}", b.log_to),
    );
    e(
        "s3_bucket_tls_only",
        if b.policy == Policy::TlsOnly {
            Pass
        } else {
            Fail
        },
        format!("policy {:?}", b.policy),
    );
    e(
        "s3_bucket_no_cross_account_access",
        if policy_reads { Fail } else { Pass },
        format!(
            "policy {:?}: a statement allowing everyone counts as cross-account (trusted \
             accounts: none but the bucket's own)",
            b.policy
        ),
    );
    e(
        "s3_bucket_policy_no_public_principal",
        if b.policy == Policy::PublicReadAndPartialTlsDeny {
            Fail
        } else {
            Pass
        },
        format!(
            "policy {:?} (Principal \"*\" limited by aws:PrincipalOrgID is not public)",
            b.policy
        ),
    );
    e(
        "s3_bucket_acls_disabled",
        if ACLS_DISABLED.contains(&name) {
            Pass
        } else {
            Fail
        },
        if ACLS_DISABLED.contains(&name) {
            "Object Ownership BucketOwnerEnforced".to_owned()
        } else {
            "no ownership controls (ACLs in effect)".to_owned()
        },
    );
    e(
        "s3_bucket_event_notifications",
        if notifying { Pass } else { Fail },
        if notifying {
            "notifies an SNS topic"
        } else {
            "no event notifications"
        }
        .to_owned(),
    );
    let lifecycle = NONCURRENT_LIFECYCLE.contains(&name);
    let lifecycle_status = match b.versioning {
        Versioning::Never => NotApplicable,
        _ if lifecycle => Pass,
        _ => Fail,
    };
    e(
        "s3_bucket_versioned_lifecycle",
        lifecycle_status,
        format!(
            "versioning {:?}, noncurrent lifecycle {lifecycle}",
            b.versioning
        ),
    );
    let seeded = if b.versioning == Versioning::Enabled {
        Pass
    } else {
        Fail
    };
    e(
        "s3_bucket_versioning",
        seeded,
        format!("versioning {:?}", b.versioning),
    );
    e(
        "s3_bucket_mfa_delete",
        Fail,
        "MFA Delete never configured (it needs root's MFA device)".to_owned(),
    );
}

/// The account-level Block Public Access setting (S3 Control), set after the buckets, and
/// two access points (S3 Control) on phi-good-encrypted.
pub(crate) async fn seed_account_public_access_block(s: &mut Seed) -> anyhow::Result<()> {
    let mut conf = aws_sdk_s3control::config::Builder::from(&s.config(PRIMARY));
    if let Some(url) = s.sdk.endpoint_url() {
        // S3 Control puts the account id into the host name, which does not resolve for an
        // emulator on a loopback address; send the request to the URL unchanged instead
        // (moto reads the account from the x-amz-account-id header).
        conf = conf.endpoint_resolver(FixedEndpoint(url.to_owned()));
    }
    let s3control = aws_sdk_s3control::Client::from_conf(conf.build());
    let (bpa, ipa, bpp, rpb) = ACCOUNT_PAB;
    s3control
        .put_public_access_block()
        .account_id(&s.account)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(bpa)
                .ignore_public_acls(ipa)
                .block_public_policy(bpp)
                .restrict_public_buckets(rpb)
                .build(),
        )
        .send()
        .await
        .step("s3control PutPublicAccessBlock")?;
    // Access points on phi-good-encrypted: one with the default (all four flags on), one
    // created with every flag off.
    for (name, all_on) in [("phi-ap-blocked", true), ("phi-ap-open", false)] {
        let mut create = s3control
            .create_access_point()
            .account_id(&s.account)
            .name(name)
            .bucket("phi-good-encrypted");
        if !all_on {
            create = create.public_access_block_configuration(
                aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(false)
                    .ignore_public_acls(false)
                    .block_public_policy(false)
                    .restrict_public_buckets(false)
                    .build(),
            );
        }
        let fallback = format!("arn:aws:s3:{PRIMARY}:{}:accesspoint/{name}", s.account);
        let arn = match create.send().await {
            Ok(out) => out.access_point_arn().map_or(fallback, str::to_owned),
            // moto 5.2.5 creates the access point but answers with the XML root
            // CreateAccessPointResponse, which the SDK for Rust rejects.
            Err(aws_sdk_s3control::error::SdkError::ServiceError(e))
                if e.raw().status().is_success() =>
            {
                fallback
            }
            Err(e) => {
                return Err(e).step(format!("s3control CreateAccessPoint {name}"));
            }
        };
        s.expect(
            "s3_access_point_public_access_block",
            &arn,
            if all_on { Pass } else { Fail },
            if all_on {
                "created with the default Block Public Access (all four flags on)"
            } else {
                "created with every Block Public Access flag off"
            },
        );
    }

    let arn = format!("arn:aws:s3::{}:account-public-access-block", s.account);
    s.expect(
        "s3_account_public_access_block_all",
        &arn,
        Fail,
        "account-level Block Public Access has IgnorePublicAcls and RestrictPublicBuckets off \
         (one setting per account: the pass state is covered by the rule's unit tests)",
    );
    Ok(())
}

/// An endpoint resolver that always answers with one URL.
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}
