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

impl Coverage {
    /// The counts and API calls of this coverage.
    pub fn summary(&self) -> CoverageSummary {
        CoverageSummary {
            collections: self.collected.len() as u64,
            incomplete: self.collected.iter().filter(|c| !c.complete).count() as u64,
            failed_calls: self.failed.len() as u64,
            api_calls: self.api_calls.clone(),
        }
    }
}

/// What a snapshot covered, in counts: the records themselves are stored row by row and
/// read back a page at a time (an organization scan has one per account, region and
/// service, and one per failed call).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// (account, region, service) collections that ran.
    pub collections: u64,
    /// Collections in which some call failed.
    pub incomplete: u64,
    /// Calls that failed (each a [`Gap`]).
    pub failed_calls: u64,
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
    /// What was and was not collected, in counts (the records are read from the store).
    pub coverage: CoverageSummary,
    /// Number of resources in the snapshot.
    pub resource_count: u64,
}
