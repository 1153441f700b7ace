//! Snapshot metadata: when a scan ran, what it covered, and what it could not collect.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, Arn, Region, SnapshotId, UnavailableKind};

/// One collection that could not complete: an API call that failed, was denied, or is not
/// implemented by the endpoint. The scan goes on; rules that need the data report `Error`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gap {
    /// Account the call was made in.
    pub account: AccountId,
    /// Region of the call, or `global`.
    pub region: Region,
    /// The service, e.g. `s3`.
    pub service: String,
    /// The operation as `service:Operation`, e.g. `s3:GetBucketEncryption`.
    pub operation: String,
    /// The resource the call was about; `None` for list calls whose failure hides every
    /// resource of that kind.
    pub resource: Option<Arn>,
    /// The failure class.
    pub kind: UnavailableKind,
    /// The error code AWS returned, if any.
    pub code: Option<String>,
    /// The error message.
    pub message: String,
}

/// The operation a [`Gap`] names when a whole account could not be entered (its role could
/// not be assumed, or its regions not listed): every rule reports `Error` for that account.
pub const ACCOUNT_UNREACHABLE_OPERATION: &str = "sts:AssumeRole";

/// One (account, region, service) collection that ran.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CollectionRecord {
    /// Account.
    pub account: AccountId,
    /// Region, or `global`.
    pub region: Region,
    /// Service, e.g. `ec2`.
    pub service: String,
    /// How many resources it produced.
    pub resources: u64,
    /// Whether every call it made succeeded.
    pub complete: bool,
}

/// What a snapshot covered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Every (account, region, service) collection that ran, sorted.
    pub collected: Vec<CollectionRecord>,
    /// Every call that failed, sorted.
    pub failed: Vec<Gap>,
    /// API calls made, by `service:Operation`.
    pub api_calls: BTreeMap<String, u64>,
}

/// A snapshot's header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Id assigned by the store.
    pub id: SnapshotId,
    /// When collection started.
    pub started_at: DateTime<Utc>,
    /// When collection finished.
    pub finished_at: DateTime<Utc>,
    /// Accounts scanned.
    pub accounts: Vec<AccountId>,
    /// Regions scanned.
    pub regions: Vec<Region>,
    /// Services collected (`s3`, `iam`, ...).
    #[serde(default)]
    pub services: Vec<String>,
    /// What was and was not collected.
    pub coverage: Coverage,
    /// Number of resources in the snapshot.
    pub resource_count: u64,
}
