//! The store runs on a thread of its own: it does blocking IO (and the PostgreSQL client
//! runs its own small runtime, which may not be nested in Tokio's). The scan talks to it
//! through a bounded channel: resources and coverage records (collections that ran, calls
//! that failed) while collecting, then one request to evaluate (`posture-pipeline`, one
//! account at a time from the staged rows) and commit. Dropping the handle without
//! finishing rolls the snapshot back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};
use posture_check::Settings;
use posture_model::{AccountId, CollectionRecord, Gap, Region, Resource, SnapshotMeta};
use posture_pipeline::{self as pipeline, Evaluated};
use posture_store::{PruneReport, SnapshotSummary, SnapshotWriter, Store, StoreLocation};
use tokio::sync::{mpsc, oneshot};

use crate::{CancellationToken, CheckInputs, Progress, ProgressFn, ScanError};

/// Resources buffered between the scan and the store thread.
const BUFFER: usize = 1024;

/// What the scan hands over when collection is over.
pub(crate) struct FinishRequest {
    pub finished_at: DateTime<Utc>,
    pub accounts: Vec<AccountId>,
    pub regions: Vec<Region>,
    pub services: Vec<String>,
    /// Services the user left out of the scan: their rules are omitted.
    pub excluded: Vec<String>,
    /// API calls made, by `service:Operation`.
    pub api_calls: BTreeMap<String, u64>,
    pub check: Arc<CheckInputs>,
    pub retention_days: Option<u32>,
    /// The daemon whose leases must hold at commit.
    pub lease_holder: Option<String>,
    /// Alert routes (the outbox).
    pub alert_routes: Vec<posture_model::alert::RouteFilter>,
    pub progress: ProgressFn,
    /// Set to stop the evaluation between accounts and roll the snapshot back.
    pub cancel: Arc<AtomicBool>,
}

/// What the store says after evaluating and committing.
pub(crate) struct Committed {
    pub meta: SnapshotMeta,
    pub evaluated: Evaluated,
    pub pruned: Option<PruneReport>,
}

/// How the finish request ended.
pub(crate) enum Finished {
    Committed(Box<Committed>),
    /// The evaluation was cancelled between accounts; the snapshot was rolled back.
    Cancelled,
}

enum Cmd {
    Put(Box<Resource>),
    Collected(CollectionRecord),
    Gap(Box<Gap>),
    Finish(
        Box<FinishRequest>,
        oneshot::Sender<Result<Finished, ScanError>>,
    ),
}

/// The scan's end of the store thread.
pub(crate) struct StoreWriter {
    tx: mpsc::Sender<Cmd>,
    thread: std::thread::JoinHandle<()>,
    location: String,
}

impl StoreWriter {
    /// Opens the store and begins a snapshot on a new thread; fails early if the store
    /// cannot be opened.
    pub async fn start(
        location: StoreLocation,
        started_at: DateTime<Utc>,
        cancel: &CancellationToken,
    ) -> Result<Option<Self>, ScanError> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let (ready_tx, ready_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("posture-store".into())
            .spawn(move || serve(location, started_at, rx, ready_tx))
            .map_err(ScanError::Thread)?;
        let location = tokio::select! {
            ready = ready_rx => ready.map_err(|_| ScanError::StoreThread)??,
            () = cancel.cancelled() => {
                // Cancelled while the store opens (it may be creating or upgrading the
                // schema): the thread finishes that, sees the scan gone and rolls back; wait
                // for it, so that nothing of this scan still runs when it returns.
                drop(tx);
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                return Ok(None);
            }
        };
        Ok(Some(Self {
            tx,
            thread,
            location,
        }))
    }

    /// Where the store is (passwords redacted).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Adds a resource to the snapshot.
    pub async fn put(&self, resource: Resource) -> Result<(), ScanError> {
        self.send(Cmd::Put(Box::new(resource))).await
    }

    /// Records a collection that ran.
    pub async fn collected(&self, record: CollectionRecord) -> Result<(), ScanError> {
        self.send(Cmd::Collected(record)).await
    }

    /// Records a call that failed.
    pub async fn gap(&self, gap: Gap) -> Result<(), ScanError> {
        self.send(Cmd::Gap(Box::new(gap))).await
    }

    async fn send(&self, cmd: Cmd) -> Result<(), ScanError> {
        self.tx.send(cmd).await.map_err(|_| ScanError::StoreThread)
    }

    /// Evaluates the snapshot from the store one account at a time, records drift,
    /// commits, and applies retention; waits for the thread to end.
    pub async fn finish(self, request: FinishRequest) -> Result<Finished, ScanError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Finish(Box::new(request), tx)).await?;
        let result = rx.await.map_err(|_| ScanError::StoreThread)?;
        drop(self.tx);
        join(self.thread).await?;
        result
    }

    /// Abandons the snapshot: the store thread rolls it back; waits for that to finish.
    pub async fn abandon(self) {
        drop(self.tx);
        // A panic on the store thread leaves nothing to roll back on this side.
        let _ = join(self.thread).await;
    }
}

/// Waits for the store thread without blocking the runtime.
async fn join(thread: std::thread::JoinHandle<()>) -> Result<(), ScanError> {
    match tokio::task::spawn_blocking(move || thread.join()).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(ScanError::StoreThread),
    }
}

fn serve(
    location: StoreLocation,
    started_at: DateTime<Utc>,
    mut rx: mpsc::Receiver<Cmd>,
    ready: oneshot::Sender<Result<String, ScanError>>,
) {
    // The receivers below only go away when the scan was abandoned; nothing to report to
    // then, and dropping the writer rolls the snapshot back.
    let mut store = match Store::open(&location) {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    let shown = store.location().to_owned();
    let mut writer = match store.begin_snapshot(started_at) {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    if ready.send(Ok(shown)).is_err() {
        return;
    }
    let mut failure: Option<ScanError> = None;
    while let Some(cmd) = rx.blocking_recv() {
        let staged = match cmd {
            Cmd::Put(r) if failure.is_none() => writer.put_resource(&r),
            Cmd::Collected(c) if failure.is_none() => writer.put_collection(&c),
            Cmd::Gap(g) if failure.is_none() => writer.put_gap(&g),
            Cmd::Put(_) | Cmd::Collected(_) | Cmd::Gap(_) => Ok(()),
            Cmd::Finish(request, reply) => {
                let answer = match failure.take() {
                    Some(e) => Err(e),
                    None => {
                        let retention = request.retention_days;
                        finish(writer, *request).map(|f| match f {
                            Some((meta, evaluated)) => {
                                let pruned = prune(&mut store, &meta, retention);
                                Finished::Committed(Box::new(Committed {
                                    meta,
                                    evaluated,
                                    pruned,
                                }))
                            }
                            None => Finished::Cancelled,
                        })
                    }
                };
                let _ = reply.send(answer);
                return;
            }
        };
        if let Err(e) = staged {
            failure = Some(e.into());
        }
    }
    // The channel closed without a commit: the scan was cancelled or failed. Dropping the
    // writer rolls the snapshot back.
}

/// Retention after the commit: a failure here leaves the snapshot stored.
fn prune(
    store: &mut Store,
    meta: &SnapshotMeta,
    retention_days: Option<u32>,
) -> Option<PruneReport> {
    let days = retention_days?;
    let before = meta.finished_at - chrono::Duration::days(i64::from(days));
    match store.prune(before) {
        Ok(report) => Some(report),
        Err(e) => {
            tracing::warn!(error = %e, "retention pruning failed; the snapshot is stored");
            None
        }
    }
}

/// Evaluates, records drift and commits (`None`: cancelled between accounts); the writer
/// is consumed (dropped on error or cancellation, which rolls the snapshot back).
fn finish(
    mut writer: SnapshotWriter<'_>,
    request: FinishRequest,
) -> Result<Option<(SnapshotMeta, Evaluated)>, ScanError> {
    let progress = Arc::clone(&request.progress);
    let mut told = |done: usize, total: usize| progress(Progress::Evaluating { done, total });
    let evaluated = match evaluate(&mut writer, &request, &mut told) {
        Ok(e) => e,
        Err(pipeline::Error::Cancelled) => return Ok(None),
        Err(e) => return Err(ScanError::Evaluate(e)),
    };
    progress(Progress::Committing);
    if let Some(holder) = &request.lease_holder {
        writer.require_leases(holder);
    }
    let meta = writer.commit(SnapshotSummary {
        finished_at: request.finished_at,
        accounts: request.accounts,
        regions: request.regions,
        services: request.services,
        api_calls: request.api_calls,
        baseline: (
            request.check.baseline.name.clone(),
            request.check.baseline.version.clone(),
        ),
    })?;
    Ok(Some((meta, evaluated)))
}

/// The one place that builds the pipeline's [`pipeline::Job`] and runs it: the evaluation
/// of the staged snapshot, account by account, with drift against each account's previous
/// scan.
fn evaluate(
    writer: &mut SnapshotWriter<'_>,
    request: &FinishRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Evaluated, pipeline::Error> {
    let check = &request.check;
    let job = pipeline::Job {
        settings: Settings {
            baseline: &check.baseline,
            waivers: check.waivers.as_ref(),
            attestations: check.attestations.as_ref(),
            phi: &check.phi,
            now: request.finished_at,
        },
        accounts: &request.accounts,
        regions: &request.regions,
        services: &request.services,
        excluded: &request.excluded,
        finished_at: request.finished_at,
        alert_routes: &request.alert_routes,
        cancel: Some(&request.cancel),
    };
    pipeline::evaluate(writer, &job, progress)
}
