//! AWS Backup plans, vaults and recovery points.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// A backup plan, from `ListBackupPlans`, `GetBackupPlan`, `ListBackupSelections` and
/// `GetBackupSelection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupPlan {
    /// Plan id.
    pub plan_id: String,
    /// Plan name.
    pub name: Option<String>,
    /// The current version id.
    pub version_id: Option<String>,
    /// The plan's rules, from `GetBackupPlan`.
    pub rules: Observed<Vec<BackupRule>>,
    /// The plan's resource assignments, from `ListBackupSelections`.
    pub selections: Observed<Vec<BackupSelectionEntry>>,
    /// The region's resource-type opt-in (`DescribeRegionSettings`
    /// `ResourceTypeOptInPreference`: `EBS`, `EC2`, `RDS`, `Aurora`, `EFS`, ... → opted in):
    /// AWS Backup backs up no resource of a type that is opted out, whatever assigns it.
    #[serde(default = "Observed::not_recorded")]
    pub resource_type_opt_in: Observed<std::collections::BTreeMap<String, bool>>,
}

/// One rule of a backup plan: when backups run and how long they are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRule {
    /// Rule name.
    pub rule_name: String,
    /// The vault recovery points go to.
    pub target_vault: Option<String>,
    /// `cron(…)` or `rate(…)`; none for a rule only run on demand.
    pub schedule_expression: Option<String>,
    /// The time zone the schedule is in.
    pub schedule_timezone: Option<String>,
    /// Days after creation a recovery point is deleted; none keeps it forever.
    pub delete_after_days: Option<i64>,
    /// Days after creation a recovery point moves to cold storage.
    pub move_to_cold_storage_after_days: Option<i64>,
    /// Continuous backups (point-in-time recovery) for supported services.
    pub enable_continuous_backup: bool,
}

/// One resource assignment of a plan, as listed, with its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupSelectionEntry {
    /// Selection id.
    pub selection_id: String,
    /// Selection name.
    pub selection_name: Option<String>,
    /// What it selects, from `GetBackupSelection`.
    pub detail: Observed<BackupSelection>,
}

/// Which resources a selection assigns to its plan (`GetBackupSelection`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupSelection {
    /// ARN patterns of resources to include (`*` wildcards).
    pub resources: Vec<String>,
    /// ARN patterns of resources to exclude.
    pub not_resources: Vec<String>,
    /// `ListOfTags`: tag key/value pairs (`STRINGEQUALS`), any of which selects a resource.
    pub list_of_tags: Vec<TagCondition>,
    /// `Conditions`: tag tests, all of which a resource must meet.
    pub conditions: Vec<SelectionCondition>,
}

/// One `ListOfTags` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagCondition {
    /// The condition type; only `STRINGEQUALS` exists.
    pub condition_type: String,
    /// The tag key (`backup` or `aws:ResourceTag/backup`).
    pub key: String,
    /// The tag value.
    pub value: String,
}

/// One `Conditions` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionCondition {
    /// `StringEquals`, `StringNotEquals`, `StringLike` or `StringNotLike`.
    pub operator: String,
    /// `aws:ResourceTag/KEY`.
    pub key: String,
    /// The value (`*` wildcards for the `Like` operators).
    pub value: String,
}

/// A backup vault, from `ListBackupVaults` and `GetBackupVaultAccessPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupVault {
    /// Vault name.
    pub name: String,
    /// The KMS key recovery points in the vault are encrypted with.
    pub encryption_key_arn: Option<String>,
    /// Vault Lock in effect.
    pub locked: Option<bool>,
    /// How many recovery points the vault holds.
    pub number_of_recovery_points: Option<i64>,
    /// Created.
    pub creation_date: Option<DateTime<Utc>>,
    /// The vault access policy; `Absent` when the vault has none.
    pub access_policy: Observed<serde_json::Value>,
}

/// A recovery point (backup), from `ListRecoveryPointsByBackupVault`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRecoveryPoint {
    /// The vault it is stored in.
    pub vault_name: String,
    /// The backed-up resource.
    pub resource_arn: Option<String>,
    /// The backed-up resource's type (`EBS`, `EFS`, `RDS`, ...).
    pub resource_type: Option<String>,
    /// `COMPLETED`, `PARTIAL`, `DELETING`, `EXPIRED`, ...
    pub status: Option<String>,
    /// Encrypted.
    pub is_encrypted: bool,
    /// The KMS key it is encrypted with.
    pub encryption_key_arn: Option<String>,
    /// Created.
    pub creation_date: Option<DateTime<Utc>>,
    /// Days after creation it is deleted; none keeps it until deleted by hand.
    pub delete_after_days: Option<i64>,
    /// Days after creation it moves to cold storage.
    pub move_to_cold_storage_after_days: Option<i64>,
    /// When it is deleted, as AWS Backup computed it.
    pub delete_at: Option<DateTime<Utc>>,
}
