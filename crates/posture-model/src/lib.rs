//! Posture's vocabulary, shared by every other crate.
//!
//! This crate owns the identifiers (`AccountId`, `Region`, `Arn`, `RuleId`, `SnapshotId`),
//! one typed struct per AWS resource kind, [`Observed`] for values that may not have been
//! collected, and the result vocabulary (`Status`, `Severity`, `Citation`).
//!
//! Invariants: no IO and no clock. Everything here is plain data that serialises to the
//! same JSON every time (maps are `BTreeMap`, lists keep the order AWS returned or are
//! sorted by the collector), so content hashes and diffs are stable.

pub mod alert;
pub mod catalog;
mod finding;
pub mod iam_policy;
mod ids;
mod observed;
pub mod resources;
pub mod services;
mod snapshot;
#[doc(hidden)]
pub mod synthetic;
mod unread;

pub use catalog::kinds_listed_by;
pub use finding::{AppliedWaiver, Citation, Evidence, Finding, ResourceRef, Severity, Status};
pub use ids::{AccountId, Arn, IdError, Region, RuleId, SnapshotId};
pub use observed::{NOT_RECORDED_OPERATION, Observed, Unavailable, UnavailableKind};
pub use resources::{Resource, ResourceBody, ResourceKind, Tags};
pub use services::Service;
pub use snapshot::{
    ACCOUNT_UNREACHABLE_OPERATION, CollectionRecord, Coverage, CoverageSummary, Gap, SnapshotMeta,
};
pub use unread::{AccountScan, Unread, unread_evidence};
