//! The open endpoints, for probes and scrapers: liveness, readiness and metrics. They need
//! no token and reveal no finding.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::AppState;

/// The content type of Prometheus text exposition 0.0.4.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics text 1.0.0 (text ending in `# EOF`).
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive", body = String, content_type = "text/plain")))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers and the daemon's last successful scan is fresh enough.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready, with a short reason", body = String, content_type = "text/plain"),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let store = state
        .pool
        .read(|store| {
            store
                .latest_snapshot()
                .map(|_| ())
                .map_err(crate::pool::store_err)
        })
        .await;
    if let Err(failure) = store {
        tracing::warn!(reason = %failure.message, "not ready: the store does not answer");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the store does not answer (see the daemon's log)".to_owned(),
        );
    }
    match state.control.readiness() {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}"),
        ),
    }
}

/// The daemon's metrics, in Prometheus text exposition (or OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.control.metrics();
    ([(header::CONTENT_TYPE, metrics_content_type(&text))], text)
}

/// OpenMetrics text ends with `# EOF`; anything else is Prometheus text 0.0.4.
pub fn metrics_content_type(text: &str) -> &'static str {
    if text.trim_end().ends_with("# EOF") {
        OPENMETRICS_TEXT
    } else {
        PROMETHEUS_TEXT
    }
}
