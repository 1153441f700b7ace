//! Request budgets: one token bucket per (account, region, service), set below AWS's
//! published API rate limits, and one cap on requests in flight across the whole scan.
//!
//! Both are applied in the HTTP layer (see `http.rs`), so every call of every collector is
//! covered, retries included, without each call site having to remember.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

/// A token bucket: a steady rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: u32,
    /// Requests that may go at once after a quiet period.
    pub burst: u32,
}

/// The budgets for a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests in flight at once across every account, region and service.
    pub max_in_flight: usize,
    /// Per-service budgets, applied per (account, region, service).
    pub services: BTreeMap<String, RateLimit>,
}

impl Default for Limits {
    /// Defaults below AWS's published budgets: EC2 describe calls allow 100 burst and 20
    /// per second per API (one bucket here covers all EC2 APIs); RDS about 12 per second;
    /// CloudTrail 10 per second for most control-plane APIs; IAM and Organizations are
    /// account-global and modest. S3 bucket-configuration reads and KMS reads have far
    /// higher limits, so their buckets mostly guard against runaway loops. CloudWatch Logs
    /// `DescribeLogGroups` and `DescribeMetricFilters` allow 5 per second, AWS Config's
    /// describe calls and ACM's `DescribeCertificate` about as few; Secrets Manager's reads
    /// allow 50.
    fn default() -> Self {
        let mut services = BTreeMap::new();
        let mut set = |name: &str, per_second, burst| {
            services.insert(name.to_owned(), RateLimit { per_second, burst });
        };
        set("ec2", 20, 100);
        set("rds", 10, 12);
        set("cloudtrail", 8, 10);
        set("iam", 10, 15);
        set("organizations", 5, 5);
        set("sts", 10, 10);
        set("kms", 50, 50);
        set("s3", 100, 100);
        set("s3control", 10, 10);
        set("elasticfilesystem", 8, 10);
        set("backup", 5, 10);
        set("logs", 4, 5);
        set("cloudwatch", 8, 10);
        set("sns", 20, 30);
        set("elasticloadbalancing", 8, 10);
        set("acm", 8, 10);
        set("guardduty", 8, 10);
        set("config", 4, 5);
        set("secretsmanager", 40, 50);
        set("access-analyzer", 5, 10);
        set("securityhub", 5, 10);
        set("autoscaling", 10, 20);
        set("ssm", 5, 10);
        set("macie2", 5, 10);
        Self {
            max_in_flight: 64,
            services,
        }
    }
}

impl Limits {
    /// The budget for `service` (a missing entry gets a conservative 10/s).
    pub fn for_service(&self, service: &str) -> RateLimit {
        self.services.get(service).copied().unwrap_or(RateLimit {
            per_second: 10,
            burst: 10,
        })
    }
}

/// The live limiters of one scan.
#[derive(Debug)]
pub(crate) struct Budgets {
    limits: Limits,
    in_flight: Arc<Semaphore>,
    buckets: Mutex<HashMap<(String, String, String), Arc<DefaultDirectRateLimiter>>>,
}

impl Budgets {
    pub fn new(limits: Limits) -> Self {
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
        Self {
            limits,
            in_flight,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn in_flight(&self) -> Arc<Semaphore> {
        self.in_flight.clone()
    }

    /// The token bucket of (account, region, service), created on first use.
    pub fn bucket(
        &self,
        account: &str,
        region: &str,
        service: &str,
    ) -> Arc<DefaultDirectRateLimiter> {
        // A poisoned lock only means a panic elsewhere while inserting; the map is intact.
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((account.to_owned(), region.to_owned(), service.to_owned()))
            .or_insert_with(|| {
                let limit = self.limits.for_service(service);
                let rate = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
                let burst = NonZeroU32::new(limit.burst).unwrap_or(rate);
                Arc::new(RateLimiter::direct(
                    Quota::per_second(rate).allow_burst(burst),
                ))
            })
            .clone()
    }
}
