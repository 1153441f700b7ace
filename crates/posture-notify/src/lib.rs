//! Notifications: alerts rendered for their sinks, and their delivery.
//!
//! An [`Alert`](posture_model::alert::Alert) is composed by the pipeline inside the
//! snapshot's transaction and waits in the store's outbox. This crate renders it
//! ([`slack`]: one Block Kit message within Slack's limits; [`webhook`]: the alert itself as
//! JSON, signed with HMAC-SHA256), sends it ([`sink`]: one POST and what its answer
//! means), and runs the worker that empties the outbox ([`deliver`]) and writes the daily
//! digest of overdue failures ([`digest`]). It depends on the model and the store only.

pub mod deliver;
pub mod digest;
pub mod sink;
pub mod slack;
pub mod webhook;

pub use deliver::{Delivery, DeliveryMetrics, run};
pub use digest::DigestSettings;
pub use sink::{Outcome, Secret, Sink, SinkKind};
