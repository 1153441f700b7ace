//! `posture verify`: check that the stored history was not rewritten.

use std::io::Write;
use std::process::ExitCode;

use posture_store::Store;

use crate::cli::Format;
use posture_config::Config;

pub fn run(config: &Config, format: Format) -> anyhow::Result<ExitCode> {
    let mut store = Store::open_existing(&crate::cli::configured_store(config)?)?;
    let report = store.verify()?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => {
            for p in &report.problems {
                let place = match (&p.snapshot, &p.resource) {
                    (Some(s), _) => format!("snapshot {s}"),
                    (None, Some(r)) => format!("resource {r}"),
                    (None, None) => "store".to_owned(),
                };
                writeln!(out, "ALTERED {place}: {}", p.message)?;
            }
            let verdict = if report.problems.is_empty() {
                "intact"
            } else {
                "NOT intact"
            };
            writeln!(
                out,
                "history {verdict}: {} snapshots and {} resource bodies checked, {} problem(s); head {}",
                report.snapshots,
                report.bodies,
                report.problems.len(),
                report.head.as_deref().unwrap_or("(empty store)")
            )?;
        }
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
