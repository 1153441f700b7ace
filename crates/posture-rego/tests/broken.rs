//! Rules that are wrong in every way a user can get one wrong: each gives `Error` findings
//! naming the rule and the cause (never a pass, never a panic) or a lint message at its
//! file and line. And the evaluator's treatment of custom rules: one evaluation per
//! account, PHI scope, waivers, uncollected inputs before Rego.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use posture_check::{Baseline, Input, PhiScope, Waivers};
use posture_model::{CollectionRecord, Coverage, Finding, Region, Resource, Status};
use serde_json::json;

const TOML: &str = r#"id = "org_probe"
title = "Probe"
severity = "high"
citations = ["164.312(c)(1)"]
subject = "aws_s3_bucket"
scope = "all"
rationale = "r"
remediation = "m"
"#;

const BASELINE: &str = r#"
name = "test"
version = "1"

[[citations]]
id = "164.312(c)(1)"
title = "Integrity"
rules = ["s3_bucket_versioning"]
"#;

/// A rules directory holding one rule folder `org_probe` with `toml` and `rego`.
fn rule_dir(toml: &str, rego: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("temp dir");
    let folder = root.path().join("org_probe");
    std::fs::create_dir_all(folder.join("tests")).expect("mkdir");
    std::fs::write(folder.join("rule.toml"), toml).expect("write");
    std::fs::write(folder.join("rule.rego"), rego).expect("write");
    (root, folder)
}

fn bucket(name: &str, account: &str, tags: serde_json::Value) -> Resource {
    let absent = json!({"state": "absent"});
    serde_json::from_value(json!({
        "arn": format!("arn:aws:s3:::{name}"),
        "account": account,
        "region": "us-east-1",
        "tags": {"state": "collected", "value": tags},
        "body": {"kind": "aws_s3_bucket", "config": {
            "name": name, "encryption": absent, "public_access_block": absent,
            "policy": absent, "acl": absent, "versioning": absent, "object_lock": absent,
            "logging": absent, "replication": absent,
        }},
    }))
    .expect("a bucket in the model's shape")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_272_000, 0).expect("valid")
}

fn s3_collected(resources: &[Resource]) -> Coverage {
    let mut collected = Vec::new();
    for r in resources {
        collected.push(CollectionRecord {
            account: r.account.clone(),
            region: Region::global(),
            service: "s3".into(),
            resources: 0,
            complete: true,
        });
    }
    Coverage {
        collected,
        ..Coverage::default()
    }
}

/// Loads the rules of `dir` into the test baseline and evaluates `resources`.
fn evaluate(
    dir: &Path,
    resources: &[Resource],
    coverage: &Coverage,
    waivers: Option<&str>,
) -> Vec<Finding> {
    let rules = posture_rego::load(&[dir]).expect("the rule loads");
    let mut baseline = Baseline::from_toml("test.toml", BASELINE).expect("valid");
    rules.add_to(&mut baseline).expect("joins the baseline");
    let waivers =
        waivers.map(|w| Waivers::from_toml_for("waivers.toml", w, &baseline).expect("valid"));
    posture_check::evaluate(&Input {
        resources,
        coverage,
        baseline: &baseline,
        waivers: waivers.as_ref(),
        attestations: None,
        phi: &PhiScope::default(),
        now: now(),
    })
    .findings
    .into_iter()
    .filter(|f| f.rule_id.as_str() == "org_probe")
    .collect()
}

fn two_buckets() -> Vec<Resource> {
    vec![
        bucket("alpha", "111122223333", json!({"phi": "true"})),
        bucket("beta", "111122223333", json!({})),
    ]
}

#[track_caller]
fn all_error_with(findings: &[Finding], needles: &[&str]) {
    assert_eq!(findings.len(), 2, "{findings:?}");
    for f in findings {
        assert_eq!(f.status, Status::Error, "{f:?}");
        for n in needles {
            assert!(f.reason.contains(n), "{n:?} not in {:?}", f.reason);
        }
    }
}

#[test]
fn a_syntax_error_is_a_lint_message_at_its_line_and_stops_the_load() {
    let (root, folder) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\nresults contains x if {\n\tx := \n}\n",
    );
    let problems = posture_rego::lint(root.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].file, folder.join("rule.rego"));
    assert_eq!(problems[0].line, 4, "{}", problems[0]);
    let text = problems[0].to_string();
    assert!(
        text.contains("rule.rego:4:7: error: expecting `}`"),
        "{text}"
    );
    assert!(text.contains("error:"), "{text}");
    let err = posture_rego::load(&[root.path()]).expect_err("does not load");
    assert_eq!(err, problems);
}

#[test]
fn in_a_scan_a_rule_that_does_not_compile_gives_errors_naming_the_cause_and_others_still_run() {
    let (root, folder) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\nresults contains x if {\n\tx := \n}\n",
    );
    // A second, good rule in the same directory.
    let good = root.path().join("org_good");
    std::fs::create_dir_all(good.join("tests")).unwrap();
    std::fs::write(
        good.join("rule.toml"),
        TOML.replace("org_probe", "org_good")
            .replace("Probe", "Good"),
    )
    .unwrap();
    std::fs::write(
        good.join("rule.rego"),
        "package posture.rules.org_good\n\nimport data.posture.lib\n\n\
         results contains lib.result(b, \"pass\", \"fine\", {}) if some b in input.subjects\n",
    )
    .unwrap();

    let (set, warnings) = posture_rego::load_lenient(&[root.path()]).expect("loads leniently");
    assert_eq!(set.rules().len(), 1, "the good rule");
    assert_eq!(set.broken().len(), 1, "the broken one");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].file, folder.join("rule.rego"));
    assert!(
        set.broken()[0].cause().contains("rule.rego:4:7"),
        "{}",
        set.broken()[0].cause()
    );

    let mut baseline = Baseline::from_toml("test.toml", BASELINE).unwrap();
    set.add_to(&mut baseline).unwrap();
    let resources = two_buckets();
    let coverage = s3_collected(&resources);
    let findings = posture_check::evaluate(&Input {
        resources: &resources,
        coverage: &coverage,
        baseline: &baseline,
        waivers: None,
        attestations: None,
        phi: &PhiScope::default(),
        now: now(),
    })
    .findings;
    let of = |id: &str| -> Vec<Finding> {
        findings
            .iter()
            .filter(|f| f.rule_id.as_str() == id)
            .cloned()
            .collect()
    };
    let broken = of("org_probe");
    all_error_with(&broken, &["org_probe", "does not compile", "rule.rego:4:7"]);
    for f in &broken {
        assert_eq!(f.evidence["custom_rule"], "org_probe");
        assert!(
            f.evidence["rule_error"]
                .as_str()
                .unwrap()
                .contains("expecting `}`")
        );
        assert_eq!(f.citations[0].id, "164.312(c)(1)", "cited like any rule");
    }
    let good = of("org_good");
    assert_eq!(good.len(), 2);
    assert!(
        good.iter()
            .all(|f| f.status == Status::Pass && f.reason == "fine")
    );

    // Metadata that names no subject leaves nothing to put an error on: the load fails.
    std::fs::write(
        folder.join("rule.toml"),
        TOML.replace("subject = \"aws_s3_bucket\"\n", ""),
    )
    .unwrap();
    let err = posture_rego::load_lenient(&[root.path()]).expect_err("no subject");
    assert!(
        err.iter().any(|d| d.to_string().contains("subject")),
        "{err:?}"
    );
}

#[test]
fn a_runtime_error_gives_every_subject_an_error_naming_the_rule_and_the_cause() {
    let (root, _) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\nf(_) := 1\n\nf(_) := 2\n\n\
         results contains {\"arn\": s.arn, \"status\": \"pass\", \"reason\": sprintf(\"%v\", [f(s)])} if some s in input.subjects\n",
    );
    let resources = two_buckets();
    let findings = evaluate(root.path(), &resources, &s3_collected(&resources), None);
    all_error_with(
        &findings,
        &[
            "custom rule org_probe failed while evaluating",
            "rule.rego:",
            "multiple outputs",
        ],
    );
    assert_eq!(findings[0].evidence["custom_rule"], "org_probe");
}

#[test]
fn a_status_rego_may_not_return_is_an_error_never_a_pass() {
    let (root, _) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\n\
         results contains {\"arn\": s.arn, \"status\": \"ok\", \"reason\": \"fine\"} if some s in input.subjects\n",
    );
    let resources = two_buckets();
    let findings = evaluate(root.path(), &resources, &s3_collected(&resources), None);
    all_error_with(
        &findings,
        &["custom rule org_probe", "status \"ok\" is not one of"],
    );
}

#[test]
fn a_missing_or_malformed_result_is_an_error_for_that_subject_only() {
    let (root, _) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\n\
         results contains {\"arn\": s.arn, \"status\": \"fail\", \"reason\": \"named alpha\", \"evidence\": {\"name\": s.body.config.name}} if {\n\
         \tsome s in input.subjects\n\ts.body.config.name == \"alpha\"\n}\n\n\
         results contains {\"status\": \"pass\"} if true\n",
    );
    let resources = two_buckets();
    let findings = evaluate(root.path(), &resources, &s3_collected(&resources), None);
    let alpha = &findings[0];
    assert_eq!(alpha.resource.arn.as_str(), "arn:aws:s3:::alpha");
    assert_eq!(alpha.status, Status::Fail);
    assert_eq!(alpha.reason, "named alpha");
    assert_eq!(alpha.evidence["name"], "alpha");
    let beta = &findings[1];
    assert_eq!(beta.status, Status::Error);
    assert!(
        beta.reason
            .contains("custom rule org_probe: no result for this resource")
            && beta
                .reason
                .contains("1 result(s) were malformed, the first: a result without `arn`"),
        "{}",
        beta.reason
    );
}

#[test]
fn conflicting_results_and_undefined_results_are_errors() {
    let (root, _) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\n\
         results contains {\"arn\": s.arn, \"status\": st, \"reason\": \"r\"} if {\n\
         \tsome s in input.subjects\n\tsome st in [\"pass\", \"fail\"]\n}\n",
    );
    let resources = two_buckets();
    let findings = evaluate(root.path(), &resources, &s3_collected(&resources), None);
    all_error_with(&findings, &["2 different results for this resource"]);

    let (root, _) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\nresults := [1] if input.account == \"none\"\n",
    );
    let findings = evaluate(root.path(), &resources, &s3_collected(&resources), None);
    all_error_with(&findings, &["`results` is undefined"]);
}

#[test]
fn uncollected_inputs_give_error_without_asking_rego() {
    // The policy fails whenever it is evaluated over a subject: were it asked, the reason
    // would be a Rego error.
    let (root, _) = rule_dir(
        TOML,
        "package posture.rules.org_probe\n\nf(_) := 1\n\nf(_) := 2\n\n\
         results contains {\"arn\": s.arn, \"status\": \"pass\", \"reason\": sprintf(\"%v\", [f(s)])} if some s in input.subjects\n",
    );
    let resources = two_buckets();
    let coverage = Coverage {
        collected: vec![CollectionRecord {
            account: resources[0].account.clone(),
            region: Region::global(),
            service: "iam".into(),
            resources: 0,
            complete: true,
        }],
        ..Coverage::default()
    };
    let findings = evaluate(root.path(), &resources, &coverage, None);
    all_error_with(&findings, &["s3 was not collected"]);
    assert_eq!(findings[0].evidence["not_collected"], json!(["s3"]));
    assert!(!findings[0].reason.contains("Rego") && !findings[0].reason.contains("evaluating"));
}

const BY_ACCOUNT: &str = "package posture.rules.org_probe\n\n\
    results contains {\"arn\": s.arn, \"status\": \"fail\", \"reason\": \"r\", \"evidence\": {\"account\": input.account, \"subjects\": count(input.subjects), \"rule\": input.rule, \"min_age\": object.get(input.params, \"min_age\", null), \"now\": input.now}} if some s in input.subjects\n";

#[test]
fn one_evaluation_per_account_with_its_subjects_account_and_params() {
    let toml = format!("{TOML}\n[params]\nmin_age = 30\n");
    let (root, _) = rule_dir(&toml, BY_ACCOUNT);
    let resources = vec![
        bucket("a1", "111122223333", json!({})),
        bucket("a2", "111122223333", json!({})),
        bucket("b1", "444455556666", json!({})),
    ];
    let findings = evaluate(root.path(), &resources, &s3_collected(&resources), None);
    let seen: Vec<(String, serde_json::Value, serde_json::Value)> = findings
        .iter()
        .map(|f| {
            (
                f.resource.arn.to_string(),
                f.evidence["account"].clone(),
                f.evidence["subjects"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("arn:aws:s3:::a1".into(), json!("111122223333"), json!(2)),
            ("arn:aws:s3:::a2".into(), json!("111122223333"), json!(2)),
            ("arn:aws:s3:::b1".into(), json!("444455556666"), json!(1)),
        ]
    );
    assert_eq!(findings[0].evidence["rule"], "org_probe");
    assert_eq!(findings[0].evidence["min_age"], 30);
    assert_eq!(findings[0].evidence["now"], "2026-06-01T00:00:00Z");
    assert_eq!(findings[0].citations[0].title, "Integrity");
    assert_eq!(findings[0].title, "Probe");
}

#[test]
fn phi_scope_and_waivers_apply_to_custom_rules() {
    let toml = TOML.replace("scope = \"all\"", "scope = \"phi_only\"");
    let (root, _) = rule_dir(&toml, BY_ACCOUNT);
    let resources = vec![
        bucket("phi-1", "111122223333", json!({"phi": "true"})),
        bucket("phi-2", "111122223333", json!({"phi": "true"})),
        bucket("scratch", "111122223333", json!({})),
    ];
    let waiver = "[[waiver]]\nrule = \"org_probe\"\narn = \"arn:aws:s3:::phi-2\"\n\
                  owner = \"o@example.org\"\njustification = \"migrating\"\nticket = \"SEC-9\"\n\
                  expires = 2026-12-31\n";
    let findings = evaluate(
        root.path(),
        &resources,
        &s3_collected(&resources),
        Some(waiver),
    );
    let status: Vec<(&str, Status)> = findings
        .iter()
        .map(|f| (f.resource.arn.as_str(), f.status))
        .collect();
    assert_eq!(
        status,
        vec![
            ("arn:aws:s3:::phi-1", Status::Fail),
            ("arn:aws:s3:::phi-2", Status::Waived),
            ("arn:aws:s3:::scratch", Status::NotApplicable),
        ]
    );
    assert_eq!(
        findings[0].evidence["subjects"], 2,
        "Rego saw the PHI buckets only"
    );
    assert!(findings[0].phi);
}

#[test]
fn metadata_errors_are_lint_messages_at_their_line() {
    let toml = TOML
        .replace("subject = \"aws_s3_bucket\"", "subject = \"aws_s3_buckets\"\nreads = [\"aws_kms_key\", \"aws_lambda_function\"]\nservices = [\"lambda\"]")
        .replace("severity = \"high\"\n", "severity = \"urgent\"\n")
        .replace("rationale = \"r\"\n", "");
    let (root, folder) = rule_dir(&toml, "package posture.rules.org_probe\n\nresults := []\n");
    let problems = posture_rego::lint(root.path());
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let file = folder.join("rule.toml").display().to_string();
    let expect = [
        format!("{file}: `rationale` is missing"),
        format!("{file}:3:12: unknown severity \"urgent\""),
        format!("{file}:5:11: `subject`: unknown resource kind \"aws_s3_buckets\""),
        format!("{file}:6:25: `reads`: unknown resource kind \"aws_lambda_function\""),
        format!("{file}:7:13: `services`: unknown service \"lambda\""),
    ];
    for e in &expect {
        assert!(
            text.iter().any(|t| t.starts_with(e.as_str())),
            "{e:?} not among:\n{}",
            text.join("\n")
        );
    }
    assert_eq!(text.len(), expect.len(), "{}", text.join("\n"));
}

#[test]
fn a_builtin_id_a_duplicate_id_and_a_missing_results_are_lint_messages() {
    let toml = TOML.replace("org_probe", "s3_bucket_versioning");
    let root = tempfile::tempdir().expect("temp dir");
    let folder = root.path().join("s3_bucket_versioning");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("rule.toml"), &toml).expect("write");
    std::fs::write(folder.join("rule.rego"), "package p\n\nresults := []\n").expect("write");
    let text: Vec<String> = posture_rego::lint(root.path())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        text[0].ends_with(
            "rule.toml:1:6: `id` \"s3_bucket_versioning\" is the id of the built-in rule \
             s3_bucket_versioning (\"S3 bucket has versioning enabled\"); give the custom rule \
             another id (\"org_...\")"
        ),
        "{text:?}"
    );

    let (one, _) = rule_dir(TOML, "package a\n\nresults := []\n");
    let (two, _) = rule_dir(TOML, "package b\n\nresults := []\n");
    let err = posture_rego::load(&[one.path(), two.path()]).expect_err("duplicate");
    assert!(
        err[0]
            .to_string()
            .contains("rule id org_probe is already defined by"),
        "{err:?}"
    );

    let (root, folder) = rule_dir(TOML, "package posture.rules.org_probe\n\nverdicts := []\n");
    let problems = posture_rego::lint(root.path());
    assert_eq!(problems[0].file, folder.join("rule.rego"));
    assert!(
        problems[0].message.contains("defines no `results`"),
        "{problems:?}"
    );
}

#[test]
fn a_fixture_mismatch_is_reported_per_arn_with_expected_and_actual() {
    let (root, folder) = rule_dir(TOML, BY_ACCOUNT);
    let fixture = json!({
        "description": "wrong on purpose",
        "resources": [bucket("a1", "111122223333", json!({})), bucket("a2", "111122223333", json!({}))],
        "expect": {
            "arn:aws:s3:::a1": {"status": "pass", "reason": "nope", "evidence": {"account": "999999999999"}},
            "arn:aws:s3:::zz": {"status": "pass"},
        },
    });
    std::fs::write(folder.join("tests/wrong.json"), fixture.to_string()).expect("write");
    let report = posture_rego::test(root.path());
    assert!(!report.passed());
    assert_eq!(report.counts(), (0, 1));
    let m = &report.rules[0].cases[0].mismatches;
    let fields: Vec<(&str, &str, &str, &str)> = m
        .iter()
        .map(|m| {
            (
                m.arn.as_str(),
                m.field.as_str(),
                m.expected.as_str(),
                m.actual.as_str(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            ("arn:aws:s3:::a1", "status", "pass", "fail (reason: r)"),
            ("arn:aws:s3:::a1", "reason", "contains \"nope\"", "\"r\""),
            (
                "arn:aws:s3:::a1",
                "evidence.account",
                "\"999999999999\"",
                "\"111122223333\""
            ),
            (
                "arn:aws:s3:::a2",
                "finding",
                "no finding (not in `expect`)",
                "fail: r"
            ),
            (
                "arn:aws:s3:::zz",
                "finding",
                "a finding",
                "none (not a subject of the rule in this fixture)"
            ),
        ]
    );
    let text = report.to_string();
    assert!(text.contains("FAIL org_probe"), "{text}");
    assert!(text.contains("fixtures: 0 passed, 1 failed"), "{text}");
}
