//! Classifying SDK errors into Posture's failure classes.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use posture_model::{Unavailable, UnavailableKind};

/// What went wrong with one call, independent of the service.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    pub code: Option<String>,
    pub message: String,
    pub kind: UnavailableKind,
}

impl CallError {
    /// Whether the error code is one of `codes` (used to recognise "not configured" answers
    /// such as `NoSuchBucketPolicy`).
    pub fn is(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// The `Unavailable` value for a field this call should have filled.
    pub fn unavailable(&self, operation: &str) -> Unavailable {
        Unavailable {
            kind: self.kind,
            operation: operation.to_owned(),
            code: self.code.clone(),
            message: self.message.clone(),
        }
    }
}

const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
    "AllAccessDisabled",
    "InvalidClientTokenId",
    "ExpiredToken",
    "SignatureDoesNotMatch",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
];
const UNSUPPORTED: &[&str] = &[
    "NotImplemented",
    "InvalidAction",
    "UnknownOperationException",
    "OperationNotSupported",
];

/// Classifies an SDK error.
pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = raw_status(err);
    let (code, message) = match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            (
                e.code().map(str::to_owned),
                e.message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.to_string()),
            )
        }
        other => (None, error_chain(other)),
    };
    let kind = match code.as_deref() {
        Some(c) if DENIED.contains(&c) => UnavailableKind::Denied,
        Some(c) if THROTTLED.contains(&c) => UnavailableKind::Throttled,
        Some(c) if UNSUPPORTED.contains(&c) => UnavailableKind::Unsupported,
        _ if status == Some(501) => UnavailableKind::Unsupported,
        _ if status == Some(500)
            && message.to_ascii_lowercase().contains("not yet implemented") =>
        {
            UnavailableKind::Unsupported
        }
        _ if status == Some(403) => UnavailableKind::Denied,
        _ => UnavailableKind::Failed,
    };
    let message = match (&code, status) {
        // No AWS error code: AWS always sends one, so this is a proxy, an emulator or an
        // outage; say what was seen instead of the SDK's "unhandled error".
        (None, Some(s @ (500 | 501))) => {
            format!(
                "HTTP {s} with no AWS error code (the endpoint may not implement this operation)"
            )
        }
        (None, Some(s)) if (200..300).contains(&s) => {
            format!(
                "HTTP {s} but the answer could not be read: {}",
                brief(&error_chain(err))
            )
        }
        (None, Some(s)) => format!(
            "HTTP {s} with no AWS error code: {}",
            brief(&error_chain(err))
        ),
        _ if message.is_empty() => "unknown error".to_owned(),
        _ => message,
    };
    CallError {
        code,
        message,
        kind,
    }
}

fn raw_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// The first 300 characters: enough to recognise the problem in a report.
fn brief(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// A role in a member account could not be assumed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot assume {role_arn}: {message}")]
pub struct AssumeRoleError {
    /// The role.
    pub role_arn: String,
    /// Denied (trust policy, external id, permissions) or failed otherwise.
    pub kind: UnavailableKind,
    /// What AWS said.
    pub message: String,
}

impl AssumeRoleError {
    pub(crate) fn from_credentials(
        role_arn: &str,
        err: &aws_credential_types::provider::error::CredentialsError,
    ) -> Self {
        let message = error_chain(err);
        let denied = [
            "AccessDenied",
            "not authorized",
            "InvalidClientTokenId",
            "ExpiredToken",
        ]
        .iter()
        .any(|m| message.contains(m));
        Self {
            role_arn: role_arn.to_owned(),
            kind: if denied {
                UnavailableKind::Denied
            } else {
                UnavailableKind::Failed
            },
            message: brief(&message),
        }
    }
}
