//! Where an alert goes, and what the receiver's answer means.
//!
//! A [`Sink`] is a route's receiver: a Slack incoming webhook (the alert rendered as one
//! Block Kit message) or a generic JSON webhook (the alert itself, signed). [`send`] posts
//! one alert and classifies the answer: a 2xx is delivered; `429` is retried after its
//! `Retry-After`; a 5xx, `408`, a timeout or a connection failure is retried with backoff;
//! any other 4xx (Slack's `400 invalid_blocks`, `404 no_service`, `403 invalid_token`) will
//! not succeed by trying again and fails for good with the receiver's reason.
//!
//! Webhook URLs and signing secrets are [`Secret`]s: no `Display`, a `Debug` that hides
//! them, and errors are reported without the URL.

use std::time::Duration;

use posture_model::alert::Alert;

/// A webhook URL or signing secret. Shown nowhere: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`, trimmed (a file's trailing newline is not part of it).
    pub fn new(value: &str) -> Self {
        Self(value.trim().to_owned())
    }

    /// The value, for the one place that sends it.
    fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What a sink renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    /// Slack incoming webhook: Block Kit.
    Slack,
    /// Generic JSON webhook, signed with this secret.
    Webhook {
        /// The HMAC-SHA256 key.
        secret: Secret,
    },
}

/// A route's receiver.
#[derive(Debug, Clone)]
pub struct Sink {
    /// The route's name.
    pub route: String,
    /// Slack or generic.
    pub kind: SinkKind,
    /// The webhook URL.
    pub url: Secret,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver accepted it (2xx).
    Delivered,
    /// Try again: after `after` when the receiver said so (`429 Retry-After`), else with
    /// the caller's backoff.
    Retry {
        /// The receiver's wait (429), if it gave one.
        after: Option<Duration>,
        /// What happened (no URL).
        error: String,
    },
    /// Trying again will not help (a 4xx other than 408 and 429).
    Failed {
        /// What the receiver said.
        error: String,
    },
}

/// The longest `Retry-After` honoured; a longer one waits this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The request body and headers for `alert` on `sink`, signed at `now_unix`.
pub fn request(
    sink: &Sink,
    alert: &Alert,
    now_unix: i64,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    match &sink.kind {
        SinkKind::Slack => (
            serde_json::to_vec(&crate::slack::message(alert)).unwrap_or_default(),
            Vec::new(),
        ),
        SinkKind::Webhook { secret } => {
            let body = crate::webhook::body(alert);
            let signature = crate::webhook::sign(secret.expose().as_bytes(), now_unix, &body);
            (
                body,
                vec![
                    (crate::webhook::TIMESTAMP_HEADER, now_unix.to_string()),
                    (crate::webhook::SIGNATURE_HEADER, signature),
                ],
            )
        }
    }
}

/// Posts `alert` to `sink` once.
pub async fn send(client: &reqwest::Client, sink: &Sink, alert: &Alert, now_unix: i64) -> Outcome {
    let (body, headers) = request(sink, alert, now_unix);
    let mut req = client
        .post(sink.url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let response = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Retry {
                after: None,
                error: describe(&e),
            };
        }
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    // The receiver's reason: Slack answers a short code (`invalid_blocks`, `no_service`).
    let text = match tokio::time::timeout(Duration::from_secs(5), response.text()).await {
        Ok(Ok(t)) => t,
        _ => String::new(),
    };
    let reason = posture_model::alert::cut(text.trim(), 200);
    let error = if reason.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {reason}", status.as_u16())
    };
    if status.is_success() {
        Outcome::Delivered
    } else if status.as_u16() == 429 {
        Outcome::Retry {
            after: Some(retry_after.unwrap_or(Duration::from_secs(30))),
            error,
        }
    } else if status.is_server_error() || status.as_u16() == 408 {
        Outcome::Retry { after: None, error }
    } else {
        Outcome::Failed { error }
    }
}

/// A transport error without the URL (which is a secret).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // `without_url` drops the URL from the message; the source chain says why.
    let mut text = String::from(kind);
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The HTTP client alerts are sent with: TLS by rustls with the platform's roots, no
/// redirects (a webhook that redirects is misconfigured, and a redirect could carry the
/// alert elsewhere), `timeout` per request.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("posture/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client: {}", describe(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_shown() {
        let s = Secret::new("https://hooks.slack.com/services/T/B/XYZ\n");
        assert_eq!(format!("{s:?}"), "***");
        let sink = Sink {
            route: "default".into(),
            kind: SinkKind::Webhook {
                secret: Secret::new("k"),
            },
            url: s,
        };
        let shown = format!("{sink:?}");
        assert!(!shown.contains("XYZ"), "{shown}");
        assert!(!shown.contains("\"k\""), "{shown}");
    }
}
