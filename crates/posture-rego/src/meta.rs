//! `rule.toml`: a custom rule's metadata, validated against the model's own tables (resource
//! kinds from [`ResourceKind`], services from [`Service`], API calls from
//! [`posture_model::catalog`]), with every problem reported at its file and line.

use std::path::{Path, PathBuf};

use posture_check::RuleScope;
use posture_model::{ResourceKind, RuleId, Service, Severity, catalog};
use serde::Deserialize;
use toml::Spanned;

use crate::Diagnostic;

/// A custom rule's validated metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    /// Id (`org_<what>`): a valid rule id that no built-in rule has.
    pub id: String,
    /// One line, phrased as the compliant state.
    pub title: String,
    /// Severity of a failure.
    pub severity: Severity,
    /// Ids of the baseline citations it gives evidence for.
    pub citations: Vec<String>,
    /// The kind each finding is about (`input.subjects`).
    pub subject: ResourceKind,
    /// Other kinds it reads in the subject's account (`input.resources[kind]`).
    pub reads: Vec<ResourceKind>,
    /// Kinds it reads in every account of the snapshot (`input.all_accounts[kind]`).
    pub reads_all_accounts: Vec<ResourceKind>,
    /// Further collections it reads beyond those of its kinds.
    pub services: Vec<Service>,
    /// Every resource of the subject kind, or PHI-tagged ones only.
    pub scope: RuleScope,
    /// Why it matters.
    pub rationale: String,
    /// How to fix a failure.
    pub remediation: String,
    /// `[params]`, as `input.params` (a JSON object).
    pub params: serde_json::Value,
    /// The rule's folder.
    pub dir: PathBuf,
}

impl RuleDef {
    /// The list calls whose failure hides the rule's inputs: those that list its subject
    /// and read kinds, and those of its extra services. They become the rule's
    /// `RuleMeta::api_calls`, so the evaluator answers `Error` where one failed or where
    /// its collection did not run, without asking Rego.
    pub fn api_calls(&self) -> Vec<&'static str> {
        let kinds: Vec<ResourceKind> = std::iter::once(self.subject)
            .chain(self.reads.iter().copied())
            .chain(self.reads_all_accounts.iter().copied())
            .collect();
        let mut calls: Vec<&'static str> = catalog::COLLECTORS
            .iter()
            .flat_map(|c| c.calls.iter().map(move |call| (c.service, call)))
            .filter(|(service, call)| {
                call.lists.iter().any(|k| kinds.contains(k))
                    || (self.services.contains(service) && !call.lists.is_empty())
            })
            .map(|(_, call)| call.operation)
            .collect();
        calls.sort_unstable();
        calls.dedup();
        calls
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    citations: Option<Spanned<Vec<Spanned<String>>>>,
    subject: Option<Spanned<String>>,
    #[serde(default)]
    reads: Vec<Spanned<String>>,
    #[serde(default)]
    reads_all_accounts: Vec<Spanned<String>>,
    #[serde(default)]
    services: Vec<Spanned<String>>,
    scope: Option<Spanned<String>>,
    rationale: Option<Spanned<String>>,
    remediation: Option<Spanned<String>>,
    #[serde(default)]
    params: Option<toml::Table>,
}

/// Parses and validates `rule.toml` (`text`, read from `file`); `dir` is the rule's folder.
pub fn parse(file: &Path, text: &str, dir: &Path) -> Result<RuleDef, Vec<Diagnostic>> {
    let at =
        |offset: Option<usize>, message: String| Diagnostic::at_offset(file, text, offset, message);
    let raw: Raw = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            return Err(vec![at(
                e.span().map(|s| s.start),
                e.message().trim().to_owned(),
            )]);
        }
    };
    let mut errors = Vec::new();
    let mut required = |value: &Option<Spanned<String>>, field: &str, hint: &str| -> String {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => v.get_ref().trim().to_owned(),
            Some(v) => {
                errors.push(at(
                    Some(v.span().start),
                    format!("`{field}` is empty: {hint}"),
                ));
                String::new()
            }
            None => {
                errors.push(at(None, format!("`{field}` is missing: {hint}")));
                String::new()
            }
        }
    };
    let id = required(
        &raw.id,
        "id",
        "the rule id, like \"org_phi_bucket_replicated\"",
    );
    let title = required(
        &raw.title,
        "title",
        "one line, phrased as the compliant state",
    );
    let severity_text = required(
        &raw.severity,
        "severity",
        "one of info, low, medium, high, critical",
    );
    let subject_text = required(
        &raw.subject,
        "subject",
        "the resource kind each finding is about, like \"aws_s3_bucket\"",
    );
    let rationale = required(&raw.rationale, "rationale", "why it matters for ePHI");
    let remediation = required(&raw.remediation, "remediation", "how to fix a failure");

    if !id.is_empty() {
        if let Err(e) = RuleId::new(&id) {
            errors.push(at(
                raw.id.as_ref().map(|s| s.span().start),
                format!("`id` {id:?} is not a valid rule id: {e}"),
            ));
        } else if let Some(builtin) = posture_check::rule_by_id(&id) {
            errors.push(at(
                raw.id.as_ref().map(|s| s.span().start),
                format!(
                    "`id` {id:?} is the id of the built-in rule {} ({:?}); give the custom rule \
                     another id (\"org_...\")",
                    builtin.meta().id,
                    builtin.meta().title
                ),
            ));
        }
        if dir.file_name().is_some_and(|n| n.to_string_lossy() != id) {
            errors.push(at(
                raw.id.as_ref().map(|s| s.span().start),
                format!(
                    "`id` {id:?} differs from the rule's folder name {:?}; name the folder after \
                     the id",
                    dir.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
            ));
        }
    }
    let severity = match severity_text.parse::<Severity>() {
        Ok(s) => s,
        Err(e) => {
            if !severity_text.is_empty() {
                errors.push(at(raw.severity.as_ref().map(|s| s.span().start), e));
            }
            Severity::High
        }
    };
    let kind = |errors: &mut Vec<Diagnostic>, v: &Spanned<String>, field: &str| {
        v.get_ref().parse::<ResourceKind>().map_err(|_| {
            errors.push(at(
                Some(v.span().start),
                format!(
                    "`{field}`: unknown resource kind {:?}; kinds: {}",
                    v.get_ref(),
                    ResourceKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        })
    };
    let subject = match &raw.subject {
        Some(v) if !subject_text.is_empty() => kind(&mut errors, v, "subject").ok(),
        _ => None,
    };
    let reads: Vec<ResourceKind> = raw
        .reads
        .iter()
        .filter_map(|v| kind(&mut errors, v, "reads").ok())
        .collect();
    let reads_all_accounts: Vec<ResourceKind> = raw
        .reads_all_accounts
        .iter()
        .filter_map(|v| kind(&mut errors, v, "reads_all_accounts").ok())
        .collect();
    let services: Vec<Service> = raw
        .services
        .iter()
        .filter_map(|v| {
            v.get_ref()
                .parse::<Service>()
                .map_err(|e| errors.push(at(Some(v.span().start), format!("`services`: {e}"))))
                .ok()
        })
        .collect();
    let citations: Vec<String> = match &raw.citations {
        Some(list) if !list.get_ref().is_empty() => list
            .get_ref()
            .iter()
            .map(|c| c.get_ref().trim().to_owned())
            .collect(),
        Some(list) => {
            errors.push(at(
                Some(list.span().start),
                "`citations` is empty: name the HIPAA citations the rule gives evidence for, \
                 like [\"164.312(a)(2)(iv)\"]"
                    .to_owned(),
            ));
            Vec::new()
        }
        None => {
            errors.push(at(
                None,
                "`citations` is missing: name the HIPAA citations the rule gives evidence for, \
                 like [\"164.312(a)(2)(iv)\"]"
                    .to_owned(),
            ));
            Vec::new()
        }
    };
    let scope = match raw.scope.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("all") => RuleScope::All,
        Some("phi_only") => RuleScope::PhiOnly,
        Some(other) => {
            errors.push(at(
                raw.scope.as_ref().map(|s| s.span().start),
                format!("`scope` {other:?}: expected \"all\" or \"phi_only\""),
            ));
            RuleScope::All
        }
    };
    let params = match raw.params {
        Some(table) => match serde_json::to_value(table) {
            Ok(v) => v,
            Err(e) => {
                errors.push(at(None, format!("`[params]` cannot be read as JSON: {e}")));
                serde_json::Value::Object(Default::default())
            }
        },
        None => serde_json::Value::Object(Default::default()),
    };
    match (errors.is_empty(), subject) {
        (true, Some(subject)) => Ok(RuleDef {
            id,
            title,
            severity,
            citations,
            subject,
            reads,
            reads_all_accounts,
            services,
            scope,
            rationale,
            remediation,
            params,
            dir: dir.to_owned(),
        }),
        _ => Err(errors),
    }
}
