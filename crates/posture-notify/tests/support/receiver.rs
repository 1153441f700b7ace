//! A webhook receiver on 127.0.0.1 that answers as Slack's incoming webhooks do: `200 ok`,
//! `429` with `Retry-After`, `500`, `400 invalid_blocks`, or no answer at all (a hung
//! connection). It records every request (headers, body) and what it answered. Shared by
//! posture-notify's delivery tests and the end-to-end suite (`#[path]`).

#![allow(dead_code, reason = "each test uses part of it")]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200 ok`.
    Ok,
    /// `429 rate_limited` with `Retry-After: secs`.
    RateLimited(u64),
    /// `500 internal_error`.
    ServerError,
    /// `400 invalid_blocks`.
    InvalidBlocks,
    /// `404 no_service` (the webhook was removed).
    NoService,
    /// No answer: the connection stays open.
    Hang,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status answered (0: hung).
    pub answered: u16,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
}

/// The running receiver; stopped on drop.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn answer(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Ok);
    let (status, text, retry_after) = match reply {
        Reply::Ok => (200, "ok", None),
        Reply::RateLimited(s) => (429, "rate_limited", Some(s)),
        Reply::ServerError => (500, "internal_error", None),
        Reply::InvalidBlocks => (400, "invalid_blocks", None),
        Reply::NoService => (404, "no_service", None),
        Reply::Hang => (0, "", None),
    };
    shared.received.lock().unwrap().push(Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
        answered: status,
    });
    if status == 0 {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        text.to_owned(),
    )
        .into_response();
    if let Some(s) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    response
}

impl Receiver {
    /// Starts on a free port with `script` (then `200 ok` for every later request).
    pub async fn start(script: Vec<Reply>) -> Self {
        Self::start_on(0, script).await
    }

    /// Starts on `port` (0: a free one).
    pub async fn start_on(port: u16, script: Vec<Reply>) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the receiver");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            received: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::post(answer))
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    /// The webhook URL (a path like Slack's).
    pub fn url(&self) -> String {
        format!("http://{}/services/T000/B000/e2e-secret-path", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The requests answered with a 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Waits until `n` requests were answered with a 2xx (or `timeout`).
    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.delivered();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
