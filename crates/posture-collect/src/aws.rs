//! The one place AWS clients are made: shared SDK configuration (credential chain,
//! profile, endpoint override), per-account credentials (assume-role from the security
//! account), per-region clients with the scan's request budgets, and the interceptor that
//! counts calls, attempts and throttles.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region as SdkRegion;

use crate::http::BudgetedClient;
use crate::limits::{Budgets, Limits};

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Named profile from the shared config files; `None` uses the default chain.
    pub profile: Option<String>,
    /// Endpoint override for every service (a local emulator); `AWS_ENDPOINT_URL` is also
    /// honoured by the SDK itself.
    pub endpoint_url: Option<String>,
    /// Region used for global services and when no region is configured.
    pub home_region: Option<String>,
    /// Request budgets.
    pub limits: Limits,
    /// Attempts per call, including the first (the SDK's standard retry mode backs off
    /// exponentially with jitter between them, longer on throttling).
    pub max_attempts: u32,
}

/// Counts API calls per `service:Operation`, attempts (calls plus retries) and throttled
/// attempts. Cheap to clone; shared by every client of a scan.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    calls: Mutex<BTreeMap<String, u64>>,
    attempts: AtomicU64,
    throttled: AtomicU64,
    throttled_by_service: Mutex<BTreeMap<&'static str, u64>>,
}

impl CallCounter {
    fn add(&self, key: String) {
        // A poisoned lock only means another thread panicked while counting; the map is
        // still a valid map, so keep counting.
        let mut map = self
            .0
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(key).or_default() += 1;
    }

    /// Records a call made outside the SDK's clients (the assume-role provider's).
    pub fn record(&self, operation: &str) {
        self.add(operation.to_owned());
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// The calls so far, by `service:Operation`.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// HTTP attempts so far (calls plus retries).
    pub fn attempts(&self) -> u64 {
        self.0.attempts.load(Ordering::Relaxed)
    }

    /// Attempts AWS answered with a throttling error (each was retried, or became a gap).
    pub fn throttled(&self) -> u64 {
        self.0.throttled.load(Ordering::Relaxed)
    }

    /// Throttled attempts by service (`ec2`, `s3`, ...).
    pub fn throttled_by_service(&self) -> BTreeMap<String, u64> {
        self.0
            .throttled_by_service
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }
}

#[derive(Debug)]
struct CountCalls {
    service: &'static str,
    counter: CallCounter,
}

/// Error codes AWS services use for throttling, as they appear in response bodies.
const THROTTLE_MARKERS: &[&str] = &[
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequests",
    "SlowDown",
    "RequestThrottled",
    "ProvisionedThroughputExceeded",
];

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "PostureCountCalls"
    }

    // Once per operation (not per retry attempt). `read_before_execution` would be too
    // early: client interceptors run it before the operation's metadata is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.counter
                .add(format!("{}:{}", self.service, meta.name()));
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.counter.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(response) = context.response() {
            let status = response.status().as_u16();
            let throttled = status == 429
                || (matches!(status, 400 | 503)
                    && response.body().bytes().is_some_and(|b| {
                        let text = String::from_utf8_lossy(b);
                        THROTTLE_MARKERS.iter().any(|m| text.contains(m))
                    }));
            if throttled {
                self.counter.0.throttled.fetch_add(1, Ordering::Relaxed);
                *self
                    .counter
                    .0
                    .throttled_by_service
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(self.service)
                    .or_default() += 1;
            }
        }
        Ok(())
    }
}

/// Stops retrying a 500 or 501 answer that is not an AWS error document. AWS always names
/// its errors (`<Code>InternalError</Code>`, `"__type"`); a bare server error page comes
/// from something that does not implement the operation at all (an emulator, a proxy), and
/// retrying it only delays the scan. Real AWS 5xx errors keep their retries.
#[derive(Debug)]
struct NotAnAwsErrorDocument;

impl ClassifyRetry for NotAnAwsErrorDocument {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let status = response.status().as_u16();
        if status != 500 && status != 501 {
            return RetryAction::NoActionIndicated;
        }
        let names_an_error = response.body().bytes().is_some_and(|b| {
            let text = String::from_utf8_lossy(b);
            text.contains("<Code>")
                || text.contains("__type")
                || text.contains("\"code\"")
                || text.contains("\"Code\"")
        });
        if names_an_error || response.headers().contains_key("x-amzn-errortype") {
            RetryAction::NoActionIndicated
        } else {
            RetryAction::RetryForbidden
        }
    }

    fn name(&self) -> &'static str {
        "PostureNotAnAwsErrorDocument"
    }

    fn priority(&self) -> RetryClassifierPriority {
        let last = [
            RetryClassifierPriority::http_status_code_classifier(),
            RetryClassifierPriority::modeled_as_retryable_classifier(),
            RetryClassifierPriority::transient_error_classifier(),
        ]
        .into_iter()
        .max()
        .unwrap_or_else(RetryClassifierPriority::transient_error_classifier);
        RetryClassifierPriority::run_after(last)
    }
}

/// The client factory for one set of credentials (one account).
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    endpoint_url: Option<String>,
    counter: CallCounter,
    budgets: Arc<Budgets>,
    /// The account these credentials act in; keys the request budgets.
    account: String,
}

macro_rules! regional_client {
    ($fn_name:ident, $krate:ident, $service:literal) => {
        /// A client for this service in `region`.
        pub fn $fn_name(&self, region: &str) -> $krate::Client {
            let mut conf = $krate::config::Builder::from(&self.sdk)
                .region(SdkRegion::new(region.to_owned()))
                .interceptor(CountCalls {
                    service: $service,
                    counter: self.counter.clone(),
                })
                .retry_classifier(NotAnAwsErrorDocument);
            if let Some(http) = self.budgeted($service, region) {
                conf = conf.http_client(http);
            }
            $krate::Client::from_conf(conf.build())
        }
    };
}

impl Clients {
    /// Loads the shared configuration: the standard credential chain (environment, shared
    /// files and profiles, SSO, web identity, container and instance metadata).
    pub async fn load(options: &AwsOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.max_attempts.max(1))
                // Shorter than the SDK's 1 s start: a scan makes many small calls, and
                // the per-service budgets already keep it under AWS's rates.
                .with_initial_backoff(std::time::Duration::from_millis(200))
                .with_max_backoff(std::time::Duration::from_secs(10)),
        );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &options.home_region {
            loader = loader.region(SdkRegion::new(region.clone()));
        }
        let mut sdk = loader.load().await;
        if sdk.http_client().is_none() {
            // Every client shares one HTTP client (one connection pool), and the budgets
            // wrap it; without an explicit one each service would build its own, unwrapped.
            // The same stack the SDK picks by default: hyper 1 with rustls (aws-lc), proxy
            // settings from the environment.
            use aws_smithy_http_client::proxy::ProxyConfig;
            use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
            let http = Builder::new().build_with_connector_fn(|settings, components| {
                let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ));
                conn.set_connector_settings(settings.cloned());
                if let Some(c) = components {
                    conn.set_sleep_impl(c.sleep_impl());
                }
                conn.set_proxy_config(Some(ProxyConfig::from_env()));
                conn.build()
            });
            sdk = sdk.into_builder().http_client(http).build();
        }
        let endpoint_url = options
            .endpoint_url
            .clone()
            .or_else(|| sdk.endpoint_url().map(str::to_owned));
        Self {
            sdk,
            endpoint_url,
            counter: CallCounter::default(),
            budgets: Arc::new(Budgets::new(options.limits.clone())),
            account: "caller".to_owned(),
        }
    }

    /// The same credentials, labelled as acting in `account` (for the request budgets).
    pub fn for_account(&self, account: &str) -> Self {
        Self {
            account: account.to_owned(),
            ..self.clone()
        }
    }

    /// Clients for `account` through `role_name` in it, assumed with these credentials (one
    /// hop: the role is assumed directly from the security account). Fails when the role
    /// cannot be assumed; the credentials refresh themselves before they expire.
    pub async fn assume_role(
        &self,
        account: &str,
        role_name: &str,
        external_id: Option<&str>,
    ) -> Result<Self, crate::classify::AssumeRoleError> {
        let role_arn = format!("arn:aws:iam::{account}:role/{role_name}");
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
            .session_name("posture")
            .region(SdkRegion::new(self.home_region()))
            .configure(&self.sdk);
        if let Some(id) = external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        self.counter.record("sts:AssumeRole");
        // Assume once now, so an account we cannot enter is known before its collectors
        // start; the provider is then cached and refreshed by the SDK's identity cache.
        if let Err(e) = provider.provide_credentials().await {
            return Err(crate::classify::AssumeRoleError::from_credentials(
                &role_arn, &e,
            ));
        }
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        Ok(Self {
            sdk,
            account: account.to_owned(),
            ..self.clone()
        })
    }

    /// The endpoint override, if any.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// The region from the configuration chain, if any.
    pub fn configured_region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.to_string())
    }

    /// The call counter shared by every client made here.
    pub fn counter(&self) -> &CallCounter {
        &self.counter
    }

    /// The region used for global services (IAM, STS, S3 Control, Organizations).
    pub fn home_region(&self) -> String {
        self.configured_region()
            .unwrap_or_else(|| "us-east-1".to_owned())
    }

    /// The SDK's HTTP client wrapped with this (account, region, service)'s budget.
    fn budgeted(&self, service: &str, region: &str) -> Option<BudgetedClient> {
        let inner = self.sdk.http_client()?;
        Some(BudgetedClient {
            inner,
            bucket: self.budgets.bucket(&self.account, region, service),
            in_flight: self.budgets.in_flight(),
        })
    }

    regional_client!(ec2, aws_sdk_ec2, "ec2");
    regional_client!(rds, aws_sdk_rds, "rds");
    regional_client!(kms, aws_sdk_kms, "kms");
    regional_client!(cloudtrail, aws_sdk_cloudtrail, "cloudtrail");
    regional_client!(iam, aws_sdk_iam, "iam");
    regional_client!(sts, aws_sdk_sts, "sts");
    regional_client!(organizations, aws_sdk_organizations, "organizations");
    regional_client!(efs, aws_sdk_efs, "elasticfilesystem");
    regional_client!(backup, aws_sdk_backup, "backup");
    regional_client!(logs, aws_sdk_cloudwatchlogs, "logs");
    regional_client!(cloudwatch, aws_sdk_cloudwatch, "cloudwatch");
    regional_client!(sns, aws_sdk_sns, "sns");
    regional_client!(elb, aws_sdk_elasticloadbalancing, "elasticloadbalancing");
    regional_client!(
        elbv2,
        aws_sdk_elasticloadbalancingv2,
        "elasticloadbalancing"
    );
    regional_client!(acm, aws_sdk_acm, "acm");
    regional_client!(guardduty, aws_sdk_guardduty, "guardduty");
    regional_client!(config, aws_sdk_config, "config");
    regional_client!(secretsmanager, aws_sdk_secretsmanager, "secretsmanager");
    regional_client!(accessanalyzer, aws_sdk_accessanalyzer, "access-analyzer");
    regional_client!(securityhub, aws_sdk_securityhub, "securityhub");
    regional_client!(autoscaling, aws_sdk_autoscaling, "autoscaling");
    regional_client!(ssm, aws_sdk_ssm, "ssm");
    regional_client!(macie, aws_sdk_macie2, "macie2");

    /// An S3 client for buckets in `region`. With an endpoint override it uses path-style
    /// addressing, which emulators on `localhost` need.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .region(SdkRegion::new(region.to_owned()))
            .force_path_style(self.endpoint_url.is_some())
            .interceptor(CountCalls {
                service: "s3",
                counter: self.counter.clone(),
            })
            .retry_classifier(NotAnAwsErrorDocument);
        if let Some(http) = self.budgeted("s3", region) {
            conf = conf.http_client(http);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    /// An S3 Control client. S3 Control puts the account id into the host name; with an
    /// endpoint override that host would not resolve, so requests go to the override URL
    /// unchanged (the account travels in the `x-amz-account-id` header either way).
    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let region = self.home_region();
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.sdk)
            .region(SdkRegion::new(region.clone()))
            .interceptor(CountCalls {
                service: "s3control",
                counter: self.counter.clone(),
            })
            .retry_classifier(NotAnAwsErrorDocument);
        if let Some(url) = &self.endpoint_url {
            conf = conf.endpoint_resolver(FixedEndpoint(url.clone()));
        }
        if let Some(http) = self.budgeted("s3control", &region) {
            conf = conf.http_client(http);
        }
        aws_sdk_s3control::Client::from_conf(conf.build())
    }
}

/// An endpoint resolver that always answers with one URL.
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_smithy_runtime_api::client::endpoint::EndpointFuture<'a> {
        aws_smithy_runtime_api::client::endpoint::EndpointFuture::ready(Ok(
            aws_smithy_types::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}
