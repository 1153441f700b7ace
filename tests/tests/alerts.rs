//! Drift alerts end to end: the daemon on moto (its first scan at start, every later one asked
//! for through its API, so a change falls between two scans), a local receiver that answers as a Slack
//! incoming webhook does, and the real binary. A first scan sends one summary; a PHI
//! bucket's policy removed and a security group opened to 0.0.0.0/0 on 5432 between two
//! scans yield exactly one message naming the resources, the changed fields with their old
//! and new values, the citations and the PHI flag; a daemon killed while that message is
//! in flight sends it once after its restart; a mass regression is one message.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

#[path = "../../crates/posture-notify/tests/support/receiver.rs"]
mod receiver;

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, Tag, TagSpecification};
use posture_e2e::{Moto, Running, free_port, run_posture};
use receiver::{Received, Receiver, Reply};
use serde_json::Value;

const BUCKET: &str = "phi-claims-e2e";

/// A PHI bucket whose policy denies plain HTTP, and `groups` security groups (tagged PHI)
/// that admit nothing; returns the groups' ids.
async fn seed(moto: &Moto, groups: usize) -> Vec<String> {
    let sdk = moto.sdk_config("us-east-1").await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3.put_bucket_tagging()
        .bucket(BUCKET)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("phi")
                        .value("true")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    });
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let mut ids = Vec::new();
    for i in 0..groups {
        let name = format!("claims-db-{i}");
        let sg = ec2
            .create_security_group()
            .group_name(&name)
            .description("claims database")
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .tags(Tag::builder().key("phi").value("true").build())
                    .tags(Tag::builder().key("Name").value(&name).build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ids.push(sg.group_id().unwrap().to_owned());
    }
    ids
}

/// The regression: the bucket loses its policy and the groups open 5432 to the internet.
async fn regress(moto: &Moto, groups: &[String]) {
    let sdk = moto.sdk_config("us-east-1").await;
    aws_sdk_s3::Client::new(&sdk)
        .delete_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    for id in groups {
        ec2.authorize_security_group_ingress()
            .group_id(id)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

const TOKEN: &str = "e2e-alerts-token-0123456789abcdef";
/// A schedule that does not tick during a test (1 January, 00:00): the first cycle scans the
/// account at start, and every later scan is one the test asks for through the API, so a
/// change made between two scans is seen by exactly one.
const YEARLY: &str = "0 0 1 1 *";

fn daemon(endpoint: &str, store: &str, listen: &str, webhook: &str) -> Running {
    Running::start(
        [
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
            listen,
            "--schedule",
            YEARLY,
        ],
        &[
            ("POSTURE_SLACK_WEBHOOK_URL", webhook),
            ("POSTURE_ALERTS_MIN_SEVERITY", "low"),
            ("POSTURE_API_TOKEN", TOKEN),
        ],
    )
    .unwrap()
}

/// Asks the daemon on `listen` for a scan (`POST /api/v1/scans`) and waits until it stored
/// its snapshot.
async fn scan_now(listen: &str, daemon: &Running) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let base = format!("http://{listen}");
    let id = loop {
        let resp = client
            .post(format!("{base}/api/v1/scans"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({}))
            .send()
            .await;
        match resp {
            Ok(r) if r.status().as_u16() == 202 => {
                break r.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            }
            // Not listening yet, or rate limited: ask again.
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let resp = client
            .get(format!("{base}/api/v1/scans/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await;
        if let Ok(r) = resp
            && r.status().is_success()
        {
            let status: Value = r.json().await.unwrap();
            match status["state"].as_str() {
                Some("succeeded") => return,
                Some("queued" | "running") => {}
                other => panic!("the requested scan ended {other:?}: {status}"),
            }
        }
        assert!(
            Instant::now() < deadline,
            "the requested scan did not end; daemon stderr:\n{}",
            daemon.stderr()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The message's fallback text, which says its kind.
fn text(r: &Received) -> String {
    r.json()["text"].as_str().unwrap_or_default().to_owned()
}

fn is_regression(r: &Received) -> bool {
    text(r).contains("new HIPAA failure")
}

fn is_first_scan(r: &Received) -> bool {
    text(r).starts_with("First scan")
}

/// Every text in the message's blocks, joined.
fn blocks_text(r: &Received) -> String {
    let mut out = String::new();
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(t)) = m.get("text") {
                    out.push_str(t);
                    out.push('\n');
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&r.json()["blocks"], &mut out);
    out
}

async fn wait_until<T>(what: &str, daemon: &Running, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(v) = check() {
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

/// `posture alerts list --format json` of `store`.
fn outbox(store: &str) -> Vec<Value> {
    let out = run_posture(
        ["alerts", "list", "--format", "json", "--store", store],
        &[],
    )
    .unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    serde_json::from_str(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_regression_between_two_scans_is_one_message_saying_what_changed() {
    let moto = Moto::start().expect("start moto");
    let groups = seed(&moto, 1).await;
    let receiver = Receiver::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("alerts.sqlite").display().to_string();
    let listen = format!("127.0.0.1:{}", free_port().unwrap());
    let mut d = daemon(&moto.endpoint_url(), &store, &listen, &receiver.url());

    // The first scan: one summary, not every failure.
    wait_until("the first-scan summary", &d, || {
        receiver.delivered().iter().any(is_first_scan).then_some(())
    })
    .await;
    assert_eq!(
        receiver.delivered().len(),
        1,
        "one message for the first scan"
    );

    regress(&moto, &groups).await;
    scan_now(&listen, &d).await;
    let message = wait_until("the regression message", &d, || {
        receiver.delivered().into_iter().find(is_regression)
    })
    .await;
    // Two more scans: already failing, never sent again.
    let before = receiver.received().len();
    scan_now(&listen, &d).await;
    scan_now(&listen, &d).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    d.signal("TERM").unwrap();
    assert_eq!(d.wait(Duration::from_secs(60)).unwrap(), Some(0));
    let all = receiver.received();
    assert_eq!(
        all.iter().filter(|r| is_regression(r)).count(),
        1,
        "exactly one regression message: {:#?}",
        all.iter().map(text).collect::<Vec<_>>()
    );
    assert_eq!(
        all.len(),
        before,
        "nothing after it: {:#?}",
        all.iter().map(text).collect::<Vec<_>>()
    );
    assert!(
        !all.iter().any(|r| text(r).contains("could not be checked")),
        "no collection failed: {:#?}",
        all.iter().map(text).collect::<Vec<_>>()
    );

    let body = blocks_text(&message);
    if let Ok(path) = std::env::var("POSTURE_E2E_SAVE_ALERT") {
        // For the README's example: the message as the receiver got it.
        std::fs::write(path, &message.body).unwrap();
    }
    let sg_arn = format!("security-group/{}", groups[0]);
    for (what, needle) in [
        ("the bucket's ARN", format!("arn:aws:s3:::{BUCKET}")),
        ("the group's ARN", sg_arn.clone()),
        ("the group's name", "claims-db-0".to_owned()),
        ("the TLS rule", "s3_bucket_tls_only".to_owned()),
        ("the database-ports rule", "sg_no_world_db_ports".to_owned()),
        ("a citation", "164.312".to_owned()),
        ("the PHI flag", "PHI".to_owned()),
        ("the policy's old value", "DenyInsecureTransport".to_owned()),
        ("the opened port", "5432".to_owned()),
        ("the range", "0.0.0.0/0".to_owned()),
        ("the account", "123456789012".to_owned()),
    ] {
        assert!(body.contains(&needle), "{what} ({needle}) in:\n{body}");
    }
    assert!(
        body.contains("/policy"),
        "the changed field's pointer:\n{body}"
    );
    assert!(
        body.contains("/ingress"),
        "the group's changed field:\n{body}"
    );
    assert!(
        !body.contains("e2e-secret-path") && !d.stderr().contains("e2e-secret-path"),
        "the webhook URL is never shown"
    );

    // The outbox says so too.
    let entries = outbox(&store);
    let regressions: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "regressions")
        .collect();
    assert_eq!(regressions.len(), 1);
    assert_eq!(regressions[0]["state"], "delivered");
    assert_eq!(regressions[0]["route"], "default");
    let alert = &regressions[0]["alert"];
    let item = alert["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"]["arn"] == format!("arn:aws:s3:::{BUCKET}"))
        .expect("the bucket's item");
    assert_eq!(item["phi"], true);
    assert!(
        item["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["pointer"].as_str().unwrap().contains("/policy")
                && c["old"]
                    .as_str()
                    .unwrap_or("")
                    .contains("DenyInsecureTransport")),
        "{item:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_while_its_message_is_in_flight_sends_it_once_after_restart() {
    let moto = Moto::start().expect("start moto");
    let groups = seed(&moto, 1).await;
    // The summary is accepted; the regression hangs (the daemon is killed meanwhile).
    let receiver = Receiver::start(vec![Reply::Ok, Reply::Hang]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("alerts.sqlite").display().to_string();
    let listen = format!("127.0.0.1:{}", free_port().unwrap());
    let mut d = daemon(&moto.endpoint_url(), &store, &listen, &receiver.url());
    wait_until("the first-scan summary", &d, || {
        receiver.delivered().iter().any(is_first_scan).then_some(())
    })
    .await;
    regress(&moto, &groups).await;
    scan_now(&listen, &d).await;
    wait_until("the regression in flight", &d, || {
        receiver
            .received()
            .iter()
            .any(|r| is_regression(r) && r.answered == 0)
            .then_some(())
    })
    .await;
    d.signal("KILL").unwrap();
    d.wait(Duration::from_secs(30)).unwrap();
    let pending = outbox(&store);
    assert!(
        pending
            .iter()
            .any(|e| e["kind"] == "regressions" && e["state"] == "pending"),
        "{pending:#?}"
    );

    let mut d = daemon(&moto.endpoint_url(), &store, &listen, &receiver.url());
    let delivered = wait_until("the regression delivered after the restart", &d, || {
        let got: Vec<Received> = receiver
            .delivered()
            .into_iter()
            .filter(is_regression)
            .collect();
        (!got.is_empty()).then_some(got)
    })
    .await;
    scan_now(&listen, &d).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    d.signal("TERM").unwrap();
    assert_eq!(d.wait(Duration::from_secs(60)).unwrap(), Some(0));
    let regressions: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(is_regression)
        .collect();
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        regressions.iter().filter(|r| r.answered == 200).count(),
        1,
        "delivered exactly once"
    );
    assert_eq!(regressions.len(), 2, "the hung attempt and the delivery");
    assert_eq!(regressions[0].body, regressions[1].body, "the same message");
    assert_eq!(
        receiver
            .delivered()
            .iter()
            .filter(|r| is_first_scan(r))
            .count(),
        1,
        "the summary is not sent again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mass_regression_is_one_message_with_counts() {
    let moto = Moto::start().expect("start moto");
    let groups = seed(&moto, 40).await;
    let receiver = Receiver::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("alerts.sqlite").display().to_string();
    let listen = format!("127.0.0.1:{}", free_port().unwrap());
    let mut d = daemon(&moto.endpoint_url(), &store, &listen, &receiver.url());
    wait_until("the first-scan summary", &d, || {
        receiver.delivered().iter().any(is_first_scan).then_some(())
    })
    .await;
    regress(&moto, &groups).await;
    scan_now(&listen, &d).await;
    let message = wait_until("the regression message", &d, || {
        receiver.delivered().into_iter().find(is_regression)
    })
    .await;
    scan_now(&listen, &d).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    d.signal("TERM").unwrap();
    assert_eq!(d.wait(Duration::from_secs(60)).unwrap(), Some(0));
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| is_regression(r))
            .count(),
        1,
        "one message"
    );
    let blocks = message.json()["blocks"].as_array().unwrap().len();
    assert!(blocks <= 50, "{blocks} blocks");
    let body = blocks_text(&message);
    assert!(
        body.contains("more"),
        "says how many are not shown:\n{body}"
    );
    assert!(
        body.contains("sg_no_world_db_ports"),
        "counts per rule:\n{body}"
    );
    let n: usize = text(&message)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count leads the text: {}", text(&message)));
    assert!(n >= 41, "every regression counted: {n}");
}

/// Runs `posture ARGS` on a blocking thread (the receiver answers on this runtime).
async fn posture(args: &[&str], env: &[(&str, &str)]) -> posture_e2e::PostureOutput {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_posture(&args, &env).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_checks_a_webhook_and_says_what_is_wrong() {
    let receiver = Receiver::start(vec![Reply::Ok, Reply::InvalidBlocks, Reply::NoService]).await;
    let url = receiver.url();
    let env = [
        ("POSTURE_SLACK_WEBHOOK_URL", url.as_str()),
        ("POSTURE_LOG", "debug"),
    ];

    let ok = posture(&["alerts", "test"], &env).await;
    assert_eq!(ok.code, Some(0), "{}", ok.describe());
    assert!(ok.stdout.contains("accepted"), "{}", ok.describe());
    let sent = &receiver.received()[0];
    assert!(
        text(sent).contains("test message"),
        "marked as a test: {}",
        text(sent)
    );
    assert!(blocks_text(sent).contains("no resource changed"));

    let refused = posture(&["alerts", "test", "--route", "default"], &env).await;
    assert_eq!(refused.code, Some(1), "{}", refused.describe());
    assert!(
        refused.stderr.contains("HTTP 400: invalid_blocks"),
        "{}",
        refused.describe()
    );
    let gone = posture(&["alerts", "test"], &env).await;
    assert_eq!(gone.code, Some(1));
    assert!(
        gone.stderr.contains("no_service") && gone.stderr.contains("create a new incoming webhook"),
        "{}",
        gone.describe()
    );
    for out in [&ok, &refused, &gone] {
        assert!(
            !out.stderr.contains("e2e-secret-path") && !out.stdout.contains("e2e-secret-path"),
            "the webhook URL is never printed, even at debug level: {}",
            out.describe()
        );
    }

    // A route whose secret is missing, an unknown route, and no route at all.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("posture.toml");
    std::fs::write(
        &config,
        "[alerts.routes.siem]\nsink = \"webhook\"\nurl_env = \"SIEM_URL\"\nsecret_env = \"SIEM_SECRET\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let missing = posture(
        &["--config", &config, "alerts", "test", "--route", "siem"],
        &[("SIEM_URL", url.as_str())],
    )
    .await;
    assert_eq!(missing.code, Some(2), "{}", missing.describe());
    assert!(
        missing
            .stderr
            .contains("environment variable SIEM_SECRET, which is not set"),
        "{}",
        missing.describe()
    );
    let unknown = posture(
        &["--config", &config, "alerts", "test", "--route", "nope"],
        &[],
    )
    .await;
    assert!(
        unknown
            .stderr
            .contains("no route \"nope\"; configured: siem"),
        "{}",
        unknown.describe()
    );
    let none = posture(&["alerts", "test"], &[]).await;
    assert_eq!(none.code, Some(2));
    assert!(
        none.stderr.contains("POSTURE_SLACK_WEBHOOK_URL"),
        "{}",
        none.describe()
    );

    // The signed route works with its secret.
    let signed = posture(
        &["--config", &config, "alerts", "test", "--route", "siem"],
        &[
            ("SIEM_URL", url.as_str()),
            ("SIEM_SECRET", "whsec-0123456789"),
        ],
    )
    .await;
    assert_eq!(signed.code, Some(0), "{}", signed.describe());
    let last = receiver.received().pop().unwrap();
    let ts = last.headers.get("x-posture-timestamp").unwrap();
    let sig = last.headers.get("x-posture-signature").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(sig.starts_with("v1="));
    assert!(ts.parse::<u64>().unwrap().abs_diff(now) < 60);
    assert_eq!(last.json()["kind"], "test");
}
