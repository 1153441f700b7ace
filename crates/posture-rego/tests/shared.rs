//! The rules of one load share the resources they convert (`rule::Converted`): what they
//! share must never outlive the evaluation it came from.

use chrono::{DateTime, Utc};
use posture_check::{Baseline, Input, PhiScope};
use posture_model::{Coverage, Finding, Resource, Status};
use serde_json::json;

const BASELINE: &str = r#"
name = "test"
version = "1"

[[citations]]
id = "164.312(c)(1)"
title = "Integrity"
rules = ["s3_bucket_versioning"]
"#;

/// A rule `id` over buckets that passes a bucket when a bucket of the account (read through
/// `resources`, shared with the other rule) and of every account (`all_accounts`) carries
/// the subject's own `env` tag.
fn rule(root: &std::path::Path, id: &str) {
    let folder = root.join(id);
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("rule.toml"),
        format!(
            "id = \"{id}\"\ntitle = \"t\"\nseverity = \"low\"\ncitations = [\"164.312(c)(1)\"]\n\
             subject = \"aws_s3_bucket\"\nreads = [\"aws_s3_bucket\"]\n\
             reads_all_accounts = [\"aws_s3_bucket\"]\nscope = \"all\"\nrationale = \"r\"\n\
             remediation = \"m\"\n"
        ),
    )
    .expect("write");
    std::fs::write(
        folder.join("rule.rego"),
        format!(
            "package posture.rules.{id}\n\
             results contains {{\"arn\": b.arn, \"status\": s, \"reason\": r, \"evidence\": {{}}}} if {{\n\
             \tsome b in input.subjects\n\
             \tenvs := [o.tags.value.env | some o in input.resources.aws_s3_bucket]\n\
             \tall := [o.tags.value.env | some o in input.all_accounts.aws_s3_bucket]\n\
             \ts := \"pass\"\n\
             \tr := sprintf(\"%s %v %v\", [b.tags.value.env, envs, all])\n\
             }}\n"
        ),
    )
    .expect("write");
}

fn bucket(name: &str, env: &str) -> Resource {
    let absent = json!({"state": "absent"});
    serde_json::from_value(json!({
        "arn": format!("arn:aws:s3:::{name}"),
        "account": "111122223333",
        "region": "us-east-1",
        "tags": {"state": "collected", "value": {"env": env}},
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

fn evaluate(baseline: &Baseline, resources: &[Resource]) -> Vec<Finding> {
    posture_check::evaluate(&Input {
        resources,
        coverage: &Coverage::default(),
        baseline,
        waivers: None,
        attestations: None,
        phi: &PhiScope::default(),
        now: now(),
    })
    .findings
    .into_iter()
    .filter(|f| f.rule_id.as_str().starts_with("org_"))
    .collect()
}

#[test]
fn rules_of_one_load_see_each_evaluation_s_own_resources() {
    let root = tempfile::tempdir().expect("temp dir");
    rule(root.path(), "org_one");
    rule(root.path(), "org_two");
    let rules = posture_rego::load(&[root.path()]).expect("the rules load");
    let mut baseline = Baseline::from_toml("test.toml", BASELINE).expect("valid");
    rules.add_to(&mut baseline).expect("joins the baseline");

    // The same ARN, at the same time, in two snapshots: only its tags differ.
    for env in ["prod", "test", "prod"] {
        let resources = vec![bucket("alpha", env)];
        let findings = evaluate(&baseline, &resources);
        assert_eq!(findings.len(), 2, "{findings:?}");
        for f in &findings {
            assert_eq!(f.status, Status::Pass, "{f:?}");
            assert_eq!(
                f.reason,
                format!("{env} [\"{env}\"] [\"{env}\"]"),
                "{} read another snapshot's bucket",
                f.rule_id
            );
        }
        drop(resources);
    }
}
