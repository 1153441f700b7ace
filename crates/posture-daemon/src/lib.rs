//! The daemon's workers: scans on a schedule, one at a time, with scans asked for through the
//! API queued between them; accounts claimed through leases in the store so that replicas
//! sharing a PostgreSQL store split each cycle and a restart resumes it; failed cycles
//! retried with backoff; metrics; graceful shutdown.
//!
//! A cycle starts at each tick of the schedule. The worker resolves the configured accounts
//! (the caller's, a list, or the organization's), then claims a batch of those not yet
//! covered by a snapshot started since the tick (`Store::claim_accounts`), scans the batch
//! with `posture_scan::run` (one snapshot), releases the leases after the commit, and
//! claims again until nothing is left. While a batch is scanned its leases are renewed
//! every third of their length; a replica that finds a lease taken over (it stalled past
//! the lease) stops that scan, which rolls back. A daemon restarted under the same replica
//! id takes its leases back at once and scans only what the cycle still lacks. The store is
//! used from blocking threads only.
//!
//! Nothing here prints or handles signals: the binary owns the process, cancels
//! [`Handle::shutdown`]'s token on SIGTERM and waits for [`start`]'s task.

mod metrics;
mod scans;
pub mod schedule;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use posture_model::AccountId;
use posture_scan::{AccountSource, CancellationToken, Progress, ScanOutcome, ScanRequest};
use posture_store::{Reach, Store, StoreError, StoreLocation};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use metrics::Metrics;
pub use scans::{ScanProgress, ScanRecord, State, Trigger};
pub use schedule::{Backoff, Schedule};

use scans::{MAX_QUEUED, Scans};

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// When cycles start.
    pub schedule: Schedule,
    /// The largest random delay added to each cycle's start.
    pub jitter: Duration,
    /// How long a claim on an account lasts unrenewed.
    pub lease: Duration,
    /// This replica's name in the leases.
    pub replica_id: String,
    /// Accounts per scan (one snapshot each).
    pub batch: usize,
    /// Delays between retries of a failed cycle.
    pub backoff: Backoff,
    /// The scan of the configured accounts; each batch is this with its accounts listed.
    pub request: ScanRequest,
    /// Scans remembered for the API.
    pub history: usize,
    /// Notified after each stored snapshot (the alert delivery worker waits on it: the
    /// snapshot's alerts are in the outbox).
    pub stored: Option<Arc<Notify>>,
}

/// Why a scan could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The daemon is stopping.
    #[error("the daemon is shutting down")]
    ShuttingDown,
    /// Too many scans are queued.
    #[error("{0} scans are queued already; wait for them (GET /api/v1/scans) and ask again")]
    QueueFull(usize),
}

/// The running daemon, for the API: submit scans, read their state, metrics, readiness,
/// and stop it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: DaemonOptions,
    store: StoreLocation,
    metrics: Metrics,
    scans: Mutex<Scans>,
    wake: Notify,
    shutdown: CancellationToken,
    started: DateTime<Utc>,
    /// The newest scan of the daemon's accounts (any replica's): what readiness reads.
    freshest: Mutex<Option<DateTime<Utc>>>,
    /// Why the last cycle failed, until one succeeds.
    last_failure: Mutex<Option<String>>,
    /// The record of a cycle waiting for accounts other replicas hold, and its cycle.
    waiting: Mutex<Option<(DateTime<Utc>, String)>>,
}

/// Starts the worker. It runs until `shutdown` is cancelled: then the scan in progress is
/// cancelled (rolled back unless it was committing), queued scans are marked cancelled and
/// the leases released, and the task ends.
pub fn start(options: DaemonOptions, shutdown: CancellationToken) -> (Handle, JoinHandle<()>) {
    start_with_metrics(options, Metrics::new(), shutdown)
}

/// [`start`] with `metrics` built by the caller ([`Metrics::with`]), so series of other
/// workers (alert deliveries) are served on the same `/metrics`.
pub fn start_with_metrics(
    options: DaemonOptions,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> (Handle, JoinHandle<()>) {
    let prefix = format!(
        "{}-{}",
        options.replica_id,
        Utc::now().format("%Y%m%dT%H%M%S")
    );
    let inner = Arc::new(Inner {
        store: options.request.store.clone(),
        scans: Mutex::new(Scans::new(options.history, prefix)),
        options,
        metrics,
        wake: Notify::new(),
        shutdown,
        started: Utc::now(),
        freshest: Mutex::new(None),
        last_failure: Mutex::new(None),
        waiting: Mutex::new(None),
    });
    let task = tokio::spawn(Arc::clone(&inner).run());
    (Handle { inner }, task)
}

impl Handle {
    /// Queues a scan of `accounts` (empty: the configured set), or joins the queued or
    /// running scan of exactly those accounts. Returns its id and whether it existed.
    pub fn submit(&self, mut accounts: Vec<AccountId>) -> Result<(String, bool), SubmitError> {
        accounts.sort();
        accounts.dedup();
        let key = (!accounts.is_empty()).then_some(accounts);
        let mut scans = self.inner.lock_scans();
        // Under the lock: the worker cancels what is queued under it after shutdown begins,
        // so a scan is either refused here or cancelled there, never left queued.
        if self.inner.shutdown.is_cancelled() {
            return Err(SubmitError::ShuttingDown);
        }
        if let Some(r) = scans.active_with(&key) {
            return Ok((r.id.clone(), true));
        }
        let queued = scans.queued();
        if queued >= MAX_QUEUED {
            return Err(SubmitError::QueueFull(queued));
        }
        let id = scans.add(Trigger::Api, key, State::Queued, Utc::now());
        drop(scans);
        self.inner.wake.notify_one();
        Ok((id, false))
    }

    /// One scan.
    pub fn scan(&self, id: &str) -> Option<ScanRecord> {
        self.inner.lock_scans().get(id).cloned()
    }

    /// Recent scans, newest first.
    pub fn scans(&self) -> Vec<ScanRecord> {
        self.inner.lock_scans().all()
    }

    /// The metrics, as OpenMetrics text.
    pub fn metrics(&self) -> String {
        self.inner.metrics.render()
    }

    /// The metrics registry (for series other crates add, such as alert deliveries).
    pub fn metrics_registry(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Ready when the newest scan of the daemon's accounts (any replica's) started in the
    /// current or the previous cycle of the schedule (less jitter): for a regular schedule,
    /// less than about twice its period ago. Before any scan, ready while the daemon itself
    /// is that young and no cycle has failed.
    pub fn readiness(&self) -> Result<(), String> {
        let now = Utc::now();
        let options = &self.inner.options;
        let limit = options
            .schedule
            .previous_cycle_start(now)
            .checked_sub_signed(delta(options.jitter))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let freshest = *self
            .inner
            .freshest
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let failure = self
            .inner
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match (freshest, failure) {
            (Some(at), _) if at >= limit => Ok(()),
            (Some(at), failure) => Err(format!(
                "the newest scan started at {}, before the previous cycle of the schedule ({}){}",
                at.to_rfc3339(),
                limit.to_rfc3339(),
                failure
                    .map(|f| format!("; the last cycle failed: {f}"))
                    .unwrap_or_default()
            )),
            (None, Some(f)) => Err(format!("no scan is stored; the last cycle failed: {f}")),
            (None, None) if self.inner.started >= limit => Ok(()),
            (None, None) => Err(format!(
                "no scan of the configured accounts has been stored since the daemon started at {}",
                self.inner.started.to_rfc3339()
            )),
        }
    }

    /// The token that stops the daemon.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }
}

/// How a cycle's work ended.
enum CycleEnd {
    /// Every account is covered.
    Done,
    /// Accounts remain that other replicas hold: look again later.
    Waiting,
}

/// Why a cycle stopped early.
enum Stop {
    Shutdown,
    Failed(String),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Failed(e.to_string())
    }
}

impl Inner {
    fn lock_scans(&self) -> std::sync::MutexGuard<'_, Scans> {
        // A panic while a record was updated leaves a valid registry.
        self.scans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_freshest(&self, at: DateTime<Utc>) {
        let mut f = self.freshest.lock().unwrap_or_else(PoisonError::into_inner);
        if f.is_none_or(|old| old < at) {
            *f = Some(at);
            #[allow(clippy::cast_precision_loss, reason = "Unix seconds fit f64 exactly")]
            self.metrics.last_success(at.timestamp() as f64);
        }
    }

    /// Runs `f` on a blocking thread with the store open.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Stop> {
        let location = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&mut Store::open(&location)?)).await {
            Ok(r) => r.map_err(Stop::from),
            Err(e) => Err(Stop::Failed(format!("the store task failed: {e}"))),
        }
    }

    async fn run(self: Arc<Self>) {
        tracing::info!(
            replica = %self.options.replica_id,
            store = %self.store,
            "daemon started"
        );
        self.refresh_store_metrics().await;
        // Readiness before the first cycle ends: the store's newest scan.
        if let Ok(Some(at)) = self
            .with_store(|s| {
                // A snapshot's `accounts` are those it entered: one that entered none is no
                // success.
                Ok(s.latest_snapshot()?
                    .filter(|m| !m.accounts.is_empty())
                    .map(|m| m.started_at))
            })
            .await
        {
            self.set_freshest(at);
        }
        let schedule = self.options.schedule.clone();
        let mut failures = 0u32;
        // The current cycle may be unfinished (a restart): look at once. `None`: the
        // schedule never fires again; only requested scans run.
        let mut wake = Some(Utc::now());
        while !self.shutdown.is_cancelled() {
            let queued = self.lock_scans().next_queued();
            if let Some(record) = queued {
                // A failed request is reported on its record; the loop goes on either way.
                let _ = self.run_requested(record).await;
                continue;
            }
            let now = Utc::now();
            if wake.is_some_and(|w| now >= w) {
                let next = schedule
                    .next_tick(now)
                    .and_then(|t| t.checked_add_signed(jitter(self.options.jitter)));
                if next.is_none() {
                    tracing::error!(
                        "the schedule never fires again; only scans requested through the API will run"
                    );
                }
                let soon = |d: Duration| {
                    let at = Utc::now().checked_add_signed(delta(d));
                    match (next, at) {
                        (Some(n), Some(a)) => Some(n.min(a)),
                        (n, a) => n.or(a),
                    }
                };
                wake = match self.run_cycle(schedule.cycle_start(now)).await {
                    Ok(CycleEnd::Done) => {
                        failures = 0;
                        next
                    }
                    Ok(CycleEnd::Waiting) => {
                        failures = 0;
                        soon(self.options.lease / 2)
                    }
                    Err(Stop::Shutdown) => continue,
                    Err(Stop::Failed(error)) => {
                        failures = failures.saturating_add(1);
                        self.metrics.retried();
                        let delay = self.options.backoff.delay(failures);
                        tracing::error!(
                            %error,
                            failures,
                            retry_in_s = delay.as_secs(),
                            "the scheduled scan failed; retrying with backoff"
                        );
                        soon(delay)
                    }
                };
                if let Some(w) = wake {
                    tracing::debug!(next = %w.to_rfc3339(), "next scheduled look");
                }
                continue;
            }
            let sleep = wake.map(|w| (w - now).to_std().unwrap_or(Duration::ZERO));
            tokio::select! {
                () = sleep_or_forever(sleep) => {}
                () = self.wake.notified() => {}
                () = self.shutdown.cancelled() => {}
            }
        }
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((_, id)) = waiting {
            self.finish(Some(&id), &Err(Stop::Shutdown));
        }
        self.lock_scans().cancel_queued(Utc::now());
        tracing::info!("daemon stopped");
    }

    /// The configured accounts, resolved now (an organization's change between cycles).
    async fn configured_accounts(&self) -> Result<Vec<AccountId>, Stop> {
        match posture_scan::resolve_accounts(&self.options.request, &self.shutdown).await {
            Ok(Some(accounts)) => Ok(accounts),
            Ok(None) => Err(Stop::Shutdown),
            Err(e) => Err(Stop::Failed(format!(
                "cannot resolve the accounts to scan: {e}"
            ))),
        }
    }

    /// One scheduled cycle: claim and scan batches until none is left for this replica.
    async fn run_cycle(&self, cycle: DateTime<Utc>) -> Result<CycleEnd, Stop> {
        let accounts = match self.configured_accounts().await {
            Ok(a) => a,
            Err(e) => {
                if let Stop::Failed(f) = &e {
                    *self
                        .last_failure
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(f.clone());
                }
                return Err(e);
            }
        };
        // A cycle left waiting for other replicas goes on in the same record.
        let mut record: Option<String> = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            match waiting.take() {
                Some((c, id)) if c == cycle => Some(id),
                Some((_, id)) => {
                    // A new cycle began: the old one ends with what was done.
                    self.finish(Some(&id), &Ok(CycleEnd::Done));
                    None
                }
                None => None,
            }
        };
        let end = self
            .work(cycle, &accounts, Trigger::Schedule, &mut record, false)
            .await;
        match (&end, &record) {
            (Ok(CycleEnd::Waiting), Some(id)) => {
                self.lock_scans()
                    .update(id, |r| r.progress.phase = "waiting".into());
                *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((cycle, id.clone()));
            }
            _ => self.finish(record.as_deref(), &end),
        }
        let mut failure = self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &end {
            Ok(_) => *failure = None,
            Err(Stop::Failed(e)) => *failure = Some(e.clone()),
            Err(Stop::Shutdown) => {}
        }
        end
    }

    /// A scan asked for through the API: its accounts, each covered by a snapshot started
    /// after the request (by this replica, or by another that held the account).
    async fn run_requested(&self, record: ScanRecord) -> Result<(), Stop> {
        let now = Utc::now();
        self.lock_scans().update(&record.id, |r| {
            r.state = State::Running;
            r.started_at = Some(now);
        });
        // Only configured accounts: a token holder may not point the scanner's role at an
        // account the operator did not configure.
        let accounts = match (self.configured_accounts().await, &record.accounts) {
            (Ok(configured), Some(asked)) => match asked.iter().find(|a| !configured.contains(a)) {
                Some(outside) => Err(Stop::Failed(format!(
                    "account {outside} is not among the daemon's configured accounts ({} of them: the caller's, accounts.ids or the organization's, after include and exclude)",
                    configured.len()
                ))),
                None => Ok(asked.clone()),
            },
            (Ok(configured), None) => Ok(configured),
            (Err(e), _) => Err(e),
        };
        let mut id = Some(record.id.clone());
        let end = match accounts {
            Ok(accounts) => {
                self.work(record.submitted_at, &accounts, Trigger::Api, &mut id, true)
                    .await
            }
            Err(e) => Err(e),
        };
        self.finish(id.as_deref(), &end);
        end.map(|_| ())
    }

    fn finish(&self, id: Option<&str>, end: &Result<CycleEnd, Stop>) {
        let Some(id) = id else { return };
        let now = Utc::now();
        self.lock_scans().update(id, |r| {
            r.finished_at = Some(now);
            r.progress.phase = String::new();
            match end {
                Ok(_) => r.state = State::Succeeded,
                Err(Stop::Shutdown) => r.state = State::Cancelled,
                Err(Stop::Failed(e)) => {
                    r.state = State::Failed;
                    r.error = Some(e.clone());
                }
            }
        });
    }

    /// Claims and scans `accounts` in batches until each is covered by a snapshot started at
    /// or after `since`. A scheduled cycle (`requested` false) skips accounts already covered
    /// and leaves those other replicas hold for a later look; a requested scan scans each
    /// account itself unless another replica holds it, and then waits for that replica's
    /// snapshot (at most a few leases). A batch that fails does not stop the others: its
    /// accounts are left for the next attempt and the work ends `Failed`. `record` is
    /// created at the first claim.
    async fn work(
        &self,
        since: DateTime<Utc>,
        accounts: &[AccountId],
        trigger: Trigger,
        record: &mut Option<String>,
        requested: bool,
    ) -> Result<CycleEnd, Stop> {
        let replica = self.options.replica_id.clone();
        let (lease, batch) = (self.options.lease, self.options.batch.max(1));
        // Accounts this work scanned, or whose batch failed: not claimed again.
        let mut settled: BTreeSet<AccountId> = BTreeSet::new();
        let mut first_error: Option<String> = None;
        let deadline = Instant::now() + lease.saturating_mul(3) + Duration::from_secs(30);
        loop {
            if self.shutdown.is_cancelled() {
                return Err(Stop::Shutdown);
            }
            let open: Vec<AccountId> = accounts
                .iter()
                .filter(|a| !settled.contains(*a))
                .cloned()
                .collect();
            let claimed = {
                let (replica, open) = (replica.clone(), open.clone());
                self.with_store(move |s| {
                    s.claim_accounts(&replica, &open, since, lease, batch, !requested)
                })
                .await?
            };
            if claimed.is_empty() {
                // Settled: any scan since the tick, even one that could not enter the
                // account. Succeeded (metrics, readiness): only scans that collected it.
                let (last, entered) = self
                    .with_store(move |s| {
                        Ok((
                            s.last_scanned(&open, Reach::Tried)?,
                            s.last_scanned(&open, Reach::Entered)?,
                        ))
                    })
                    .await?;
                for (account, at) in &entered {
                    #[allow(clippy::cast_precision_loss, reason = "Unix seconds fit f64 exactly")]
                    self.metrics
                        .account_scanned(account.as_str(), at.timestamp() as f64);
                    self.set_freshest(*at);
                }
                let pending = accounts
                    .iter()
                    .filter(|a| !settled.contains(*a))
                    .filter(|a| last.get(*a).is_none_or(|at| *at < since))
                    .count();
                if let Some(error) = first_error {
                    return Err(Stop::Failed(error));
                }
                if pending == 0 {
                    return Ok(CycleEnd::Done);
                }
                if !requested {
                    tracing::info!(
                        pending,
                        "accounts of this cycle are held by other replicas; looking again later"
                    );
                    return Ok(CycleEnd::Waiting);
                }
                if Instant::now() > deadline {
                    return Err(Stop::Failed(format!(
                        "{pending} account(s) stayed held by other replicas without being scanned"
                    )));
                }
                if let Some(id) = record.as_deref() {
                    self.lock_scans()
                        .update(id, |r| r.progress.phase = "waiting".into());
                }
                tokio::select! {
                    () = tokio::time::sleep((lease / 4).min(Duration::from_secs(2))) => continue,
                    () = self.shutdown.cancelled() => return Err(Stop::Shutdown),
                }
            }
            self.metrics.claimed(claimed.len());
            let id = match record {
                Some(id) => id.clone(),
                None => {
                    let id = self
                        .lock_scans()
                        .add(trigger, None, State::Running, Utc::now());
                    self.lock_scans().update(&id, |r| r.submitted_at = since);
                    *record = Some(id.clone());
                    id
                }
            };
            self.lock_scans().update(&id, |r| {
                r.progress = ScanProgress {
                    phase: "starting".into(),
                    accounts_done: r.progress.accounts_done,
                    accounts_total: accounts.len(),
                    ..ScanProgress::default()
                };
            });
            let result = self.scan_batch(&id, trigger, &claimed).await;
            let released = {
                let (replica, claimed) = (replica.clone(), claimed.clone());
                self.with_store(move |s| s.release_leases(&replica, &claimed))
                    .await
            };
            if let Err(Stop::Failed(e)) = released {
                // They expire on their own.
                tracing::warn!(error = %e, "cannot release leases");
            }
            settled.extend(claimed.iter().cloned());
            match result {
                Ok(()) => {}
                Err(Stop::Shutdown) => return Err(Stop::Shutdown),
                Err(Stop::Failed(e)) => {
                    tracing::error!(scan = id, error = %e, first = %claimed[0], "a batch failed; going on with the other accounts");
                    if let Some(r) = record.as_deref() {
                        self.lock_scans()
                            .update(r, |rec| rec.error = Some(e.clone()));
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
    }

    /// Scans one claimed batch (one snapshot), renewing its leases meanwhile.
    async fn scan_batch(
        &self,
        id: &str,
        trigger: Trigger,
        claimed: &[AccountId],
    ) -> Result<(), Stop> {
        let mut request = self.options.request.clone();
        request.accounts = AccountSource::List(claimed.to_vec());
        // On PostgreSQL the commit checks that this replica still holds every lease. A
        // SQLite writer holds the database's write lock from its first statement to its
        // commit, so no other daemon can claim meanwhile (and there are no renewals).
        if matches!(self.store, StoreLocation::Postgres(_)) {
            request.lease_holder = Some(self.options.replica_id.clone());
        }
        let cancel = self.shutdown.child_token();
        let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let heartbeat = match self.store {
            // A SQLite store's writer holds the database's write lock until it commits: no
            // other daemon can claim meanwhile, and a renewal would only wait for the lock.
            StoreLocation::Sqlite(_) => None,
            StoreLocation::Postgres(_) => Some(tokio::spawn(renew(
                self.store.clone(),
                self.options.replica_id.clone(),
                claimed.to_vec(),
                self.options.lease,
                cancel.clone(),
                Arc::clone(&lost),
            ))),
        };
        tracing::info!(scan = id, accounts = claimed.len(), first = %claimed[0], "scanning");
        self.metrics.scan_started();
        let started = Instant::now();
        // Progress events arrive on the scan's threads; the worker applies them to the
        // record between polls of the scan.
        let (tx, rx) = std::sync::mpsc::channel::<Progress>();
        let outcome = posture_scan::run(
            request,
            move |p| {
                let _ = tx.send(p); // the receiver lives until the scan ends
            },
            cancel.clone(),
        );
        tokio::pin!(outcome);
        let outcome = loop {
            tokio::select! {
                o = &mut outcome => break o,
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            self.drain_progress(id, &rx);
        };
        self.drain_progress(id, &rx);
        if let Some(h) = heartbeat {
            h.abort();
        }
        let seconds = started.elapsed().as_secs_f64();
        let trigger_name = trigger.as_str();
        match outcome {
            Ok(ScanOutcome::Stored(stored)) => {
                if let Some(n) = &self.options.stored {
                    n.notify_one();
                }
                self.metrics.scan_ended(trigger_name, "stored", seconds);
                self.metrics.aws_calls(
                    &stored.calls.calls,
                    &stored.calls.throttled_by_service,
                    &stored.calls.failed_by_service,
                );
                #[allow(clippy::cast_precision_loss, reason = "Unix seconds fit f64 exactly")]
                for account in &stored.meta.accounts {
                    self.metrics
                        .account_scanned(account.as_str(), stored.started_at.timestamp() as f64);
                }
                if !stored.meta.accounts.is_empty() {
                    // It entered at least one account (an account it could not enter is
                    // no success; the snapshot's accounts are those it entered).
                    self.set_freshest(stored.meta.started_at);
                }
                let snapshot = stored.meta.id.to_string();
                tracing::info!(
                    scan = id,
                    snapshot = %snapshot,
                    seconds,
                    resources = stored.meta.resource_count,
                    "snapshot stored"
                );
                for w in &stored.warnings {
                    tracing::warn!(scan = id, "{w}");
                }
                self.lock_scans().update(id, |r| {
                    r.snapshots.push(snapshot);
                    r.progress.accounts_done += claimed.len();
                    for (status, n) in &stored.evaluated.counts {
                        *r.summary.entry((*status).to_owned()).or_default() += n;
                    }
                });
                self.refresh_store_metrics().await;
                if lost.load(std::sync::atomic::Ordering::Relaxed) {
                    // Cancelled for a lost lease while it was committing: it is stored.
                    self.metrics.lease_lost();
                }
                if stored.cancel_requested && self.shutdown.is_cancelled() {
                    return Err(Stop::Shutdown);
                }
                Ok(())
            }
            Ok(ScanOutcome::RolledBack { .. }) => {
                self.metrics.scan_ended(trigger_name, "cancelled", seconds);
                if lost.load(std::sync::atomic::Ordering::Relaxed) {
                    self.metrics.lease_lost();
                    Err(Stop::Failed(
                        "another replica took over this scan's accounts after their lease expired; the scan was rolled back".into(),
                    ))
                } else if self.shutdown.is_cancelled() {
                    Err(Stop::Shutdown)
                } else {
                    Err(Stop::Failed("the scan was cancelled".into()))
                }
            }
            Err(e) => {
                self.metrics.scan_ended(trigger_name, "failed", seconds);
                Err(Stop::Failed(e.to_string()))
            }
        }
    }

    fn drain_progress(&self, id: &str, rx: &std::sync::mpsc::Receiver<Progress>) {
        let events: Vec<Progress> = rx.try_iter().collect();
        if events.is_empty() {
            return;
        }
        self.lock_scans().update(id, |r| {
            for p in events {
                let pr = &mut r.progress;
                match p {
                    Progress::Resource { resources } => {
                        pr.phase = "collecting".into();
                        pr.resources = resources;
                    }
                    Progress::Collected {
                        collections,
                        resources,
                        failed_calls,
                        ..
                    } => {
                        pr.phase = "collecting".into();
                        pr.collections = collections;
                        pr.resources = resources;
                        pr.failed_calls = failed_calls;
                    }
                    Progress::CollectionFinished { .. } | Progress::Evaluating { .. } => {
                        pr.phase = "evaluating".into();
                    }
                    Progress::Committing => pr.phase = "committing".into(),
                    _ => {}
                }
            }
        });
    }

    /// Store size and current findings, after each stored scan and at start.
    async fn refresh_store_metrics(&self) {
        let read = self
            .with_store(|s| Ok((s.size_bytes()?, s.current_finding_counts()?)))
            .await;
        match read {
            Ok((bytes, counts)) => {
                self.metrics.store_size(bytes);
                self.metrics.findings(&counts);
            }
            Err(Stop::Failed(e)) => tracing::warn!(error = %e, "cannot read the store's metrics"),
            Err(Stop::Shutdown) => {}
        }
    }
}

/// Renews `accounts`' leases every third of `lease`; cancels the scan when one was taken
/// over by another replica.
async fn renew(
    store: StoreLocation,
    replica: String,
    accounts: Vec<AccountId>,
    lease: Duration,
    cancel: CancellationToken,
    lost: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut renewed_at = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(lease / 3) => {}
            () = cancel.cancelled() => return,
        }

        let (store, replica, accounts) = (store.clone(), replica.clone(), accounts.clone());
        let renewed = tokio::task::spawn_blocking(move || {
            Store::open(&store)?.renew_leases(&replica, &accounts, lease)
        })
        .await;
        match renewed {
            Ok(Ok(gone)) if gone.is_empty() => renewed_at = Instant::now(),
            Ok(Ok(gone)) => {
                tracing::error!(
                    accounts = ?gone,
                    "another replica took over accounts of this scan (their lease expired); stopping it"
                );
                lost.store(true, std::sync::atomic::Ordering::Relaxed);
                cancel.cancel();
                return;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot renew leases"),
            Err(e) => tracing::warn!(error = %e, "the lease renewal task failed"),
        }
        if renewed_at.elapsed() >= lease / 2 {
            // The next renewal would come after the lease expired: another replica could
            // claim these accounts and scan them too. Stop (the scan rolls back).
            tracing::error!("the leases could not be renewed in time; stopping the scan");
            lost.store(true, std::sync::atomic::Ordering::Relaxed);
            cancel.cancel();
            return;
        }
    }
}

async fn sleep_or_forever(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn jitter(max: Duration) -> TimeDelta {
    delta(schedule::random_below(max))
}
