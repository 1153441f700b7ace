//! `posture`: the command-line tool and the daemon. This crate is clap, dispatch and
//! output: the configuration is `posture-config`'s, the scan `posture-scan`'s. It is the
//! only crate that uses `anyhow` and decides exit codes.
//!
//! Exit codes: 0 = nothing at or above `--fail-on` failed (or the history verified), 1 =
//! something did (or it did not), 2 = error, 130 = interrupted.

mod alerts_cmd;
mod cli;
mod daemon_cmd;
mod diff_cmd;
mod iam_policy_cmd;
mod output;
mod report_cmd;
mod rules_cmd;
mod scan;
mod snapshots_cmd;
mod verify_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        // The SDK's credential chain warns about every provider it tries; the outcome is
        // reported as one error line instead.
        0 => "warn,aws_config=error",
        1 => "info,aws_config=warn,aws_smithy_runtime=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTURE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
