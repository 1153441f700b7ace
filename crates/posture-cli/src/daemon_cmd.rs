//! `posture daemon`: the configuration becomes the daemon's options and the API's, the
//! daemon's worker (`posture-daemon`) and the HTTP API (`posture-api`) are started and
//! wired through [`Control`], and SIGTERM/SIGINT stop both gracefully: the scan in progress
//! is rolled back (unless it was committing), the API answers the requests in flight, the
//! leases are released, and the process exits 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use posture_api::{
    ApiConfig, ApiToken, Control, ScanProgress, ScanState, ScanStatus, ScanSubmission, SubmitError,
    Submitted,
};
use posture_config::{Config, Trigger};
use posture_daemon::{Backoff, DaemonOptions, Handle, ScanRecord, Schedule, State};
use posture_scan::CancellationToken;

/// The variable that carries the API's bearer token (beside `api.token_file`).
const TOKEN_VARIABLE: &str = "POSTURE_API_TOKEN";

/// Scans remembered for `GET /api/v1/scans`.
const HISTORY: usize = 100;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    // Everything that needs no AWS call is validated before anything starts.
    let settings = config.scan_settings()?;
    let daemon = config.daemon()?;
    let api = config.api()?;
    let token = api_token(api.token_file.as_deref())?;
    let request = crate::scan::request(settings)?;
    let schedule = match &daemon.trigger {
        Some(Trigger::Schedule(expr)) => Schedule::cron(expr)?,
        Some(Trigger::Interval(every)) => Schedule::interval(*every)?,
        None => Schedule::interval(Duration::from_secs(3600))?,
    };
    let replica_id = daemon.replica_id.clone().unwrap_or_else(host_name);
    let store = request.store.clone();
    // Alert routes: secrets are read now, so a missing variable or file fails at start.
    let alerts = config.alerts()?;
    let sinks = crate::alerts_cmd::sinks(&alerts)?;
    let mut request = request;
    request.alert_routes = alerts.routes.iter().map(|r| r.filter.clone()).collect();
    let stored = Arc::new(tokio::sync::Notify::new());
    let options = DaemonOptions {
        schedule,
        jitter: daemon.jitter,
        lease: daemon.lease,
        replica_id,
        batch: request.max_parallel_accounts.max(1),
        backoff: Backoff::default(),
        request,
        history: HISTORY,
        stored: Some(Arc::clone(&stored)),
    };
    // Create or upgrade the store before the API serves it: a reader would otherwise see a
    // store half-way through its migrations ("schema version 6; this posture writes 9").
    // An unreachable store is not fatal here: the worker retries it with backoff.
    {
        let store = store.clone();
        // Dropped on the blocking thread: a PostgreSQL client may not be dropped in the runtime.
        match tokio::task::spawn_blocking(move || posture_store::Store::open(&store).map(drop))
            .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the store cannot be opened yet; the scans will retry it")
            }
            Err(e) => tracing::warn!(error = %e, "opening the store failed"),
        }
    }
    // The API listens before the first scan starts, so a bad address fails at once.
    let listener = tokio::net::TcpListener::bind(api.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; set api.listen (POSTURE_API_LISTEN) or --listen",
                api.listen
            )
        })?;
    let address = listener.local_addr()?;

    let shutdown = CancellationToken::new();
    let mut delivery_metrics = None;
    let metrics = posture_daemon::Metrics::with(|registry| {
        delivery_metrics = Some(posture_notify::DeliveryMetrics::register(registry));
    });
    let deliverer = if sinks.is_empty() {
        None
    } else {
        // The HTTP client is built now: a TLS setup failure stops the daemon at start.
        posture_notify::sink::client(Duration::from_secs(10)).map_err(anyhow::Error::msg)?;
        let names: Vec<&str> = sinks.iter().map(|s| s.route.as_str()).collect();
        eprintln!("posture daemon: alerts go to route(s) {}", names.join(", "));
        let mut delivery =
            posture_notify::Delivery::new(store.clone(), sinks, options.replica_id.clone());
        delivery.max_age = alerts.max_age;
        if !alerts.deadlines.is_empty() {
            delivery.digest = Some(posture_notify::DigestSettings {
                deadlines: alerts.deadlines.clone(),
                hour: alerts.digest_hour,
                owner_tags: alerts.owner_tags.clone(),
                routes: alerts.routes.iter().map(|r| r.filter.clone()).collect(),
            });
        }
        Some(tokio::spawn(posture_notify::run(
            delivery,
            delivery_metrics,
            Arc::clone(&stored),
            shutdown.clone(),
        )))
    };
    let (handle, worker) = posture_daemon::start_with_metrics(options, metrics, shutdown.clone());
    let mut api_config = ApiConfig::new(api.listen, store);
    api_config.requests_per_second = api.requests_per_second;
    api_config.burst = api.burst;
    let has_token = token.is_some();
    api_config.token = token;
    let control: Arc<dyn Control> = Arc::new(DaemonControl(handle));
    let server = tokio::spawn(posture_api::serve_on(listener, api_config, control, {
        let shutdown = shutdown.clone();
        async move { shutdown.cancelled().await }
    }));
    eprintln!(
        "posture daemon: API on http://{address}/ ({}); metrics at http://{address}/metrics",
        if has_token {
            "bearer token required"
        } else {
            "closed: set POSTURE_API_TOKEN or api.token_file to open /api/v1"
        }
    );

    // Run until a signal, or until the worker or the server ends on its own (a bug: a
    // daemon that cannot scan or cannot answer must not look alive).
    let mut worker = worker;
    let mut server = server;
    let signal = tokio::select! {
        signal = crate::scan::shutdown_signal() => signal,
        ended = &mut worker => {
            shutdown.cancel();
            anyhow::bail!("the daemon's worker stopped unexpectedly: {ended:?}; this is a bug: please report it with the output of -vv");
        }
        ended = &mut server => {
            shutdown.cancel();
            return match ended {
                Ok(Err(e)) => Err(anyhow::anyhow!(e).context("the API server stopped")),
                other => Err(anyhow::anyhow!("the API server stopped unexpectedly: {other:?}")),
            };
        }
    };
    tracing::info!(
        signal,
        "stopping: the scan in progress is rolled back unless it is committing"
    );
    shutdown.cancel();
    // A second signal while stopping (a scan stuck on a dead connection) exits at once;
    // an uncommitted snapshot is rolled back by the database either way.
    tokio::spawn(async {
        let again = crate::scan::shutdown_signal().await;
        eprintln!("posture daemon: {again} again: exiting without waiting");
        std::process::exit(130);
    });
    worker.await.context("the daemon's worker failed")?;
    if let Some(deliverer) = deliverer {
        // Sends in flight finish (each bounded by its timeout) and are recorded.
        match deliverer.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("posture daemon: alert delivery stopped: {e}"),
            Err(e) => eprintln!("posture daemon: alert delivery failed: {e}"),
        }
    }
    server
        .await
        .context("the API server failed")?
        .context("the API server failed")?;
    eprintln!("posture daemon: stopped on {signal}");
    Ok(ExitCode::SUCCESS)
}

/// The token from `POSTURE_API_TOKEN` or the configured file; `None` keeps `/api` closed.
fn api_token(file: Option<&std::path::Path>) -> anyhow::Result<Option<ApiToken>> {
    if let Ok(text) = std::env::var(TOKEN_VARIABLE) {
        return Ok(Some(ApiToken::from_string(text).with_context(|| {
            format!("environment variable {TOKEN_VARIABLE}")
        })?));
    }
    let Some(path) = file else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read api.token_file {}", path.display()))?;
    Ok(Some(ApiToken::from_string(text).with_context(|| {
        format!("api.token_file {}", path.display())
    })?))
}

/// The host's name: the default replica id.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "posture".to_owned())
}

/// The daemon as the API sees it.
struct DaemonControl(Handle);

impl Control for DaemonControl {
    fn submit_scan(&self, request: ScanSubmission) -> Result<Submitted, SubmitError> {
        match self.0.submit(request.accounts) {
            Ok((id, existing)) => Ok(Submitted { id, existing }),
            Err(posture_daemon::SubmitError::ShuttingDown) => Err(SubmitError::ShuttingDown),
            Err(e) => Err(SubmitError::Invalid(e.to_string())),
        }
    }

    fn scan(&self, id: &str) -> Option<ScanStatus> {
        self.0.scan(id).map(status)
    }

    fn scans(&self) -> Vec<ScanStatus> {
        self.0.scans().into_iter().map(status).collect()
    }

    fn metrics(&self) -> String {
        self.0.metrics()
    }

    fn readiness(&self) -> Result<(), String> {
        self.0.readiness()
    }
}

fn status(r: ScanRecord) -> ScanStatus {
    ScanStatus {
        id: r.id,
        state: match r.state {
            State::Queued => ScanState::Queued,
            State::Running => ScanState::Running,
            State::Succeeded => ScanState::Succeeded,
            State::Failed => ScanState::Failed,
            State::Cancelled => ScanState::Cancelled,
        },
        trigger: r.trigger.as_str().to_owned(),
        accounts: r
            .accounts
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect(),
        submitted_at: r.submitted_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        progress: ScanProgress {
            phase: r.progress.phase,
            collections: r.progress.collections,
            resources: r.progress.resources,
            failed_calls: r.progress.failed_calls,
            accounts_evaluated: r.progress.accounts_done,
            accounts_total: r.progress.accounts_total,
        },
        snapshot_id: r.snapshots.last().cloned(),
        snapshots: r.snapshots,
        summary: (!r.summary.is_empty()).then_some(r.summary),
        error: r.error,
    }
}
