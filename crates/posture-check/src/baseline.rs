//! The baseline: HIPAA citations mapped to rule ids, plus rule parameters, the rules scoped
//! to PHI resources, and the manual (process) controls a person attests to. It is data
//! (`config/baselines/hipaa-security-rule.toml`); this module loads and validates it.
//!
//! The loader rejects, with the file and line: unknown rule ids, a rule listed twice under
//! one citation, a citation listed twice, parameters for rules the baseline does not
//! include, unknown parameter names, values of the wrong type, `[scope] phi_only` ids that
//! are unknown, not in the baseline or about settings that carry no tags, and manual
//! controls with a bad or duplicate id, an unknown citation or a missing field.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use posture_model::{Citation, ResourceKind, RuleId, Severity};
use serde::Deserialize;
use toml::Spanned;

use crate::custom::RuleOrigin;
use crate::load::{LoadError, Source};
use crate::{ParamType, Rule, rule_by_id};

/// A baseline could not be loaded (the error every loader of this crate returns).
pub type BaselineError = LoadError;

/// One parameter value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// Whole number.
    Integer(i64),
    /// Boolean.
    Boolean(bool),
    /// List of whole numbers.
    IntegerList(Vec<i64>),
    /// List of strings.
    StringList(Vec<String>),
}

/// A rule's parameters, every declared one present (defaults filled in).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Params(BTreeMap<String, ParamValue>);

impl Params {
    /// The parameters a rule declares, at their defaults.
    pub fn defaults(rule: &dyn Rule) -> Self {
        let mut map = BTreeMap::new();
        for spec in rule.meta().params {
            if let Some(v) = parse_default(spec.ty, spec.default) {
                map.insert(spec.name.to_owned(), v);
            }
        }
        Params(map)
    }

    /// Sets a parameter (used by tests and by the loader).
    pub fn set(&mut self, name: &str, value: ParamValue) {
        self.0.insert(name.to_owned(), value);
    }

    /// An integer parameter; 0 if absent, which the loader and the default-parsing test
    /// in `rules` rule out for declared parameters.
    pub fn int(&self, name: &str) -> i64 {
        match self.0.get(name) {
            Some(ParamValue::Integer(v)) => *v,
            _ => 0,
        }
    }

    /// A boolean parameter; false if absent.
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.0.get(name), Some(ParamValue::Boolean(true)))
    }

    /// A list parameter; empty if absent.
    pub fn ints(&self, name: &str) -> Vec<i64> {
        match self.0.get(name) {
            Some(ParamValue::IntegerList(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// A list-of-strings parameter; empty if absent.
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            Some(ParamValue::StringList(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// Every parameter.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ParamValue)> {
        self.0.iter()
    }
}

pub(crate) fn parse_default(ty: ParamType, text: &str) -> Option<ParamValue> {
    match ty {
        ParamType::Integer => text.parse().ok().map(ParamValue::Integer),
        ParamType::Boolean => text.parse().ok().map(ParamValue::Boolean),
        // An empty default is the empty list.
        ParamType::IntegerList if text.trim().is_empty() => Some(ParamValue::IntegerList(vec![])),
        ParamType::IntegerList => text
            .split(',')
            .map(|p| p.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .map(ParamValue::IntegerList),
        // Defaults are comma-separated; an empty default is the empty list.
        ParamType::StringList => Some(ParamValue::StringList(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )),
    }
}

/// A rule as the baseline includes it.
#[derive(Clone)]
pub struct BaselineRule {
    /// The rule.
    pub rule: &'static dyn Rule,
    /// The citations that list it, in file order.
    pub citations: Vec<Citation>,
    /// Its parameters.
    pub params: Params,
    /// Which resources of its subject kind it applies to (`[scope]` in the baseline).
    pub scope: RuleScope,
    /// Built-in, or a custom rule added by [`Baseline::add_custom_rules`].
    pub origin: RuleOrigin,
}

/// Which resources a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleScope {
    /// Every resource of the rule's subject kind (the default).
    All,
    /// Only resources tagged as holding PHI (see [`crate::PhiScope`]); others get
    /// `NotApplicable`, and a resource whose tags could not be collected gets `Error`.
    PhiOnly,
}

/// A process control that no API can prove (risk analysis, BAAs, restore tests): a person
/// attests to it, with an expiry, and the evaluation reports it as `Manual`, never `Pass`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ManualControl {
    /// Id, `manual_<what>`; findings carry it as their rule id.
    pub id: RuleId,
    /// One-line title, phrased as the control.
    pub title: String,
    /// How much a missing or expired attestation matters.
    pub severity: Severity,
    /// The citations it gives evidence for, with their titles, in file order.
    pub citations: Vec<Citation>,
    /// What an attestation should point to (the document an auditor will ask for).
    pub expected_evidence: String,
}

impl std::fmt::Debug for BaselineRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaselineRule")
            .field("rule", &self.rule.meta().id)
            .field("citations", &self.citations)
            .field("params", &self.params)
            .field("scope", &self.scope)
            .field("origin", &self.origin)
            .finish()
    }
}

/// One citation of the regulation with the rules that give evidence for it.
#[derive(Debug, Clone)]
pub struct CitationEntry {
    /// The citation.
    pub citation: Citation,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Ids of the manual controls that cite it (from their `citations`), sorted.
    pub manual: Vec<String>,
}

/// A loaded, validated baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Citations in file order.
    pub citations: Vec<CitationEntry>,
    /// Included rules, sorted by id.
    pub rules: Vec<BaselineRule>,
    /// Manual controls, sorted by id.
    pub manual: Vec<ManualControl>,
}

impl Baseline {
    /// A manual control by id.
    pub fn manual_control(&self, id: &str) -> Option<&ManualControl> {
        self.manual.iter().find(|m| m.id.as_str() == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    name: String,
    version: String,
    #[serde(default)]
    citations: Vec<RawCitation>,
    #[serde(default)]
    parameters: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    #[serde(default)]
    scope: RawScope,
    #[serde(default)]
    manual: Vec<Spanned<RawManual>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    phi_only: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManual {
    id: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    citations: Vec<Spanned<String>>,
    expected_evidence: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCitation {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    rules: Vec<Spanned<String>>,
}

impl Baseline {
    /// The baseline shipped with Posture.
    pub fn hipaa() -> Result<Self, BaselineError> {
        Self::from_toml(crate::HIPAA_BASELINE_NAME, crate::HIPAA_BASELINE_TOML)
    }

    /// Parses and validates a baseline. `file` is only used in error messages.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, BaselineError> {
        let src = Source { file, text };
        let err = |span: Option<Range<usize>>, message: String| src.err(span, message);
        let raw: RawBaseline = src.parse()?;

        let mut seen_citations = BTreeSet::new();
        let mut cited: Cited = BTreeMap::new();
        let mut citations = Vec::new();
        for c in &raw.citations {
            if !seen_citations.insert(c.id.get_ref().clone()) {
                return Err(err(
                    Some(c.id.span()),
                    format!("citation {} is listed twice", c.id.get_ref()),
                ));
            }
            let citation = Citation {
                id: c.id.get_ref().clone(),
                title: c.title.clone(),
            };
            let mut in_this = BTreeSet::new();
            for id in &c.rules {
                let Some(rule) = rule_by_id(id.get_ref()) else {
                    return Err(err(
                        Some(id.span()),
                        format!(
                            "unknown rule id {:?} (run `posture rules` for the list)",
                            id.get_ref()
                        ),
                    ));
                };
                if !in_this.insert(id.get_ref().clone()) {
                    return Err(err(
                        Some(id.span()),
                        format!(
                            "rule {} is listed twice under citation {}",
                            id.get_ref(),
                            citation.id
                        ),
                    ));
                }
                cited
                    .entry(rule.meta().id)
                    .or_insert_with(|| (rule, Vec::new()))
                    .1
                    .push(citation.clone());
            }
            citations.push(CitationEntry {
                citation,
                rules: c.rules.iter().map(|r| r.get_ref().clone()).collect(),
                manual: Vec::new(),
            });
        }

        let mut params_by_rule: BTreeMap<&'static str, Params> = cited
            .iter()
            .map(|(id, (rule, _))| (*id, Params::defaults(*rule)))
            .collect();
        for (rule_id, values) in &raw.parameters {
            let Some((rule, _)) = cited.get(rule_id.get_ref().as_str()) else {
                let why = if rule_by_id(rule_id.get_ref()).is_some() {
                    "is not listed under any citation of this baseline"
                } else {
                    "is not a known rule id"
                };
                return Err(err(
                    Some(rule_id.span()),
                    format!("parameters for {}: the rule {why}", rule_id.get_ref()),
                ));
            };
            let params = params_by_rule.entry(rule.meta().id).or_default();
            for (name, value) in values {
                let Some(spec) = rule.meta().params.iter().find(|p| p.name == name.get_ref())
                else {
                    let known: Vec<_> = rule.meta().params.iter().map(|p| p.name).collect();
                    return Err(err(
                        Some(name.span()),
                        format!(
                            "rule {} has no parameter {:?} (it has: {})",
                            rule.meta().id,
                            name.get_ref(),
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                };
                let parsed = match (spec.ty, value.get_ref()) {
                    (ParamType::Integer, toml::Value::Integer(i)) => Some(ParamValue::Integer(*i)),
                    (ParamType::Boolean, toml::Value::Boolean(b)) => Some(ParamValue::Boolean(*b)),
                    (ParamType::IntegerList, toml::Value::Array(items)) => items
                        .iter()
                        .map(toml::Value::as_integer)
                        .collect::<Option<Vec<_>>>()
                        .map(ParamValue::IntegerList),
                    (ParamType::StringList, toml::Value::Array(items)) => items
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .map(ParamValue::StringList),
                    _ => None,
                };
                let Some(parsed) = parsed else {
                    let expected = match spec.ty {
                        ParamType::Integer => "a whole number",
                        ParamType::Boolean => "true or false",
                        ParamType::IntegerList => "a list of whole numbers",
                        ParamType::StringList => "a list of strings",
                    };
                    return Err(err(
                        Some(value.span()),
                        format!("{}.{} must be {expected}", rule.meta().id, spec.name),
                    ));
                };
                params.set(spec.name, parsed);
            }
        }

        let phi_only = phi_only_rules(&src, &raw.scope, &cited)?;
        let manual = manual_controls(&src, &raw.manual, &mut citations)?;

        let rules = cited
            .into_iter()
            .map(|(id, (rule, citations))| BaselineRule {
                rule,
                citations,
                params: params_by_rule
                    .remove(id)
                    .unwrap_or_else(|| Params::defaults(rule)),
                scope: if phi_only.contains(id) {
                    RuleScope::PhiOnly
                } else {
                    RuleScope::All
                },
                origin: RuleOrigin::Builtin,
            })
            .collect();
        Ok(Baseline {
            name: raw.name,
            version: raw.version,
            citations,
            rules,
            manual,
        })
    }
}

type Cited = BTreeMap<&'static str, (&'static dyn Rule, Vec<Citation>)>;

/// Validates `[scope] phi_only`: known rules, included in the baseline, listed once, and
/// about resources that carry tags (a setting without tags is never PHI-tagged, so scoping
/// it to PHI would silently turn the rule off).
fn phi_only_rules(
    src: &Source<'_>,
    scope: &RawScope,
    cited: &Cited,
) -> Result<BTreeSet<&'static str>, LoadError> {
    let mut ids = BTreeSet::new();
    for id in &scope.phi_only {
        let Some((rule, _)) = cited.get(id.get_ref().as_str()) else {
            let why = if rule_by_id(id.get_ref()).is_some() {
                "is not listed under any citation of this baseline"
            } else {
                "is not a known rule id (run `posture rules` for the list)"
            };
            return Err(src.err(
                Some(id.span()),
                format!("[scope] phi_only: {} {why}", id.get_ref()),
            ));
        };
        let subject = rule.meta().subject;
        if !carries_tags(subject) {
            return Err(src.err(
                Some(id.span()),
                format!(
                    "[scope] phi_only: {} is about {subject}, which carries no tags, so no \
                     resource would ever be in scope; remove it from phi_only",
                    id.get_ref()
                ),
            ));
        }
        if !ids.insert(rule.meta().id) {
            return Err(src.err(
                Some(id.span()),
                format!("[scope] phi_only: {} is listed twice", id.get_ref()),
            ));
        }
    }
    Ok(ids)
}

/// Whether resources of `kind` can carry tags. Account- and region-wide settings, the
/// account and region subjects and IAM groups cannot; every other kind can (a new kind is
/// taggable unless listed here).
pub(crate) fn carries_tags(kind: ResourceKind) -> bool {
    !matches!(
        kind,
        ResourceKind::Account
            | ResourceKind::Region
            | ResourceKind::S3AccountPublicAccessBlock
            | ResourceKind::IamGroup
            | ResourceKind::IamPasswordPolicy
            | ResourceKind::IamAccountSummary
            | ResourceKind::IamCredentialReport
            | ResourceKind::EbsEncryptionByDefault
            | ResourceKind::EbsSnapshotBlockPublicAccess
    )
}

/// Validates the `[[manual]]` entries and records, on each citation, the controls citing it.
fn manual_controls(
    src: &Source<'_>,
    raw: &[Spanned<RawManual>],
    citations: &mut [CitationEntry],
) -> Result<Vec<ManualControl>, LoadError> {
    let mut controls: BTreeMap<String, ManualControl> = BTreeMap::new();
    for entry in raw {
        let span = entry.span();
        let m = entry.get_ref();
        let Some(id) = &m.id else {
            return Err(src.err(
                Some(span),
                "[[manual]] entry has no `id`: add `id = \"manual_<what>\"`",
            ));
        };
        let what = format!("manual control {}", id.get_ref());
        let valid_id = RuleId::new(id.get_ref().as_str())
            .ok()
            .filter(|r| r.as_str().starts_with("manual_"));
        let Some(rule_id) = valid_id else {
            return Err(src.err(
                Some(id.span()),
                format!(
                    "{what}: a manual control id is `manual_` followed by lowercase letters, \
                     digits and underscores, like manual_risk_analysis"
                ),
            ));
        };
        if rule_by_id(rule_id.as_str()).is_some() || controls.contains_key(rule_id.as_str()) {
            return Err(src.err(
                Some(id.span()),
                format!("{what}: the id is already used; give each control its own id"),
            ));
        }
        let title =
            src.required_text(&span, m.title.as_ref(), "title", &what, "name the control")?;
        let expected_evidence = src.required_text(
            &span,
            m.expected_evidence.as_ref(),
            "expected_evidence",
            &what,
            "say what document an attestation must point to",
        )?;
        let severity_text = src.required_text(
            &span,
            m.severity.as_ref(),
            "severity",
            &what,
            "info, low, medium, high or critical",
        )?;
        let severity: Severity = severity_text.parse().map_err(|e: String| {
            let at = m.severity.as_ref().map(Spanned::span);
            src.err(at, format!("{what}: {e}"))
        })?;
        if m.citations.is_empty() {
            return Err(src.err(
                Some(span),
                format!(
                    "{what} cites nothing: add `citations = [\"164.…\"]` naming the \
                     [[citations]] it gives evidence for"
                ),
            ));
        }
        let mut cites = Vec::new();
        for c in &m.citations {
            let Some(entry) = citations.iter_mut().find(|e| &e.citation.id == c.get_ref()) else {
                return Err(src.err(
                    Some(c.span()),
                    format!(
                        "{what} cites {}, which no [[citations]] entry defines: add the \
                         citation with its title, or fix the id",
                        c.get_ref()
                    ),
                ));
            };
            if entry.manual.iter().any(|x| x == rule_id.as_str()) {
                return Err(src.err(
                    Some(c.span()),
                    format!("{what} cites {} twice", c.get_ref()),
                ));
            }
            entry.manual.push(rule_id.to_string());
            entry.manual.sort();
            cites.push(entry.citation.clone());
        }
        controls.insert(
            rule_id.to_string(),
            ManualControl {
                id: rule_id,
                title,
                severity,
                citations: cites,
                expected_evidence,
            },
        );
    }
    Ok(controls.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Baseline, BaselineError> {
        Baseline::from_toml("test.toml", text)
    }

    #[test]
    fn shipped_baseline_loads_and_cites_every_rule() {
        let b = Baseline::hipaa().expect("shipped baseline is valid");
        let included: BTreeSet<_> = b.rules.iter().map(|r| r.rule.meta().id).collect();
        for rule in crate::RULES.iter() {
            assert!(
                included.contains(rule.meta().id),
                "{} is in no citation",
                rule.meta().id
            );
        }
    }

    #[test]
    fn unknown_rule_id_names_file_and_line() {
        let e = load("name = \"x\"\nversion = \"1\"\n[[citations]]\nid = \"164.312(b)\"\ntitle = \"Audit controls\"\nrules = [\n  \"no_such_rule\",\n]\n").unwrap_err();
        assert_eq!(e.file, "test.toml");
        assert_eq!(e.line, 7);
        assert!(
            e.message.contains("unknown rule id \"no_such_rule\""),
            "{e}"
        );
    }

    #[test]
    fn duplicate_rule_in_a_citation_is_rejected() {
        let e = load("name = \"x\"\nversion = \"1\"\n[[citations]]\nid = \"164.312(b)\"\ntitle = \"t\"\nrules = [\"kms_cmk_rotation\", \"kms_cmk_rotation\"]\n").unwrap_err();
        assert_eq!(e.line, 6);
        assert!(e.message.contains("listed twice"), "{e}");
    }

    #[test]
    fn duplicate_citation_is_rejected() {
        let e = load("name = \"x\"\nversion = \"1\"\n[[citations]]\nid = \"a\"\ntitle = \"t\"\n[[citations]]\nid = \"a\"\ntitle = \"t\"\n").unwrap_err();
        assert_eq!(e.line, 7);
    }

    #[test]
    fn bad_parameter_type_and_name_are_rejected() {
        let head = "name = \"x\"\nversion = \"1\"\n[[citations]]\nid = \"a\"\ntitle = \"t\"\nrules = [\"iam_access_key_rotated_90d\"]\n";
        let e = load(&format!(
            "{head}[parameters.iam_access_key_rotated_90d]\nmax_access_key_age_days = \"ninety\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.message.contains("must be a whole number"), "{e}");
        let e = load(&format!(
            "{head}[parameters.iam_access_key_rotated_90d]\nmax_age = 3\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("has no parameter \"max_age\""), "{e}");
        let ok = load(&format!(
            "{head}[parameters.iam_access_key_rotated_90d]\nmax_access_key_age_days = 30\n"
        ))
        .unwrap();
        assert_eq!(ok.rules[0].params.int("max_access_key_age_days"), 30);
    }

    #[test]
    fn string_list_parameters_parse_and_reject_other_types() {
        let rule = crate::rules::RULES
            .iter()
            .find(|r| {
                r.meta()
                    .params
                    .iter()
                    .any(|p| p.ty == ParamType::StringList)
            })
            .expect("some rule takes a list of strings");
        let (id, param) = (rule.meta().id, rule.meta().params[0].name);
        assert_eq!(rule.meta().params[0].ty, ParamType::StringList, "{id}");
        let head = format!(
            "name = \"x\"\nversion = \"1\"\n[[citations]]\nid = \"a\"\ntitle = \"t\"\nrules = [\"{id}\"]\n"
        );
        let ok = load(&format!(
            "{head}[parameters.{id}]\n{param} = [\"a\", \"b\"]\n"
        ))
        .unwrap();
        assert_eq!(ok.rules[0].params.strings(param), ["a", "b"]);
        let e = load(&format!("{head}[parameters.{id}]\n{param} = [1, 2]\n")).unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.message.contains("must be a list of strings"), "{e}");
        assert_eq!(
            parse_default(ParamType::StringList, " a, b ,"),
            Some(ParamValue::StringList(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            parse_default(ParamType::StringList, ""),
            Some(ParamValue::StringList(vec![]))
        );
    }

    #[test]
    fn shipped_baseline_has_manual_controls_for_the_process_safeguards() {
        let b = Baseline::hipaa().expect("shipped baseline is valid");
        let cites = |id: &str| -> Vec<String> {
            b.manual_control(id)
                .unwrap_or_else(|| panic!("{id} is in the shipped baseline"))
                .citations
                .iter()
                .map(|c| format!("{} {}", c.id, c.title))
                .collect()
        };
        assert_eq!(
            cites("manual_risk_analysis"),
            ["164.308(a)(1)(ii)(A) Risk analysis"]
        );
        assert_eq!(
            cites("manual_risk_management"),
            ["164.308(a)(1)(ii)(B) Risk management"]
        );
        assert_eq!(
            cites("manual_sanction_policy"),
            ["164.308(a)(1)(ii)(C) Sanction policy"]
        );
        assert_eq!(
            cites("manual_security_awareness_training"),
            ["164.308(a)(5)(i) Security awareness and training"]
        );
        assert_eq!(
            cites("manual_incident_response"),
            [
                "164.308(a)(6)(i) Security incident procedures",
                "164.308(a)(6)(ii) Response and reporting"
            ]
        );
        assert!(
            cites("manual_contingency_plan")
                .contains(&"164.308(a)(7)(ii)(B) Disaster recovery plan".to_owned())
        );
        assert_eq!(
            cites("manual_restore_testing"),
            ["164.308(a)(7)(ii)(D) Testing and revision procedures"]
        );
        assert_eq!(
            cites("manual_business_associate_agreements"),
            [
                "164.308(b)(1) Business associate contracts and other arrangements",
                "164.308(b)(3) Written contract or other arrangement"
            ]
        );
        assert_eq!(
            cites("manual_policies_and_procedures"),
            ["164.316(a) Policies and procedures"]
        );
        assert!(
            cites("manual_documentation_retention")
                .contains(&"164.316(b)(2)(i) Time limit".to_owned())
        );
        let ids: Vec<_> = b.manual.iter().map(|m| m.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "manual controls are sorted by id");
        let entry = b
            .citations
            .iter()
            .find(|c| c.citation.id == "164.308(a)(7)(ii)(D)")
            .unwrap();
        assert_eq!(entry.manual, ["manual_restore_testing"]);
        // Only the IaC provenance rules, whose control is about ePHI resources alone, are
        // scoped to PHI: every other rule applies to an untagged estate too.
        let scoped: Vec<&str> = b
            .rules
            .iter()
            .filter(|r| r.scope != RuleScope::All)
            .map(|r| r.rule.meta().id)
            .collect();
        assert!(
            !scoped.is_empty() && scoped.iter().all(|id| id.ends_with("_iac_provenance")),
            "{scoped:?}"
        );
    }

    const HEAD: &str = "name = \"x\"\nversion = \"1\"\n[[citations]]\nid = \"a\"\ntitle = \"t\"\nrules = [\"s3_bucket_object_lock\", \"iam_password_policy_length_14\"]\n";

    #[test]
    fn phi_only_scopes_a_rule() {
        let b = load(&format!(
            "{HEAD}[scope]\nphi_only = [\"s3_bucket_object_lock\"]\n"
        ))
        .unwrap();
        let scope = |id: &str| {
            b.rules
                .iter()
                .find(|r| r.rule.meta().id == id)
                .unwrap()
                .scope
        };
        assert_eq!(scope("s3_bucket_object_lock"), RuleScope::PhiOnly);
        assert_eq!(scope("iam_password_policy_length_14"), RuleScope::All);
    }

    #[test]
    fn phi_only_rejects_unknown_absent_untaggable_and_duplicate_rules() {
        let e = load(&format!(
            "{HEAD}[scope]\nphi_only = [\n  \"no_such_rule\",\n]\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, 9);
        assert!(e.message.contains("not a known rule id"), "{e}");
        let e = load(&format!(
            "{HEAD}[scope]\nphi_only = [\"s3_bucket_versioning\"]\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.message.contains("not listed under any citation"), "{e}");
        let e = load(&format!(
            "{HEAD}[scope]\nphi_only = [\"iam_password_policy_length_14\"]\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("carries no tags"), "{e}");
        let e = load(&format!(
            "{HEAD}[scope]\nphi_only = [\"s3_bucket_object_lock\", \"s3_bucket_object_lock\"]\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("listed twice"), "{e}");
        let e = load(&format!("{HEAD}[scope]\nphi = []\n")).unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.message.contains("unknown field `phi`"), "{e}");
    }

    const MANUAL: &str = "[[manual]]\nid = \"manual_x\"\ntitle = \"X is done\"\nseverity = \"high\"\ncitations = [\"a\"]\nexpected_evidence = \"the X report\"\n";

    #[test]
    fn manual_controls_load_and_are_listed_on_their_citations() {
        let b = load(&format!("{HEAD}{MANUAL}")).unwrap();
        let [m] = b.manual.as_slice() else {
            panic!("one manual control")
        };
        assert_eq!(m.id.as_str(), "manual_x");
        assert_eq!(m.severity, Severity::High);
        assert_eq!(m.citations[0].title, "t");
        assert_eq!(m.expected_evidence, "the X report");
        assert_eq!(b.citations[0].manual, ["manual_x"]);
    }

    #[test]
    fn manual_controls_are_validated_with_the_line() {
        let cases = [
            (
                MANUAL.replace("manual_x", "risk_analysis"),
                8,
                "a manual control id is `manual_`",
            ),
            (
                MANUAL.replace("[\"a\"]", "[\"164.308(a)(9)\"]"),
                11,
                "which no [[citations]] entry defines",
            ),
            (MANUAL.replace("[\"a\"]", "[]"), 7, "cites nothing"),
            (
                MANUAL.replace("[\"a\"]", "[\"a\", \"a\"]"),
                11,
                "cites a twice",
            ),
            (
                MANUAL.replace("\"high\"", "\"severe\""),
                10,
                "unknown severity",
            ),
            (
                MANUAL.replace("expected_evidence = \"the X report\"\n", ""),
                7,
                "has no `expected_evidence`",
            ),
            (
                MANUAL.replace("title = \"X is done\"", "title = \"\""),
                9,
                "`title` is empty",
            ),
            (
                format!("{MANUAL}attested = true\n"),
                13,
                "unknown field `attested`",
            ),
            (format!("{MANUAL}{MANUAL}"), 14, "already used"),
            (
                MANUAL.replace("manual_x", "manual_x\"\nid = \"y"),
                9,
                "duplicate key",
            ),
        ];
        for (manual, line, needle) in cases {
            let e = load(&format!("{HEAD}{manual}")).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains(needle), "{e}");
        }
    }

    #[test]
    fn unknown_top_level_key_is_rejected() {
        let e = load("name = \"x\"\nversion = \"1\"\nrulez = []\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown field"), "{e}");
    }
}
