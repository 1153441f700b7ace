//! The generic JSON webhook: the alert itself in a small versioned envelope, signed with
//! HMAC-SHA256 so a receiver (PagerDuty, Teams, a SIEM, a script) can tell it came from us
//! and is recent.
//!
//! # The request
//!
//! `POST` with `Content-Type: application/json` and two headers:
//!
//! - [`TIMESTAMP_HEADER`] `X-Posture-Timestamp`: the Unix time of sending, in seconds;
//! - [`SIGNATURE_HEADER`] `X-Posture-Signature`: `v1=` followed by the lowercase hex
//!   HMAC-SHA256, keyed with the route's secret, of the timestamp header's text, a `.`, and
//!   the raw body bytes (`"{timestamp}.{body}"`).
//!
//! The body ([`body`]) is one JSON object:
//!
//! ```json
//! {"version": 1, "kind": "regressions", "alert": { ...the Alert... }}
//! ```
//!
//! `version` changes only when the envelope or the alert changes incompatibly; `kind` is
//! the alert's kind ([`AlertKind::as_str`](posture_model::alert::AlertKind::as_str)), at
//! the top so a receiver can route without reading the alert; `alert` is
//! [`Alert`] as serde writes it (the fields are documented on
//! the type: `total`, `by_rule`, `by_account`, `by_severity`, and at most 50 `items` in
//! full).
//!
//! # Verifying
//!
//! A receiver recomputes the HMAC over the timestamp header and the body exactly as
//! received (before any JSON parsing), compares in constant time, and rejects a timestamp
//! more than [`MAX_SKEW_SECS`] (5 minutes) away from its clock in either direction, which
//! bounds replays. In Rust, [`verify`] does all three. In Python:
//!
//! ```python
//! import hashlib, hmac, time
//!
//! def verify(secret: bytes, timestamp: str, signature: str, body: bytes) -> bool:
//!     if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
//!         return False
//!     expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
//!     return hmac.compare_digest("v1=" + expected, signature)
//! ```
//!
//! Everything here is pure: the time is passed in.

use aws_lc_rs::{constant_time, hmac};
use posture_model::alert::Alert;
use serde::Serialize;

/// The header that carries the Unix time of sending, in seconds.
pub const TIMESTAMP_HEADER: &str = "X-Posture-Timestamp";

/// The header that carries the signature, `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Posture-Signature";

/// The envelope's version.
pub const VERSION: u32 = 1;

/// How far a timestamp may be from the receiver's clock, in seconds, either way.
pub const MAX_SKEW_SECS: u64 = 300;

/// The signature scheme's prefix.
const SCHEME: &str = "v1=";

/// Why a request did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp header is not Unix seconds (ASCII digits only).
    #[error("malformed {TIMESTAMP_HEADER} header: expected Unix seconds")]
    MalformedTimestamp,
    /// The timestamp is too far from the receiver's clock (a replay, or a skewed clock).
    #[error(
        "{TIMESTAMP_HEADER} is {skew_secs} s away from the receiver's clock, more than the {MAX_SKEW_SECS} s allowed"
    )]
    Stale {
        /// How far off it is, in seconds.
        skew_secs: u64,
    },
    /// The signature header is not `v1=` and 64 hex digits.
    #[error("malformed {SIGNATURE_HEADER} header: expected v1= and 64 hex digits")]
    MalformedSignature,
    /// The signature does not match the timestamp and body under this secret.
    #[error("{SIGNATURE_HEADER} does not match the timestamp and body")]
    BadSignature,
}

/// The request body for `alert`: `{"version": 1, "kind": ..., "alert": ...}` as compact
/// JSON, the same bytes for the same alert.
pub fn body(alert: &Alert) -> Vec<u8> {
    #[derive(Serialize)]
    struct Envelope<'a> {
        version: u32,
        kind: &'static str,
        alert: &'a Alert,
    }
    let envelope = Envelope {
        version: VERSION,
        kind: alert.kind.as_str(),
        alert,
    };
    // Serialising cannot fail: every map in an Alert is keyed by strings or by unit enum
    // variants (severities), which serde_json writes as strings, and it holds no floats
    // that JSON cannot represent (evidence is already `serde_json::Value`). Should that ever
    // change, send an envelope that says so rather than panic in the delivery worker.
    serde_json::to_vec(&envelope).unwrap_or_else(|error| {
        let fallback = serde_json::json!({
            "version": VERSION,
            "kind": alert.kind.as_str(),
            "alert": null,
            "error": format!("the alert could not be serialised: {error}"),
        });
        fallback.to_string().into_bytes()
    })
}

/// The signature header's value for `body` sent at `timestamp` (Unix seconds):
/// `v1=<lowercase hex HMAC-SHA256 of "{timestamp}.{body}">`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp.to_string().as_bytes(), body);
    format!("{SCHEME}{}", hex::encode(tag.as_ref()))
}

/// Checks a received request: the timestamp header is Unix seconds within
/// [`MAX_SKEW_SECS`] of `now_unix`, and the signature header is `v1=` and the HMAC of the
/// timestamp header's text, `.`, and `body` under `secret`, compared in constant time.
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), VerifyError> {
    // Digits only: no sign, no spaces, no `+`; the text is what was signed.
    if timestamp_header.is_empty() || !timestamp_header.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::MalformedTimestamp);
    }
    let timestamp: i64 = timestamp_header
        .parse()
        .map_err(|_| VerifyError::MalformedTimestamp)?;
    let skew_secs = now_unix.abs_diff(timestamp);
    if skew_secs > MAX_SKEW_SECS {
        return Err(VerifyError::Stale { skew_secs });
    }
    let hex_sig = signature_header
        .strip_prefix(SCHEME)
        .ok_or(VerifyError::MalformedSignature)?;
    let expected_len = hmac::HMAC_SHA256.digest_algorithm().output_len();
    if hex_sig.len() != expected_len * 2 {
        return Err(VerifyError::MalformedSignature);
    }
    let received = hex::decode(hex_sig).map_err(|_| VerifyError::MalformedSignature)?;
    let tag = mac(secret, timestamp_header.as_bytes(), body);
    constant_time::verify_slices_are_equal(tag.as_ref(), &received)
        .map_err(|_| VerifyError::BadSignature)
}

/// HMAC-SHA256 of `timestamp`, `.`, `body`, without copying the body.
fn mac(secret: &[u8], timestamp: &[u8], body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp);
    context.update(b".");
    context.update(body);
    context.sign()
}
