//! The report's vocabulary: what every format writes, with the field names of `posture scan
//! --format json`. The head (counts, citation tree, coverage matrix, chain) is computed
//! first and is bounded by the baseline and the period; the rows are written a page at a
//! time.

use posture_model::{Finding, Status};
use serde::Serialize;

/// Findings counted by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// `pass`
    pub pass: u64,
    /// `fail`
    pub fail: u64,
    /// `error`: could not decide (never a pass).
    pub error: u64,
    /// `not_applicable`
    pub not_applicable: u64,
    /// `waived`
    pub waived: u64,
    /// `manual`
    pub manual: u64,
}

impl StatusCounts {
    /// Adds `n` findings of `status`.
    pub fn add(&mut self, status: Status, n: u64) {
        *match status {
            Status::Pass => &mut self.pass,
            Status::Fail => &mut self.fail,
            Status::Error => &mut self.error,
            Status::NotApplicable => &mut self.not_applicable,
            Status::Waived => &mut self.waived,
            Status::Manual => &mut self.manual,
        } += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &StatusCounts) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.error += other.error;
        self.not_applicable += other.not_applicable;
        self.waived += other.waived;
        self.manual += other.manual;
    }

    /// Every finding counted.
    pub fn total(&self) -> u64 {
        self.pass + self.fail + self.error + self.not_applicable + self.waived + self.manual
    }
}

/// The snapshot a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRef {
    /// Id.
    pub snapshot_id: String,
    /// When collection started (RFC 3339).
    pub started_at: String,
    /// When collection finished (RFC 3339).
    pub finished_at: String,
    /// The manifest hash sealed into the chain.
    pub hash: Option<String>,
    /// Accounts scanned.
    pub accounts: Vec<String>,
    /// Regions scanned.
    pub regions: Vec<String>,
    /// Services collected.
    pub services: Vec<String>,
    /// Resources in the snapshot.
    pub resource_count: u64,
}

/// One snapshot of the period, with its counts (within the accounts asked for).
#[derive(Debug, Clone, Serialize)]
pub struct PeriodSnapshot {
    /// Id.
    pub snapshot_id: String,
    /// When collection started (RFC 3339).
    pub started_at: String,
    /// The manifest hash.
    pub hash: Option<String>,
    /// Findings by status.
    pub counts: StatusCounts,
}

/// One point of a standard's trend.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// Snapshot.
    pub snapshot_id: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Passing findings of the standard's rules.
    pub pass: u64,
    /// Failing findings of the standard's rules.
    pub fail: u64,
}

/// One HIPAA standard (164.308, …): counts, controls and trend.
#[derive(Debug, Clone, Serialize)]
pub struct StandardSummary {
    /// `164.308`
    pub id: String,
    /// `Administrative safeguards`
    pub title: String,
    /// Findings of the rules citing it, by status (a rule citing two paragraphs of one
    /// standard counts once).
    pub counts: StatusCounts,
    /// Citations (controls) of the standard in the baseline.
    pub controls: usize,
    /// Citations whose status is `fail`.
    pub controls_failing: usize,
    /// Citations whose status is `error` or an unattested manual control.
    pub controls_unverified: usize,
    /// Pass and fail per snapshot of the period, oldest first.
    pub trend: Vec<TrendPoint>,
}

/// One rule (automated) or manual control under a citation.
#[derive(Debug, Clone, Serialize)]
pub struct RuleNode {
    /// Rule or manual control id.
    pub rule_id: String,
    /// Title.
    pub title: String,
    /// `automated` or `manual`.
    pub kind: &'static str,
    /// The rule's status (see [`CitationNode::status`]); for a manual control `attested`,
    /// `missing` or `expired` (the worst over the accounts).
    pub status: &'static str,
    /// Findings by status.
    pub counts: StatusCounts,
}

/// One citation of the baseline with its controls.
#[derive(Debug, Clone, Serialize)]
pub struct CitationNode {
    /// `164.312(a)(2)(iv)`
    pub id: String,
    /// Title.
    pub title: String,
    /// The standard (`164.312`).
    pub standard: String,
    /// The worst status of its controls: `fail`, `error`, `missing`, `expired`,
    /// `not_scanned` (a rule whose collections the scan left out, so partly unverified),
    /// `waived`, `pass`, `attested`, `not_applicable`; `no_findings` when no control has a
    /// finding and every rule's collections ran.
    pub status: &'static str,
    /// Its rules, then its manual controls.
    pub rules: Vec<RuleNode>,
}

/// The hash chain, as `posture verify` checks it.
#[derive(Debug, Clone, Serialize)]
pub struct ChainResult {
    /// No problem found.
    pub intact: bool,
    /// Snapshots checked.
    pub snapshots: usize,
    /// Resource bodies checked.
    pub bodies: usize,
    /// The newest manifest hash.
    pub head: Option<String>,
    /// What was altered, one line each.
    pub problems: Vec<String>,
}

/// Collections of one (region, service) across the accounts.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageCell {
    /// Region (`global` for account-wide services).
    pub region: String,
    /// Service.
    pub service: String,
    /// Accounts where it ran.
    pub accounts: u64,
    /// Accounts where it ran to completion.
    pub complete: u64,
    /// Resources it listed.
    pub resources: u64,
}

/// What the snapshot examined.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageHead {
    /// Accounts (within the accounts asked for).
    pub accounts: Vec<String>,
    /// Regions scanned.
    pub regions: Vec<String>,
    /// Services collected.
    pub services: Vec<String>,
    /// Collections per (region, service).
    pub collected: Vec<CoverageCell>,
    /// Failed calls (each is a row of the gaps section).
    pub failed_calls: u64,
}

/// A rule with failing findings: the header of its group.
#[derive(Debug, Clone, Serialize)]
pub struct RuleGroup {
    /// Rule id.
    pub rule_id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// Failing findings (the rows that follow).
    pub failing: u64,
    /// The kind of resource it checks (`aws_s3_bucket`; empty for a rule not in this
    /// build).
    pub kind: String,
    /// Its citations.
    pub citations: Vec<String>,
}

/// Everything the report opens with.
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    /// The baseline's name.
    pub baseline: String,
    /// The baseline's version.
    pub baseline_version: String,
    /// When the report was made (RFC 3339).
    pub as_of: String,
    /// The snapshot reported.
    pub snapshot: SnapshotRef,
    /// The accounts asked for (empty: all).
    pub account_filter: Vec<String>,
    /// Start of the period (RFC 3339).
    pub since: String,
    /// The snapshots of the period, oldest first (the reported one last).
    pub period: Vec<PeriodSnapshot>,
    /// The snapshot's findings by status.
    pub totals: StatusCounts,
    /// Per standard.
    pub standards: Vec<StandardSummary>,
    /// The citation tree, in the baseline's order.
    pub citations: Vec<CitationNode>,
    /// Rules with failing findings, by rule id.
    pub rules: Vec<RuleGroup>,
    /// What was examined.
    pub coverage: CoverageHead,
    /// The hash chain.
    pub chain: ChainResult,
}

/// A failing finding with the snapshot it was seen in.
#[derive(Debug, Clone, Serialize)]
pub struct FailingRow {
    /// The finding, as `posture scan --format json` writes it.
    #[serde(flatten)]
    pub finding: Finding,
    /// Snapshot.
    pub snapshot_id: String,
    /// When the snapshot's collection finished (RFC 3339).
    pub snapshot_time: String,
    /// The snapshot's manifest hash.
    pub snapshot_hash: Option<String>,
}

/// One waived finding in the waiver register.
#[derive(Debug, Clone, Serialize)]
pub struct WaiverRow {
    /// The ticket that records the risk acceptance.
    pub ticket: String,
    /// Who owns the risk.
    pub owner: String,
    /// Why it is accepted.
    pub justification: String,
    /// Last day it applies.
    pub expires: String,
    /// Expired before the report was made.
    pub expired: bool,
    /// Rule.
    pub rule_id: String,
    /// Resource ARN.
    pub arn: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Whether the resource holds PHI.
    pub phi: bool,
}

/// One manual control's attestation in one account.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationRow {
    /// Manual control id.
    pub rule_id: String,
    /// Title.
    pub title: String,
    /// Account.
    pub account: String,
    /// `attested`, `missing` or `expired`.
    pub state: String,
    /// Who attested.
    pub attested_by: Option<String>,
    /// When.
    pub attested_on: Option<String>,
    /// Until when.
    pub expires: Option<String>,
    /// Where the evidence is.
    pub evidence: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// What an attestation should point to.
    pub expected_evidence: Option<String>,
    /// The verdict's reason.
    pub reason: String,
    /// Citations.
    pub citations: Vec<String>,
}

/// A call that failed, with the rules it left unverified.
#[derive(Debug, Clone, Serialize)]
pub struct GapRow {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Service.
    pub service: String,
    /// `service:Operation`.
    pub operation: String,
    /// The resource, for per-resource calls.
    pub resource: Option<String>,
    /// `denied`, `throttled`, …
    pub kind: String,
    /// AWS's error code.
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// Baseline rules that read this call, whose results there are `error`.
    pub rules: Vec<String>,
}

/// One finding transition of the period.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRow {
    /// The snapshot whose scan saw it.
    pub snapshot_id: String,
    /// When that scan started (RFC 3339).
    pub started_at: String,
    /// `new_failure`, `resolved`, `waiver_expired`, …
    pub event: String,
    /// Rule.
    pub rule_id: Option<String>,
    /// Resource.
    pub arn: String,
    /// Account (from the event, else the ARN).
    pub account: String,
    /// The event as recorded.
    pub body: serde_json::Value,
}
