//! `posture scan`: collect → store → check → report.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use posture_collect::{AwsOptions, Clients, Event, ScanPlan, collect};
use posture_drift as drift;
use posture_model::{Coverage, Status};
use tokio::sync::mpsc;

use crate::cli::{Format, ScanArgs, load_check_inputs};
use crate::config::Config;
use crate::output;
use crate::store_thread::{CommitRequest, StoreWriter};

/// Events buffered between the collectors and the store writer.
const EVENT_BUFFER: usize = 1024;

pub async fn run(config: &Config, args: &ScanArgs) -> anyhow::Result<ExitCode> {
    // Validate everything that needs no IO first, so a typo fails before any AWS call.
    let fail_on = config.fail_on()?;
    let services = config.services()?;
    let mut regions = config.regions()?;
    let check = load_check_inputs(config)?;
    let baseline = &check.baseline;
    let store_location = config.store_location()?;
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

    let mut resources = Vec::new();
    let mut coverage = Coverage::default();
    let interrupted = shutdown_signal();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(Event::Resource(r)) => {
                    store.put((*r).clone()).await?;
                    resources.push(*r);
                    progress.set_message(format!("{} resources", resources.len()));
                }
                Some(Event::Gap(g)) => coverage.failed.push(g),
                Some(Event::Collected(c)) => {
                    progress.inc(1);
                    progress.set_message(format!("{} resources; {} {} done", resources.len(), c.service, c.region));
                    coverage.collected.push(c);
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

    coverage.api_calls = clients.counter().snapshot();
    coverage.collected.sort();
    coverage.failed.sort();
    let finished_at = Utc::now();
    let evaluation = posture_check::evaluate(&posture_check::Input {
        resources: &resources,
        coverage: &coverage,
        baseline,
        waivers: check.waivers.as_ref(),
        attestations: check.attestations.as_ref(),
        phi: &check.phi,
        now: finished_at,
    });
    for w in &evaluation.expired_waivers {
        eprintln!(
            "warning: {} expired on {}; the failures it covered are open again",
            w.waiver, w.waiver.expires
        );
    }
    for w in &evaluation.stale_waivers {
        eprintln!(
            "warning: {} matches no failing finding; remove it or fix its selector",
            w.waiver
        );
    }
    let findings = evaluation.findings;
    let accounts = outcome.accounts.clone();
    let service_names: Vec<String> = services.iter().map(|s| s.as_str().to_owned()).collect();

    // Drift against the previous snapshot, within the scope both scans covered.
    let previous = store.previous().await?;
    let drift = previous.as_ref().map(|prev| {
        let scope = drift::Scope::new(&prev.meta.accounts, &prev.meta.regions, &prev.meta.services)
            .intersect(&drift::Scope::new(&accounts, &regions, &service_names));
        output::Drift {
            since: prev.meta.id.to_string(),
            resources: drift::diff_resources(&prev.resources, &resources, &scope),
            findings: drift::diff_findings(&prev.findings, &findings, &scope, finished_at),
        }
    });
    drop(previous);
    let location = store.location().to_owned();
    let committed = store
        .commit(CommitRequest {
            finished_at,
            accounts,
            regions: regions.clone(),
            services: service_names,
            coverage,
            baseline: (baseline.name.clone(), baseline.version.clone()),
            findings,
            drift: drift
                .as_ref()
                .map(output::Drift::events)
                .unwrap_or_default(),
            retention_days,
        })
        .await?;
    if let Some(p) = committed.pruned.as_ref().filter(|p| p.snapshots > 0) {
        tracing::info!(
            snapshots = p.snapshots,
            bodies = p.bodies,
            "pruned snapshots past the retention period"
        );
    }
    let (meta, findings) = (committed.meta, committed.findings);

    let stats = output::Stats {
        wall_seconds: (Utc::now() - started_at).num_milliseconds() as f64 / 1000.0,
        api_calls: meta.coverage.api_calls.values().sum(),
        attempts: clients.counter().attempts(),
        throttled: clients.counter().throttled(),
        resources: meta.resource_count,
        peak_memory_mib: output::peak_memory_mib(),
    };
    match args.format {
        Format::Json => output::print_scan_json(&meta, &findings, drift.as_ref(), &stats)?,
        Format::Table => output::print_scan_table(
            &meta,
            &findings,
            args.all,
            drift.as_ref(),
            &stats,
            &location,
        )?,
    }
    let failed = findings
        .iter()
        .any(|f| f.status == Status::Fail && f.severity >= fail_on);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
