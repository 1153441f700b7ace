//! `posture snapshots`: the stored history.

use std::io::Write;
use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::cli::Format;
use posture_config::Config;

pub fn run(config: &Config, format: Format) -> anyhow::Result<ExitCode> {
    let location = crate::cli::configured_store(config)?;
    if let posture_store::StoreLocation::Sqlite(path) = &location
        && !path.exists()
    {
        anyhow::bail!(
            "no store at {}: run `posture scan` first, or pass --store",
            path.display()
        );
    }
    let mut store = posture_store::Store::open_existing(&location)?;
    let snapshots = store.snapshots()?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &snapshots)?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut table = Table::new();
            table
                .load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(crate::output::table_width())
                .set_header([
                    "snapshot",
                    "started",
                    "seconds",
                    "accounts",
                    "regions",
                    "resources",
                    "failed calls",
                ]);
            // The id is what the other commands take: never wrapped.
            if let Some(column) = table.column_mut(0) {
                column.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
            }
            for s in &snapshots {
                table.add_row([
                    s.id.to_string(),
                    s.started_at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
                    format!(
                        "{:.1}",
                        (s.finished_at - s.started_at).num_milliseconds() as f64 / 1000.0
                    ),
                    s.accounts
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.regions
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    s.resource_count.to_string(),
                    s.coverage.failed_calls.to_string(),
                ]);
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
