//! The daemon's metrics, in the Prometheus project's client (OpenMetrics text). Label sets
//! are bounded: triggers, outcomes, services (the collectors' table), statuses, severities
//! and the scanned accounts; never resource ARNs or findings.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every series the daemon exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    scans: Family<Labels, Counter>,
    scan_seconds: Family<Labels, Histogram>,
    scans_running: Gauge,
    retries: Counter,
    api_calls: Family<Labels, Counter>,
    throttled: Family<Labels, Counter>,
    failed_calls: Family<Labels, Counter>,
    findings: Family<Labels, Gauge>,
    account_last_scan: Family<Labels, Gauge<f64, AtomicU64>>,
    last_success: Gauge<f64, AtomicU64>,
    store_bytes: Gauge<f64, AtomicU64>,
    accounts_claimed: Counter,
    leases_lost: Counter,
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family registered.
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    /// [`Metrics::new`] with more series, registered by `more` (another worker's).
    pub fn with(more: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::with_prefix("posture");
        more(&mut registry);
        let scans = Family::<Labels, Counter>::default();
        registry.register(
            "scans",
            "Scans (one batch of accounts each) by trigger (schedule, api) and outcome (stored, failed, cancelled)",
            scans.clone(),
        );
        let scan_seconds = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(1.0, 2.0, 14))
        });
        registry.register(
            "scan_duration_seconds",
            "Time from a scan's start to its snapshot being stored, by trigger",
            scan_seconds.clone(),
        );
        let scans_running = Gauge::default();
        registry.register(
            "scans_running",
            "Scans running now (0 or 1)",
            scans_running.clone(),
        );
        let retries = Counter::default();
        registry.register(
            "scan_retries",
            "Cycles retried after a failure, with backoff",
            retries.clone(),
        );
        let api_calls = Family::<Labels, Counter>::default();
        registry.register(
            "aws_api_calls",
            "AWS API calls made, by service",
            api_calls.clone(),
        );
        let throttled = Family::<Labels, Counter>::default();
        registry.register(
            "aws_throttled",
            "AWS API attempts answered with throttling (retried with backoff), by service",
            throttled.clone(),
        );
        let failed_calls = Family::<Labels, Counter>::default();
        registry.register(
            "aws_failed_calls",
            "AWS API calls that failed (gaps in the coverage record), by service",
            failed_calls.clone(),
        );
        let findings = Family::<Labels, Gauge>::default();
        registry.register(
            "findings",
            "Current findings (each account's newest scan) by status and severity",
            findings.clone(),
        );
        let account_last_scan = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "account_last_scan_timestamp_seconds",
            "Start of the newest stored scan that collected each account (one that could not enter it does not count) (Unix seconds)",
            account_last_scan.clone(),
        );
        let last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_success_timestamp_seconds",
            "When this daemon last stored a snapshot, or the newest stored scan of its accounts at start (Unix seconds)",
            last_success.clone(),
        );
        let store_bytes = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "store_size_bytes",
            "Size of the store (SQLite file or PostgreSQL database)",
            store_bytes.clone(),
        );
        let accounts_claimed = Counter::default();
        registry.register(
            "accounts_claimed",
            "Accounts this replica claimed to scan",
            accounts_claimed.clone(),
        );
        let leases_lost = Counter::default();
        registry.register(
            "leases_lost",
            "Scans stopped because another replica took over an expired lease",
            leases_lost.clone(),
        );
        Self {
            registry,
            scans,
            scan_seconds,
            scans_running,
            retries,
            api_calls,
            throttled,
            failed_calls,
            findings,
            account_last_scan,
            last_success,
            store_bytes,
            accounts_claimed,
            leases_lost,
        }
    }

    /// The text exposition (OpenMetrics 1.0, ending in `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }

    /// A scan began.
    pub fn scan_started(&self) {
        self.scans_running.set(1);
    }

    /// A scan ended with `outcome` (stored, failed, cancelled) after `seconds`.
    pub fn scan_ended(&self, trigger: &str, outcome: &str, seconds: f64) {
        self.scans_running.set(0);
        self.scans
            .get_or_create(&labels(&[("trigger", trigger), ("outcome", outcome)]))
            .inc();
        if outcome == "stored" {
            self.scan_seconds
                .get_or_create(&labels(&[("trigger", trigger)]))
                .observe(seconds);
        }
    }

    /// A stored scan's AWS calls: by `service:Operation`, throttles and failures by service.
    pub fn aws_calls(
        &self,
        calls: &BTreeMap<String, u64>,
        throttled: &BTreeMap<String, u64>,
        failed: &BTreeMap<String, u64>,
    ) {
        let mut by_service: BTreeMap<&str, u64> = BTreeMap::new();
        for (op, n) in calls {
            let service = op.split_once(':').map_or(op.as_str(), |(s, _)| s);
            *by_service.entry(service).or_default() += n;
        }
        for (family, counts) in [
            (&self.api_calls, by_service),
            (
                &self.throttled,
                throttled.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            ),
            (
                &self.failed_calls,
                failed.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            ),
        ] {
            for (service, n) in counts {
                family
                    .get_or_create(&labels(&[("service", service)]))
                    .inc_by(n);
            }
        }
    }

    /// The current findings, replacing the previous counts.
    pub fn findings(&self, counts: &BTreeMap<(String, String), u64>) {
        self.findings.clear();
        for ((status, severity), n) in counts {
            self.findings
                .get_or_create(&labels(&[("status", status), ("severity", severity)]))
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    /// When each account was last scanned (Unix seconds).
    pub fn account_scanned(&self, account: &str, at: f64) {
        self.account_last_scan
            .get_or_create(&labels(&[("account", account)]))
            .set(at);
    }

    /// The last success (Unix seconds).
    pub fn last_success(&self, at: f64) {
        self.last_success.set(at);
    }

    /// The store's size.
    pub fn store_size(&self, bytes: u64) {
        #[allow(
            clippy::cast_precision_loss,
            reason = "a gauge of bytes; f64 is exact to 8 PiB"
        )]
        self.store_bytes.set(bytes as f64);
    }

    /// A retry after a failed cycle.
    pub fn retried(&self) {
        self.retries.inc();
    }

    /// Accounts claimed.
    pub fn claimed(&self, n: usize) {
        self.accounts_claimed.inc_by(n as u64);
    }

    /// A lease lost to another replica.
    pub fn lease_lost(&self) {
        self.leases_lost.inc();
    }
}
