//! The bearer token. Only its SHA-256 digest is kept: the secret itself is never stored,
//! printed or logged. Presented tokens are hashed and compared in constant time, so
//! neither a prefix nor the length leaks through timing.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ApiError;
use crate::error::Failure;

/// The shortest token accepted: a token is meant to be generated (`openssl rand -hex 32`).
pub const MIN_TOKEN_CHARS: usize = 16;

/// The API's bearer token. `Debug` prints `ApiToken(***)`; there is no `Display`, and the
/// secret is not kept (only its digest).
#[derive(Clone)]
pub struct ApiToken([u8; 32]);

impl ApiToken {
    /// A token from its text (an environment variable or a file's content). Whitespace
    /// around it (a file's final newline) is ignored; a token that is empty, holds
    /// whitespace or control characters, or is shorter than [`MIN_TOKEN_CHARS`] is refused.
    pub fn from_string(text: String) -> Result<Self, ApiError> {
        let token = text.trim();
        if token.is_empty() {
            return Err(ApiError::Token("the token is empty"));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ApiError::Token(
                "the token holds whitespace or control characters",
            ));
        }
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(ApiError::Token(
                "the token is shorter than 16 characters; generate one with `openssl rand -hex 32`",
            ));
        }
        Ok(Self(Sha256::digest(token.as_bytes()).into()))
    }

    /// Whether `presented` is the token, in time independent of where they differ and of
    /// either's length (both are compared as SHA-256 digests).
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        self.0.ct_eq(&digest).into()
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

/// Middleware of every `/api` route: `Authorization: Bearer <token>` or 401. Without a
/// configured token every request is refused: the API is never open.
pub(crate) async fn require_token(
    State(token): State<Option<ApiToken>>,
    request: Request,
    next: Next,
) -> Response {
    let challenge = |error: &'static str| {
        HeaderValue::from_static(match error {
            "invalid_token" => "Bearer error=\"invalid_token\"",
            _ => "Bearer",
        })
    };
    let Some(token) = token else {
        return Failure::new(
            StatusCode::UNAUTHORIZED,
            "the API is disabled until a token is configured (POSTURE_API_TOKEN or api.token_file)",
        )
        .with_header(header::WWW_AUTHENTICATE, challenge(""))
        .into_response();
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .and_then(bearer);
    match presented {
        None => Failure::new(
            StatusCode::UNAUTHORIZED,
            "missing bearer token: send `Authorization: Bearer <token>`",
        )
        .with_header(header::WWW_AUTHENTICATE, challenge(""))
        .into_response(),
        Some(presented) if !token.matches(presented) => {
            Failure::new(StatusCode::UNAUTHORIZED, "the bearer token is not valid")
                .with_header(header::WWW_AUTHENTICATE, challenge("invalid_token"))
                .into_response()
        }
        Some(_) => next.run(request).await,
    }
}

/// The credentials of an `Authorization: Bearer …` header (scheme case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let start = rest.iter().position(|b| *b != b' ')?;
    Some(&rest[start..])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn tokens_are_checked_and_never_printed() {
        let token = ApiToken::from_string("  correct-horse-battery-staple\n".into()).unwrap();
        assert!(token.matches(b"correct-horse-battery-staple"));
        assert!(!token.matches(b"correct-horse-battery-stapl"));
        assert!(!token.matches(b""));
        assert_eq!(format!("{token:?}"), "ApiToken(***)");
        for bad in ["", "   \n", "short-token", "has space inside-it-long"] {
            assert!(ApiToken::from_string(bad.into()).is_err(), "{bad:?}");
        }
        assert!(ApiToken::from_string("0123456789abcdef".into()).is_ok());
    }

    #[test]
    fn bearer_credentials_are_read_case_insensitively() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bearer  abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearer "), None);
        assert_eq!(bearer(b"Bear"), None);
    }
}
