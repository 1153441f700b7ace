//! `posture scan`: collect → store → check → report.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use posture_collect::{AwsOptions, Clients, Event, ScanPlan, collect};
use posture_store::Store;
use tokio::sync::mpsc;

use crate::cli::{Format, ScanArgs, load_check_inputs};
use crate::config::Config;
use crate::output;
use crate::store_thread::{FinishRequest, StoreWriter};

/// Events buffered between the collectors and the store writer.
const EVENT_BUFFER: usize = 1024;

pub async fn run(config: &Config, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    // Validate everything that needs no IO first, so a typo fails before any AWS call.
    let fail_on = config.fail_on()?;
    let services = config.services()?;
    let mut regions = config.regions()?;
    let check = Arc::new(load_check_inputs(config)?);
    let store_location = config.store_location()?;
    let store_for_output = store_location.clone();
    let retention_days = config.retention_days()?;
    let accounts_plan = config.account_plan()?;
    let exclude_regions = config.exclude_regions()?;
    let (limits, max_attempts) = config.limits()?;

    let clients = Clients::load(&AwsOptions {
        profile: config.aws.profile.clone(),
        endpoint_url: config.aws.endpoint_url.clone(),
        home_region: regions.first().map(|r| r.as_str().to_owned()),
        limits,
        max_attempts,
    })
    .await;
    if regions.is_empty() && !config.all_regions() {
        let Some(region) = clients.configured_region() else {
            bail!(
                "no region to scan: pass --region, set aws.regions in the config, or set a region in the AWS profile"
            );
        };
        regions.push(
            posture_model::Region::new(region.clone())
                .with_context(|| format!("the AWS profile's region {region:?}"))?,
        );
    }

    let started_at = Utc::now();
    let store = StoreWriter::start(store_location, started_at).await?;
    let location = store.location().to_owned();

    let plan = ScanPlan {
        accounts: accounts_plan.source,
        include_accounts: accounts_plan.include,
        exclude_accounts: accounts_plan.exclude,
        role: accounts_plan.role,
        regions,
        exclude_regions,
        services: services.clone(),
        max_parallel_accounts: accounts_plan.max_parallel,
    };
    let progress = progress_bar();
    let (tx, mut rx) = mpsc::channel(EVENT_BUFFER);
    let collector = tokio::spawn({
        let clients = clients.clone();
        let plan = plan.clone();
        async move { collect(&clients, &plan, tx).await }
    });

    let mut resources: u64 = 0;
    let mut failed_calls: u64 = 0;
    let interrupted = shutdown_signal();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(Event::Resource(r)) => {
                    store.put(*r).await?;
                    resources += 1;
                    progress.set_message(format!("{resources} resources"));
                }
                Some(Event::Gap(g)) => {
                    failed_calls += 1;
                    store.gap(g).await?;
                }
                Some(Event::Collected(c)) => {
                    progress.inc(1);
                    progress.set_message(format!(
                        "{resources} resources, {failed_calls} failed calls; {} {} done",
                        c.service, c.region
                    ));
                    store.collected(c).await?;
                }
                None => break,
            },
            signal = &mut interrupted => {
                progress.finish_and_clear();
                collector.abort();
                store.abandon(); // rolls the snapshot back: the store stays as it was
                eprintln!("interrupted by {signal}: the scan was stopped and no snapshot was stored");
                return Ok(ExitCode::from(130));
            }
        }
    }
    progress.finish_and_clear();
    let outcome = collector.await.context("the collector task failed")??;
    for (account, why) in &outcome.unreachable {
        eprintln!("warning: account {account} was not scanned: {why}");
    }
    anyhow::ensure!(
        !outcome.accounts.is_empty() || !outcome.unreachable.is_empty(),
        "no account to scan: the account list, include and exclude settings leave none"
    );
    let regions = outcome.regions.clone();

    let api_calls = clients.counter().snapshot();
    let finished_at = Utc::now();
    let accounts = outcome.accounts.clone();
    let service_names: Vec<String> = services.iter().map(|s| s.as_str().to_owned()).collect();
    let excluded = posture_pipeline::excluded_services(&service_names);

    // Evaluation, drift and commit run on the store's thread, one account at a time.
    let evaluating = evaluation_bar();
    let cancel = Arc::new(AtomicBool::new(false));
    let finishing = store.finish(FinishRequest {
        finished_at,
        accounts,
        regions,
        services: service_names,
        excluded,
        api_calls,
        check: Arc::clone(&check),
        retention_days,
        progress: Box::new({
            let bar = evaluating.clone();
            move |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
        }),
        cancel: Arc::clone(&cancel),
    });
    tokio::pin!(finishing);
    let committed = tokio::select! {
        committed = &mut finishing => committed?,
        signal = &mut interrupted => {
            // Stop between accounts; the store thread rolls back unless it was already
            // committing, and is waited for either way.
            cancel.store(true, Ordering::Relaxed);
            evaluating.finish_and_clear();
            return Ok(match finishing.await {
                Ok(c) => {
                    eprintln!("interrupted by {signal} as the snapshot was being committed: snapshot {} is stored", c.meta.id);
                    ExitCode::from(130)
                }
                Err(_) => {
                    eprintln!("interrupted by {signal}: the scan was stopped and no snapshot was stored");
                    ExitCode::from(130)
                }
            });
        }
    };
    evaluating.finish_and_clear();
    let evaluated = &committed.evaluated;
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
    if let Some(p) = committed.pruned.as_ref().filter(|p| p.snapshots > 0) {
        tracing::info!(
            snapshots = p.snapshots,
            bodies = p.bodies,
            "pruned snapshots past the retention period"
        );
    }
    let meta = &committed.meta;
    let stats = output::Stats {
        wall_seconds: (Utc::now() - started_at).num_milliseconds() as f64 / 1000.0,
        api_calls: meta.coverage.api_calls.values().sum(),
        attempts: clients.counter().attempts(),
        throttled: clients.counter().throttled(),
        resources: meta.resource_count,
        peak_memory_mib: posture_pipeline::peak_memory_mib(),
    };
    // The findings are read back from the store a page at a time, on a blocking thread.
    let failed = evaluated.worst_failure.is_some_and(|s| s >= fail_on);
    let format = args.format;
    let all = args.all;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut reader = Store::open_existing(&store_for_output)?;
        let report = output::Report {
            meta: &committed.meta,
            counts: &committed.evaluated.counts,
            drift: committed.evaluated.drift.as_ref(),
            stats: &stats,
        };
        match format {
            Format::Json => output::print_scan_json(&mut reader, &report),
            Format::Table => output::print_scan_table(&mut reader, &report, all, &location),
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

fn evaluation_bar() -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{spinner} evaluating: {pos}/{len} accounts ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn progress_bar() -> ProgressBar {
    // Drawn only when stderr is a terminal; invisible in CI logs and pipes. The number of
    // collections is known only as accounts and their enabled regions are discovered.
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} collecting: {pos} collections done, {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Resolves on Ctrl-C or SIGTERM with the signal's name.
async fn shutdown_signal() -> &'static str {
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
