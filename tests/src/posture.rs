//! Building and running the real `posture` binary.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long one `posture` run may take before it is killed and the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// The workspace root (the parent of this crate's directory). Cargo sets
/// `CARGO_MANIFEST_DIR` when it runs a test or bench, so the checkout that runs is used even
/// when the binary was built from another checkout of the same sources sharing the target
/// directory (CI points `CARGO_TARGET_DIR` outside the clone); the path compiled in is the
/// fallback.
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .map_or_else(|| manifest.clone(), Path::to_path_buf)
}

/// The `posture` binary, built once per process with `$CARGO build -p posture --bin posture`
/// from the workspace root. It lives in `$CARGO_TARGET_DIR` (or `<workspace>/target`)
/// `/debug/posture`. The build error, if any, is returned to every caller.
pub fn posture_bin() -> anyhow::Result<&'static Path> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(|| build_posture().map_err(|e| format!("{e:#}"))) {
        Ok(path) => Ok(path.as_path()),
        Err(e) => bail!("{e}"),
    }
}

fn build_posture() -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "-p", "posture", "--bin", "posture"])
        .current_dir(&root)
        .stdin(Stdio::null())
        // Cargo's progress goes to our stderr, which the test harness captures.
        .status()
        .with_context(|| format!("cannot run {}", Path::new(&cargo).display()))?;
    if !status.success() {
        bail!(
            "`cargo build -p posture --bin posture` failed ({status}) in {}",
            root.display()
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|t| !t.is_empty())
        .map(PathBuf::from)
        .map(|t| if t.is_relative() { root.join(t) } else { t })
        .unwrap_or_else(|| root.join("target"));
    let bin = target
        .join("debug")
        .join(format!("posture{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!("the build succeeded but {} does not exist", bin.display());
    }
    Ok(bin)
}

/// What one `posture` run did.
#[derive(Debug, Clone)]
pub struct PostureOutput {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl PostureOutput {
    /// A description for assertion messages: the code and both streams (stdout cut to
    /// its first 4,000 characters).
    pub fn describe(&self) -> String {
        let stdout: String = self.stdout.chars().take(4000).collect();
        let more = if stdout.len() < self.stdout.len() {
            "\n[... stdout truncated ...]"
        } else {
            ""
        };
        format!(
            "exit code {:?}\n--- stderr ---\n{}\n--- stdout ---\n{stdout}{more}",
            self.code, self.stderr
        )
    }
}

/// Runs `posture ARGS` with a clean environment: only `PATH` is inherited; `HOME` is an
/// empty temporary directory; AWS credentials are `testing`/`testing`; `AWS_CONFIG_FILE`
/// and `AWS_SHARED_CREDENTIALS_FILE` name files that do not exist; instance metadata is
/// disabled; no `AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `POSTURE_*` or
/// `POSTURE_LOG` leak in from the caller. `env` adds or overrides variables.
///
/// Output goes through files, so a large JSON document cannot fill a pipe and block.
pub fn run_posture<I, S>(args: I, env: &[(&str, &str)]) -> anyhow::Result<PostureOutput>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let bin = posture_bin()?;
    let dir = tempfile::Builder::new()
        .prefix("posture-run-")
        .tempdir()
        .context("create a temporary directory for the run")?;
    let home = dir.path().join("home");
    std::fs::create_dir(&home)?;
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");

    let mut cmd = clean_command(bin, dir.path(), &home);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path)?)
        .stderr(File::create(&stderr_path)?);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill(); // it may have just exited
            let _ = child.wait();
            bail!(
                "posture did not finish within {}s; stderr so far:\n{}",
                RUN_TIMEOUT.as_secs(),
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(PostureOutput {
        code: status.code(),
        stdout: std::fs::read_to_string(&stdout_path)?,
        stderr: std::fs::read_to_string(&stderr_path)?,
    })
}

/// Runs `posture scan ARGS --format json`, requires it to finish (exit 0: nothing failed,
/// or 1: something did) and returns its JSON report; panics with the run's output
/// otherwise. For tests.
pub fn scan_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let out = run_posture(&all, &[]).unwrap_or_else(|e| panic!("run posture scan: {e}"));
    assert!(
        matches!(out.code, Some(0 | 1)),
        "scan failed: {}",
        out.describe()
    );
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("scan JSON: {e}\n{}", out.describe()))
}

/// `bin` with a clean AWS environment (see [`run_posture`]): test credentials, config files
/// under `dir` that do not exist, no instance metadata, `HOME` at `home`, only `PATH` kept.
fn clean_command(bin: &Path, dir: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", dir.join("no-such-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-such-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// A long-running `posture` process (the daemon), with the clean environment of
/// [`run_posture`]; killed on drop if still running. Its stderr goes to a file.
#[derive(Debug)]
pub struct Running {
    child: std::process::Child,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Starts `posture ARGS` with `env` added.
    pub fn start<I, S>(args: I, env: &[(&str, &str)]) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let bin = posture_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("posture-daemon-")
            .tempdir()?;
        let home = dir.path().join("home");
        std::fs::create_dir(&home)?;
        let stderr_path = dir.path().join("stderr");
        let mut cmd = clean_command(bin, dir.path(), &home);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(File::create(dir.path().join("stdout"))?)
            .stderr(File::create(&stderr_path)?);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(Self {
            child,
            stderr_path,
            _dir: dir,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends `signal` (e.g. `TERM`, `KILL`) with kill(1).
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill -{signal} failed");
        Ok(())
    }

    /// Waits up to `timeout` for it to exit; its exit code (`None`: killed by a signal).
    pub fn wait(&mut self, timeout: Duration) -> anyhow::Result<Option<i32>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                bail!(
                    "posture did not exit within {}s; stderr:\n{}",
                    timeout.as_secs(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill(); // it may exit meanwhile
            let _ = self.child.wait();
        }
    }
}
