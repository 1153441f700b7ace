//! Headless Chromium (Debian's `chromium`, installed by `scripts/install-chromium.sh`) for
//! tests that look at a page as a person does: the DOM it rendered, its console log, a
//! screenshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The Chromium binary on PATH, if any.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        let ok = Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| PathBuf::from(name))
    })
}

/// Runs headless Chromium (at most 120 s) on the file `page` with `args` and a fresh
/// profile in `profile`; returns (stdout, stderr). With `--dump-dom`, stdout is the DOM;
/// stderr holds the console log (`--enable-logging=stderr`).
pub fn headless(
    browser: &Path,
    profile: &Path,
    page: &Path,
    args: &[&str],
) -> anyhow::Result<(String, String)> {
    let out = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .context("run chromium")?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("chromium failed: {stderr}");
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), stderr))
}

/// Lines of a Chromium log that report a console error or a failed load.
pub fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            let lower = line.to_ascii_lowercase();
            (lower.contains("console") && (lower.contains("error") || lower.contains("uncaught")))
                || lower.contains("net::err_")
        })
        .collect()
}
