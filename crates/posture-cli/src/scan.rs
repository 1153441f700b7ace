//! `posture scan`: the configuration becomes a [`ScanRequest`], `posture-scan` runs it
//! while this module draws progress bars from its events and turns Ctrl-C/SIGTERM into
//! cancellation, then the report is printed from the store and the exit code decided.

use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use posture_config::{Config, ScanSettings};
use posture_scan::{
    AccountSource, AwsSettings, CancellationToken, CheckFiles, CheckInputs, Limits, Progress,
    RateLimit, Regions, RoleOptions, ScanOutcome, ScanRequest,
};
use posture_store::Store;

use crate::cli::{Format, ScanArgs, store_location};
use crate::output;

pub async fn run(config: &Config, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    // Validate everything that needs no IO first, so a typo fails before any AWS call.
    let settings = config.scan_settings()?;
    let fail_on = settings.fail_on;
    let mut request = request(settings)?;
    let store_for_output = request.store.clone();
    // Alert routes: their secrets are read now, so a missing variable fails before the scan.
    let alerts = config.alerts()?;
    let sinks = crate::alerts_cmd::sinks(&alerts)?;
    request.alert_routes = alerts.routes.iter().map(|r| r.filter.clone()).collect();

    let signal: Arc<OnceLock<&'static str>> = Arc::new(OnceLock::new());
    let cancel = CancellationToken::new();
    let listener = tokio::spawn({
        let signal = Arc::clone(&signal);
        let cancel = cancel.clone();
        async move {
            let name = shutdown_signal().await;
            let _ = signal.set(name); // set once; this task ends here
            cancel.cancel();
        }
    });
    let bars = Arc::new(Bars::new());
    let outcome = posture_scan::run(
        request,
        {
            let bars = Arc::clone(&bars);
            move |p| bars.show(&p)
        },
        cancel,
    )
    .await;
    listener.abort();
    bars.clear();
    let signal = signal.get().copied().unwrap_or("a signal");

    let stored = match outcome? {
        ScanOutcome::RolledBack { warnings, .. } => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            eprintln!("interrupted by {signal}: the scan was stopped and no snapshot was stored");
            return Ok(ExitCode::from(130));
        }
        ScanOutcome::Stored(stored) => stored,
    };
    for w in &stored.warnings {
        eprintln!("warning: {w}");
    }
    if stored.cancel_requested {
        eprintln!(
            "interrupted by {signal} as the snapshot was being committed: snapshot {} is stored",
            stored.meta.id
        );
        return Ok(ExitCode::from(130));
    }
    let evaluated = &stored.evaluated;
    for w in &evaluated.expired_waivers {
        eprintln!(
            "warning: {} expired on {}; the failures it covered are open again",
            w.waiver, w.waiver.expires
        );
    }
    for w in &evaluated.stale_waivers {
        eprintln!(
            "warning: {} matches no failing finding; remove it or fix its selector",
            w.waiver
        );
    }
    if !sinks.is_empty() {
        deliver_alerts(
            &store_for_output,
            sinks,
            alerts.max_age,
            &stored.evaluated.alerts,
        )
        .await;
    }
    if let Some(p) = stored.pruned.as_ref().filter(|p| p.snapshots > 0) {
        tracing::info!(
            snapshots = p.snapshots,
            bodies = p.bodies,
            "pruned snapshots past the retention period"
        );
    }
    let stats = output::Stats {
        wall_seconds: (Utc::now() - stored.started_at).num_milliseconds() as f64 / 1000.0,
        api_calls: stored.calls.calls.values().sum(),
        attempts: stored.calls.attempts,
        throttled: stored.calls.throttled,
        resources: stored.meta.resource_count,
        peak_memory_mib: posture_pipeline::peak_memory_mib(),
    };
    // The findings are read back from the store a page at a time, on a blocking thread.
    let failed = evaluated.worst_failure.is_some_and(|s| s >= fail_on);
    let format = args.format;
    let all = args.all;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut reader = Store::open_existing(&store_for_output)?;
        let report = output::Report {
            meta: &stored.meta,
            counts: &stored.evaluated.counts,
            drift: stored.evaluated.drift.as_ref(),
            stats: &stats,
        };
        match format {
            Format::Json => output::print_scan_json(&mut reader, &report),
            Format::Table => output::print_scan_table(&mut reader, &report, all, &stored.store),
        }
    })
    .await
    .context("printing the report failed")??;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Sends what the outbox holds once (this scan's alerts, and earlier ones still pending);
/// what must be retried stays pending for the next scan or the daemon.
async fn deliver_alerts(
    store: &posture_store::StoreLocation,
    sinks: Vec<posture_notify::Sink>,
    max_age: Duration,
    written: &[(String, posture_model::alert::AlertKind, usize)],
) {
    let holder = format!("posture-scan-{}", std::process::id());
    let delivery = posture_notify::Delivery {
        max_age,
        ..posture_notify::Delivery::new(store.clone(), sinks, holder)
    };
    for (route, kind, items) in written {
        tracing::info!(route = %route, kind = kind.as_str(), items, "alert written to the outbox");
    }
    match posture_notify::deliver::drain(&delivery, Duration::from_secs(60)).await {
        Ok(d) if d.retry == 0 && d.failed == 0 => {
            if d.delivered > 0 {
                eprintln!("alerts: {} delivered", d.delivered);
            }
        }
        Ok(d) => eprintln!(
            "warning: alerts: {} delivered, {} to retry, {} refused by the receiver; see `posture alerts list`",
            d.delivered, d.retry, d.failed
        ),
        Err(e) => {
            eprintln!("warning: alerts were stored but not sent: {e}; see `posture alerts list`")
        }
    }
}

/// The scan request from validated settings; loads the checker's input files.
pub(crate) fn request(settings: ScanSettings) -> anyhow::Result<ScanRequest> {
    let check = Arc::new(CheckInputs::load(&CheckFiles {
        baseline: settings.check.baseline,
        waivers: settings.check.waivers,
        attestations: settings.check.attestations,
        phi_tags: settings.check.phi_tags,
        rules_dirs: settings.check.rules_dirs,
    })?);
    let mut limits = Limits::default();
    if let Some(n) = settings.limits.max_in_flight {
        limits.max_in_flight = n;
    }
    for (service, l) in settings.limits.services {
        limits.services.insert(
            service,
            RateLimit {
                per_second: l.per_second,
                burst: l.burst,
            },
        );
    }
    let plan = settings.accounts;
    Ok(ScanRequest {
        accounts: match plan.source {
            posture_config::AccountSource::Caller => AccountSource::Caller,
            posture_config::AccountSource::List(ids) => AccountSource::List(ids),
            posture_config::AccountSource::Organization => AccountSource::Organization,
        },
        include_accounts: plan.include,
        exclude_accounts: plan.exclude,
        role: plan.role.map(|r| RoleOptions {
            name: r.name,
            external_id: r.external_id,
        }),
        max_parallel_accounts: plan.max_parallel,
        regions: match settings.regions {
            posture_config::Regions::Profile => Regions::Profile,
            posture_config::Regions::Named(r) => Regions::Named(r),
            posture_config::Regions::All => Regions::All,
        },
        exclude_regions: settings.exclude_regions,
        services: settings.services,
        aws: AwsSettings {
            profile: settings.aws.profile,
            endpoint_url: settings.aws.endpoint_url,
            limits,
            max_attempts: settings.limits.max_attempts,
        },
        store: store_location(&settings.store),
        check,
        retention_days: settings.retention_days,
        lease_holder: None,
        alert_routes: Vec::new(),
    })
}

/// The progress bars, drawn only when stderr is a terminal (invisible in CI logs and pipes).
struct Bars {
    collecting: ProgressBar,
    evaluating: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn new() -> Self {
        // The number of collections is known only as accounts and their enabled regions are
        // discovered.
        Self {
            collecting: bar("{spinner} collecting: {pos} collections done, {msg} ({elapsed})"),
            evaluating: Mutex::new(None),
        }
    }

    fn show(&self, p: &Progress) {
        match p {
            Progress::Resource { resources } => {
                self.collecting
                    .set_message(format!("{resources} resources"));
            }
            Progress::Collected {
                service,
                region,
                collections,
                resources,
                failed_calls,
                ..
            } => {
                self.collecting.set_position(*collections);
                self.collecting.set_message(format!(
                    "{resources} resources, {failed_calls} failed calls; {service} {region} done"
                ));
            }
            Progress::CollectionFinished { .. } => {
                self.collecting.finish_and_clear();
                self.evaluating().get_or_insert_with(|| {
                    bar("{spinner} evaluating: {pos}/{len} accounts ({elapsed})")
                });
            }
            Progress::Evaluating { done, total } => {
                let mut evaluating = self.evaluating();
                let bar = evaluating.get_or_insert_with(|| {
                    bar("{spinner} evaluating: {pos}/{len} accounts ({elapsed})")
                });
                bar.set_length(*total as u64);
                bar.set_position(*done as u64);
            }
            _ => {}
        }
    }

    fn evaluating(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        // A poisoned lock only means a panic while drawing; the bar is still a bar.
        self.evaluating
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn clear(&self) {
        self.collecting.finish_and_clear();
        if let Some(bar) = self.evaluating().as_ref() {
            bar.finish_and_clear();
        }
    }
}

fn bar(template: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Resolves on Ctrl-C or SIGTERM with the signal's name.
pub(crate) async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    // Without a SIGTERM handler, Ctrl-C still works.
                    let _ = tokio::signal::ctrl_c().await; // an error here means no signal can arrive
                    return "Ctrl-C";
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "Ctrl-C",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await; // an error here means no signal can arrive
        "Ctrl-C"
    }
}
