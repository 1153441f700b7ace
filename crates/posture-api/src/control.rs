//! What the API asks of the daemon: the [`Control`] trait the binary implements over its
//! scheduler, and the scan types it answers with. The API never runs a scan itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use posture_model::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The daemon, as the API sees it. Every method is called from an async handler and must
/// return promptly (no store IO, no waiting for a scan).
pub trait Control: Send + Sync + 'static {
    /// Starts (or joins) a scan. Empty accounts = the daemon's configured accounts.
    fn submit_scan(&self, request: ScanSubmission) -> Result<Submitted, SubmitError>;
    /// One scan, by id.
    fn scan(&self, id: &str) -> Option<ScanStatus>;
    /// Recent scans, newest first (bounded by the daemon).
    fn scans(&self) -> Vec<ScanStatus>;
    /// Prometheus text exposition (version 0.0.4) or OpenMetrics text of the daemon's
    /// metrics. Text ending in `# EOF` is served as OpenMetrics, anything else as 0.0.4.
    fn metrics(&self) -> String;
    /// Ok when the last successful scan is fresh enough; `Err(reason)` otherwise.
    fn readiness(&self) -> Result<(), String>;
}

/// A request to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSubmission {
    /// The accounts to scan; empty = the daemon's configured accounts. Validated ids,
    /// sorted and without duplicates.
    pub accounts: Vec<AccountId>,
}

/// A scan was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    /// The scan's id (see `GET /api/v1/scans/{id}`).
    pub id: String,
    /// Whether the request joined a scan of the same accounts that was already queued or
    /// running, instead of starting one.
    pub existing: bool,
}

/// Why a scan was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The daemon is stopping and starts no more scans (HTTP 503).
    #[error("the daemon is shutting down and starts no new scan")]
    ShuttingDown,
    /// The request cannot be served, e.g. an account outside the daemon's configuration
    /// (HTTP 400 with this text).
    #[error("{0}")]
    Invalid(String),
}

/// Where a scan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanState {
    /// Waiting for a running scan to finish.
    Queued,
    /// Collecting or evaluating.
    Running,
    /// Committed a snapshot.
    Succeeded,
    /// Stopped on an error (see `error`).
    Failed,
    /// Cancelled (shutdown).
    Cancelled,
}

/// How far a running scan has got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScanProgress {
    /// What it is doing (`collecting`, `evaluating`, …).
    pub phase: String,
    /// Collections (service × region × account) finished.
    pub collections: u64,
    /// Resources collected.
    pub resources: u64,
    /// API calls that failed (recorded as gaps).
    pub failed_calls: u64,
    /// Accounts evaluated so far.
    pub accounts_evaluated: usize,
    /// Accounts to evaluate.
    pub accounts_total: usize,
}

/// A scan as the daemon reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScanStatus {
    /// The scan's id.
    pub id: String,
    /// Where it is.
    pub state: ScanState,
    /// What started it: `schedule` or `api`.
    pub trigger: String,
    /// The accounts it scans (empty: the configured set).
    pub accounts: Vec<String>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it started running.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// How far it has got.
    pub progress: ScanProgress,
    /// The newest snapshot it committed.
    pub snapshot_id: Option<String>,
    /// Every snapshot it committed, oldest first: the daemon scans its accounts in batches
    /// (`accounts.max_parallel` at a time), one snapshot each.
    #[serde(default)]
    pub snapshots: Vec<String>,
    /// Finding counts by status, once evaluated.
    pub summary: Option<BTreeMap<String, usize>>,
    /// Why it failed.
    pub error: Option<String>,
}
