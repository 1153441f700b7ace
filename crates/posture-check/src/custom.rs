//! Rules defined outside the registry (custom rules, e.g. Rego rules loaded from a rules
//! directory by `posture-rego`) joining a loaded [`Baseline`], so that the evaluator treats
//! them exactly like built-in rules: cited, PHI-scoped, waivable, checked for uncollected
//! inputs before they are asked.
//!
//! A custom rule is a `&'static dyn Rule` like a built-in one, with `&'static` metadata: a
//! loader builds it at run time and leaks it once per load (`Box::leak`), which is why
//! custom rules are loaded once per process (at the start of a scan or of the daemon), not
//! per evaluation.

use std::collections::BTreeSet;

use posture_model::{ResourceKind, RuleId};

use crate::baseline::carries_tags;
use crate::{Baseline, BaselineRule, Params, Rule, RuleScope, rule_by_id};

/// Where a rule of a baseline comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RuleOrigin {
    /// Posture's own registry ([`crate::RULES`]).
    Builtin,
    /// A custom rule; `source` names where it was defined (its folder or file).
    Custom {
        /// Its folder or file, as the loader names it in messages.
        source: String,
    },
}

/// A custom rule as it joins a baseline.
#[derive(Clone)]
pub struct CustomRule {
    /// The rule (its metadata leaked once per load).
    pub rule: &'static dyn Rule,
    /// The ids of the baseline citations it gives evidence for (`164.312(a)(2)(iv)`); each
    /// must be a citation of the baseline, and there must be at least one.
    pub citations: Vec<String>,
    /// Every resource of its subject kind, or PHI resources only.
    pub scope: RuleScope,
    /// Its parameters, as the evaluator hands them to the rule in [`crate::Ctx`]
    /// (custom rules usually carry their own and leave this empty).
    pub params: Params,
    /// Where it was defined (its folder), for messages.
    pub source: String,
}

impl std::fmt::Debug for CustomRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomRule")
            .field("rule", &self.rule.meta().id)
            .field("citations", &self.citations)
            .field("scope", &self.scope)
            .field("source", &self.source)
            .finish()
    }
}

/// Why a custom rule cannot join a baseline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomRuleError {
    /// Its id is a built-in rule's.
    #[error(
        "{origin}: custom rule {id} has the id of the built-in rule {id} ({title:?}); give the \
         custom rule another id"
    )]
    BuiltinId {
        /// The id.
        id: String,
        /// The custom rule's folder.
        origin: String,
        /// The built-in rule's title.
        title: String,
    },
    /// Its id is another custom rule's.
    #[error("{origin}: custom rule {id} is already defined by {other}; rule ids must be unique")]
    Duplicate {
        /// The id.
        id: String,
        /// The custom rule's folder.
        origin: String,
        /// The folder of the rule that has the id already.
        other: String,
    },
    /// Its id is not a valid rule id.
    #[error("{origin}: {id:?} is not a valid rule id: {why}")]
    BadId {
        /// The id.
        id: String,
        /// The custom rule's folder.
        origin: String,
        /// Why.
        why: String,
    },
    /// It cites nothing, or a citation the baseline does not have.
    #[error(
        "{origin}: custom rule {id} cites {citation:?}, which is not a citation of baseline \
         {baseline:?} (it has: {known})"
    )]
    UnknownCitation {
        /// The id.
        id: String,
        /// The custom rule's folder.
        origin: String,
        /// The citation (empty when the rule cites nothing).
        citation: String,
        /// The baseline's name.
        baseline: String,
        /// The baseline's citation ids, comma-separated.
        known: String,
    },
    /// It is scoped to PHI resources but about a kind that carries no tags.
    #[error(
        "{origin}: custom rule {id} is scoped to PHI resources but is about {kind}, which \
         carries no tags, so no resource would ever be in scope; use scope \"all\""
    )]
    PhiScopeWithoutTags {
        /// The id.
        id: String,
        /// The custom rule's folder.
        origin: String,
        /// Its subject kind.
        kind: ResourceKind,
    },
}

impl Baseline {
    /// A rule of the baseline, built-in or custom, by id.
    pub fn rule(&self, id: &str) -> Option<&BaselineRule> {
        self.rules.iter().find(|r| r.rule.meta().id == id)
    }

    /// Adds custom rules to the baseline: each is listed under its citations (after the
    /// built-in rules there) and evaluated like a built-in rule. Nothing is added unless
    /// every rule is valid; the errors name the rule's folder and, for a collision, the
    /// other rule.
    pub fn add_custom_rules(
        &mut self,
        rules: impl IntoIterator<Item = CustomRule>,
    ) -> Result<(), Vec<CustomRuleError>> {
        let mut errors = Vec::new();
        let mut added: Vec<BaselineRule> = Vec::new();
        let known = || {
            self.citations
                .iter()
                .map(|c| c.citation.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for custom in rules {
            let meta = custom.rule.meta();
            let id = meta.id.to_owned();
            let source = custom.source.clone();
            if let Err(e) = RuleId::new(meta.id) {
                errors.push(CustomRuleError::BadId {
                    id,
                    origin: source,
                    why: e.to_string(),
                });
                continue;
            }
            if let Some(builtin) = rule_by_id(meta.id) {
                errors.push(CustomRuleError::BuiltinId {
                    id,
                    origin: source,
                    title: builtin.meta().title.to_owned(),
                });
                continue;
            }
            let other = self
                .rules
                .iter()
                .chain(&added)
                .find(|r| r.rule.meta().id == meta.id);
            if let Some(other) = other {
                errors.push(CustomRuleError::Duplicate {
                    id,
                    origin: source,
                    other: match &other.origin {
                        RuleOrigin::Custom { source } => source.clone(),
                        RuleOrigin::Builtin => "the baseline".to_owned(),
                    },
                });
                continue;
            }
            if custom.scope == RuleScope::PhiOnly && !carries_tags(meta.subject) {
                errors.push(CustomRuleError::PhiScopeWithoutTags {
                    id,
                    origin: source,
                    kind: meta.subject,
                });
                continue;
            }
            let mut citations = Vec::new();
            let mut seen = BTreeSet::new();
            let wanted: Vec<&str> = if custom.citations.is_empty() {
                vec![""]
            } else {
                custom.citations.iter().map(String::as_str).collect()
            };
            for wanted in wanted {
                if !seen.insert(wanted) {
                    continue;
                }
                match self.citations.iter().find(|c| c.citation.id == wanted) {
                    Some(entry) => citations.push(entry.citation.clone()),
                    None => errors.push(CustomRuleError::UnknownCitation {
                        id: id.clone(),
                        origin: source.clone(),
                        citation: wanted.to_owned(),
                        baseline: self.name.clone(),
                        known: known(),
                    }),
                }
            }
            if citations.len() != seen.len() {
                continue;
            }
            added.push(BaselineRule {
                rule: custom.rule,
                citations,
                params: custom.params,
                scope: custom.scope,
                origin: RuleOrigin::Custom { source },
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for rule in added {
            let id = rule.rule.meta().id;
            for citation in &rule.citations {
                if let Some(entry) = self
                    .citations
                    .iter_mut()
                    .find(|c| c.citation.id == citation.id)
                {
                    entry.rules.push(id.to_owned());
                }
            }
            self.rules.push(rule);
        }
        self.rules
            .sort_by(|a, b| a.rule.meta().id.cmp(b.rule.meta().id));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
