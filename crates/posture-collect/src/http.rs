//! An HTTP client wrapper that applies the scan's budgets to every request: it waits for a
//! place among the requests in flight, then for a token of its (account, region, service)
//! bucket, then sends. Retries go through it too, so backoff and budgets compose.

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use governor::DefaultDirectRateLimiter;
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub(crate) struct BudgetedClient {
    pub inner: SharedHttpClient,
    pub bucket: Arc<DefaultDirectRateLimiter>,
    pub in_flight: Arc<Semaphore>,
}

impl HttpClient for BudgetedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BudgetedConnector {
            inner: self.inner.http_connector(settings, components),
            bucket: self.bucket.clone(),
            in_flight: self.in_flight.clone(),
        })
    }
}

#[derive(Debug)]
struct BudgetedConnector {
    inner: SharedHttpConnector,
    bucket: Arc<DefaultDirectRateLimiter>,
    in_flight: Arc<Semaphore>,
}

impl HttpConnector for BudgetedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let bucket = self.bucket.clone();
        let in_flight = self.in_flight.clone();
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed, so acquiring only fails if it were; then send
            // without a permit rather than fail the call.
            // Token first: waiting for a token must not hold a place others could use.
            bucket.until_ready().await;
            let _permit = in_flight.acquire_owned().await.ok();
            inner.call(request).await
        })
    }
}
