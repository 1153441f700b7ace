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

/// `posture verify --bundle PATH [--public-key FILE] [--store FILE|URL]`: checks an
/// evidence bundle; opens `store` (and no other) only when given.
pub fn bundle(
    args: &crate::cli::VerifyArgs,
    store: Option<&posture_store::StoreLocation>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let Some(path) = &args.bundle else {
        anyhow::bail!("--bundle names no bundle");
    };
    let trusted = match &args.public_key {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read --public-key {}", file.display()))?;
            Some(
                posture_report::PublicKey::from_pem(&text)
                    .with_context(|| format!("--public-key {}", file.display()))?,
            )
        }
        None => None,
    };
    let check = posture_report::verify_bundle(path, trusted.as_ref());
    let mut store_problems = Vec::new();
    if let (Some(location), Some(manifest)) = (store, &check.manifest) {
        let mut store = Store::open_existing(location)?;
        store_problems = posture_report::check_store(manifest, &mut store)?;
    }
    let ok = check.ok() && store_problems.is_empty();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let manifest = check.manifest.as_ref();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({
                    "bundle": path.display().to_string(),
                    "verified": ok,
                    "files_ok": check.files_ok,
                    "signed_by": check.signed_by,
                    "problems": check.problems,
                    "store_checked": store.is_some(),
                    "store_problems": store_problems,
                    "notes": check.notes,
                    "snapshot_id": manifest.map(|m| &m.snapshot_id),
                    "chain_head": manifest.and_then(|m| m.chain.head.as_ref()),
                    "snapshots": manifest.map(|m| m.snapshots.iter().map(|s| &s.snapshot_id).collect::<Vec<_>>()),
                }),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            for p in &check.problems {
                writeln!(out, "FAILED {p}")?;
            }
            for p in &store_problems {
                writeln!(out, "FAILED against the store: {p}")?;
            }
            for n in &check.notes {
                writeln!(out, "note: {n}")?;
            }
            let about = check.manifest.as_ref().map_or(String::new(), |m| {
                format!(
                    ": snapshot {} ({} snapshot(s) of the period), chain head {}",
                    m.snapshot_id,
                    m.snapshots.len(),
                    m.chain.head.as_deref().unwrap_or("(none)")
                )
            });
            let store_note = match store {
                Some(s) if store_problems.is_empty() => {
                    format!("; snapshots and head found in {s}")
                }
                Some(s) => format!("; {} problem(s) against {s}", store_problems.len()),
                None => String::new(),
            };
            if ok {
                writeln!(
                    out,
                    "bundle verified: {} file(s) intact{about}{}{store_note}",
                    check.files_ok,
                    check
                        .signed_by
                        .as_ref()
                        .map_or(String::new(), |k| format!("; signed by {k}"))
                )?;
            } else {
                writeln!(
                    out,
                    "bundle NOT verified: {} problem(s){about}{store_note}",
                    check.problems.len() + store_problems.len()
                )?;
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
