//! KMS keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// A KMS key, from `ListKeys`, `DescribeKey`, `GetKeyRotationStatus` and `GetKeyPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKey {
    /// Key id.
    pub key_id: String,
    /// Details from `DescribeKey`.
    pub metadata: Observed<KmsKeyMetadata>,
    /// Automatic rotation; only read for customer-managed symmetric keys (`Absent` otherwise).
    pub rotation_enabled: Observed<bool>,
    /// The `default` key policy document.
    pub policy: Observed<serde_json::Value>,
    /// Alias names pointing at this key.
    pub aliases: Vec<String>,
}

/// What `DescribeKey` says about a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKeyMetadata {
    /// `AWS` or `CUSTOMER`.
    pub key_manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub key_state: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, ...
    pub key_spec: Option<String>,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, ...
    pub key_usage: Option<String>,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`.
    pub origin: Option<String>,
    /// Scheduled deletion date, if pending deletion.
    pub deletion_date: Option<DateTime<Utc>>,
    /// Description.
    pub description: Option<String>,
    /// Created.
    pub creation_date: Option<DateTime<Utc>>,
}

impl KmsKeyMetadata {
    /// A customer-managed key (the only ones whose rotation and policy the customer controls).
    pub fn is_customer_managed(&self) -> bool {
        self.key_manager == "CUSTOMER"
    }

    /// A symmetric encryption key with key material in KMS: the kind automatic rotation supports.
    pub fn supports_automatic_rotation(&self) -> bool {
        self.key_spec
            .as_deref()
            .is_none_or(|s| s == "SYMMETRIC_DEFAULT")
            && self.origin.as_deref().is_none_or(|o| o == "AWS_KMS")
    }
}
