//! Running moto's server mode for one test (or one demo) and pointing the SDK at it.
//!
//! moto is started through `scripts/moto_shim.py`, which corrects the response-format
//! faults of the pinned moto that the SDK for Rust rejects (the XML root of three S3 and
//! S3 Control reads) and then runs moto's own server, so the scans here read bucket
//! versioning, bucket notifications and access points as they would on AWS.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use aws_smithy_types::timeout::TimeoutConfig;

use crate::posture::workspace_root;

/// How long moto may take to answer its first request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `moto_server`, killed when dropped. Its output goes to a log file that is
/// printed when the owning test panics.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    port: u16,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// The path of the `moto_server` executable: `$POSTURE_MOTO_SERVER`, or the last line that
/// `scripts/install-moto.sh` prints (it installs the pinned moto into a private virtualenv
/// when missing and reuses it otherwise).
pub fn moto_server_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("POSTURE_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let script = workspace_root().join("scripts/install-moto.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}); install moto[server] yourself and set POSTURE_MOTO_SERVER",
            script.display(),
            out.status
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .with_context(|| format!("{} printed no path", script.display()))?;
    Ok(PathBuf::from(last))
}

/// A command that runs `scripts/moto_shim.py` (moto's server with the root-element fixes)
/// with the Python of the `moto_server` at `server`: the interpreter on its `#!` line (pip
/// writes the virtualenv's Python there), else a `python3` beside it, else `python3`.
pub fn shim_command(server: &Path) -> anyhow::Result<Command> {
    let shim = workspace_root().join("scripts/moto_shim.py");
    if !shim.is_file() {
        bail!("{} is missing", shim.display());
    }
    let mut interpreter = python_of(server);
    let program = interpreter.remove(0);
    let mut command = Command::new(program);
    command.args(interpreter).arg(shim);
    Ok(command)
}

/// The interpreter (program and arguments) that runs the console script `server`.
fn python_of(server: &Path) -> Vec<String> {
    let first_line = std::fs::read(server)
        .ok()
        .and_then(|bytes| {
            let line = bytes.split(|b| *b == b'\n').next()?.to_vec();
            String::from_utf8(line).ok()
        })
        .unwrap_or_default();
    if let Some(shebang) = first_line.strip_prefix("#!") {
        let words: Vec<String> = shebang.split_whitespace().map(str::to_owned).collect();
        // pip writes a `/bin/sh` trampoline instead when the path is very long.
        let names_python = words.iter().any(|w| {
            Path::new(w)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
        });
        if names_python {
            return words;
        }
    }
    let beside = server.with_file_name("python3");
    if beside.is_file() {
        return vec![beside.display().to_string()];
    }
    vec!["python3".to_owned()]
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Moto {
    /// Starts moto on a free loopback port and waits (up to 30 s) until it answers HTTP.
    pub fn start() -> anyhow::Result<Self> {
        let server = moto_server_path()?;
        let dir = tempfile::Builder::new()
            .prefix("posture-moto-")
            .tempdir()
            .context("create a temporary directory for moto's log")?;
        let log_path = dir.path().join("moto.log");
        // Another process can take the port between probing and binding: retry then.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port()?;
            let log = File::create(&log_path).context("create moto's log file")?;
            let mut child = shim_command(&server)?
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .with_context(|| format!("cannot start moto_shim.py for {}", server.display()))?;
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return Ok(Moto {
                        child,
                        port,
                        log_path,
                        _dir: dir,
                    });
                }
                Err(e) => {
                    let _ = child.kill(); // it may have exited already
                    let _ = child.wait();
                    let log = tail(&log_path);
                    if attempt < 3 && log.contains("Address already in use") {
                        continue;
                    }
                    return Err(e.context(format!(
                        "moto_server ({}) did not start; its log:\n{log}",
                        server.display()
                    )));
                }
            }
        }
    }

    /// Seeds the demo account ([`crate::seed::seed_mixed_account`]) from a test that has no
    /// runtime of its own, and returns what a correct scan of it finds.
    pub fn seed_demo_account(&self) -> anyhow::Result<crate::Expectations> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(async {
                let sdk = self.sdk_config(crate::seed::PRIMARY).await;
                crate::seed::seed_mixed_account(&sdk).await
            })
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where moto's stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Moto's output so far (the last 60 lines).
    pub fn log(&self) -> String {
        tail(&self.log_path)
    }

    /// An SDK configuration for `region` that talks to this moto.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        sdk_config(&self.endpoint_url(), region).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- moto log ({}), last 60 lines ----\n{}\n---- end of moto log ----",
                self.log_path.display(),
                self.log()
            );
        }
        let _ = self.child.kill(); // already gone is fine
        let _ = self.child.wait();
    }
}

/// Waits until moto answers HTTP on `port`, or fails when it exits or the time is up.
fn wait_ready(child: &mut Child, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("moto_server exited during start-up with {status}");
        }
        if http_answers(addr) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "moto_server did not answer on {addr} within {}s",
                STARTUP_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last 60 lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(60);
    lines[from..].join("\n")
}

/// Whether something on `addr` answers an HTTP request.
fn http_answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// An SDK configuration for an emulator at `endpoint_url`: static credentials
/// `testing`/`testing`, the given region, and a 60 s per-operation timeout so a wedged
/// emulator fails the test instead of hanging it.
pub async fn sdk_config(endpoint_url: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "posture-e2e",
        ))
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint_url)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shim's own tests (scripts/test_moto_shim.py: the rename, and moto in-process
    /// answering the three reads with AWS's root elements), run with moto's Python.
    #[test]
    fn moto_shim_unittests_pass() {
        let server = moto_server_path().expect("moto_server is installed");
        let mut interpreter = python_of(&server);
        let program = interpreter.remove(0);
        let out = Command::new(program)
            .args(interpreter)
            .args(["-m", "unittest", "-v", "test_moto_shim"])
            .current_dir(workspace_root().join("scripts"))
            .output()
            .expect("moto's python runs");
        assert!(
            out.status.success(),
            "scripts/test_moto_shim.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn python_of_reads_the_shebang_with_its_arguments() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let script = dir.path().join("moto_server");
        std::fs::write(&script, "#!/usr/bin/env python3 -s\nimport sys\n").expect("write");
        assert_eq!(python_of(&script), ["/usr/bin/env", "python3", "-s"]);
        std::fs::write(&script, "binary, no shebang").expect("write");
        assert_eq!(python_of(&script), ["python3"]);
        std::fs::write(
            &script,
            "#!/bin/sh\n'exec' \"/very/long/bin/python\" \"$0\"\n",
        )
        .expect("write");
        assert_eq!(python_of(&script), ["python3"]);
        std::fs::write(dir.path().join("python3"), "").expect("write");
        assert_eq!(
            python_of(&script),
            [dir.path().join("python3").display().to_string()]
        );
    }
}
