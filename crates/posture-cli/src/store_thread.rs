//! The store runs on a thread of its own: it does blocking IO (and the PostgreSQL client
//! runs its own small runtime, which may not be nested in Tokio's). The scan talks to it
//! through a bounded channel: resources and coverage records (collections that ran, calls
//! that failed) while collecting, then one request to evaluate
//! (`posture-pipeline`, one account at a time from the staged rows) and commit. Dropping the
//! handle without finishing rolls the snapshot back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};
use posture_check::Settings;
use posture_model::{AccountId, CollectionRecord, Gap, Region, Resource, SnapshotMeta};
use posture_pipeline::{self as pipeline, Evaluated};
use posture_store::{PruneReport, SnapshotSummary, SnapshotWriter, Store, StoreLocation};

use tokio::sync::{mpsc, oneshot};

use crate::cli::CheckInputs;

/// Resources buffered between the scan and the store thread.
const BUFFER: usize = 1024;

/// What the scan hands over when collection is over.
pub struct FinishRequest {
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
    /// Told (accounts evaluated, accounts in all).
    pub progress: Box<dyn FnMut(usize, usize) + Send>,
    /// Set to stop the evaluation between accounts and roll the snapshot back.
    pub cancel: Arc<AtomicBool>,
}

/// What the store says after evaluating and committing.
pub struct Committed {
    pub meta: SnapshotMeta,
    pub evaluated: Evaluated,
    pub pruned: Option<PruneReport>,
}

enum Cmd {
    Put(Box<Resource>),
    Collected(CollectionRecord),
    Gap(Box<Gap>),
    Finish(
        Box<FinishRequest>,
        oneshot::Sender<anyhow::Result<Committed>>,
    ),
}

/// The scan's end of the store thread.
pub struct StoreWriter {
    tx: mpsc::Sender<Cmd>,
    thread: std::thread::JoinHandle<()>,
    location: String,
}

impl StoreWriter {
    /// Opens the store and begins a snapshot on a new thread; fails early if the store
    /// cannot be opened.
    pub async fn start(location: StoreLocation, started_at: DateTime<Utc>) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let (ready_tx, ready_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("posture-store".into())
            .spawn(move || serve(location, started_at, rx, ready_tx))?;
        let location = ready_rx
            .await
            .map_err(|_| anyhow::anyhow!("the store thread stopped while opening the store"))??;
        Ok(Self {
            tx,
            thread,
            location,
        })
    }

    /// Where the store is (passwords redacted).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Adds a resource to the snapshot.
    pub async fn put(&self, resource: Resource) -> anyhow::Result<()> {
        self.tx
            .send(Cmd::Put(Box::new(resource)))
            .await
            .map_err(|_| self.gone())
    }

    /// Records a collection that ran.
    pub async fn collected(&self, record: CollectionRecord) -> anyhow::Result<()> {
        self.tx
            .send(Cmd::Collected(record))
            .await
            .map_err(|_| self.gone())
    }

    /// Records a call that failed.
    pub async fn gap(&self, gap: Gap) -> anyhow::Result<()> {
        self.tx
            .send(Cmd::Gap(Box::new(gap)))
            .await
            .map_err(|_| self.gone())
    }

    /// Evaluates the snapshot from the store one account at a time, records drift,
    /// commits, and applies retention.
    pub async fn finish(self, request: FinishRequest) -> anyhow::Result<Committed> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Finish(Box::new(request), tx))
            .await
            .map_err(|_| self.gone())?;
        let result = rx.await.map_err(|_| self.gone())?;
        drop(self.tx);
        // The thread ends right after answering; a panic there has already been reported.
        if self.thread.join().is_err() {
            anyhow::bail!("the store thread panicked after committing");
        }
        result
    }

    /// Abandons the snapshot: the store thread rolls it back; waits for that to finish.
    pub fn abandon(self) {
        drop(self.tx);
        // A panic on the store thread has already been reported; nothing more to do here.
        let _ = self.thread.join();
    }

    fn gone(&self) -> anyhow::Error {
        anyhow::anyhow!("the store thread stopped unexpectedly (see the error above)")
    }
}

fn serve(
    location: StoreLocation,
    started_at: DateTime<Utc>,
    mut rx: mpsc::Receiver<Cmd>,
    ready: oneshot::Sender<anyhow::Result<String>>,
) {
    let mut store = match Store::open(&location) {
        Ok(s) => s,
        Err(e) => {
            // The receiver only goes away if the scan was abandoned; nothing to report to then.
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    let shown = store.location().to_owned();
    let mut writer = match store.begin_snapshot(started_at) {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(Err(e.into())); // see above
            return;
        }
    };
    if ready.send(Ok(shown)).is_err() {
        return; // the scan was abandoned; dropping the writer rolls back
    }
    let mut failure: Option<anyhow::Error> = None;
    while let Some(cmd) = rx.blocking_recv() {
        match cmd {
            Cmd::Put(r) => {
                if failure.is_none()
                    && let Err(e) = writer.put_resource(&r)
                {
                    failure = Some(e.into());
                }
            }
            Cmd::Collected(c) => {
                if failure.is_none()
                    && let Err(e) = writer.put_collection(&c)
                {
                    failure = Some(e.into());
                }
            }
            Cmd::Gap(g) => {
                if failure.is_none()
                    && let Err(e) = writer.put_gap(&g)
                {
                    failure = Some(e.into());
                }
            }
            Cmd::Finish(request, reply) => {
                if let Some(e) = failure.take() {
                    let _ = reply.send(Err(e)); // see above
                    return;
                }
                let answer = finish(writer, *request).map(|(meta, evaluated, retention)| {
                    let pruned = retention.and_then(|days| {
                        let before = meta.finished_at - chrono::Duration::days(i64::from(days));
                        match store.prune(before) {
                            Ok(report) => Some(report),
                            Err(e) => {
                                tracing::warn!(error = %e, "retention pruning failed; the snapshot is stored");
                                None
                            }
                        }
                    });
                    Committed {
                        meta,
                        evaluated,
                        pruned,
                    }
                });
                let _ = reply.send(answer); // see above
                return;
            }
        }
    }
    // The channel closed without a commit: the scan was interrupted or failed. Dropping the
    // writer rolls the snapshot back.
}

/// Evaluates, records drift and commits; the writer is consumed (dropped on error, which
/// rolls the snapshot back).
fn finish(
    mut writer: SnapshotWriter<'_>,
    mut request: FinishRequest,
) -> anyhow::Result<(SnapshotMeta, Evaluated, Option<u32>)> {
    let check = Arc::clone(&request.check);
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
        cancel: Some(&request.cancel),
    };
    let evaluated = pipeline::evaluate(&mut writer, &job, &mut *request.progress)?;
    let meta = writer.commit(SnapshotSummary {
        finished_at: request.finished_at,
        accounts: request.accounts,
        regions: request.regions,
        services: request.services,
        api_calls: request.api_calls,
        baseline: (check.baseline.name.clone(), check.baseline.version.clone()),
    })?;
    Ok((meta, evaluated, request.retention_days))
}
