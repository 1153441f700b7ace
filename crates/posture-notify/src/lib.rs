//! Notifications: alerts rendered for their sinks, and their delivery.
//!
//! An [`Alert`](posture_model::alert::Alert) is composed by the pipeline inside the
//! snapshot's transaction and waits in the store's outbox. This crate renders it and
//! delivers it.

pub mod slack;
pub mod webhook;
