//! A custom rule whose metadata is valid but whose policy does not compile (a syntax
//! error, no `results`, a probe evaluation that fails). [`crate::load_lenient`] keeps it in
//! the baseline so that a bad rule never stops a scan: each of its subjects gets `error`
//! naming the rule and the cause (file and line), where the other rules run as usual. PHI
//! scope, gaps and uncollected inputs still answer first, as for any rule.

use posture_check::{Ctx, Outcome, Rule, RuleMeta};
use posture_model::Resource;

use crate::RuleDef;
use crate::load::Diagnostic;

/// A rule that answers `error` for every subject.
#[derive(Debug)]
pub struct BrokenRule {
    meta: &'static RuleMeta,
    def: RuleDef,
    cause: String,
}

impl BrokenRule {
    /// The rule of `def`, broken for the reasons in `problems`.
    pub(crate) fn new(def: RuleDef, problems: &[Diagnostic]) -> Self {
        let cause = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            meta: crate::rule::leak_meta(&def),
            def,
            cause,
        }
    }

    /// Its metadata as `rule.toml` gave it.
    pub fn def(&self) -> &RuleDef {
        &self.def
    }

    /// Why it does not compile (file:line: message, joined).
    pub fn cause(&self) -> &str {
        &self.cause
    }
}

impl Rule for BrokenRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, _subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        Outcome::error(format!(
            "the custom rule {} does not compile, so it could not decide: {}",
            self.def.id, self.cause
        ))
        .with("custom_rule", &self.def.id)
        .with("rule_error", &self.cause)
    }
}
