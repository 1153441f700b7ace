//! `posture alerts test|list`, and the routes' sinks: webhook URLs and signing secrets read
//! from the environment or files named by the configuration, never printed.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use posture_config::{AlertSettings, Config, SecretSource, SinkKind as ConfigSink};
use posture_model::alert::{Alert, AlertItem, AlertKind, Builder, FieldChange, More};
use posture_model::{
    AccountId, Arn, Citation, Region, ResourceKind, ResourceRef, RuleId, Severity,
};
use posture_notify::{Outcome, Secret, Sink, SinkKind};
use posture_store::DeliveryState;

use crate::cli::{AlertState, AlertsListArgs, Format};

/// Reads a secret from where the configuration says it is. The error names the variable or
/// file, never a value.
fn read_secret(source: &SecretSource, route: &str, what: &str) -> anyhow::Result<Secret> {
    let value = match source {
        SecretSource::Env(var) => std::env::var(var).with_context(|| {
            format!("route {route:?}: the {what} is read from environment variable {var}, which is not set")
        })?,
        SecretSource::File(path) => std::fs::read_to_string(path).with_context(|| {
            format!(
                "route {route:?}: cannot read the {what} from {}",
                path.display()
            )
        })?,
    };
    let secret = Secret::new(&value);
    if secret.is_empty() {
        bail!("route {route:?}: the {what} in {source} is empty");
    }
    Ok(secret)
}

/// The configured routes' sinks, with their secrets read.
pub fn sinks(settings: &AlertSettings) -> anyhow::Result<Vec<Sink>> {
    let mut out = Vec::new();
    for r in &settings.routes {
        let name = &r.filter.name;
        let url = read_secret(&r.url, name, "webhook URL")?;
        posture_notify::sink::check_url(&url)
            .map_err(|e| anyhow::anyhow!("route {name:?} ({}): {e}", r.url))?;
        let kind = match r.sink {
            ConfigSink::Slack => SinkKind::Slack,
            ConfigSink::Webhook => {
                let source = r.secret.as_ref().with_context(|| {
                    format!("route {name:?}: a webhook route needs a signing secret")
                })?;
                SinkKind::Webhook {
                    secret: read_secret(source, name, "signing secret")?,
                }
            }
        };
        out.push(Sink {
            route: name.clone(),
            kind,
            url,
        });
    }
    Ok(out)
}

/// `posture alerts test`: one sample message, marked as a test, to one route.
pub async fn test(config: &Config, route: Option<&str>) -> anyhow::Result<ExitCode> {
    let settings = config.alerts()?;
    if settings.routes.is_empty() {
        bail!(
            "no alert route is configured: set POSTURE_SLACK_WEBHOOK_URL (a Slack incoming webhook URL) \
             or add [alerts.routes.NAME] to the configuration"
        );
    }
    let chosen = match route {
        Some(name) => settings
            .routes
            .iter()
            .find(|r| r.filter.name == name)
            .with_context(|| {
                format!(
                    "no route {name:?}; configured: {}",
                    settings
                        .routes
                        .iter()
                        .map(|r| r.filter.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
        None if settings.routes.len() == 1 => &settings.routes[0],
        None => settings
            .routes
            .iter()
            .find(|r| r.filter.name == "default")
            .context("several routes are configured: choose one with --route NAME")?,
    };
    let sink = sinks(&AlertSettings {
        routes: vec![chosen.clone()],
        ..settings.clone()
    })?
    .remove(0);
    let client =
        posture_notify::sink::client(Duration::from_secs(10)).map_err(anyhow::Error::msg)?;
    let alert = sample(&chosen.filter.name);
    match posture_notify::sink::send(&client, &sink, &alert, Utc::now().timestamp()).await {
        Outcome::Delivered => {
            println!(
                "route {:?}: the test message was accepted by the receiver",
                sink.route
            );
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Retry { error, .. } => {
            eprintln!(
                "route {:?}: not delivered ({error}); the receiver may be down or slow: try again",
                sink.route
            );
            Ok(ExitCode::from(1))
        }
        Outcome::Failed { error } => {
            let hint = if error.contains("no_service") || error.contains("404") {
                " (the webhook was removed or its URL is wrong: create a new incoming webhook)"
            } else if error.contains("invalid_token") || error.contains("403") {
                " (the webhook's token was revoked)"
            } else if error.contains("channel_not_found") || error.contains("channel_is_archived") {
                " (the webhook's channel is gone or archived)"
            } else {
                ""
            };
            eprintln!(
                "route {:?}: refused by the receiver: {error}{hint}",
                sink.route
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// The sample of `posture alerts test`: a test alert with one item, said to be a sample.
fn sample(route: &str) -> Alert {
    let at = Utc::now();
    let mut b = Builder::default();
    if let (Ok(account), Ok(rule), Ok(arn), Ok(region)) = (
        AccountId::new("123456789012"),
        RuleId::new("s3_bucket_tls_only"),
        Arn::new("arn:aws:s3:::example-phi-bucket"),
        Region::new("us-east-1"),
    ) {
        b.add(AlertItem {
            transition: "new_failure".into(),
            rule_id: rule,
            title: "S3 buckets deny requests that do not use TLS (sample)".into(),
            severity: Severity::High,
            resource: ResourceRef {
                arn,
                kind: ResourceKind::S3Bucket,
                account,
                region,
                tags: [("phi".to_owned(), "true".to_owned())].into(),
            },
            name: "example-phi-bucket".into(),
            phi: true,
            citations: vec![Citation {
                id: "164.312(e)(1)".into(),
                title: "Transmission security".into(),
            }],
            reason: "This is a test message from `posture alerts test`: no resource changed."
                .into(),
            evidence: Default::default(),
            changes: vec![FieldChange {
                pointer: "/body/config/policy/state".into(),
                old: Some("\"collected\"".into()),
                new: Some("\"absent\"".into()),
            }],
            more_changes: 0,
            failing_since: None,
            due: None,
            owner: None,
            more: More {
                command: "posture alerts list".into(),
                api: "/api/v1/findings?status=fail".into(),
            },
        });
    }
    b.finish(
        AlertKind::Test,
        route,
        None,
        at,
        More {
            command: "posture alerts list".into(),
            api: "/api/v1/snapshots".into(),
        },
    )
}

/// `posture alerts list`.
pub fn list(config: &Config, args: &AlertsListArgs) -> anyhow::Result<ExitCode> {
    let location = crate::cli::configured_store(config)?;
    let max_age = config.alerts()?.max_age;
    let mut store = posture_store::Store::open_existing(&location)?;
    store.attach_deliveries_if_present()?;
    let state = args.state.map(|s| match s {
        AlertState::Pending => DeliveryState::Pending,
        AlertState::Delivered => DeliveryState::Delivered,
        AlertState::Failed => DeliveryState::Failed,
        AlertState::Expired => DeliveryState::Expired,
    });
    let entries = store.outbox(state, args.limit, max_age)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let alert: Option<Alert> = serde_json::from_str(&e.body).ok();
                    serde_json::json!({
                        "key": e.key,
                        "route": e.route,
                        "kind": e.kind,
                        "snapshot_id": e.snapshot_id,
                        "created_at": e.created_at,
                        "state": e.state.as_str(),
                        "attempts": e.attempts,
                        "next_attempt_at": e.next_attempt_at,
                        "last_error": e.last_error,
                        "delivered_at": e.delivered_at,
                        "items": alert.as_ref().map(|a| a.total),
                        "alert": alert,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Table => {
            if entries.is_empty() {
                writeln!(
                    out,
                    "no alerts{}",
                    match state {
                        Some(s) => format!(" {}", s.as_str()),
                        None => String::new(),
                    }
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = Table::new();
            table
                .load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(crate::output::table_width())
                .set_header([
                    "created",
                    "route",
                    "kind",
                    "items",
                    "state",
                    "attempts",
                    "last error",
                    "snapshot",
                ]);
            for e in &entries {
                let items = serde_json::from_str::<Alert>(&e.body)
                    .map(|a| a.total.to_string())
                    .unwrap_or_else(|_| "?".into());
                let state = match (e.state, e.delivered_at, e.next_attempt_at) {
                    (DeliveryState::Delivered, Some(at), _) => {
                        format!("delivered {}", at.format("%H:%M:%SZ"))
                    }
                    (DeliveryState::Pending, _, Some(next)) => {
                        format!("pending (next {})", next.format("%H:%M:%SZ"))
                    }
                    (s, _, _) => s.as_str().to_owned(),
                };
                table.add_row([
                    e.created_at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
                    e.route.clone(),
                    e.kind.clone(),
                    items,
                    state,
                    e.attempts.to_string(),
                    e.last_error.clone().unwrap_or_default(),
                    e.snapshot_id.clone().unwrap_or_default(),
                ]);
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
