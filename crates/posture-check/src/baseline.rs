//! The baseline: HIPAA citations mapped to rule ids, plus rule parameters. It is data
//! (`config/baselines/hipaa-security-rule.toml`); this module loads and validates it.
//!
//! The loader rejects, with the file and line: unknown rule ids, a rule listed twice under
//! one citation, a citation listed twice, parameters for rules the baseline does not
//! include, unknown parameter names, and values of the wrong type.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use posture_model::Citation;
use serde::Deserialize;
use toml::Spanned;

use crate::{ParamType, Rule, rule_by_id};

/// A baseline could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct BaselineError {
    /// The file it came from.
    pub file: String,
    /// 1-based line number (0 when unknown).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

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

    /// Every parameter.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ParamValue)> {
        self.0.iter()
    }
}

pub(crate) fn parse_default(ty: ParamType, text: &str) -> Option<ParamValue> {
    match ty {
        ParamType::Integer => text.parse().ok().map(ParamValue::Integer),
        ParamType::Boolean => text.parse().ok().map(ParamValue::Boolean),
        ParamType::IntegerList => text
            .split(',')
            .map(|p| p.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .map(ParamValue::IntegerList),
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
}

impl std::fmt::Debug for BaselineRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaselineRule")
            .field("rule", &self.rule.meta().id)
            .field("citations", &self.citations)
            .field("params", &self.params)
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
        let err = |span: Option<Range<usize>>, message: String| BaselineError {
            file: file.to_owned(),
            line: span.map_or(0, |s| line_of(text, s.start)),
            message,
        };
        let raw: RawBaseline =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().to_owned()))?;

        let mut seen_citations = BTreeSet::new();
        let mut cited: BTreeMap<&'static str, (&'static dyn Rule, Vec<Citation>)> = BTreeMap::new();
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
                    _ => None,
                };
                let Some(parsed) = parsed else {
                    let expected = match spec.ty {
                        ParamType::Integer => "a whole number",
                        ParamType::Boolean => "true or false",
                        ParamType::IntegerList => "a list of whole numbers",
                    };
                    return Err(err(
                        Some(value.span()),
                        format!("{}.{} must be {expected}", rule.meta().id, spec.name),
                    ));
                };
                params.set(spec.name, parsed);
            }
        }

        let rules = cited
            .into_iter()
            .map(|(id, (rule, citations))| BaselineRule {
                rule,
                citations,
                params: params_by_rule
                    .remove(id)
                    .unwrap_or_else(|| Params::defaults(rule)),
            })
            .collect();
        Ok(Baseline {
            name: raw.name,
            version: raw.version,
            citations,
            rules,
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |prefix| {
        prefix.bytes().filter(|b| *b == b'\n').count() + 1
    })
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
    fn unknown_top_level_key_is_rejected() {
        let e = load("name = \"x\"\nversion = \"1\"\nrulez = []\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown field"), "{e}");
    }
}
