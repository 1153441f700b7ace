//! Custom rules in Rego through the real binary (issue 18): the examples of `config/rules`
//! pass `posture rules test` and `posture rules lint`; a scan of the moto demo account
//! with `--rules config/rules` reports their findings, cited from the baseline, beside the
//! built-in ones; a rule whose policy does not compile is a lint message at its file and
//! line and, in a scan, `error` findings naming the rule and the cause while every other
//! rule still runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::BTreeMap;

use posture_e2e::seed::{PRIMARY, SECONDARY};
use posture_e2e::{Moto, run_posture, scan_json, workspace_root};
use serde_json::Value;

const CUSTOM: [&str; 4] = [
    "org_kms_key_single_environment",
    "org_phi_bucket_iac_provenance",
    "org_phi_bucket_replicated_to_dr_region",
    "org_trail_bucket_in_log_archive",
];

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_example_rules_pass_their_fixtures_and_lint_clean() {
    let rules = workspace_root().join("config/rules");
    let rules = rules.to_str().unwrap();
    let out = run_posture(["rules", "test", rules], &[]).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("fixtures: 13 passed, 0 failed"),
        "{}",
        out.stdout
    );
    for id in CUSTOM {
        assert!(out.stdout.contains(id), "{id} not tested: {}", out.stdout);
    }
    let out = run_posture(["rules", "lint", rules], &[]).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    // `posture rules --rules` lists them beside the built-in rules, with their citations.
    let out = run_posture(["rules", "--rules", rules, "--format", "json"], &[]).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let listed: Value = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in CUSTOM {
        assert!(ids.contains(&id), "{id} not listed");
    }
    assert!(ids.len() > 150, "and the built-in rules: {}", ids.len());
}

#[test]
fn a_scan_reports_custom_findings_beside_the_built_in_ones_and_a_broken_rule_as_errors() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    moto.seed_demo_account().expect("seed the demo account");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.sqlite");
    let store = store.to_str().unwrap();
    let examples = workspace_root().join("config/rules");

    let scan = |rules: &str| {
        scan_json(&[
            "--endpoint-url",
            &endpoint,
            "--region",
            PRIMARY,
            "--region",
            SECONDARY,
            "--store",
            store,
            "--rules",
            rules,
        ])
    };
    let report = scan(examples.to_str().unwrap());
    let findings = report["findings"].as_array().unwrap();
    let mut by_rule: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for f in findings {
        by_rule
            .entry(f["rule_id"].as_str().unwrap())
            .or_default()
            .push(f);
    }
    assert!(by_rule.len() > 150, "the built-in rules ran too");
    for id in CUSTOM {
        let Some(of_rule) = by_rule.get(id) else {
            panic!("no finding of {id}");
        };
        for f in of_rule {
            let citations = f["citations"].as_array().unwrap();
            assert!(!citations.is_empty(), "{id}: no citation");
            assert!(
                citations
                    .iter()
                    .all(|c| c["id"].as_str().unwrap().starts_with("164.")
                        && !c["title"].as_str().unwrap().is_empty()),
                "{id}: citations carry the baseline's titles: {citations:?}"
            );
            assert!(!f["reason"].as_str().unwrap().is_empty(), "{f}");
        }
    }
    // The seeded trails deliver to a bucket of the scanned account, not of the
    // log-archive account (999988887777, not scanned): never a pass.
    let trails = &by_rule["org_trail_bucket_in_log_archive"];
    assert!(
        trails
            .iter()
            .all(|f| matches!(f["status"].as_str(), Some("fail" | "error"))),
        "{trails:?}"
    );
    // The PHI buckets of the seed (data-class=phi is not in the default PHI scope: so not
    // applicable) and buckets without provenance tags: never a pass without stack tags.
    for f in &by_rule["org_phi_bucket_iac_provenance"] {
        if f["status"] == "pass" {
            assert!(
                f["evidence"].as_object().is_some_and(|e| !e.is_empty()),
                "{f}"
            );
        }
    }

    // The report of that scan lists the custom rules under their citations, with titles.
    let out = run_posture(
        [
            "report",
            "--format",
            "json",
            "--out",
            "-",
            "--store",
            store,
            "--rules",
            examples.to_str().unwrap(),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    for id in CUSTOM {
        let nodes: Vec<&Value> = doc["citations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["rules"].as_array().unwrap())
            .filter(|r| r["rule_id"] == id)
            .collect();
        assert!(!nodes.is_empty(), "{id} is not in the citation tree");
        assert!(
            nodes
                .iter()
                .all(|r| !r["title"].as_str().unwrap().is_empty() && r["status"] != "no_findings"),
            "{id}: {nodes:?}"
        );
    }

    // A rule whose policy does not compile.
    let broken = dir.path().join("rules");
    copy_dir(
        &examples.join("org_kms_key_single_environment"),
        &broken.join("org_kms_key_single_environment"),
    );
    let policy = broken.join("org_kms_key_single_environment/rule.rego");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{text}\nbroken := {{\n")).unwrap();
    let lines = text.lines().count();
    let out = run_posture(["rules", "lint", broken.to_str().unwrap()], &[]).unwrap();
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout
            .contains("org_kms_key_single_environment/rule.rego:"),
        "{}",
        out.stdout
    );
    let at_line = out
        .stdout
        .lines()
        .find_map(|l| l.split("rule.rego:").nth(1))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no line number: {}", out.stdout));
    assert!(
        at_line > lines,
        "the error is at the broken lines: {}",
        out.stdout
    );

    let report = scan(broken.to_str().unwrap());
    let findings = report["findings"].as_array().unwrap();
    let of_broken: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule_id"] == "org_kms_key_single_environment")
        .collect();
    assert!(
        !of_broken.is_empty(),
        "the broken rule still has its subjects"
    );
    for f in &of_broken {
        assert_eq!(f["status"], "error", "{f}");
        let reason = f["reason"].as_str().unwrap();
        assert!(
            reason.contains("org_kms_key_single_environment")
                && reason.contains("does not compile"),
            "{reason}"
        );
        assert!(
            reason.contains("rule.rego:"),
            "the cause with its file and line: {reason}"
        );
    }
    assert!(
        findings
            .iter()
            .filter(|f| f["rule_id"] != "org_kms_key_single_environment")
            .count()
            > 100,
        "every other rule still ran"
    );
}
