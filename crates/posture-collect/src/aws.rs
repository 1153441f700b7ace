//! The one place AWS clients are made: shared SDK configuration (credential chain,
//! profile, endpoint override), per-region clients, and the interceptor that counts calls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::region::Region as SdkRegion;

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
}

/// Counts API calls per `service:Operation`. Cheap to clone; shared by every client.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounter {
    fn add(&self, key: String) {
        // A poisoned lock only means another thread panicked while counting; the map is
        // still a valid map, so keep counting.
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(key).or_default() += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[derive(Debug)]
struct CountCalls {
    service: &'static str,
    counter: CallCounter,
}

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
}

/// The client factory for one set of credentials.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    endpoint_url: Option<String>,
    counter: CallCounter,
}

macro_rules! regional_client {
    ($fn_name:ident, $krate:ident, $service:literal) => {
        /// A client for this service in `region`.
        pub fn $fn_name(&self, region: &str) -> $krate::Client {
            let conf = $krate::config::Builder::from(&self.sdk)
                .region(SdkRegion::new(region.to_owned()))
                .interceptor(CountCalls {
                    service: $service,
                    counter: self.counter.clone(),
                })
                .build();
            $krate::Client::from_conf(conf)
        }
    };
}

impl Clients {
    /// Loads the shared configuration: the standard credential chain (environment, shared
    /// files and profiles, SSO, web identity, container and instance metadata).
    pub async fn load(options: &AwsOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &options.home_region {
            loader = loader.region(SdkRegion::new(region.clone()));
        }
        let sdk = loader.load().await;
        let endpoint_url = options
            .endpoint_url
            .clone()
            .or_else(|| sdk.endpoint_url().map(str::to_owned));
        Self {
            sdk,
            endpoint_url,
            counter: CallCounter::default(),
        }
    }

    /// The region from the configuration chain, if any.
    pub fn configured_region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.to_string())
    }

    /// The call counter shared by every client made here.
    pub fn counter(&self) -> &CallCounter {
        &self.counter
    }

    /// The region used for global services (IAM, STS, S3 Control).
    pub fn home_region(&self) -> String {
        self.configured_region()
            .unwrap_or_else(|| "us-east-1".to_owned())
    }

    regional_client!(ec2, aws_sdk_ec2, "ec2");
    regional_client!(rds, aws_sdk_rds, "rds");
    regional_client!(kms, aws_sdk_kms, "kms");
    regional_client!(cloudtrail, aws_sdk_cloudtrail, "cloudtrail");
    regional_client!(iam, aws_sdk_iam, "iam");
    regional_client!(sts, aws_sdk_sts, "sts");

    /// An S3 client for buckets in `region`. With an endpoint override it uses path-style
    /// addressing, which emulators on `localhost` need.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .region(SdkRegion::new(region.to_owned()))
            .force_path_style(self.endpoint_url.is_some())
            .interceptor(CountCalls {
                service: "s3",
                counter: self.counter.clone(),
            })
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// An S3 Control client. S3 Control puts the account id into the host name; with an
    /// endpoint override that host would not resolve, so requests go to the override URL
    /// unchanged (the account travels in the `x-amz-account-id` header either way).
    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.sdk)
            .region(SdkRegion::new(self.home_region()))
            .interceptor(CountCalls {
                service: "s3control",
                counter: self.counter.clone(),
            });
        if let Some(url) = &self.endpoint_url {
            conf = conf.endpoint_resolver(FixedEndpoint(url.clone()));
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
