//! A scan stopped by SIGTERM or Ctrl-C (SIGINT) exits promptly with 130 and stores nothing:
//! the store keeps exactly the snapshots it had.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use posture_e2e::proxy::{Proxy, ProxySettings};
use posture_e2e::{Moto, posture_bin, run_posture};

fn snapshot_count(store: &str) -> usize {
    let out = run_posture(["snapshots", "--store", store, "--format", "json"], &[])
        .expect("run posture snapshots");
    assert_eq!(out.code, Some(0), "{}", out.describe());
    serde_json::from_str::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_scan_exits_130_and_leaves_the_store_as_it_was() {
    let moto = Moto::start().expect("start moto");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("interrupt.sqlite");
    let store = store.to_str().unwrap().to_owned();

    // One complete scan first, so there is something to keep.
    let out = run_posture(
        [
            "scan",
            "--endpoint-url",
            &moto.endpoint_url(),
            "--region",
            "us-east-1",
            "--store",
            &store,
            "--format",
            "json",
        ],
        &[],
    )
    .expect("first scan");
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.describe());
    assert_eq!(snapshot_count(&store), 1);

    // A slow endpoint: every request takes 2 s, so the scan is surely still running.
    let upstream = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = Proxy::start(
        upstream,
        ProxySettings {
            latency: Duration::from_secs(2),
            throttle_rate: 0.0,
        },
    )
    .await
    .unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    for signal in ["TERM", "INT"] {
        let mut child = Command::new(posture_bin().unwrap())
            .args([
                "scan",
                "--endpoint-url",
                &proxy.url(),
                "--region",
                "us-east-1",
                "--store",
                &store,
            ])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", dir.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the scan");
        // Past identification (one 2 s request) and into collection.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(
            child.try_wait().unwrap().is_none(),
            "the scan should still be running"
        );
        let status = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        // A guard against hanging, not a timing assertion: an uninterrupted scan through
        // this proxy needs minutes, and exit code 130 below says it was interrupted.
        let deadline = Instant::now() + Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "SIG{signal}: the scan did not stop"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains("no snapshot was stored"),
            "SIG{signal}: {stderr}"
        );
        assert_eq!(
            snapshot_count(&store),
            1,
            "SIG{signal}: the store keeps exactly its earlier snapshot"
        );
    }
    let out = run_posture(["verify", "--store", &store], &[]).expect("verify");
    assert_eq!(out.code, Some(0), "{}", out.describe());
}
