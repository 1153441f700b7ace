//! Errors: [`ApiError`] for the caller of [`crate::serve`], and [`Failure`], the JSON error
//! every `/api` handler answers with (`{"error": "what went wrong and what to do"}`).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use posture_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The API could not be configured or served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {address}: {reason}; set api.listen or --listen")]
    Bind {
        /// The address asked for.
        address: std::net::SocketAddr,
        /// Why (`address in use`, `permission denied`, …).
        reason: String,
    },
    /// The API token is unusable.
    #[error("invalid API token: {0}")]
    Token(&'static str),
    /// The server failed while serving.
    #[error("the API server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// The body of every error under `/api`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
}

/// An error answer: a status and a message for the client.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: StatusCode,
    pub message: String,
    /// `WWW-Authenticate` for 401s, `Retry-After` for 429s.
    pub header: Option<(header::HeaderName, HeaderValue)>,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            header: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.header = Some((name, value));
        self
    }

    /// A store error as the client should see it: a missing snapshot is 404, a store
    /// that is not there yet or not upgraded is 503, anything else 500 (logged whole).
    pub fn store(error: &StoreError) -> Self {
        match error {
            StoreError::NoSuchSnapshot(id) => Self::not_found(format!(
                "no snapshot {id} in the store (GET /api/v1/snapshots lists them)"
            )),
            StoreError::Missing { .. } => Self::not_found(
                "no snapshot yet: the store is created by the first scan (POST /api/v1/scans starts one)",
            ),
            StoreError::Open { .. } => {
                tracing::error!(error = %error, "cannot open the store");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store cannot be reached; see the daemon's log",
                )
            }
            StoreError::Outdated { .. } | StoreError::TooNew { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
            }
            other => {
                tracing::error!(error = %other, "store read failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the store could not be read; see the daemon's log",
                )
            }
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if let Some((name, value)) = self.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
