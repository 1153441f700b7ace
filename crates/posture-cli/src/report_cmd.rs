//! `posture report`: the evidence report of a snapshot, written by `posture-report` from
//! the store a page at a time. The file appears only when complete: the report is written
//! beside it under a temporary name and renamed at the end, so a failed report never
//! leaves half a file where the last good one was.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use posture_model::AccountId;
use posture_report::{Format, Request, Snapshot};

use crate::cli::{ReportArgs, ReportFormat};
use posture_config::Config;

pub fn run(config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let since = args
        .since
        .as_deref()
        .map(crate::diff_cmd::parse_date)
        .transpose()?;
    let accounts = args
        .accounts
        .iter()
        .map(|a| AccountId::new(a.as_str()).with_context(|| format!("--account {a:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
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
    let baseline = crate::cli::load_baseline(config)?;
    let request = Request {
        format: match args.format {
            ReportFormat::Html => Format::Html,
            ReportFormat::Json => Format::Json,
            ReportFormat::Csv => Format::Csv,
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Ocsf => Format::Ocsf,
            ReportFormat::Sarif => Format::Sarif,
        },
        snapshot: match args.snapshot.as_str() {
            "latest" => Snapshot::Latest,
            id => Snapshot::Id(id.to_owned()),
        },
        since,
        accounts: &accounts,
        baseline: &baseline,
        as_of: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0),
    };
    if let Some(dest) = &args.bundle {
        return bundle(&mut store, &request, dest, args.sign_key.as_deref());
    }
    let Some(out_path) = &args.out else {
        anyhow::bail!("give --out PATH (or --bundle PATH)");
    };
    let written = if out_path.as_os_str() == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        let written = posture_report::write(&mut store, &request, &mut out)?;
        out.flush()?;
        written
    } else {
        let name = out_path
            .file_name()
            .with_context(|| format!("--out {}: not a file name", out_path.display()))?;
        let mut partial_name = std::ffi::OsString::from(".");
        partial_name.push(name);
        partial_name.push(".partial");
        let partial = out_path.with_file_name(partial_name);
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut out = BufWriter::new(file);
        let result = posture_report::write(&mut store, &request, &mut out)
            .map_err(anyhow::Error::from)
            .and_then(|w| {
                out.flush()?;
                Ok(w)
            });
        drop(out);
        let written = match result {
            Ok(w) => w,
            Err(e) => {
                // The partial file is worthless; failing to remove it changes nothing.
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, out_path)
            .with_context(|| format!("cannot write {}", out_path.display()))?;
        eprintln!(
            "wrote {}: snapshot {}, {} findings ({} failing), {} snapshot(s) in the period, history {}",
            out_path.display(),
            written.snapshot_id,
            written.findings,
            written.failing,
            written.period_snapshots,
            if written.chain_intact {
                "intact"
            } else {
                "NOT intact"
            }
        );
        written
    };
    // Like `posture verify`: a report of an altered history is made, and says so, but the
    // command fails.
    Ok(if written.chain_intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `posture report --bundle DEST [--sign-key FILE]`.
fn bundle(
    store: &mut posture_store::Store,
    request: &Request<'_>,
    dest: &std::path::Path,
    sign_key: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let key = match sign_key {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read --sign-key {}", file.display()))?;
            Some(
                posture_report::SigningKey::from_pem(&text)
                    .with_context(|| format!("--sign-key {}", file.display()))?,
            )
        }
        None => None,
    };
    let written = posture_report::write_bundle(store, request, dest, key.as_ref())?;
    let m = &written.manifest;
    eprintln!(
        "wrote the evidence bundle {}: snapshot {}, {} file(s), {} snapshot(s) of the period, chain head {}{}, history {}",
        dest.display(),
        m.snapshot_id,
        m.files.len(),
        m.snapshots.len(),
        m.chain.head.as_deref().unwrap_or("(none)"),
        written
            .signed_by
            .as_ref()
            .map_or(String::new(), |k| format!(", signed by {k}")),
        if written.chain_intact {
            "intact"
        } else {
            "NOT intact"
        }
    );
    eprintln!(
        "check it with: posture verify --bundle {}{}",
        dest.display(),
        if written.signed_by.is_some() {
            " --public-key KEY.pub.pem"
        } else {
            ""
        }
    );
    Ok(if written.chain_intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
