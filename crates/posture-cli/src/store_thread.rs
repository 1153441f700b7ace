//! The store runs on a thread of its own: it does blocking IO (and the PostgreSQL client
//! runs its own small runtime, which may not be nested in Tokio's). The scan talks to it
//! through a bounded channel; dropping the handle without committing rolls the snapshot back.

use chrono::{DateTime, Utc};
use posture_model::{AccountId, Coverage, Finding, Region, Resource, SnapshotMeta};
use posture_store::{PruneReport, SnapshotSummary, Store, StoreLocation};
use tokio::sync::{mpsc, oneshot};

/// Resources buffered between the scan and the store thread.
const BUFFER: usize = 1024;

/// The snapshot before this one, for drift.
pub struct Previous {
    pub meta: SnapshotMeta,
    pub resources: Vec<Resource>,
    pub findings: Vec<Finding>,
}

/// What the scan hands over at the end.
pub struct CommitRequest {
    pub finished_at: DateTime<Utc>,
    pub accounts: Vec<AccountId>,
    pub regions: Vec<Region>,
    pub services: Vec<String>,
    pub coverage: Coverage,
    pub baseline: (String, String),
    pub findings: Vec<Finding>,
    pub drift: Vec<(String, Option<String>, String, serde_json::Value)>,
    pub retention_days: Option<u32>,
}

/// What the store says after committing.
pub struct Committed {
    pub meta: SnapshotMeta,
    /// The findings with `first_seen` filled in from the history.
    pub findings: Vec<Finding>,
    pub pruned: Option<PruneReport>,
}

enum Cmd {
    Put(Box<Resource>),
    Previous(oneshot::Sender<anyhow::Result<Option<Previous>>>),
    Commit(
        Box<CommitRequest>,
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

    /// The newest committed snapshot with its resources and findings.
    pub async fn previous(&self) -> anyhow::Result<Option<Previous>> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Previous(tx))
            .await
            .map_err(|_| self.gone())?;
        rx.await.map_err(|_| self.gone())?
    }

    /// Commits the snapshot and applies retention.
    pub async fn commit(self, request: CommitRequest) -> anyhow::Result<Committed> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Commit(Box::new(request), tx))
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
    // Read before the snapshot's transaction begins.
    let previous = read_previous(&mut store);
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
    let mut previous = Some(previous);
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
            Cmd::Previous(reply) => {
                let answer = previous
                    .take()
                    .unwrap_or_else(|| Err(anyhow::anyhow!("previous snapshot already taken")));
                let _ = reply.send(answer); // the scan is waiting for it; if not, it was abandoned
            }
            Cmd::Commit(request, reply) => {
                if let Some(e) = failure.take() {
                    let _ = reply.send(Err(e)); // see above
                    return;
                }
                let request = *request;
                let mut findings = request.findings;
                let committed = writer.commit(SnapshotSummary {
                    finished_at: request.finished_at,
                    accounts: request.accounts,
                    regions: request.regions,
                    services: request.services,
                    coverage: request.coverage,
                    baseline: request.baseline,
                    findings: &mut findings,
                    drift: request.drift,
                });
                let answer = match committed {
                    Ok(meta) => {
                        let pruned = match request.retention_days {
                            Some(days) => {
                                let before =
                                    request.finished_at - chrono::Duration::days(i64::from(days));
                                match store.prune(before) {
                                    Ok(report) => Some(report),
                                    Err(e) => {
                                        tracing::warn!(error = %e, "retention pruning failed; the snapshot is stored");
                                        None
                                    }
                                }
                            }
                            None => None,
                        };
                        Ok(Committed {
                            meta,
                            findings,
                            pruned,
                        })
                    }
                    Err(e) => Err(e.into()),
                };
                let _ = reply.send(answer); // see above
                return;
            }
        }
    }
    // The channel closed without a commit: the scan was interrupted or failed. Dropping the
    // writer rolls the snapshot back.
}

fn read_previous(store: &mut Store) -> anyhow::Result<Option<Previous>> {
    let Some(meta) = store.latest_snapshot()? else {
        return Ok(None);
    };
    let resources = store.resources(&meta.id)?;
    let findings = store.findings(&meta.id)?;
    Ok(Some(Previous {
        meta,
        resources,
        findings,
    }))
}
