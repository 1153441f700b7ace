//! End-to-end test support for Posture: the real `posture` binary against moto's server
//! mode (a local AWS API emulator), with the account seeded through the AWS SDK for Rust.
//!
//! - [`Moto`] starts `moto_server` on a free loopback port and stops it on drop;
//!   [`sdk_config`] builds an SDK configuration pointing at it.
//! - [`posture_bin`] builds the `posture` binary once per process; [`run_posture`] runs it
//!   with a clean AWS environment.
//! - [`seed::seed_mixed_account`] seeds a two-region account with a passing and a failing
//!   resource for every rule of the HIPAA baseline (wherever moto can represent it) and
//!   returns the findings a correct scan must produce ([`Expectations`]).
//!
//! Moto's differences from AWS are listed in `shared/moto-notes.md`; where they limit what
//! can be seeded, the seed says so next to the case and the rule's unit tests cover the rest.

pub mod browser;
mod expect;
mod moto;
mod posture;
pub mod proxy;
pub mod seed;

pub use expect::{
    Expectations, Expected, ExpectedGap, Severity, Status, baseline_manual_ids, baseline_rule_ids,
};
pub use moto::{Moto, free_port, moto_server_path, sdk_config};
pub use posture::{PostureOutput, Running, posture_bin, run_posture, scan_json, workspace_root};
