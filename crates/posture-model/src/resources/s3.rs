//! S3 buckets and the account-level Block Public Access setting.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// An S3 bucket and the settings that matter for HIPAA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Bucket {
    /// Bucket name.
    pub name: String,
    /// When the bucket was created.
    pub creation_date: Option<DateTime<Utc>>,
    /// Default encryption (`GetBucketEncryption`); `Absent` when none is configured.
    pub encryption: Observed<BucketEncryption>,
    /// Bucket-level Block Public Access (`GetPublicAccessBlock`); `Absent` when not set.
    pub public_access_block: Observed<PublicAccessBlock>,
    /// The bucket policy document (`GetBucketPolicy`); `Absent` when there is none.
    pub policy: Observed<serde_json::Value>,
    /// The bucket ACL (`GetBucketAcl`).
    pub acl: Observed<BucketAcl>,
    /// Versioning (`GetBucketVersioning`).
    pub versioning: Observed<BucketVersioning>,
    /// Object Lock (`GetObjectLockConfiguration`); `Absent` when not enabled.
    pub object_lock: Observed<ObjectLock>,
    /// Server access logging target (`GetBucketLogging`); `Absent` when logging is off.
    pub logging: Observed<BucketLogging>,
    /// Replication (`GetBucketReplication`); `Absent` when not configured.
    pub replication: Observed<BucketReplication>,
    /// Object Ownership (`GetBucketOwnershipControls`): `BucketOwnerEnforced` (ACLs
    /// disabled), `BucketOwnerPreferred` or `ObjectWriter`; `Absent` when the bucket has no
    /// ownership controls (`OwnershipControlsNotFoundError`: ACLs are in effect).
    #[serde(default = "Observed::not_recorded")]
    pub object_ownership: Observed<String>,
    /// Lifecycle rules (`GetBucketLifecycleConfiguration`); `Absent` when the bucket has
    /// none (`NoSuchLifecycleConfiguration`).
    #[serde(default = "Observed::not_recorded")]
    pub lifecycle: Observed<Vec<LifecycleRule>>,
    /// Event notification destinations (`GetBucketNotificationConfiguration`).
    #[serde(default = "Observed::not_recorded")]
    pub notifications: Observed<BucketNotifications>,
}

/// One lifecycle rule of a bucket, reduced to what the rules read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// Rule id.
    pub id: Option<String>,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// `NoncurrentVersionExpiration` `NoncurrentDays`, when the rule expires noncurrent
    /// versions.
    pub noncurrent_expiration_days: Option<i32>,
    /// `NoncurrentVersionTransitions` as (`NoncurrentDays`, storage class).
    pub noncurrent_transitions: Vec<(Option<i32>, String)>,
    /// The objects the rule applies to, described (`prefix logs/`, `tag env=dev`,
    /// `size > 1024`, joined by `and`); `None` when it applies to the whole bucket.
    #[serde(default)]
    pub filter: Option<String>,
}

/// Where a bucket sends event notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketNotifications {
    /// SNS topic ARNs.
    pub topics: Vec<String>,
    /// SQS queue ARNs.
    pub queues: Vec<String>,
    /// Lambda function ARNs.
    pub lambda_functions: Vec<String>,
    /// Whether events also go to Amazon EventBridge.
    pub event_bridge: bool,
}

impl BucketNotifications {
    /// Whether any destination is configured.
    pub fn any(&self) -> bool {
        self.event_bridge
            || !self.topics.is_empty()
            || !self.queues.is_empty()
            || !self.lambda_functions.is_empty()
    }
}

/// One default-encryption rule of a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionRule {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub sse_algorithm: String,
    /// The KMS key, when SSE-KMS.
    pub kms_master_key_id: Option<String>,
    /// Whether an S3 Bucket Key is used.
    pub bucket_key_enabled: Option<bool>,
}

/// A bucket's default encryption configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// The rules, as returned.
    pub rules: Vec<EncryptionRule>,
}

/// The four Block Public Access flags. A flag AWS did not return counts as `false`, as AWS
/// documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    /// Reject new public ACLs.
    pub block_public_acls: bool,
    /// Ignore existing public ACLs.
    pub ignore_public_acls: bool,
    /// Reject public bucket policies.
    pub block_public_policy: bool,
    /// Restrict access to buckets with public policies.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Whether all four flags are on.
    pub fn all_on(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }
}

/// A bucket ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketAcl {
    /// Canonical id of the owner.
    pub owner_id: Option<String>,
    /// The grants.
    pub grants: Vec<AclGrant>,
}

/// One ACL grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclGrant {
    /// `CanonicalUser`, `Group` or `AmazonCustomerByEmail`.
    pub grantee_type: String,
    /// For group grantees, the group URI (e.g. `http://acs.amazonaws.com/groups/global/AllUsers`).
    pub grantee_uri: Option<String>,
    /// For canonical-user grantees, the canonical id.
    pub grantee_id: Option<String>,
    /// `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`.
    pub permission: String,
}

/// The group URI that means "anyone on the internet".
pub const ACL_ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The group URI that means "any AWS account".
pub const ACL_AUTHENTICATED_USERS: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Versioning state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketVersioning {
    /// `Enabled`, `Suspended`, or `None` when never enabled.
    pub status: Option<String>,
    /// `Enabled` or `Disabled`, or `None` when never configured.
    pub mfa_delete: Option<String>,
}

/// Object Lock configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    /// Whether Object Lock is enabled.
    pub enabled: bool,
    /// Default retention mode (`GOVERNANCE`, `COMPLIANCE`), if any.
    pub default_mode: Option<String>,
    /// Default retention in days, if given in days.
    pub default_days: Option<i32>,
    /// Default retention in years, if given in years.
    pub default_years: Option<i32>,
}

/// Server access logging target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketLogging {
    /// The bucket that receives the logs.
    pub target_bucket: String,
    /// The key prefix.
    pub target_prefix: String,
}

/// Replication configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketReplication {
    /// The IAM role S3 assumes.
    pub role: String,
    /// The rules.
    pub rules: Vec<ReplicationRule>,
}

/// One replication rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationRule {
    /// Rule id.
    pub id: Option<String>,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// Destination bucket ARN.
    pub destination_bucket: String,
}

/// An S3 access point (S3 Control `ListAccessPoints`, then `GetAccessPoint` for its
/// Block Public Access flags), ARN `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3AccessPoint {
    /// Access point name.
    pub name: String,
    /// The bucket it serves.
    pub bucket: String,
    /// `Internet` or `VPC`.
    pub network_origin: Option<String>,
    /// The access point's own Block Public Access flags (`GetAccessPoint`); a flag AWS did
    /// not return counts as `false`.
    pub public_access_block: Observed<PublicAccessBlock>,
}

/// The account-level S3 Block Public Access setting (S3 Control `GetPublicAccessBlock`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3AccountPublicAccessBlock {
    /// The flags; `Absent` when the account has never set them.
    pub config: Observed<PublicAccessBlock>,
}
