//! The evidence report: what a compliance officer shows an auditor, per HIPAA standard
//! (164.308, 164.310, 164.312, 164.316), read from the store.
//!
//! [`write`] reads the store in two passes. The first ([`gather`]) computes what the report
//! opens with, in counts: findings per (rule, status) of the snapshot and of every snapshot
//! of the period (grouped queries, never the findings themselves), the citation tree of the
//! baseline with each control's status, the attestation state of the manual controls, the
//! coverage matrix (region × service) and the hash-chain verification. The second walks
//! the sections (failing resources per rule, waivers, attestations, failed calls, drift),
//! reading a page of the store at a time and handing each page to the format's [`Sink`],
//! which writes it at once. Memory follows a page plus the baseline's size, never the
//! estate's: a report of 100,000 findings holds at most [`PAGE`] of them.
//!
//! Invariants: read-only (the store is opened by the caller with `open_existing`); no clock
//! (`as_of` is passed in); output sorted by stable keys (standard, citation, rule, account,
//! region, ARN), so two reports of the same store and `as_of` are byte-identical; field
//! names follow `posture scan --format json` (`snapshot_id`, `rule_id`,
//! `resource{arn,kind,account,region,tags}`, `citations`, `evidence`, `phi`). Depends on the
//! model, the store and the checker's baseline only.

mod bundle;
mod csv_out;
mod gather;
mod html;
mod json;
mod markdown;
mod model;
mod ocsf;
mod sarif;
mod sink;
mod svg;
mod verify;

use std::io::Write;

use chrono::{DateTime, Utc};
use posture_check::Baseline;
use posture_model::AccountId;
use posture_store::{Store, StoreError};

pub use bundle::{
    BUNDLE_FORMAT, BundleManifest, BundleWritten, ChainRecord, FileRecord, KeyError, MANIFEST,
    PublicKey, SIGNATURE, SignatureFile, SigningKey, SnapshotRecord, is_archive, write_bundle,
};
pub use ocsf::OCSF_VERSION;
pub use sarif::SARIF_SCHEMA;
pub use verify::{BundleCheck, check_store, verify_bundle};

pub use model::{
    AttestationRow, ChainResult, CitationNode, CoverageCell, DriftRow, FailingRow, GapRow, Head,
    RuleGroup, RuleNode, SnapshotRef, StandardSummary, StatusCounts, TrendPoint, WaiverRow,
};

/// Findings, failed calls and drift events are read this many at a time.
pub const PAGE: usize = 1_000;

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One self-contained HTML file: inline CSS, no script, expandable details, a print
    /// stylesheet with a page per standard.
    Html,
    /// One JSON document with every section.
    Json,
    /// One row per finding of the snapshot (every status), with its citations and PHI flag.
    Csv,
    /// Markdown for tickets.
    Markdown,
    /// OCSF Compliance Finding events (OCSF [`OCSF_VERSION`], `cloud` profile), one per
    /// finding of every status, as a JSON array.
    Ocsf,
    /// SARIF 2.1.0: failures, waived failures (suppressed) and errors (`open`) as results.
    Sarif,
}

/// Which snapshot the report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snapshot {
    /// The newest.
    Latest,
    /// This id.
    Id(String),
}

/// What to report.
#[derive(Debug)]
pub struct Request<'a> {
    /// The format.
    pub format: Format,
    /// The snapshot whose findings are reported.
    pub snapshot: Snapshot,
    /// The start of the period (trend and drift timeline); `None`: 30 days before the
    /// snapshot.
    pub since: Option<DateTime<Utc>>,
    /// Only these accounts (empty: every account of the snapshot).
    pub accounts: &'a [AccountId],
    /// The baseline whose citation tree the report follows.
    pub baseline: &'a Baseline,
    /// When the report is made: waivers that expired before it are flagged. Passed in, so
    /// a report is reproducible.
    pub as_of: DateTime<Utc>,
}

/// What a report held, for the command's message and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The snapshot reported.
    pub snapshot_id: String,
    /// Findings counted in the snapshot (within the accounts asked for).
    pub findings: u64,
    /// Failing findings written.
    pub failing: u64,
    /// Snapshots in the period.
    pub period_snapshots: usize,
    /// Whether the hash chain verified.
    pub chain_intact: bool,
}

/// A report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store has no snapshot yet.
    #[error("the store has no snapshots yet: run `posture scan` first")]
    Empty,
    /// An account asked for is not in the snapshot.
    #[error("account {account} is not in snapshot {snapshot} (its accounts: {accounts})")]
    NoSuchAccount {
        /// The account.
        account: String,
        /// The snapshot.
        snapshot: String,
        /// The accounts it has.
        accounts: String,
    },
    /// Writing the output failed.
    #[error("cannot write the report")]
    Io(#[from] std::io::Error),
    /// Rendering a template failed.
    #[error("cannot render the report")]
    Template(#[from] minijinja::Error),
    /// Writing CSV failed.
    #[error("cannot write the CSV report")]
    Csv(#[from] csv::Error),
    /// The bundle's destination exists: a bundle never overwrites anything.
    #[error("{} already exists: give the bundle a new path (a bundle never overwrites one)", .0.display())]
    Exists(std::path::PathBuf),
    /// The destination names no file.
    #[error("{}: not a file or directory name", .0.display())]
    NotAFileName(std::path::PathBuf),
    /// Serialising JSON failed.
    #[error("cannot write the JSON report")]
    Json(#[from] serde_json::Error),
}

/// Writes the report `request` asks for to `out`, reading `store` a page at a time.
pub fn write(
    store: &mut Store,
    request: &Request<'_>,
    out: &mut dyn Write,
) -> Result<Written, ReportError> {
    let head = gather::head(store, request)?;
    let failing = match request.format {
        Format::Csv => csv_out::write(store, &head, request, out)?,
        Format::Html => sink::walk(store, &head, request, &mut html::Html::new(out)?)?,
        Format::Json => sink::walk(store, &head, request, &mut json::Json::new(out))?,
        Format::Markdown => sink::walk(store, &head, request, &mut markdown::Markdown::new(out))?,
        Format::Ocsf => ocsf::write(store, &head, request, out)?,
        Format::Sarif => sarif::write(store, &head, request, out)?,
    };
    Ok(Written {
        snapshot_id: head.snapshot.snapshot_id.clone(),
        findings: head.totals.total(),
        failing,
        period_snapshots: head.period.len(),
        chain_intact: head.chain.intact,
    })
}
