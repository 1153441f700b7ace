//! The daemon's HTTP API: the history (snapshots, findings, drift) read from the store, and
//! scans started and followed through the daemon's [`Control`], with an OpenAPI document
//! generated from the handlers (`GET /api/v1/openapi.json`).
//!
//! Invariants:
//! - closed without a token: every `/api` request needs `Authorization: Bearer <token>`,
//!   and with no token configured every one is refused (401); only `/healthz`, `/readyz`
//!   and `/metrics` are open, and they reveal no finding;
//! - the token is compared in constant time (SHA-256 digests of equal length, `subtle`),
//!   kept only as its digest, and never logged: the `Authorization` header is marked
//!   sensitive before the trace layer sees it;
//! - the store is only touched on Tokio's blocking threads (it blocks, and its PostgreSQL
//!   client runs its own runtime), through a small pool of open stores and a bounded
//!   number of reads at once; it is opened with `Store::open_existing`, never created or
//!   migrated here;
//! - every request is bounded: body size, a per-address rate limit, a timeout, pages of at
//!   most 1000 items and at most 10,000 finding rows read per request;
//! - JSON of snapshots, findings and drift events is the model's serde, exactly as
//!   `posture snapshots --format json` and `posture scan --format json` write it.
//!
//! The crate depends on the model and the store only: the binary implements [`Control`]
//! over the daemon.

mod auth;
mod control;
mod cursor;
mod error;
mod limit;
mod ops;
mod pool;
mod reads;
mod scans;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use posture_store::StoreLocation;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{ApiToken, MIN_TOKEN_CHARS};
pub use control::{
    Control, ScanProgress, ScanState, ScanStatus, ScanSubmission, SubmitError, Submitted,
};
pub use error::{ApiError, ErrorBody};
pub use ops::{OPENMETRICS_TEXT, PROMETHEUS_TEXT, metrics_content_type};
pub use reads::{DEFAULT_LIMIT, MAX_LIMIT, MAX_ROWS_SCANNED};

/// The default request body limit (64 KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// The default rate limit per client address, requests a second.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 20;
/// The default burst of the rate limit.
pub const DEFAULT_BURST: u32 = 40;
/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How to serve the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The bearer token; `None`: every `/api` request is refused (the API is never open).
    pub token: Option<ApiToken>,
    /// The store to read (opened read-only with `Store::open_existing`).
    pub store: StoreLocation,
    /// The largest request body accepted, in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Requests a second per client address (429 with `Retry-After` past it; 0 counts as 1).
    pub requests_per_second: u32,
    /// Requests a client address may make at once above the rate (0 counts as 1).
    pub burst: u32,
}

impl ApiConfig {
    /// A configuration with the defaults: no token (closed), a 64 KiB body limit, 20
    /// requests a second per address with bursts of 40.
    pub fn new(listen: SocketAddr, store: StoreLocation) -> Self {
        Self {
            listen,
            token: None,
            store,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            burst: DEFAULT_BURST,
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    control: Arc<dyn Control>,
    pool: Arc<pool::StorePool>,
}

/// The OpenAPI document's frame; the paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Posture API",
        description = "HIPAA Security Rule posture of AWS accounts: snapshots, findings and drift from the store, and scans of the daemon. Everything under /api/v1 needs `Authorization: Bearer <token>`."
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "history", description = "Snapshots, findings and drift, read from the store"),
        (name = "scans", description = "Scans of the daemon"),
        (name = "operations", description = "Probes and metrics (no token)"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and layers, without a listener (see [`serve_on`]). Rate limiting keys
/// on the client address, which the server must provide
/// (`into_make_service_with_connect_info::<SocketAddr>`, as [`serve_on`] does); without
/// it every client shares one bucket.
pub fn router(config: &ApiConfig, control: Arc<dyn Control>) -> Router {
    let state = AppState {
        control,
        pool: pool::StorePool::new(config.store.clone()),
    };
    let api = OpenApiRouter::new()
        .routes(routes!(reads::list_snapshots))
        .routes(routes!(reads::get_snapshot))
        .routes(routes!(reads::list_findings))
        .routes(routes!(reads::list_drift))
        .routes(routes!(scans::submit_scan, scans::list_scans))
        .routes(routes!(scans::get_scan));
    let open = OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics));
    let (api, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .split_for_parts();
    let (open, open_doc) = open.split_for_parts();
    let mut doc = doc;
    doc.merge(open_doc);
    let doc = Arc::new(doc);
    let api = api
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = Arc::clone(&doc);
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            config.token.clone(),
            auth::require_token,
        ));
    let limiter = limit::Limiter::new(config.requests_per_second, config.burst);
    Router::new()
        .merge(api)
        .merge(open)
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            limit::rate_limit,
        ))
        .layer(TraceLayer::new_for_http())
        // Outermost, so that no layer inside (the trace layer) can print the token.
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
}

async fn not_found() -> impl IntoResponse {
    error::Failure::not_found("no such endpoint (GET /api/v1/openapi.json lists them)")
}

/// Binds `config.listen` and serves the API until `shutdown` completes (see [`serve_on`]).
pub async fn serve(
    config: ApiConfig,
    control: Arc<dyn Control>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ApiError::Bind {
            address: config.listen,
            reason: bind_reason(&e),
        })?;
    serve_on(listener, config, control, shutdown).await
}

/// Serves the API on `listener` (tests bind `127.0.0.1:0`) until `shutdown` completes:
/// then it stops accepting connections and answers the requests in flight.
/// `config.listen` is not used.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: ApiConfig,
    control: Arc<dyn Control>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    let address = listener.local_addr().map_err(ApiError::Serve)?;
    let app = router(&config, control);
    tracing::info!(%address, token = config.token.is_some(), "listening on {address}");
    if config.token.is_none() {
        tracing::warn!(
            "no API token configured: every /api request is refused until one is set (POSTURE_API_TOKEN or api.token_file)"
        );
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ApiError::Serve)
}

fn bind_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => "address in use".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this host".to_owned(),
        _ => error.to_string(),
    }
}
