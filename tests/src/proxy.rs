//! A loopback HTTP proxy in front of the emulator that adds a fixed latency to every
//! request and answers a given share of them with a throttling error, so benchmarks can
//! measure a scan under realistic round-trip times and AWS throttling; and that answers
//! chosen operations with `AccessDenied`, as a changed IAM policy or a service control
//! policy would, so tests can deny one call between two scans. Plain HTTP/1.1, one request
//! per connection (it asks both sides to close after each exchange).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to each request.
#[derive(Debug, Clone, Copy)]
pub struct ProxySettings {
    /// Added before each request is forwarded (or answered with throttling).
    pub latency: Duration,
    /// Share of requests answered with HTTP 503 SlowDown instead of being forwarded, 0–1.
    pub throttle_rate: f64,
}

/// Counters of a running proxy.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Requests received.
    pub requests: AtomicU64,
    /// Requests answered with throttling.
    pub throttled: AtomicU64,
    /// Requests answered with `AccessDenied`.
    pub denied: AtomicU64,
    /// Operations (`DescribeDBInstances`) answered with `AccessDenied`.
    deny: Mutex<Vec<String>>,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    stats: Arc<ProxyStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const THROTTLE_BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

impl Proxy {
    /// Starts a proxy to `upstream` (a loopback address) on a free loopback port.
    pub async fn start(upstream: SocketAddr, settings: ProxySettings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the proxy")?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(ProxyStats::default());
        let task = tokio::spawn({
            let stats = stats.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let stats = stats.clone();
                    tokio::spawn(async move {
                        // A failed exchange shows up to the SDK as a connection error, which it
                        // retries; nothing to do here.
                        let _ = handle(client, upstream, settings, &stats).await;
                    });
                }
            }
        });
        Ok(Self { addr, stats, task })
    }

    /// The proxy's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// Requests answered with throttling so far.
    pub fn throttled(&self) -> u64 {
        self.stats.throttled.load(Ordering::Relaxed)
    }

    /// From now on, answers requests for these operations (`DescribeDBInstances`, in the
    /// Query protocol's `Action=` or the JSON protocol's `X-Amz-Target`) with HTTP 403
    /// `AccessDenied`; an empty list allows everything again.
    pub fn deny(&self, operations: &[&str]) {
        let mut deny = self
            .stats
            .deny
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *deny = operations.iter().map(|o| (*o).to_owned()).collect();
    }

    /// Requests answered with `AccessDenied` so far.
    pub fn denied(&self) -> u64 {
        self.stats.denied.load(Ordering::Relaxed)
    }
}

/// The operation a request asks for: `Action=` of a Query-protocol form body, or the
/// operation of a JSON-protocol `X-Amz-Target` header.
fn operation_of(request: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(request);
    let (head, body) = text.split_once("\r\n\r\n")?;
    if let Some(target) = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("x-amz-target")
            .then(|| v.trim().to_owned())
    }) {
        return target.rsplit('.').next().map(str::to_owned);
    }
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_owned)
}

/// An `AccessDenied` answer in the Query protocol's error format (RDS, EC2's is close
/// enough for the SDK's error code parsing) or JSON for JSON-protocol services.
fn denied_response(request: &[u8], operation: &str) -> String {
    let json = String::from_utf8_lossy(request)
        .to_ascii_lowercase()
        .contains("x-amz-target:");
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.1",
            format!(
                "{{\"__type\":\"AccessDeniedException\",\"message\":\"User is not authorized to perform: {operation}\"}}"
            ),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: {operation}</Message></Error><RequestId>posture-test-proxy</RequestId></ErrorResponse>"
            ),
        )
    };
    format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A deterministic "random" decision per request number (SplitMix64), so runs repeat.
fn throttle(n: u64, rate: f64) -> bool {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z as f64 / u64::MAX as f64) < rate
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    s: ProxySettings,
    stats: &ProxyStats,
) -> anyhow::Result<()> {
    let request = read_request(&mut client).await?;
    let n = stats.requests.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(s.latency).await;
    let denied = operation_of(&request).filter(|op| {
        stats
            .deny
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(op)
    });
    if let Some(op) = denied {
        stats.denied.fetch_add(1, Ordering::Relaxed);
        client
            .write_all(denied_response(&request, &op).as_bytes())
            .await?;
        return Ok(());
    }
    if throttle(n, s.throttle_rate) {
        stats.throttled.fetch_add(1, Ordering::Relaxed);
        let response = format!(
            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{THROTTLE_BODY}",
            THROTTLE_BODY.len()
        );
        client.write_all(response.as_bytes()).await?;
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&request).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    client.write_all(&response).await?;
    client.shutdown().await?;
    Ok(())
}

/// Reads one request (headers and a Content-Length body) and rewrites its Connection
/// header to `close`.
async fn read_request(client: &mut TcpStream) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = client.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "client closed before sending a request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = client.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "client closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut lines: Vec<&str> = head.trim_end_matches("\r\n").split("\r\n").collect();
    lines.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&buf[head_end..head_end + length]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{operation_of, throttle};

    #[test]
    fn the_operation_is_read_from_the_query_body_or_the_json_target() {
        let query =
            b"POST / HTTP/1.1\r\nHost: x\r\n\r\nAction=DescribeDBInstances&Version=2014-10-31";
        assert_eq!(operation_of(query).as_deref(), Some("DescribeDBInstances"));
        let json = b"POST / HTTP/1.1\r\nX-Amz-Target: TrentService.ListKeys\r\n\r\n{}";
        assert_eq!(operation_of(json).as_deref(), Some("ListKeys"));
        assert_eq!(operation_of(b"GET /b?policy HTTP/1.1\r\n\r\n"), None);
    }

    #[test]
    fn throttling_share_is_close_to_the_rate() {
        let hits = (0..10_000).filter(|n| throttle(*n, 0.2)).count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
        assert_eq!((0..1000).filter(|n| throttle(*n, 0.0)).count(), 0);
    }
}
