//! Custom rules in Rego (OPA's policy language), evaluated in-process with `regorus`: no
//! OPA server, no network. A rules directory holds one folder per rule: `rule.toml` (its
//! metadata), `rule.rego` (its policy) and `tests/` (fixtures). [`load`] turns directories
//! into a [`RuleSet`] whose rules join a [`posture_check::Baseline`] and are evaluated
//! there like built-in rules (cited, PHI-scoped, waived; `Error` without asking Rego where
//! an input was not collected); [`lint`] reports every problem with its file and line;
//! [`test`] runs each rule over its fixtures. `docs/custom-rules.md` is the user's guide.
//!
//! Invariants:
//! - a rule is evaluated once per account per evaluation (all its subjects in one input),
//!   never once per resource;
//! - a bad rule never panics or stops an evaluation: a Rego error, a missing or malformed
//!   result or an unknown status gives `Error` findings naming the rule and the cause, and
//!   only `pass`, `fail`, `not_applicable` and `error` are statuses a rule may return;
//! - kinds, services and API calls are the model's own tables (`ResourceKind`, `Service`,
//!   `posture_model::catalog`), and the input is the model's serde JSON;
//! - rule metadata is leaked once per [`load`] (`&'static`, like the built-in registry's):
//!   load once per process.
//!
//! Reading the files is this crate's only IO; the evaluation itself reads no clock but
//! regorus's guard against a runaway rule ([`rule::TIME_LIMIT`]).

mod broken;
mod fixtures;
mod load;
mod meta;
pub mod rule;
mod schema;

pub use broken::BrokenRule;
pub use fixtures::{CaseReport, Mismatch, Report, RuleReport, test};
pub use load::{Diagnostic, RuleSet, lint, load, load_lenient};
pub use meta::RuleDef;
pub use rule::RegoRule;
pub use schema::{input_schema, kinds};
