//! `posture rules`: what the baseline checks, with citations and parameters.

use std::io::Write;
use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::cli::{Format, load_baseline};
use posture_config::Config;

#[derive(Serialize)]
struct RuleJson<'a> {
    #[serde(flatten)]
    meta: &'a posture_check::RuleMeta,
    citations: &'a [posture_model::Citation],
    parameter_values: &'a posture_check::Params,
    scope: &'a posture_check::RuleScope,
}

pub fn run(config: &Config, format: Format) -> anyhow::Result<ExitCode> {
    let baseline = load_baseline(config)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let rules: Vec<_> = baseline
                .rules
                .iter()
                .map(|r| RuleJson {
                    meta: r.rule.meta(),
                    citations: &r.citations,
                    parameter_values: &r.params,
                    scope: &r.scope,
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({
                    "baseline": { "name": baseline.name, "version": baseline.version },
                    "rules": rules,
                "manual_controls": baseline.manual,
                }),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut table = Table::new();
            table
                .load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(["rule", "severity", "resource", "citations", "title"]);
            for r in &baseline.rules {
                let m = r.rule.meta();
                let cites: Vec<&str> = r.citations.iter().map(|c| c.id.as_str()).collect();
                table.add_row([
                    m.id,
                    m.severity.as_str(),
                    m.subject.as_str(),
                    &cites.join(" "),
                    m.title,
                ]);
            }
            for m in &baseline.manual {
                let cites: Vec<&str> = m.citations.iter().map(|c| c.id.as_str()).collect();
                table.add_row([
                    m.id.as_str(),
                    m.severity.as_str(),
                    "manual (attested)",
                    &cites.join(" "),
                    &m.title,
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(
                out,
                "{} rules and {} manual controls in {} {}",
                baseline.rules.len(),
                baseline.manual.len(),
                baseline.name,
                baseline.version
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `posture rules test DIR...`: each custom rule over its fixtures.
pub fn test(dirs: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed) = (0, 0);
    for dir in dirs {
        let report = posture_rego::test(dir);
        write!(out, "{report}")?;
        let (p, f) = report.counts();
        passed += p;
        failed += f;
    }
    // Each report ends with its own count; a total only when there are several.
    if dirs.len() > 1 {
        writeln!(
            out,
            "all directories: {passed} fixture(s) matched, {failed} did not"
        )?;
    }
    Ok(if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `posture rules lint DIR...`: every problem, with its file and line.
pub fn lint(dirs: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut problems = 0;
    for dir in dirs {
        for d in posture_rego::lint(dir) {
            writeln!(out, "{d}")?;
            problems += 1;
        }
    }
    if problems == 0 {
        writeln!(out, "no problems in {} director(ies)", dirs.len())?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(out, "{problems} problem(s)")?;
        Ok(ExitCode::from(1))
    }
}
