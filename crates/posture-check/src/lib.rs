//! The checker: a registry of rules, the HIPAA baseline that maps citations to rules,
//! parameters, PHI scoping and manual controls, the waiver and attestation files, and a
//! pure `evaluate(&Input) -> Evaluation`.
//!
//! Invariants:
//! - no IO and no clock: the time is passed in and files are passed as text, so results
//!   are reproducible;
//! - data that could not be collected never becomes `Pass`: an `Observed::Unavailable`
//!   field, or a failed list call (a coverage gap) for an operation a rule needs, yields
//!   `Error` with the reason; an `Error` is never waived;
//! - a manual control is never `Pass`: it is `Manual`, attested, missing or expired;
//! - output is sorted by (account, rule, region, ARN), so a snapshot evaluated one account
//!   at a time ([`Evaluator`]) yields the same findings in the same order as one evaluated
//!   whole.

mod baseline;
mod custom;
mod evaluate;
mod index;
mod load;
mod manual;
mod phi;
pub mod policy;
mod rule;
pub mod rules;
#[cfg(test)]
pub(crate) mod testing;
mod waiver;

pub use baseline::{
    Baseline, BaselineError, BaselineRule, CitationEntry, ManualControl, ParamValue, Params,
    RuleScope,
};
pub use custom::{CustomRule, CustomRuleError, RuleOrigin};
pub use evaluate::{Evaluation, Evaluator, Foreign, Input, Loaded, Settings, evaluate};
pub use index::{AccountCoverage, Collections, SnapshotIndex, Want};
pub use load::LoadError;
pub use manual::{Attestation, AttestationState, Attestations};
pub use phi::{PhiScope, PhiScopeError, PhiState};
pub use rule::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};
pub use rules::{RULES, rule_by_id};
pub use waiver::{ExpiredWaiver, Selector, StaleWaiver, Waiver, Waivers};

/// The HIPAA Security Rule baseline shipped with Posture, embedded at build time so the
/// binary works without its source tree.
pub const HIPAA_BASELINE_TOML: &str =
    include_str!("../../../config/baselines/hipaa-security-rule.toml");
/// The file name the embedded baseline is reported under in errors.
pub const HIPAA_BASELINE_NAME: &str = "config/baselines/hipaa-security-rule.toml";
