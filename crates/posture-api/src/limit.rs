//! A rate limit per client IP address (a token bucket per address, `governor`): past it,
//! 429 with `Retry-After`. Addresses not seen for a while are forgotten.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::Failure;

/// Addresses remembered before stale ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Limiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl Limiter {
    /// `per_second` requests a second per address with bursts of `burst` (each at least 1).
    pub fn new(per_second: u32, burst: u32) -> Self {
        let one = NonZeroU32::MIN;
        let quota = Quota::per_second(NonZeroU32::new(per_second).unwrap_or(one))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(one));
        Self(Arc::new(RateLimiter::keyed(quota)))
    }
}

pub(crate) async fn rate_limit(
    State(limiter): State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if limiter.0.len() > SWEEP_AT {
        limiter.0.retain_recent();
    }
    match limiter.0.check_key(&ip) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Failure::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests from {ip}: retry in {} s", seconds.max(1)),
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)))
            .into_response()
        }
    }
}
