//! The delivery worker: sends what waits in the outbox, once.
//!
//! It claims, per route, the oldest pending alert (a claim that expires, so replicas
//! sharing a store never send one alert at once), sends the claimed alerts of different
//! routes concurrently, and marks each delivered the moment its 2xx arrives (one
//! autocommit statement). A `429` waits for its `Retry-After`; a 5xx, a timeout or a
//! refused connection backs off (10 s doubling to 15 min, with jitter); any other 4xx fails
//! the alert for good with the receiver's reason, and the route's next alert goes. An alert
//! older than `max_age` is not sent. It wakes when a scan stores a snapshot, when a retry
//! is due, and every `poll`; it writes the daily digest (see [`crate::digest`]).
//!
//! What a crash costs: an alert whose 2xx arrived and whose mark had not committed is sent
//! again after the restart (Slack has no idempotency key). Nothing else is lost or repeated:
//! an alert is in the outbox exactly when its snapshot is stored, and a delivered mark is
//! never undone.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use posture_model::alert::Alert;
use posture_store::{DeliveryState, OutboxEntry, Store, StoreLocation};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::digest::{self, DigestSettings};
use crate::sink::{self, Outcome, Sink};

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The store whose outbox it serves.
    pub store: StoreLocation,
    /// One sink per configured route.
    pub sinks: Vec<Sink>,
    /// This deliverer's name in claims (the daemon's replica id).
    pub holder: String,
    /// Alerts older than this are not sent.
    pub max_age: Duration,
    /// How long a claim lasts (longer than `timeout`).
    pub claim: Duration,
    /// The longest wait between looks at the outbox.
    pub poll: Duration,
    /// Per request.
    pub timeout: Duration,
    /// The first retry's delay; it doubles up to `max_backoff`.
    pub backoff: Duration,
    /// The longest retry delay.
    pub max_backoff: Duration,
    /// The daily digest, when deadlines are configured.
    pub digest: Option<DigestSettings>,
}

impl Delivery {
    /// Defaults for `sinks` on `store`: claims of 2 min, a look every 5 s, 10 s per request,
    /// retries from 10 s to 15 min, alerts sent within 24 h.
    pub fn new(store: StoreLocation, sinks: Vec<Sink>, holder: String) -> Self {
        Self {
            store,
            sinks,
            holder,
            max_age: Duration::from_secs(24 * 3600),
            claim: Duration::from_secs(120),
            poll: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(15 * 60),
            digest: None,
        }
    }
}

type Labels = Vec<(&'static str, String)>;

/// The worker's series, per route: deliveries, retries, failures, and alerts pending.
#[derive(Debug, Clone, Default)]
pub struct DeliveryMetrics {
    delivered: Family<Labels, Counter>,
    retries: Family<Labels, Counter>,
    failed: Family<Labels, Counter>,
    pending: Family<Labels, Gauge>,
}

impl DeliveryMetrics {
    /// Registers the series in `registry` (the daemon's).
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "alert_deliveries",
            "Alerts delivered (a 2xx from the receiver), by route",
            m.delivered.clone(),
        );
        registry.register(
            "alert_retries",
            "Alert deliveries that will be tried again (429, 5xx, timeout, connection), by route",
            m.retries.clone(),
        );
        registry.register(
            "alert_failures",
            "Alerts given up (a 4xx other than 408 and 429), by route",
            m.failed.clone(),
        );
        registry.register(
            "alerts_pending",
            "Alerts in the outbox waiting to be sent, by route",
            m.pending.clone(),
        );
        m
    }

    fn route(route: &str) -> Labels {
        vec![("route", route.to_owned())]
    }
}

/// The delay before retry `attempt` (1-based): `base` doubling to `max`, plus up to a tenth
/// more at random so that replicas and routes do not retry in step.
pub fn backoff(attempt: i64, base: Duration, max: Duration) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 30) - 1).unwrap_or(0);
    let d = base.saturating_mul(2u32.saturating_pow(exp)).min(max);
    let jitter = RandomState::new().hash_one(attempt) % 1000;
    d + d.mul_f64(jitter as f64 / 10_000.0)
}

/// Runs until `cancel`: sends in flight finish (each bounded by the timeout) and are
/// marked before it returns.
pub async fn run(
    delivery: Delivery,
    metrics: Option<DeliveryMetrics>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) -> Result<(), String> {
    let client = sink::client(delivery.timeout)?;
    let routes: Vec<String> = delivery.sinks.iter().map(|s| s.route.clone()).collect();
    let sinks: BTreeMap<String, Sink> = delivery
        .sinks
        .iter()
        .map(|s| (s.route.clone(), s.clone()))
        .collect();
    let mut store: Option<Held> = None;
    let mut failures = 0u32;
    let mut last_housekeeping: Option<chrono::DateTime<Utc>> = None;
    while !cancel.is_cancelled() {
        let s = match &store {
            Some(s) => s.clone(),
            None => match open(&delivery.store).await {
                Ok(s) => {
                    let s = Held::new(s);
                    store = Some(s.clone());
                    s
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "alert delivery cannot open the store; trying again");
                    if pause(&cancel, &wake, retry_pause(failures)).await {
                        break;
                    }
                    continue;
                }
            },
        };
        let now = Utc::now();
        if last_housekeeping.is_none_or(|t| now - t >= chrono::Duration::minutes(10)) {
            last_housekeeping = Some(now);
            housekeeping(&delivery, &s, now).await;
        }
        let claimed = claim(&s, &delivery, &routes).await;
        let claimed = match claimed {
            Ok(c) => {
                failures = 0;
                c
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "alert delivery cannot read the outbox; trying again");
                store = None;
                if pause(&cancel, &wake, retry_pause(failures)).await {
                    break;
                }
                continue;
            }
        };
        if let Some(m) = &metrics {
            refresh_pending(&s, m, &routes, delivery.max_age).await;
        }
        if claimed.is_empty() {
            if pause(&cancel, &wake, delivery.poll).await {
                break;
            }
            continue;
        }
        // Routes in parallel; each alert is marked as soon as its answer arrives.
        let sends = claimed.into_iter().filter_map(|entry| {
            let sink = sinks.get(&entry.route)?.clone();
            Some(deliver_one(
                &client,
                sink,
                entry,
                s.clone(),
                metrics.clone(),
                &delivery,
            ))
        });
        futures::future::join_all(sends).await;
    }
    Ok(())
}

/// Claims, on a blocking thread, the next alert due for each of `routes`.
async fn claim(
    store: &Held,
    delivery: &Delivery,
    routes: &[String],
) -> Result<Vec<OutboxEntry>, String> {
    let (db, holder, routes) = (store.clone(), delivery.holder.clone(), routes.to_vec());
    let (lease, max_age) = (delivery.claim, delivery.max_age);
    tokio::task::spawn_blocking(move || {
        db.lock()?
            .claim_alerts(&holder, &routes, lease, max_age)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Sends one claimed alert and records what became of it.
async fn deliver_one(
    client: &sink::Client,
    sink: Sink,
    entry: OutboxEntry,
    store: Held,
    metrics: Option<DeliveryMetrics>,
    delivery: &Delivery,
) -> Sent {
    let route = entry.route.clone();
    let outcome = match serde_json::from_str::<Alert>(&entry.body) {
        Ok(alert) => sink::send(client, &sink, &alert, Utc::now().timestamp()).await,
        Err(e) => Outcome::Failed {
            error: format!("the alert in the outbox cannot be read: {e}"),
        },
    };
    let key = entry.key.clone();
    let mark = match &outcome {
        Outcome::Delivered => Mark::Delivered,
        Outcome::Retry { after, error } => Mark::Retry(
            after
                .unwrap_or_else(|| backoff(entry.attempts, delivery.backoff, delivery.max_backoff)),
            error.clone(),
        ),
        Outcome::Failed { error } => Mark::Failed(error.clone()),
    };
    let marked = {
        let (key, mark) = (key.clone(), mark.clone());
        tokio::task::spawn_blocking(move || {
            let mut st = store.lock()?;
            match mark {
                Mark::Delivered => st.mark_delivered(&key),
                Mark::Retry(after, error) => st.mark_retry(&key, &error, after),
                Mark::Failed(error) => st.mark_failed(&key, &error),
            }
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
    };
    if let Err(e) = marked {
        // The claim expires and the alert is tried again: for a delivered one, this is the
        // one case that repeats a message.
        tracing::error!(route = %route, key = %key, error = %e, "cannot record the delivery of an alert");
    }
    let labels = DeliveryMetrics::route(&route);
    let sent = match &mark {
        Mark::Delivered => Sent::Delivered,
        Mark::Retry(..) => Sent::Retry,
        Mark::Failed(_) => Sent::Failed,
    };
    match mark {
        Mark::Delivered => {
            tracing::info!(route = %route, kind = %entry.kind, key = %key, attempts = entry.attempts, "alert delivered");
            if let Some(m) = &metrics {
                m.delivered.get_or_create(&labels).inc();
            }
        }
        Mark::Retry(after, error) => {
            tracing::warn!(route = %route, key = %key, attempts = entry.attempts, retry_in_s = after.as_secs(), error = %error, "alert not delivered; will retry");
            if let Some(m) = &metrics {
                m.retries.get_or_create(&labels).inc();
            }
        }
        Mark::Failed(error) => {
            tracing::error!(route = %route, key = %key, attempts = entry.attempts, error = %error, "alert refused by the receiver; not retried (check the route's webhook)");
            if let Some(m) = &metrics {
                m.failed.get_or_create(&labels).inc();
            }
        }
    }
    sent
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Delivered,
    Retry,
    Failed,
}

/// What [`drain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Alerts delivered.
    pub delivered: usize,
    /// Attempts that will be retried (by the next run or the daemon).
    pub retry: usize,
    /// Alerts refused for good.
    pub failed: usize,
}

/// One pass over the outbox for a command that does not stay (`posture scan`): every alert
/// due is tried once, within `within`; what must be retried stays pending.
pub async fn drain(delivery: &Delivery, within: Duration) -> Result<Drained, String> {
    let client = sink::client(delivery.timeout)?;
    let routes: Vec<String> = delivery.sinks.iter().map(|s| s.route.clone()).collect();
    let store = Held::new(open(&delivery.store).await?);
    let deadline = tokio::time::Instant::now() + within;
    let mut done = Drained::default();
    while tokio::time::Instant::now() < deadline {
        let claimed = claim(&store, delivery, &routes).await?;
        if claimed.is_empty() {
            break;
        }
        let sends = claimed.into_iter().filter_map(|entry| {
            let sink = delivery
                .sinks
                .iter()
                .find(|s| s.route == entry.route)?
                .clone();
            Some(deliver_one(
                &client,
                sink,
                entry,
                store.clone(),
                None,
                delivery,
            ))
        });
        let mut progressed = false;
        for sent in futures::future::join_all(sends).await {
            match sent {
                Sent::Delivered => {
                    done.delivered += 1;
                    progressed = true;
                }
                Sent::Retry => done.retry += 1,
                Sent::Failed => {
                    done.failed += 1;
                    progressed = true;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(done)
}

/// The worker's store connection, shared by the sends in flight. A PostgreSQL client may
/// not be dropped on the runtime's threads: the last owner drops it on a blocking thread.
#[derive(Clone)]
struct Held(Option<Arc<Mutex<Store>>>);

impl Held {
    fn new(store: Store) -> Self {
        Self(Some(Arc::new(Mutex::new(store))))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Store>, String> {
        self.0
            .as_ref()
            .ok_or_else(|| "the store was released".to_owned())?
            .lock()
            .map_err(|_| "the store lock is poisoned".to_owned())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(last) = self.0.take().and_then(Arc::into_inner) else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || drop(last));
            }
            Err(_) => drop(last),
        }
    }
}

#[derive(Debug, Clone)]
enum Mark {
    Delivered,
    Retry(Duration, String),
    Failed(String),
}

/// Every ten minutes: the day's digest, when it is due, through a connection of its own (on
/// SQLite its write waits for a scan's lock, and deliveries must not wait with it); and the
/// delivery state of alerts the retention pruned.
async fn housekeeping(delivery: &Delivery, store: &Held, now: chrono::DateTime<Utc>) {
    if let Some(settings) = &delivery.digest {
        let settings = settings.clone();
        let routes: Vec<String> = delivery.sinks.iter().map(|s| s.route.clone()).collect();
        let location = delivery.store.clone();
        let written = tokio::task::spawn_blocking(move || {
            let mut st = Store::open(&location).map_err(|e| e.to_string())?;
            digest::write_due(&mut st, &settings, &routes, now).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        match written {
            Ok(0) => {}
            Ok(n) => tracing::info!(alerts = n, "overdue digest written to the outbox"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot write the overdue digest; trying again in 10 minutes")
            }
        }
    }
    let db = store.clone();
    let pruned = tokio::task::spawn_blocking(move || {
        db.lock()?.prune_deliveries().map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    if let Err(e) = pruned {
        tracing::warn!(error = %e, "cannot prune the alert delivery state");
    }
}

async fn open(location: &StoreLocation) -> Result<Store, String> {
    let location = location.clone();
    tokio::task::spawn_blocking(move || {
        let mut s = Store::open(&location).map_err(|e| e.to_string())?;
        s.attach_deliveries().map_err(|e| e.to_string())?;
        Ok(s)
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn refresh_pending(
    store: &Held,
    metrics: &DeliveryMetrics,
    routes: &[String],
    max_age: Duration,
) {
    let db = store.clone();
    let counts = tokio::task::spawn_blocking(move || {
        db.lock()?.outbox_counts(max_age).map_err(|e| e.to_string())
    })
    .await;
    if let Ok(Ok(counts)) = counts {
        for route in routes {
            let n = counts
                .get(&(route.clone(), DeliveryState::Pending))
                .copied()
                .unwrap_or(0);
            metrics
                .pending
                .get_or_create(&DeliveryMetrics::route(route))
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
}

fn retry_pause(failures: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(failures.min(8))).min(Duration::from_secs(300))
}

/// Waits for `wait`, a wake-up or cancellation; true when cancelled.
async fn pause(cancel: &CancellationToken, wake: &Notify, wait: Duration) -> bool {
    tokio::select! {
        () = cancel.cancelled() => true,
        () = wake.notified() => false,
        () = tokio::time::sleep(wait) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_ceiling_with_a_little_jitter() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(900);
        for (attempt, expected) in [(1, 10), (2, 20), (3, 40), (7, 640), (8, 900), (40, 900)] {
            let d = backoff(attempt, base, max);
            let lo = Duration::from_secs(expected);
            assert!(d >= lo && d <= lo + lo / 10, "attempt {attempt}: {d:?}");
        }
    }
}
