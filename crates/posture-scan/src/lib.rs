//! The scan as a library: collect → stage in the store → evaluate account by account →
//! drift → commit → retention, behind one entry point, [`run`], so `posture scan`, the
//! daemon and an API request run the same code.
//!
//! The caller builds a typed [`ScanRequest`], receives [`Progress`] events through a
//! callback, and stops the scan with a [`CancellationToken`]: cancelled while collecting,
//! the snapshot is rolled back and nothing is stored; cancelled while evaluating, the
//! evaluation stops between accounts and rolls back, unless the snapshot was already being
//! committed ([`ScanOutcome`] says which). Nothing here prints, installs signal handlers or
//! keeps process-global state; logs go through `tracing`.

mod check;
mod store_thread;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use posture_collect::{AwsOptions, CallCounter, Clients, CollectError, Event, ScanPlan};
use posture_model::alert::RouteFilter;
use posture_model::{AccountId, IdError, Region, SnapshotMeta};
use posture_pipeline::Evaluated;
use posture_store::{PruneReport, StoreError, StoreLocation};
use tokio::sync::mpsc;

pub use check::{CheckFiles, CheckInputs, load_baseline};
pub use posture_collect::{AccountSource, Limits, RateLimit, RoleOptions, Service};
pub use tokio_util::sync::CancellationToken;

use store_thread::{FinishRequest, Finished, StoreWriter};

/// Events buffered between the collectors and the store writer.
const EVENT_BUFFER: usize = 1024;

/// Which regions to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// The region of the AWS profile (an error when it has none).
    Profile,
    /// These regions, where enabled.
    Named(Vec<Region>),
    /// Every region enabled in each account.
    All,
}

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Named profile; `None`: the SDK's credential chain.
    pub profile: Option<String>,
    /// Send every request to this URL (a local emulator).
    pub endpoint_url: Option<String>,
    /// Request budgets.
    pub limits: Limits,
    /// Attempts per call, including the first.
    pub max_attempts: u32,
}

/// One scan: what to collect, where to store it and what to check it against.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Which accounts.
    pub accounts: AccountSource,
    /// Only these accounts (empty: no restriction).
    pub include_accounts: Vec<AccountId>,
    /// Never these accounts.
    pub exclude_accounts: Vec<AccountId>,
    /// The role assumed in accounts other than the caller's.
    pub role: Option<RoleOptions>,
    /// Accounts collected at the same time.
    pub max_parallel_accounts: usize,
    /// Which regions.
    pub regions: Regions,
    /// Never these regions.
    pub exclude_regions: Vec<Region>,
    /// Services to collect.
    pub services: Vec<Service>,
    /// AWS connection and request budgets.
    pub aws: AwsSettings,
    /// Where the snapshot goes.
    pub store: StoreLocation,
    /// Baseline, waivers, attestations and PHI scope, loaded ([`CheckInputs::load`]).
    pub check: Arc<CheckInputs>,
    /// Days of history to keep; `None` keeps everything.
    pub retention_days: Option<u32>,
    /// A daemon's replica id: the commit fails (rolls back) unless it still holds its
    /// lease on every account of the snapshot (`SnapshotWriter::require_leases`).
    pub lease_holder: Option<String>,
    /// Alert routes: the alerts composed for them are written to the store's outbox with
    /// the snapshot (empty: none).
    pub alert_routes: Vec<RouteFilter>,
}

/// What the scan is doing, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A resource was staged; `resources` so far.
    Resource {
        /// Resources so far.
        resources: u64,
    },
    /// One (account, region, service) collection finished.
    Collected {
        /// Its account.
        account: AccountId,
        /// Its service, e.g. `ec2`.
        service: String,
        /// Its region, or `global`.
        region: Region,
        /// Collections finished so far.
        collections: u64,
        /// Resources so far.
        resources: u64,
        /// Calls that failed so far.
        failed_calls: u64,
    },
    /// Collection is over; evaluation begins.
    CollectionFinished {
        /// Accounts collected.
        accounts: usize,
        /// Accounts that could not be entered.
        unreachable: usize,
        /// Resources staged.
        resources: u64,
        /// Calls that failed.
        failed_calls: u64,
    },
    /// `done` of `total` accounts evaluated.
    Evaluating {
        /// Accounts evaluated.
        done: usize,
        /// Accounts in all.
        total: usize,
    },
    /// Every account is evaluated; the snapshot is being committed (no longer cancellable).
    Committing,
}

/// The progress callback; called from the scan's task and from the store's thread.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Where a cancelled scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Opening the store or collecting.
    Collecting,
    /// Evaluating, before the commit.
    Evaluating,
}

/// Something the caller should tell the user; the scan went on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// An account could not be entered (its role could not be assumed): its rules are
    /// `error` in the snapshot.
    AccountNotScanned {
        /// The account.
        account: AccountId,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::AccountNotScanned { account, reason } => {
                write!(f, "account {account} was not scanned: {reason}")
            }
        }
    }
}

/// API calls the scan made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls by `service:Operation`.
    pub calls: BTreeMap<String, u64>,
    /// HTTP attempts (calls plus retries).
    pub attempts: u64,
    /// Attempts AWS throttled.
    pub throttled: u64,
    /// Attempts AWS throttled, by service (`ec2`).
    pub throttled_by_service: BTreeMap<String, u64>,
    /// Calls that failed (each a gap in the coverage record), by service.
    pub failed_by_service: BTreeMap<String, u64>,
}

/// A stored snapshot and what the scan found.
#[derive(Debug)]
pub struct Stored {
    /// The snapshot.
    pub meta: SnapshotMeta,
    /// Finding counts, the worst failure, drift and waiver reports (the findings and the
    /// drift events are in the store).
    pub evaluated: Evaluated,
    /// What retention removed (`None`: retention off, or pruning failed, which is logged).
    pub pruned: Option<PruneReport>,
    /// API calls.
    pub calls: CallStats,
    /// Accounts not scanned, and the like.
    pub warnings: Vec<Warning>,
    /// Where the store is (passwords redacted).
    pub store: String,
    /// When the scan started.
    pub started_at: DateTime<Utc>,
    /// Cancellation was asked for while the snapshot was being committed: it is stored.
    pub cancel_requested: bool,
}

/// How a scan ended.
#[derive(Debug)]
pub enum ScanOutcome {
    /// The snapshot is stored.
    Stored(Box<Stored>),
    /// The scan was cancelled and the snapshot rolled back: the store is as it was.
    RolledBack {
        /// Where it stopped.
        during: Stage,
        /// Warnings gathered before it stopped.
        warnings: Vec<Warning>,
    },
}

/// Why a scan failed; the snapshot was rolled back. Messages say what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// No region was named and the AWS profile has none.
    #[error(
        "no region to scan: pass --region, set aws.regions in the config, or set a region in the AWS profile"
    )]
    NoRegion,
    /// The AWS profile's region is not a region name.
    #[error("the AWS profile's region {region:?}: {error}")]
    ProfileRegion {
        /// What the profile says.
        region: String,
        /// Why it is not a region.
        error: IdError,
    },
    /// The account settings leave no account.
    #[error("no account to scan: the account list, include and exclude settings leave none")]
    NoAccount,
    /// Collection could not start (identity, organization listing).
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The evaluation failed.
    #[error(transparent)]
    Evaluate(posture_pipeline::Error),
    /// A checker input file could not be read.
    #[error("cannot read {what} {}: {error}", path.display())]
    ReadInput {
        /// baseline, waivers or attestations.
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The baseline, a waiver or an attestation file is invalid (the message names the
    /// file and line).
    #[error(transparent)]
    Load(#[from] posture_check::LoadError),
    /// Custom rules without valid metadata, duplicate ids or an unreadable rules directory
    /// (each line names the file, and the line when known). A rule whose policy alone does
    /// not compile is not this: it answers `error` in the scan.
    #[error("the custom rules (check.rules_dirs / --rules) do not load; `posture rules lint DIR` shows the same:\n{}", .0.join("\n"))]
    CustomRules(Vec<String>),
    /// The PHI tag scope is invalid.
    #[error("check.phi_tags: {0}")]
    PhiTags(posture_check::PhiScopeError),
    /// The store's thread could not be started.
    #[error("cannot start the store thread: {0}")]
    Thread(std::io::Error),
    /// The store's thread ended unexpectedly (a panic, logged where it happened).
    #[error(
        "the store thread stopped unexpectedly; this is a bug: please report it with the output of -vv"
    )]
    StoreThread,
    /// The collectors' task ended unexpectedly (a panic).
    #[error(
        "the collector task failed: {0}; this is a bug: please report it with the output of -vv"
    )]
    CollectorTask(String),
}

/// Runs one scan: resolves the region, opens the store and begins a snapshot, collects
/// into it, evaluates account by account, commits and applies retention. `progress` is
/// told what happens; `cancel` stops it (see [`ScanOutcome`]).
pub async fn run(
    request: ScanRequest,
    progress: impl Fn(Progress) + Send + Sync + 'static,
    cancel: CancellationToken,
) -> Result<ScanOutcome, ScanError> {
    let rolled_back = || ScanOutcome::RolledBack {
        during: Stage::Collecting,
        warnings: Vec::new(),
    };
    let Some((clients, plan)) = connect(&request, &cancel).await? else {
        return Ok(rolled_back());
    };
    let counter = clients.counter().clone();
    let scan = Scan {
        store: request.store,
        check: request.check,
        retention_days: request.retention_days,
        lease_holder: request.lease_holder,
        alert_routes: request.alert_routes,
        services: request.services,
        counter,
        progress: Arc::new(progress),
        cancel,
    };
    scan.execute(move |tx| async move { posture_collect::collect(&clients, &plan, tx).await })
        .await
}

/// The accounts `request` would scan (after include and exclude), sorted, without scanning
/// them: the caller's account, the listed ones or the organization's active accounts. A
/// scheduler splits them into batches, each a scan of `AccountSource::List`. `None` when
/// cancelled.
pub async fn resolve_accounts(
    request: &ScanRequest,
    cancel: &CancellationToken,
) -> Result<Option<Vec<AccountId>>, ScanError> {
    let Some((clients, plan)) = connect(request, cancel).await? else {
        return Ok(None);
    };
    tokio::select! {
        accounts = posture_collect::plan_accounts(&clients, &plan) => Ok(Some(accounts?)),
        () = cancel.cancelled() => Ok(None),
    }
}

/// The clients and collection plan of `request`, with its region resolved; `None` when
/// cancelled first.
async fn connect(
    request: &ScanRequest,
    cancel: &CancellationToken,
) -> Result<Option<(Clients, ScanPlan)>, ScanError> {
    let (mut regions, all) = match &request.regions {
        Regions::Profile => (Vec::new(), false),
        Regions::Named(r) => (r.clone(), false),
        Regions::All => (Vec::new(), true),
    };
    let options = AwsOptions {
        profile: request.aws.profile.clone(),
        endpoint_url: request.aws.endpoint_url.clone(),
        home_region: regions.first().map(|r| r.as_str().to_owned()),
        limits: request.aws.limits.clone(),
        max_attempts: request.aws.max_attempts,
    };
    let clients = tokio::select! {
        clients = Clients::load(&options) => clients,
        () = cancel.cancelled() => return Ok(None),
    };
    if regions.is_empty() && !all {
        let region = clients.configured_region().ok_or(ScanError::NoRegion)?;
        regions.push(
            Region::new(region.clone())
                .map_err(|error| ScanError::ProfileRegion { region, error })?,
        );
    }
    let plan = ScanPlan {
        accounts: request.accounts.clone(),
        include_accounts: request.include_accounts.clone(),
        exclude_accounts: request.exclude_accounts.clone(),
        role: request.role.clone(),
        regions,
        exclude_regions: request.exclude_regions.clone(),
        services: request.services.clone(),
        max_parallel_accounts: request.max_parallel_accounts,
    };
    Ok(Some((clients, plan)))
}

/// A scan once its clients exist: everything from opening the store on. The collector is
/// a parameter so the store, evaluation and cancellation can be tested without AWS.
struct Scan {
    store: StoreLocation,
    check: Arc<CheckInputs>,
    retention_days: Option<u32>,
    lease_holder: Option<String>,
    alert_routes: Vec<RouteFilter>,
    services: Vec<Service>,
    counter: CallCounter,
    progress: ProgressFn,
    cancel: CancellationToken,
}

impl Scan {
    async fn execute<C, F>(self, collector: C) -> Result<ScanOutcome, ScanError>
    where
        C: FnOnce(mpsc::Sender<Event>) -> F,
        F: Future<Output = Result<posture_collect::ScanOutcome, CollectError>> + Send + 'static,
    {
        let progress = self.progress;
        let cancel = self.cancel;
        let started_at = Utc::now();
        let Some(store) = StoreWriter::start(self.store, started_at, &cancel).await? else {
            return Ok(ScanOutcome::RolledBack {
                during: Stage::Collecting,
                warnings: Vec::new(),
            });
        };
        let location = store.location().to_owned();

        let (tx, mut rx) = mpsc::channel(EVENT_BUFFER);
        let collector = tokio::spawn(collector(tx));
        let (mut resources, mut collections, mut failed_calls) = (0u64, 0u64, 0u64);
        let mut failed_by_service: BTreeMap<String, u64> = BTreeMap::new();
        loop {
            let staged = tokio::select! {
                event = rx.recv() => match event {
                    Some(Event::Resource(r)) => {
                        resources += 1;
                        progress(Progress::Resource { resources });
                        store.put(*r).await
                    }
                    Some(Event::Gap(g)) => {
                        failed_calls += 1;
                        *failed_by_service.entry(g.service.clone()).or_default() += 1;
                        store.gap(g).await
                    }
                    Some(Event::Collected(c)) => {
                        collections += 1;
                        progress(Progress::Collected {
                            account: c.account.clone(),
                            service: c.service.clone(),
                            region: c.region.clone(),
                            collections,
                            resources,
                            failed_calls,
                        });
                        store.collected(c).await
                    }
                    None => break,
                },
                () = cancel.cancelled() => {
                    collector.abort();
                    store.abandon().await; // rolls the snapshot back: the store stays as it was
                    return Ok(ScanOutcome::RolledBack { during: Stage::Collecting, warnings: Vec::new() });
                }
            };
            if let Err(e) = staged {
                collector.abort();
                store.abandon().await;
                return Err(e);
            }
        }
        let collected = match collector.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                store.abandon().await;
                return Err(e.into());
            }
            Err(e) => {
                store.abandon().await;
                return Err(ScanError::CollectorTask(e.to_string()));
            }
        };
        let warnings: Vec<Warning> = collected
            .unreachable
            .iter()
            .map(|(account, reason)| Warning::AccountNotScanned {
                account: account.clone(),
                reason: reason.clone(),
            })
            .collect();
        if collected.accounts.is_empty() && collected.unreachable.is_empty() {
            store.abandon().await;
            return Err(ScanError::NoAccount);
        }

        progress(Progress::CollectionFinished {
            accounts: collected.accounts.len(),
            unreachable: collected.unreachable.len(),
            resources,
            failed_calls,
        });
        let service_names: Vec<String> = self
            .services
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        let excluded = posture_pipeline::excluded_services(&service_names);
        // Evaluation, drift and commit run on the store's thread, one account at a time.
        let stop = Arc::new(AtomicBool::new(false));
        let finishing = store.finish(FinishRequest {
            finished_at: Utc::now(),
            accounts: collected.accounts,
            regions: collected.regions,
            services: service_names,
            excluded,
            api_calls: self.counter.snapshot(),
            check: self.check,
            retention_days: self.retention_days,
            lease_holder: self.lease_holder,
            alert_routes: self.alert_routes,
            progress: Arc::clone(&progress),
            cancel: Arc::clone(&stop),
        });
        tokio::pin!(finishing);
        let (finished, cancel_requested) = tokio::select! {
            finished = &mut finishing => (finished?, false),
            () = cancel.cancelled() => {
                // Stop between accounts; the store thread rolls back unless it was already
                // committing, and is waited for either way.
                stop.store(true, Ordering::Relaxed);
                (finishing.await?, true)
            }
        };
        let committed = match finished {
            Finished::Committed(c) => *c,
            Finished::Cancelled => {
                return Ok(ScanOutcome::RolledBack {
                    during: Stage::Evaluating,
                    warnings,
                });
            }
        };
        Ok(ScanOutcome::Stored(Box::new(Stored {
            calls: CallStats {
                calls: committed.meta.coverage.api_calls.clone(),
                attempts: self.counter.attempts(),
                throttled: self.counter.throttled(),
                throttled_by_service: self.counter.throttled_by_service(),
                failed_by_service,
            },
            meta: committed.meta,
            evaluated: committed.evaluated,
            pruned: committed.pruned,
            warnings,
            store: location,
            started_at,
            cancel_requested,
        })))
    }
}

#[cfg(test)]
mod tests;
