//! The rule registry: one file per rule, named by its id, grouped by service; each
//! service's `mod.rs` lists its rules in one array. Adding a rule is adding one file and
//! one line there (and citing it in the baseline).

use std::sync::LazyLock;

use crate::Rule;

pub mod cloudtrail;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod rds;
pub mod s3;

/// Every rule Posture knows, sorted by id.
pub static RULES: LazyLock<Vec<&'static dyn Rule>> = LazyLock::new(|| {
    let mut all: Vec<&'static dyn Rule> = [
        s3::RULES,
        rds::RULES,
        iam::RULES,
        ec2::RULES,
        kms::RULES,
        cloudtrail::RULES,
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
}
