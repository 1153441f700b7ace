//! Talking to AWS: credentials, clients, and one collector per service, turning SDK types
//! into `posture-model` types at this edge (no SDK type leaves this crate).
//!
//! Invariants:
//! - a failed, denied or unimplemented call never aborts the scan: it becomes a
//!   [`Gap`](posture_model::Gap) (list calls) or an `Observed::Unavailable` field
//!   (per-resource calls), and collection goes on;
//! - resources are streamed to the caller through a bounded channel as they are collected;
//!   nothing here holds the estate in memory;
//! - every API call is counted per `service:Operation` by an interceptor on every client.

mod aws;
mod classify;
mod http;
mod limits;
mod plan;
mod services;

pub use aws::{AwsOptions, CallCounter, Clients};
pub use classify::AssumeRoleError;
pub use limits::{Limits, RateLimit};
pub use plan::{
    ACCOUNT_UNREACHABLE_OPERATION, AccountSource, CollectError, Event, RoleOptions, ScanOutcome,
    ScanPlan, Service, collect, plan_accounts,
};
