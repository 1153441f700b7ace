//! The rule registry: one file per rule, named by its id, grouped by service; each
//! service's `mod.rs` lists its rules in one array. Adding a rule is adding one file and
//! one line there (and citing it in the baseline).

use std::sync::LazyLock;

use crate::Rule;

pub mod accessanalyzer;
pub mod acm;
pub mod autoscaling;
pub mod backup;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod config;
pub mod ec2;
pub mod efs;
pub mod elb;
pub mod guardduty;
pub mod iam;
pub mod kms;
pub mod macie;
pub(crate) mod provenance;
pub mod rds;
pub mod s3;
pub mod secretsmanager;
pub mod securityhub;
pub mod ssm;

/// Every rule Posture knows, sorted by id.
pub static RULES: LazyLock<Vec<&'static dyn Rule>> = LazyLock::new(|| {
    let mut all: Vec<&'static dyn Rule> = [
        s3::RULES,
        rds::RULES,
        iam::RULES,
        ec2::RULES,
        kms::RULES,
        cloudtrail::RULES,
        cloudwatch::RULES,
        guardduty::RULES,
        config::RULES,
        secretsmanager::RULES,
        accessanalyzer::RULES,
        autoscaling::RULES,
        securityhub::RULES,
        ssm::RULES,
        macie::RULES,
        elb::RULES,
        acm::RULES,
        efs::RULES,
        backup::RULES,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    all.sort_by_key(|r| r.meta().id);
    all
});

/// Looks a rule up by id.
pub fn rule_by_id(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().id == id)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use posture_model::RuleId;

    use super::*;
    use crate::baseline::parse_default;

    #[test]
    fn ids_are_unique_valid_and_prefixed_by_their_service() {
        let mut seen = BTreeSet::new();
        for rule in RULES.iter() {
            let m = rule.meta();
            assert!(seen.insert(m.id), "duplicate rule id {}", m.id);
            assert!(RuleId::new(m.id).is_ok(), "invalid rule id {}", m.id);
            assert!(
                !m.title.is_empty() && !m.rationale.is_empty() && !m.remediation.is_empty(),
                "{}",
                m.id
            );
            assert!(!m.api_calls.is_empty(), "{} names no API call", m.id);
            for call in m.api_calls {
                assert!(
                    call.contains(':'),
                    "{}: api call {call} is not service:Operation",
                    m.id
                );
            }
        }
    }

    /// A rule declares the calls it reads by the names of the one table of collectors, so
    /// that coverage, the input check and the least-privilege policy agree with it.
    #[test]
    fn every_declared_call_is_a_call_of_the_collectors_table() {
        let mut unknown = Vec::new();
        for rule in RULES.iter() {
            for call in rule.meta().api_calls {
                if posture_model::catalog::call_named(call).is_none() {
                    unknown.push(format!("{}: {call}", rule.meta().id));
                }
            }
        }
        assert!(
            unknown.is_empty(),
            "calls no collector makes (see posture_model::catalog): {unknown:#?}"
        );
    }

    #[test]
    fn parameter_defaults_parse() {
        for rule in RULES.iter() {
            for p in rule.meta().params {
                assert!(
                    parse_default(p.ty, p.default).is_some(),
                    "{}.{} default {:?}",
                    rule.meta().id,
                    p.name,
                    p.default
                );
            }
        }
    }

    /// Every rule's file carries its fixture cases: tests whose names say pass, fail and
    /// error, and not_applicable where the rule can answer NotApplicable for a subject of
    /// its own kind. The `"not a …"` arm of a rule's kind match is not such a case: the
    /// evaluator dispatches by `meta().subject`, so a subject of another kind never reaches
    /// the rule and a test of it would test nothing.
    #[test]
    fn every_rule_has_its_fixture_cases() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut sources = Vec::new();
        for dir in std::fs::read_dir(&root).expect("rules dir") {
            let dir = dir.expect("entry").path();
            if !dir.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&dir).expect("service dir") {
                let file = file.expect("entry").path();
                let text = std::fs::read_to_string(&file).expect("rule source");
                sources.push((file, text));
            }
        }
        let mut missing = Vec::new();
        for rule in RULES.iter() {
            let id = rule.meta().id;
            let needle = format!("id: \"{id}\",");
            let Some((file, text)) = sources.iter().find(|(_, t)| t.contains(&needle)) else {
                missing.push(format!("{id}: no source file declares it"));
                continue;
            };
            let tests: Vec<&str> = text
                .split("#[test]")
                .skip(1)
                .filter_map(|t| t.split("fn ").nth(1)?.split('(').next())
                .collect();
            let body = text.split("#[cfg(test)]").next().unwrap_or_default();
            let own_kind_not_applicable = body.split("not_applicable(").skip(1).any(|rest| {
                let arg = rest.trim_start();
                !["\"not a ", "\"not an ", "\"not the "]
                    .iter()
                    .any(|kind_arm| arg.starts_with(kind_arm))
            });
            let cases: &[&str] = if own_kind_not_applicable {
                &["pass", "fail", "error", "not_applicable"]
            } else {
                &["pass", "fail", "error"]
            };
            for case in cases {
                if !tests.iter().any(|t| t.contains(case)) {
                    missing.push(format!("{id} ({}): no {case} test", file.display()));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
