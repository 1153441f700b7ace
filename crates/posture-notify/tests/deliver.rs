//! The delivery worker against a local receiver that answers as Slack's webhooks do, with a
//! real SQLite store: delivered once, `429 Retry-After` honoured, 5xx and a hung connection
//! retried, `400 invalid_blocks` given up with its reason, routes independent, the signed
//! webhook verifiable, and a worker stopped (or killed) at any point neither loses nor
//! repeats an alert.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod fixtures;
#[path = "../../posture-store/tests/support/mod.rs"]
mod pg;
#[path = "support/receiver.rs"]
mod receiver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use posture_model::alert::Alert;
use posture_model::{AccountId, Region};
use posture_notify::{Delivery, DeliveryMetrics, Secret, Sink, SinkKind};
use posture_store::{DeliveryState, SnapshotSummary, Store, StoreLocation};
use receiver::{Receiver, Reply};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const DAY: Duration = Duration::from_secs(86_400);

/// Commits a snapshot whose outbox holds `alerts` (each for its route).
fn store_alerts(location: &StoreLocation, minute: i64, alerts: &[Alert]) {
    let mut store = Store::open(location).unwrap();
    let started = Utc.timestamp_opt(1_800_000_000 + minute * 60, 0).unwrap();
    let mut writer = store.begin_snapshot(started).unwrap();
    for a in alerts {
        writer
            .put_alert(
                &a.route,
                a.kind.as_str(),
                &serde_json::to_string(a).unwrap(),
            )
            .unwrap();
    }
    writer
        .commit(SnapshotSummary {
            finished_at: started + chrono::Duration::seconds(5),
            accounts: vec![AccountId::new("111122223333").unwrap()],
            regions: vec![Region::new("us-east-1").unwrap()],
            services: vec!["s3".into()],
            api_calls: Default::default(),
            baseline: ("test".into(), "1".into()),
        })
        .unwrap();
}

fn for_route(route: &str) -> Alert {
    let mut a = fixtures::regressions();
    a.route = route.into();
    a
}

fn slack(route: &str, receiver: &Receiver) -> Sink {
    Sink {
        route: route.into(),
        kind: SinkKind::Slack,
        url: Secret::new(&receiver.url()),
    }
}

/// Fast retries and timeouts for tests.
fn delivery(location: &StoreLocation, sinks: Vec<Sink>) -> Delivery {
    Delivery {
        poll: Duration::from_millis(100),
        timeout: Duration::from_secs(2),
        backoff: Duration::from_millis(300),
        max_backoff: Duration::from_secs(2),
        claim: Duration::from_secs(5),
        ..Delivery::new(location.clone(), sinks, "test-deliverer".into())
    }
}

struct Worker {
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), String>>,
    wake: Arc<Notify>,
}

fn start(d: Delivery, metrics: Option<DeliveryMetrics>) -> Worker {
    let cancel = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let task = tokio::spawn(posture_notify::run(
        d,
        metrics,
        Arc::clone(&wake),
        cancel.clone(),
    ));
    Worker { cancel, task, wake }
}

impl Worker {
    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the worker stops within a request's timeout")
            .unwrap()
            .unwrap();
    }
}

fn outbox(location: &StoreLocation) -> Vec<posture_store::OutboxEntry> {
    let mut s = Store::open(location).unwrap();
    s.attach_deliveries().unwrap();
    s.outbox(None, 100, DAY).unwrap()
}

async fn wait_state(location: &StoreLocation, key: &str, state: DeliveryState) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = location.clone();
        let entries = tokio::task::spawn_blocking(move || outbox(&l))
            .await
            .unwrap();
        if entries.iter().any(|e| e.key == key && e.state == state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{key} never became {state:?}: {entries:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sqlite() -> (tempfile::TempDir, StoreLocation) {
    let dir = tempfile::tempdir().unwrap();
    let location = StoreLocation::Sqlite(dir.path().join("posture.sqlite"));
    (dir, location)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_alert_is_delivered_once_as_block_kit() {
    let (_dir, location) = sqlite();
    let receiver = Receiver::start(vec![]).await;
    store_alerts(&location, 0, &[for_route("default")]);
    let mut registry = prometheus_client::registry::Registry::with_prefix("posture");
    let metrics = DeliveryMetrics::register(&mut registry);
    let worker = start(
        delivery(&location, vec![slack("default", &receiver)]),
        Some(metrics),
    );
    let got = receiver.wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let message = got[0].json();
    assert_eq!(
        message,
        posture_notify::slack::message(&for_route("default")),
        "the Block Kit message of the stored alert"
    );
    assert_eq!(
        got[0].headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    // More wake-ups and polls send nothing again.
    worker.wake.notify_one();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1, "delivered once");
    worker.stop().await;
    let entries = outbox(&location);
    assert_eq!(entries[0].state, DeliveryState::Delivered);
    assert_eq!(entries[0].attempts, 1);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("posture_alert_deliveries_total{route=\"default\"} 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_server_errors_and_hung_connections_are_retried() {
    let (_dir, location) = sqlite();
    let receiver =
        Receiver::start(vec![Reply::RateLimited(1), Reply::ServerError, Reply::Hang]).await;
    store_alerts(&location, 0, &[for_route("default")]);
    let mut registry = prometheus_client::registry::Registry::with_prefix("posture");
    let metrics = DeliveryMetrics::register(&mut registry);
    let started = Instant::now();
    let worker = start(
        delivery(&location, vec![slack("default", &receiver)]),
        Some(metrics),
    );
    let got = receiver.wait_delivered(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1, "{:?}", receiver.received());
    let all = receiver.received();
    assert_eq!(
        all.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [429, 500, 0, 200],
        "429, 500, a hung request (timed out), then delivered"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the 429's Retry-After of 1 s was waited"
    );
    assert!(
        all.windows(2).all(|w| w[0].body == w[1].body),
        "every attempt sends the same message"
    );
    worker.stop().await;
    let entry = &outbox(&location)[0];
    assert_eq!(entry.state, DeliveryState::Delivered);
    assert_eq!(entry.attempts, 4);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("posture_alert_retries_total{route=\"default\"} 3"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_blocks_fails_for_good_and_the_next_alert_goes() {
    let (_dir, location) = sqlite();
    let receiver = Receiver::start(vec![Reply::InvalidBlocks]).await;
    store_alerts(&location, 0, &[for_route("default")]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut second = for_route("default");
    second.kind = posture_model::alert::AlertKind::CollectionFailed;
    store_alerts(&location, 60, &[second]);
    let worker = start(delivery(&location, vec![slack("default", &receiver)]), None);
    let got = receiver.wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.stop().await;
    let all = receiver.received();
    assert_eq!(all.len(), 2, "the refused one is not retried");
    let entries = outbox(&location);
    let failed: Vec<_> = entries
        .iter()
        .filter(|e| e.state == DeliveryState::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("HTTP 400: invalid_blocks")
    );
    assert_eq!(failed[0].kind, "regressions");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_that_is_down_does_not_hold_up_another() {
    let (_dir, location) = sqlite();
    let up = Receiver::start(vec![]).await;
    let down = Receiver::start(vec![Reply::ServerError; 100]).await;
    store_alerts(&location, 0, &[for_route("up"), for_route("down")]);
    let worker = start(
        delivery(&location, vec![slack("up", &up), slack("down", &down)]),
        None,
    );
    let got = up.wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    worker.stop().await;
    assert!(down.delivered().is_empty());
    assert!(!down.received().is_empty(), "tried");
    let entries = outbox(&location);
    let down_entry = entries.iter().find(|e| e.route == "down").unwrap();
    assert_eq!(down_entry.state, DeliveryState::Pending);
    assert_eq!(
        down_entry.last_error.as_deref(),
        Some("HTTP 500: internal_error")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_webhook_verifies_with_its_secret() {
    let (_dir, location) = sqlite();
    let receiver = Receiver::start(vec![]).await;
    let alert = for_route("siem");
    store_alerts(&location, 0, std::slice::from_ref(&alert));
    let sink = Sink {
        route: "siem".into(),
        kind: SinkKind::Webhook {
            secret: Secret::new("whsec-test-0123456789"),
        },
        url: Secret::new(&receiver.url()),
    };
    let worker = start(delivery(&location, vec![sink]), None);
    let got = receiver.wait_delivered(1, Duration::from_secs(20)).await;
    worker.stop().await;
    let r = &got[0];
    let timestamp = r.headers.get("x-posture-timestamp").unwrap();
    let signature = r.headers.get("x-posture-signature").unwrap();
    posture_notify::webhook::verify(
        b"whsec-test-0123456789",
        timestamp,
        signature,
        &r.body,
        Utc::now().timestamp(),
    )
    .expect("the signature verifies");
    assert!(
        posture_notify::webhook::verify(
            b"another-secret",
            timestamp,
            signature,
            &r.body,
            Utc::now().timestamp()
        )
        .is_err()
    );
    let envelope = r.json();
    assert_eq!(envelope["version"], 1);
    assert_eq!(envelope["kind"], "regressions");
    let sent: Alert = serde_json::from_value(envelope["alert"].clone()).unwrap();
    assert_eq!(sent, alert, "the alert itself");
}

/// A worker stopped before it sends (the daemon was stopped or killed between storing the
/// snapshot and delivering) leaves the alert pending; the next worker sends it once. One
/// stopped after the delivery does not send it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_at_any_point_neither_loses_nor_repeats() {
    let (_dir, location) = sqlite();
    // Not listening yet: the first worker cannot deliver.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    store_alerts(&location, 0, &[for_route("default")]);
    let url = format!("http://127.0.0.1:{port}/services/T/B/x");
    let sink = |url: &str| Sink {
        route: "default".into(),
        kind: SinkKind::Slack,
        url: Secret::new(url),
    };
    let first = start(delivery(&location, vec![sink(&url)]), None);
    let key = outbox(&location)[0].key.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    while outbox(&location)[0].last_error.is_none() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.stop().await;
    let entry = &outbox(&location)[0];
    assert_eq!(entry.state, DeliveryState::Pending);
    assert!(
        entry
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("could not connect")),
        "{:?}",
        entry.last_error
    );
    assert!(
        !entry
            .last_error
            .as_deref()
            .unwrap()
            .contains("services/T/B"),
        "the error never shows the webhook URL: {:?}",
        entry.last_error
    );

    // The receiver is up; a new worker (the restarted daemon) delivers it once.
    let receiver = Receiver::start_on(port, vec![]).await;
    let second = start(delivery(&location, vec![sink(&url)]), None);
    wait_state(&location, &key, DeliveryState::Delivered).await;
    second.stop().await;
    assert_eq!(receiver.delivered().len(), 1);

    // Another restart: nothing is sent again.
    let third = start(delivery(&location, vec![sink(&url)]), None);
    tokio::time::sleep(Duration::from_millis(800)).await;
    third.stop().await;
    assert_eq!(receiver.received().len(), 1, "not repeated");
}

/// On PostgreSQL (delivery state in the database; a client that must never be dropped on
/// the runtime's threads): delivered once, and the worker starts, reopens and stops cleanly.
#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_store_delivers_once_and_stops_cleanly() {
    let (server, url) = tokio::task::spawn_blocking(|| {
        let server = pg::Postgres::start();
        let url = server.fresh_database();
        (server, url)
    })
    .await
    .unwrap();
    let location = StoreLocation::Postgres(url);
    let receiver = Receiver::start(vec![Reply::ServerError]).await;
    {
        let location = location.clone();
        tokio::task::spawn_blocking(move || store_alerts(&location, 0, &[for_route("default")]))
            .await
            .unwrap();
    }
    let worker = start(delivery(&location, vec![slack("default", &receiver)]), None);
    let got = receiver.wait_delivered(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1);
    worker.stop().await;
    let again = start(delivery(&location, vec![slack("default", &receiver)]), None);
    tokio::time::sleep(Duration::from_millis(600)).await;
    again.stop().await;
    assert_eq!(
        receiver.received().len(),
        2,
        "a 500, then the delivery; nothing after"
    );
    let entries = {
        let location = location.clone();
        tokio::task::spawn_blocking(move || outbox(&location))
            .await
            .unwrap()
    };
    assert_eq!(entries[0].state, DeliveryState::Delivered);
    assert_eq!(entries[0].attempts, 2);
    tokio::task::spawn_blocking(move || drop(server))
        .await
        .unwrap();
}
