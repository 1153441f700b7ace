//! `/api/v1/scans`: start a scan and follow it, through the daemon's [`Control`](crate::Control).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use posture_model::AccountId;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::control::{ScanStatus, ScanSubmission, SubmitError, Submitted};
use crate::error::{ErrorBody, Failure};

/// What to scan.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanRequest {
    /// Account ids (12 digits); absent or empty: the daemon's configured accounts.
    #[serde(default)]
    accounts: Vec<String>,
}

/// Start a scan, or join the one already queued or running for the same accounts.
#[utoipa::path(post, path = "/scans", tag = "scans", security(("bearer" = [])),
    request_body(content = Option<ScanRequest>, description = "Accounts to scan; an empty body scans the configured accounts"),
    responses(
        (status = 202, description = "Accepted; `Location` names the scan", body = Submitted,
            headers(("Location" = String, description = "/api/v1/scans/{id}"))),
        (status = 400, description = "Malformed body or invalid account", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 503, description = "The daemon is shutting down", body = ErrorBody),
    ))]
pub(crate) async fn submit_scan(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let body = body.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::new(
                status,
                "request body over the limit: send at most the accounts to scan",
            )
        } else {
            Failure::new(
                status,
                format!("cannot read the request body: {}", r.body_text()),
            )
        }
    })?;
    let request: ScanRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScanRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Failure::bad_request(format!(
                "invalid request body: {e}; expected {{\"accounts\": [\"123456789012\", …]}}"
            ))
        })?
    };
    let mut accounts = request
        .accounts
        .into_iter()
        .map(|a| {
            AccountId::new(&a)
                .map_err(|e| Failure::bad_request(format!("invalid account {a:?}: {}", e.reason)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    accounts.sort();
    accounts.dedup();
    let submitted = state
        .control
        .submit_scan(ScanSubmission { accounts })
        .map_err(|e| match e {
            SubmitError::ShuttingDown => {
                Failure::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            SubmitError::Invalid(message) => Failure::bad_request(message),
        })?;
    let location = HeaderValue::try_from(format!("/api/v1/scans/{}", submitted.id)).map_err(|_| {
        tracing::error!(id = ?submitted.id, "the daemon returned a scan id that is not a header value");
        Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "the daemon returned an invalid scan id")
    })?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(submitted),
    )
        .into_response())
}

/// Recent scans, newest first.
#[utoipa::path(get, path = "/scans", tag = "scans", security(("bearer" = [])),
    responses(
        (status = 200, description = "Recent scans", body = Vec<ScanStatus>),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
    ))]
pub(crate) async fn list_scans(State(state): State<AppState>) -> Json<Vec<ScanStatus>> {
    Json(state.control.scans())
}

/// One scan.
#[utoipa::path(get, path = "/scans/{id}", tag = "scans", security(("bearer" = [])),
    params(("id" = String, Path, description = "Scan id")),
    responses(
        (status = 200, description = "The scan", body = ScanStatus),
        (status = 404, description = "No such scan (the daemon keeps recent ones)", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
    ))]
pub(crate) async fn get_scan(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ScanStatus>, Failure> {
    state.control.scan(&id).map(Json).ok_or_else(|| {
        Failure::not_found(format!(
            "no scan {id:?} (GET /api/v1/scans lists the recent ones)"
        ))
    })
}
