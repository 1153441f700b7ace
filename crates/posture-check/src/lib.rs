//! The checker: a registry of rules, the HIPAA baseline that maps citations to rules and
//! parameters, and a pure `evaluate(snapshot, baseline, now)`.
//!
//! Invariants:
//! - no IO and no clock: the time is passed in, so results are reproducible;
//! - data that could not be collected never becomes `Pass`: an `Observed::Unavailable`
//!   field, or a failed list call (a coverage gap) for an operation a rule needs, yields
//!   `Error` with the reason;
//! - output is sorted by (rule, account, region, ARN).

mod baseline;
mod evaluate;
mod index;
pub mod policy;
mod rule;
pub mod rules;
#[cfg(test)]
pub(crate) mod testing;

pub use baseline::{Baseline, BaselineError, BaselineRule, CitationEntry, ParamValue, Params};
pub use evaluate::evaluate;
pub use index::SnapshotIndex;
pub use rule::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};
pub use rules::{RULES, rule_by_id};

/// The HIPAA Security Rule baseline shipped with Posture, embedded at build time so the
/// binary works without its source tree.
pub const HIPAA_BASELINE_TOML: &str =
    include_str!("../../../config/baselines/hipaa-security-rule.toml");
/// The file name the embedded baseline is reported under in errors.
pub const HIPAA_BASELINE_NAME: &str = "config/baselines/hipaa-security-rule.toml";
