//! `posture daemon` end to end against moto: scheduled scans and the API that serves them,
//! the token, the metrics read by the Prometheus project's own parser, a kill -9 mid-cycle
//! and the restart that resumes it, and two replicas sharing one PostgreSQL store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

#[path = "../../crates/posture-store/tests/support/mod.rs"]
mod pg;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use posture_e2e::{Moto, Running, free_port, moto_server_path, run_posture};
use serde_json::Value;

const TOKEN: &str = "e2e-test-token-0123456789abcdef";
const ROLE: &str = "OrganizationAccountAccessRole";
const MANAGEMENT: &str = "123456789012";
/// A schedule that does not tick during a test (1 January, 00:00): every account of a fresh
/// store is due in the current cycle, and no second cycle starts.
const YEARLY: &str = "0 0 1 1 *";

struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    fn new(port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// GET `path`; a 429 is waited out as its `Retry-After` says (the API's rate limit is
    /// per client address, and the tests poll).
    async fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        loop {
            let mut req = self.client.get(format!("{}{path}", self.base));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = match req.send().await {
                Ok(r) => r,
                Err(_) => return (0, String::new()), // not listening yet
            };
            if r.status().as_u16() == 429 {
                let wait: u64 = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .expect("a 429 carries Retry-After");
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            return (r.status().as_u16(), r.text().await.unwrap_or_default());
        }
    }

    async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path, Some(TOKEN)).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Waits until the API answers /healthz.
    async fn wait_up(&self, daemon: &Running) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.get("/healthz", None).await.0 != 200 {
            assert!(
                Instant::now() < deadline,
                "the API did not come up:\n{}",
                daemon.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asks for a scan of `account` (202 with its id) and waits for it to end; its status.
    async fn requested_scan(&self, daemon: &Running, account: &str) -> Value {
        let resp = self
            .client
            .post(format!("{}/api/v1/scans", self.base))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "accounts": [account] }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202);
        assert!(resp.headers().contains_key("location"));
        let id = resp.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        wait_for("the requested scan", daemon, async || {
            let s = self.json(&format!("/api/v1/scans/{id}")).await;
            (s["state"] != "queued" && s["state"] != "running").then_some(s)
        })
        .await
    }

    /// Waits until snapshots cover `accounts` accounts, then a little longer (for a daemon
    /// to wrongly scan one twice); every snapshot then.
    async fn whole_cycle(&self, daemon: &Running, accounts: usize) -> Vec<Value> {
        wait_for("every account scanned", daemon, async || {
            (scans_per_account(&self.snapshots().await).len() == accounts).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        self.snapshots().await
    }

    /// Every stored snapshot, newest first, following the cursor.
    async fn snapshots(&self) -> Vec<Value> {
        self.snapshots_paged(100).await
    }

    /// Every stored snapshot, `limit` a page.
    async fn snapshots_paged(&self, limit: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut path = format!("/api/v1/snapshots?limit={limit}");
        loop {
            let page = self.json(&path).await;
            out.extend(page["snapshots"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/snapshots?limit={limit}&cursor={c}"),
                None => return out,
            }
        }
    }
}

async fn wait_for<T>(what: &str, daemon: &Running, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; daemon stderr:\n{}",
            daemon.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn daemon_args<'a>(
    endpoint: &'a str,
    store: &'a str,
    port: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "daemon",
        "--endpoint-url",
        endpoint,
        "--region",
        "us-east-1",
        "--services",
        "s3,ec2",
        "--store",
        store,
        "--listen",
    ];
    args.push(port);
    args.extend_from_slice(extra);
    args
}

/// One sample of /metrics: its labels and value.
type Samples = BTreeMap<String, Vec<(BTreeMap<String, String>, f64)>>;

/// Parses /metrics with `prometheus_client.openmetrics.parser` (the Prometheus project's
/// Python client, installed beside moto by scripts/install-moto.sh): the samples by name.
fn parse_metrics(text: &str) -> Samples {
    let python = moto_server_path().unwrap().with_file_name("python");
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.setdefault(s.name, []).append([s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python from moto's virtualenv");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser rejected /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The sum of the samples of `name` whose labels include `labels`.
fn total(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples.get(name).map_or(0.0, |all| {
        all.iter()
            .filter(|(l, _)| {
                labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, v)| v)
            .sum()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_scans_on_its_interval_and_serves_its_api() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("daemon.sqlite").display().to_string();
    let port = free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut daemon = Running::start(
        daemon_args(&endpoint, &store, &listen, &["--interval", "5s"]),
        &[("POSTURE_API_TOKEN", TOKEN)],
    )
    .unwrap();
    let api = Api::new(port);
    api.wait_up(&daemon).await;

    // Closed without the token, whatever the route.
    for path in [
        "/api/v1/snapshots",
        "/api/v1/findings",
        "/api/v1/scans",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(api.get(path, None).await.0, 401, "{path} without a token");
        assert_eq!(
            api.get(path, Some("wrong-token-0123456789")).await.0,
            401,
            "{path} with a wrong token"
        );
    }

    // Three scheduled scans, one per 5-second cycle.
    let snapshots = wait_for("three snapshots", &daemon, async || {
        let s = api.snapshots().await;
        (s.len() >= 3).then_some(s)
    })
    .await;
    // A page at a time loses nothing (new snapshots only come in front).
    let one_by_one = api.snapshots_paged(1).await;
    assert!(
        api.snapshots().await.ends_with(&one_by_one),
        "paging loses nothing"
    );
    let started: Vec<&str> = snapshots
        .iter()
        .map(|s| s["started_at"].as_str().unwrap())
        .collect();
    assert!(
        started.windows(2).all(|w| w[0] > w[1]),
        "newest first: {started:?}"
    );
    for s in &snapshots {
        assert_eq!(s["accounts"], serde_json::json!([MANAGEMENT]));
    }

    // The findings of the latest, with the JSON fields of `posture scan --format json`.
    let findings = api.json("/api/v1/findings?limit=1000").await;
    let latest = snapshots[0]["id"].as_str().unwrap();
    // The latest when asked: this one, or one the next cycle stored meanwhile (ids are
    // start times, which sort).
    assert!(
        findings["snapshot_id"].as_str().unwrap() >= latest,
        "{}",
        findings["snapshot_id"]
    );
    let items = findings["findings"].as_array().unwrap();
    assert!(!items.is_empty());
    for f in items {
        for field in [
            "rule_id",
            "status",
            "severity",
            "resource",
            "citations",
            "evidence",
            "reason",
            "snapshot_id",
        ] {
            assert!(f.get(field).is_some(), "finding lacks {field}: {f}");
        }
    }
    let failing = api.json("/api/v1/findings?status=fail&limit=1000").await;
    assert!(
        failing["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "fail")
    );

    // A scan on request: 202 with its id, then its progress and result.
    let done = api.requested_scan(&daemon, MANAGEMENT).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["trigger"], "api");
    assert!(done["snapshot_id"].is_string(), "{done}");
    // An account the daemon was not configured for is refused, not scanned.
    let refused = api.requested_scan(&daemon, "999999999999").await;
    assert_eq!(refused["state"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("account 999999999999 is not among the daemon's configured accounts"),
        "{refused}"
    );
    assert!(refused["snapshots"].as_array().unwrap().is_empty());

    // Probes and metrics are open and reveal no findings.
    assert_eq!(api.get("/readyz", None).await.0, 200);
    let (status, metrics) = api.get("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(!metrics.contains("arn:aws"), "metrics name no resource");
    let samples = parse_metrics(&metrics);
    for name in [
        "posture_scans_total",
        "posture_scan_duration_seconds_count",
        "posture_aws_api_calls_total",
        "posture_findings",
        "posture_account_last_scan_timestamp_seconds",
        "posture_last_success_timestamp_seconds",
        "posture_store_size_bytes",
    ] {
        assert!(
            samples.contains_key(name),
            "{name} missing from /metrics:\n{metrics}"
        );
    }
    let services: BTreeSet<&str> = samples["posture_aws_api_calls_total"]
        .iter()
        .map(|(l, _)| l["service"].as_str())
        .collect();
    assert!(
        services.contains("s3") && services.contains("ec2"),
        "{services:?}"
    );
    assert!(
        total(
            &samples,
            "posture_aws_api_calls_total",
            &[("service", "s3")]
        ) >= 3.0
    );
    // The counts say what happened: at least three scheduled scans stored, exactly one
    // requested (the refused one never scanned).
    let scans = |trigger, outcome| {
        total(
            &samples,
            "posture_scans_total",
            &[("trigger", trigger), ("outcome", outcome)],
        )
    };
    assert!(scans("schedule", "stored") >= 3.0, "{metrics}");
    assert_eq!(scans("api", "stored"), 1.0, "{metrics}");
    assert_eq!(scans("api", "failed") + scans("schedule", "failed"), 0.0);
    // The findings gauges are the current findings: the latest snapshot's, by status (the
    // account does not change between scans).
    let latest = api.json("/api/v1/findings?limit=1000").await;
    let latest = latest["findings"].as_array().unwrap();
    for status in ["pass", "fail", "error", "not_applicable"] {
        let n = latest.iter().filter(|f| f["status"] == status).count();
        assert_eq!(
            total(&samples, "posture_findings", &[("status", status)]),
            n as f64,
            "{status} findings: {metrics}"
        );
    }
    assert!(total(&samples, "posture_findings", &[("status", "fail")]) > 0.0);
    assert!(
        total(
            &samples,
            "posture_account_last_scan_timestamp_seconds",
            &[("account", MANAGEMENT)]
        ) > 1.7e9
    );

    // SIGTERM: a graceful stop, exit 0, and a history that verifies.
    daemon.signal("TERM").unwrap();
    assert_eq!(
        daemon.wait(Duration::from_secs(60)).unwrap(),
        Some(0),
        "{}",
        daemon.stderr()
    );
    assert!(
        !daemon.stderr().contains(TOKEN),
        "the token is never logged"
    );
    let verify = run_posture(["verify", "--store", &store], &[]).unwrap();
    assert_eq!(verify.code, Some(0), "{}", verify.describe());
}

/// Creates `n` member accounts in moto's organization; returns every account, sorted.
async fn organization(moto: &Moto, n: usize) -> Vec<String> {
    let base = moto.sdk_config("us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&base);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    for i in 0..n {
        org.create_account()
            .account_name(format!("member-{i}"))
            .email(format!("member-{i}@example.org"))
            .send()
            .await
            .expect("create account");
    }
    let mut all: Vec<String> = org
        .list_accounts()
        .send()
        .await
        .unwrap()
        .accounts()
        .iter()
        .filter_map(|a| a.id().map(str::to_owned))
        .collect();
    all.sort();
    assert_eq!(all.len(), n + 1);
    all
}

/// How many snapshots covered each account.
fn scans_per_account(snapshots: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in snapshots {
        for a in s["accounts"].as_array().unwrap() {
            *out.entry(a.as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    out
}

fn once_each(accounts: &[String]) -> BTreeMap<String, usize> {
    accounts.iter().map(|a| (a.clone(), 1)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_mid_cycle_resumes_where_it_was() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    let accounts = organization(&moto, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("daemon.sqlite").display().to_string();
    let port = free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let args = daemon_args(
        &endpoint,
        &store,
        &listen,
        &["--schedule", YEARLY, "--organization", "--role-name", ROLE],
    );
    // One account per scan, so the cycle is four snapshots.
    let env = [
        ("POSTURE_API_TOKEN", TOKEN),
        ("POSTURE_ACCOUNTS_MAX_PARALLEL", "1"),
        ("POSTURE_DAEMON_REPLICA_ID", "scanner-1"),
    ];
    let mut first = Running::start(&args, &env).unwrap();
    let api = Api::new(port);
    api.wait_up(&first).await;
    let before = wait_for("the first snapshot", &first, async || {
        let s = api.snapshots().await;
        (!s.is_empty()).then_some(s)
    })
    .await;
    first.signal("KILL").unwrap();
    first.wait(Duration::from_secs(30)).unwrap();
    assert!(
        before.len() < accounts.len(),
        "killed before the cycle ended"
    );

    // Restarted under the same replica id: it takes its lease back at once and scans only
    // what the cycle still lacks.
    let second = Running::start(&args, &env).unwrap();
    api.wait_up(&second).await;
    let after = api.whole_cycle(&second, accounts.len()).await;
    assert_eq!(
        scans_per_account(&after),
        once_each(&accounts),
        "each account once in the cycle"
    );
    assert!(after.len() > before.len());
    drop(second);
    let verify = run_posture(["verify", "--store", &store], &[]).unwrap();
    assert_eq!(
        verify.code,
        Some(0),
        "the store verifies after kill -9: {}",
        verify.describe()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_a_cycle_and_take_over_a_dead_ones_accounts() {
    // The support module's client is synchronous: set it up off the runtime.
    let (_postgres, url) = tokio::task::spawn_blocking(|| {
        let postgres = pg::Postgres::start();
        let url = postgres.fresh_database();
        (postgres, url)
    })
    .await
    .unwrap();
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    let accounts = organization(&moto, 7).await;
    let ports = [free_port().unwrap(), free_port().unwrap()];
    let listens: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let start = |i: usize| {
        let args = daemon_args(
            &endpoint,
            &url,
            &listens[i],
            &["--schedule", YEARLY, "--organization", "--role-name", ROLE],
        );
        let name = format!("replica-{i}");
        Running::start(
            &args,
            &[
                ("POSTURE_API_TOKEN", TOKEN),
                ("POSTURE_ACCOUNTS_MAX_PARALLEL", "1"),
                ("POSTURE_DAEMON_REPLICA_ID", name.as_str()),
                ("POSTURE_DAEMON_LEASE", "3s"),
            ],
        )
        .unwrap()
    };
    // A starts first; B joins once A has stored a snapshot, and both work the cycle until
    // B has stored one too.
    let mut a = start(0);
    let (api_a, api_b) = (Api::new(ports[0]), Api::new(ports[1]));
    api_a.wait_up(&a).await;
    let stored = async |api: &Api| -> usize {
        let scans = api.json("/api/v1/scans").await;
        scans.as_array().map_or(0, |s| {
            s.iter()
                .map(|r| r["snapshots"].as_array().map_or(0, Vec::len))
                .sum()
        })
    };
    wait_for("replica A's first snapshot", &a, async || {
        (stored(&api_a).await >= 1).then_some(())
    })
    .await;
    let b = start(1);
    api_b.wait_up(&b).await;
    wait_for("replica B's first snapshot", &b, async || {
        (stored(&api_b).await >= 1).then_some(())
    })
    .await;
    // Kill A while it scans an account (it holds the lease), or at once if its part is
    // over.
    wait_for("replica A mid-scan", &a, async || {
        let scans = api_a.json("/api/v1/scans").await;
        let scan = scans.as_array()?.first()?.clone();
        let phase = scan["progress"]["phase"].as_str().unwrap_or_default();
        (scan["state"] != "running" || phase == "collecting").then_some(())
    })
    .await;
    a.signal("KILL").unwrap();
    a.wait(Duration::from_secs(30)).unwrap();

    // B finishes the cycle, including the account A held, after A's lease expires.
    let all = api_b.whole_cycle(&b, accounts.len()).await;
    assert_eq!(
        scans_per_account(&all),
        once_each(&accounts),
        "each account exactly once"
    );
    // B's part of the cycle is one record, also across its wait for A's lease to expire.
    let b_scans = api_b.json("/api/v1/scans").await;
    let b_scans = b_scans.as_array().unwrap();
    assert_eq!(b_scans.len(), 1, "{b_scans:?}");
    assert_eq!(b_scans[0]["state"], "succeeded", "{b_scans:?}");
    let by_b = b_scans[0]["snapshots"].as_array().unwrap().len();
    // The rest were A's, stored before it was killed (its killed scan stored nothing).
    let by_a = all.len() - by_b;
    assert!(
        by_a >= 1 && by_b >= 1,
        "both replicas did part: A {by_a}, B {by_b}"
    );
    drop(b);
}

/// AWS unreachable: the cycle fails, is reported and retried with backoff, and the daemon
/// stays up, not ready, and stops cleanly.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_cycle_is_retried_and_never_stops_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("daemon.sqlite").display().to_string();
    let nothing = format!("http://127.0.0.1:{}", free_port().unwrap());
    let port = free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut daemon = Running::start(
        daemon_args(&nothing, &store, &listen, &["--interval", "1h"]),
        &[
            ("POSTURE_API_TOKEN", TOKEN),
            ("POSTURE_LIMITS_MAX_ATTEMPTS", "1"),
        ],
    )
    .unwrap();
    let api = Api::new(port);
    api.wait_up(&daemon).await;
    wait_for("the failure to be reported", &daemon, async || {
        daemon
            .stderr()
            .contains("the scheduled scan failed; retrying with backoff")
            .then_some(())
    })
    .await;
    let stderr = daemon.stderr();
    assert!(
        stderr.contains("cannot resolve the accounts to scan"),
        "{stderr}"
    );
    assert!(
        stderr.contains("retry_in_s=30"),
        "the first retry waits 30 s: {stderr}"
    );
    let samples = parse_metrics(&api.get("/metrics", None).await.1);
    assert!(total(&samples, "posture_scan_retries_total", &[]) >= 1.0);
    assert_eq!(
        total(&samples, "posture_scans_total", &[]),
        0.0,
        "no scan ran"
    );
    assert_eq!(api.get("/healthz", None).await.0, 200, "still alive");
    let (status, why) = api.get("/readyz", None).await;
    assert_eq!(status, 503, "not ready: {why}");
    // Nothing stored: the API's reads say so rather than fail.
    assert_eq!(
        api.json("/api/v1/snapshots").await["snapshots"],
        serde_json::json!([])
    );
    daemon.signal("TERM").unwrap();
    assert_eq!(
        daemon.wait(Duration::from_secs(60)).unwrap(),
        Some(0),
        "{}",
        daemon.stderr()
    );
}
