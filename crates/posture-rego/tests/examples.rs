//! The example rules of `config/rules` lint clean and pass their own fixtures.

use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/rules")
}

#[test]
fn the_example_rules_lint_clean() {
    let problems = posture_rego::lint(&examples());
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", text.join("\n"));
}

#[test]
fn the_example_rules_pass_their_fixtures() {
    let report = posture_rego::test(&examples());
    assert!(report.passed(), "{report}");
    assert_eq!(report.rules.len(), 4, "{report}");
    let (passed, failed) = report.counts();
    assert_eq!((passed, failed), (13, 0), "{report}");
}
