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

/// The HTTPS client alerts are sent with (see [`client`]).
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Full<hyper::body::Bytes>,
    >,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The most of a receiver's answer read (its reason); the rest is ignored.
const MAX_ANSWER: usize = 16 * 1024;

/// Whether `url` may carry alerts: `https://`, or `http://` to this host only (a local
/// relay, tests). The URL is a secret: errors never quote it.
pub fn check_url(url: &Secret) -> Result<(), String> {
    let uri: hyper::Uri = url
        .expose()
        .parse()
        .map_err(|_| "the webhook URL is not a valid https:// URL".to_owned())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(()),
        (Some("http"), Some("127.0.0.1" | "localhost" | "[::1]" | "::1")) => Ok(()),
        (Some("http"), Some(_)) => Err(
            "the webhook URL uses plain http to another host: alerts name resources and the URL is a credential; use https (http is allowed to 127.0.0.1 and localhost only)".to_owned(),
        ),
        _ => Err("the webhook URL must start with https://".to_owned()),
    }
}

/// Posts `alert` to `sink` once.
pub async fn send(client: &Client, sink: &Sink, alert: &Alert, now_unix: i64) -> Outcome {
    let (body, headers) = request(sink, alert, now_unix);
    let mut builder = hyper::Request::post(sink.url.expose())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("posture/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = match builder.body(http_body_util::Full::new(hyper::body::Bytes::from(body))) {
        Ok(r) => r,
        Err(_) => {
            return Outcome::Failed {
                error: "the webhook URL cannot be used for a request".into(),
            };
        }
    };
    let exchange = async {
        let response = client
            .inner
            .request(request)
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        // The receiver's reason: Slack answers a short code (`invalid_blocks`, `no_service`).
        let limited = http_body_util::Limited::new(response.into_body(), MAX_ANSWER);
        let text = match http_body_util::BodyExt::collect(limited).await {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            Err(_) => String::new(),
        };
        Ok::<_, String>((status.as_u16(), retry_after, text))
    };
    let (status, retry_after, text) = match tokio::time::timeout(client.timeout, exchange).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => return Outcome::Retry { after: None, error },
        Err(_) => {
            return Outcome::Retry {
                after: None,
                error: format!("timed out after {} s", client.timeout.as_secs_f64()),
            };
        }
    };
    let reason = posture_model::alert::cut(text.trim(), 200);
    let error = if reason.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {reason}")
    };
    if (200..300).contains(&status) {
        Outcome::Delivered
    } else if status == 429 {
        Outcome::Retry {
            after: Some(retry_after.unwrap_or(Duration::from_secs(30))),
            error,
        }
    } else if status >= 500 || status == 408 {
        Outcome::Retry { after: None, error }
    } else {
        Outcome::Failed { error }
    }
}

/// A transport error without the URL (which is a secret): its kind and causes.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = String::from(if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The client alerts are sent with: TLS by rustls with the aws-lc-rs provider and the
/// platform's roots, HTTP/1.1, no redirects (a webhook that redirects is misconfigured, and
/// a redirect could carry the alert elsewhere), `timeout` per request (connection, TLS,
/// answer).
pub fn client(timeout: Duration) -> Result<Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate the platform lists but rustls cannot parse is skipped.
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let inner = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https);
    Ok(Client { inner, timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_carries_alerts() {
        for ok in [
            "https://hooks.slack.com/services/T/B/X",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
        ] {
            assert_eq!(check_url(&Secret::new(ok)), Ok(()), "{ok}");
        }
        for (bad, said) in [
            ("http://siem.internal/hook", "plain http"),
            ("ftp://x/y", "https://"),
            ("hooks.slack.com/services/T/B/X", "https://"),
            ("not a url", "not a valid https:// URL"),
        ] {
            let err = check_url(&Secret::new(bad)).unwrap_err();
            assert!(err.contains(said), "{bad}: {err}");
            assert!(!err.contains(bad), "the URL is never quoted: {err}");
        }
    }

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
