//! EFS file systems.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// An EFS file system, from `DescribeFileSystems` (which also carries its tags),
/// `DescribeFileSystemPolicy` and `DescribeBackupPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EfsFileSystem {
    /// File system id (`fs-…`).
    pub file_system_id: String,
    /// The `Name` tag, as EFS reports it.
    pub name: Option<String>,
    /// `creating`, `available`, `updating`, `deleting`, `deleted`, `error`.
    pub life_cycle_state: Option<String>,
    /// Encrypted at rest.
    pub encrypted: bool,
    /// The KMS key protecting it at rest, when encrypted.
    pub kms_key_id: Option<String>,
    /// Created.
    pub creation_time: Option<DateTime<Utc>>,
    /// The file system policy; `Absent` when the default policy is in effect (`PolicyNotFound`).
    pub policy: Observed<serde_json::Value>,
    /// The automatic-backup policy status (`ENABLED`, `ENABLING`, `DISABLED`, `DISABLING`);
    /// `Absent` when no backup policy was ever set (`PolicyNotFound`).
    pub backup_policy_status: Observed<String>,
}

impl EfsFileSystem {
    /// Whether EFS automatic backups are on: EFS then keeps the file system in the AWS
    /// Backup plan `aws/efs/automatic-backup-plan`.
    pub fn automatic_backups_enabled(&self) -> Option<bool> {
        match &self.backup_policy_status {
            Observed::Collected(s) => Some(s == "ENABLED" || s == "ENABLING"),
            Observed::Absent => Some(false),
            Observed::Unavailable(_) => None,
        }
    }
}
