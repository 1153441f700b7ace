//! The input's shape across accounts: `input.resources[kind]` and `input.all_accounts[kind]`
//! are objects keyed by ARN, the same whether a snapshot is evaluated whole or account by
//! account (other accounts' data loaded on demand into a `Foreign`), and an account always
//! reads its own resources, never a stale copy of them loaded for another account.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use posture_check::{
    AccountCoverage, Baseline, Collections, Evaluator, Foreign, Input, Loaded, PhiScope, Settings,
    Want,
};
use posture_model::{AccountId, Coverage, Finding, Resource, Status};
use serde_json::{Value, json};

const A: &str = "111122223333";
const B: &str = "444455556666";
const ARCHIVE: &str = "999988887777";

const BASELINE: &str = r#"
name = "test"
version = "1"

[[citations]]
id = "164.312(c)(1)"
title = "Integrity"
rules = ["s3_bucket_versioning"]
"#;

/// A rule over buckets whose evidence is the keys of its input's objects, and what a
/// lookup by ARN of buckets `alpha` and `beta` among every account's gives.
fn shape_rule(root: &Path) {
    let folder = root.join("org_shape");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("rule.toml"),
        "id = \"org_shape\"\ntitle = \"t\"\nseverity = \"low\"\ncitations = [\"164.312(c)(1)\"]\n\
         subject = \"aws_s3_bucket\"\nreads = [\"aws_s3_bucket\"]\n\
         reads_all_accounts = [\"aws_s3_bucket\"]\nscope = \"all\"\nrationale = \"r\"\n\
         remediation = \"m\"\n",
    )
    .expect("write");
    std::fs::write(
        folder.join("rule.rego"),
        r#"package posture.rules.org_shape

all := input.all_accounts.aws_s3_bucket

results contains {"arn": b.arn, "status": "pass", "reason": "r", "evidence": {
	"local": sort(object.keys(input.resources.aws_s3_bucket)),
	"all": sort(object.keys(all)),
	"count_all": count(all),
	"iterated": sort([o.account | some o in all]),
	"alpha": [all["arn:aws:s3:::alpha"].account, all["arn:aws:s3:::alpha"].tags.value.env],
	"beta": [all["arn:aws:s3:::beta"].account, all["arn:aws:s3:::beta"].tags.value.env],
}} if some b in input.subjects
"#,
    )
    .expect("write");
}

fn bucket(account: &str, name: &str, env: &str) -> Resource {
    let absent = json!({"state": "absent"});
    serde_json::from_value(json!({
        "arn": format!("arn:aws:s3:::{name}"),
        "account": account,
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

fn trail(arn: &str, account: &str, bucket: &str) -> Resource {
    serde_json::from_value(json!({
        "arn": arn,
        "account": account,
        "region": "us-east-1",
        "tags": {"state": "collected", "value": {}},
        "body": {"kind": "aws_cloudtrail_trail", "config": {
            "name": arn.rsplit('/').next(), "home_region": "us-east-1",
            "is_multi_region": true, "is_organization_trail": false,
            "log_file_validation_enabled": true, "kms_key_id": null,
            "s3_bucket_name": bucket, "cloudwatch_logs_log_group_arn": null,
            "status": {"state": "collected", "value": {"is_logging": true}},
            "selectors": {"state": "absent"},
        }},
    }))
    .expect("a trail in the model's shape")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_272_000, 0).expect("valid")
}

/// `dirs`' rules added to a one-citation test baseline, or to the HIPAA baseline when
/// `hipaa` (the examples cite its citations).
fn baseline_with(dirs: &[PathBuf], hipaa: bool) -> Baseline {
    let rules = posture_rego::load(dirs).unwrap_or_else(|p| panic!("the rules load: {p:?}"));
    let mut baseline = if hipaa {
        Baseline::hipaa().expect("shipped baseline")
    } else {
        Baseline::from_toml("test.toml", BASELINE).expect("valid")
    };
    rules.add_to(&mut baseline).expect("joins the baseline");
    baseline
}

fn custom(findings: Vec<Finding>) -> BTreeMap<String, Finding> {
    findings
        .into_iter()
        .filter(|f| f.rule_id.as_str().starts_with("org_"))
        .map(|f| (f.resource.arn.as_str().to_owned(), f))
        .collect()
}

fn whole(baseline: &Baseline, resources: &[Resource]) -> BTreeMap<String, Finding> {
    custom(
        posture_check::evaluate(&Input {
            resources,
            coverage: &Coverage::default(),
            baseline,
            waivers: None,
            attestations: None,
            phi: &PhiScope::default(),
            now: now(),
        })
        .findings,
    )
}

/// Evaluates `order`'s accounts one by one, each from `own[account]`, loading other
/// accounts' data from `loadable` as a scan loads it from the store.
fn by_account(
    baseline: &Baseline,
    order: &[&str],
    own: &BTreeMap<&str, Vec<Resource>>,
    loadable: &[Resource],
) -> BTreeMap<String, Finding> {
    let phi = PhiScope::default();
    let mut evaluator = Evaluator::new(Settings {
        baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: now(),
    });
    let mut foreign = Foreign::default();
    let mut out = BTreeMap::new();
    for account in order {
        let coverage = AccountCoverage {
            account: AccountId::new(*account).expect("an account id"),
            collected: Vec::new(),
            gaps: Vec::new(),
        };
        let findings = evaluator
            .evaluate_account(
                &own[account],
                &coverage,
                Collections::Unrecorded,
                &mut foreign,
                |want: &Want| -> Result<Loaded, Infallible> {
                    Ok(match want {
                        Want::Coverage(a) => Loaded::Coverage(AccountCoverage {
                            account: a.clone(),
                            collected: Vec::new(),
                            gaps: Vec::new(),
                        }),
                        _ => Loaded::Resources(
                            loadable
                                .iter()
                                .filter(|r| want.covers(r))
                                .cloned()
                                .collect(),
                        ),
                    })
                },
            )
            .unwrap_or_else(|e| match e {});
        out.extend(custom(findings));
    }
    out
}

fn evidence(f: &Finding, key: &str) -> Value {
    f.evidence.get(key).cloned().unwrap_or(Value::Null)
}

#[test]
fn resources_and_all_accounts_are_objects_keyed_by_arn() {
    let root = tempfile::tempdir().expect("temp dir");
    shape_rule(root.path());
    let baseline = baseline_with(&[root.path().to_owned()], false);
    // `shared` has the same ARN in both accounts (as an AWS managed policy does).
    let own: BTreeMap<&str, Vec<Resource>> = BTreeMap::from([
        (A, vec![bucket(A, "alpha", "a"), bucket(A, "shared", "sa")]),
        (B, vec![bucket(B, "beta", "b"), bucket(B, "shared", "sb")]),
    ]);
    let everything: Vec<Resource> = own.values().flatten().cloned().collect();
    let all = json!([
        "arn:aws:s3:::alpha",
        "arn:aws:s3:::beta",
        format!("arn:aws:s3:::shared#{A}"),
        format!("arn:aws:s3:::shared#{B}"),
    ]);
    for (how, findings) in [
        ("whole", whole(&baseline, &everything)),
        (
            "by account",
            by_account(&baseline, &[A, B], &own, &everything),
        ),
        (
            "by account, B first",
            by_account(&baseline, &[B, A], &own, &everything),
        ),
    ] {
        assert_eq!(findings.len(), 3, "{how}: {findings:?}");
        let alpha = &findings["arn:aws:s3:::alpha"];
        assert_eq!(alpha.status, Status::Pass, "{how}: {alpha:?}");
        // One account: keyed by the bare ARN, `shared` included.
        assert_eq!(
            evidence(alpha, "local"),
            json!(["arn:aws:s3:::alpha", "arn:aws:s3:::shared"]),
            "{how}"
        );
        // Every account: the shared ARN once per account, none hiding the other.
        assert_eq!(evidence(alpha, "all"), all, "{how}");
        assert_eq!(evidence(alpha, "count_all"), json!(4), "{how}");
        assert_eq!(evidence(alpha, "iterated"), json!([A, A, B, B]), "{how}");
        // A lookup by ARN finds another account's bucket.
        assert_eq!(evidence(alpha, "beta"), json!([B, "b"]), "{how}");
        let beta = &findings["arn:aws:s3:::beta"];
        assert_eq!(evidence(beta, "alpha"), json!([A, "a"]), "{how}");
        assert_eq!(
            evidence(beta, "local"),
            json!(["arn:aws:s3:::beta", "arn:aws:s3:::shared"]),
            "{how}"
        );
    }
}

#[test]
fn an_account_reads_its_own_resources_in_all_accounts_never_a_stale_copy_loaded_for_another() {
    let root = tempfile::tempdir().expect("temp dir");
    shape_rule(root.path());
    let baseline = baseline_with(&[root.path().to_owned()], false);
    let own: BTreeMap<&str, Vec<Resource>> = BTreeMap::from([
        (A, vec![bucket(A, "alpha", "fresh")]),
        (B, vec![bucket(B, "beta", "b")]),
    ]);
    // What the store holds of A is older than A's own resources.
    let loadable = vec![bucket(A, "alpha", "stale"), bucket(B, "beta", "b")];
    for order in [[A, B], [B, A]] {
        let findings = by_account(&baseline, &order, &own, &loadable);
        let alpha = &findings["arn:aws:s3:::alpha"];
        assert_eq!(evidence(alpha, "alpha"), json!([A, "fresh"]), "{order:?}");
        // B reads what was loaded of A.
        let beta = &findings["arn:aws:s3:::beta"];
        assert_eq!(evidence(beta, "alpha"), json!([A, "stale"]), "{order:?}");
        assert_eq!(evidence(beta, "beta"), json!([B, "b"]), "{order:?}");
    }
}

#[test]
fn the_trail_example_finds_its_bucket_by_arn_in_another_account() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/rules/org_trail_bucket_in_log_archive");
    let baseline = baseline_with(&[example], true);
    let own: BTreeMap<&str, Vec<Resource>> = BTreeMap::from([
        (
            A,
            vec![
                trail(
                    "arn:aws:cloudtrail:us-east-1:111122223333:trail/org",
                    A,
                    "org-logs",
                ),
                trail(
                    "arn:aws:cloudtrail:us-east-1:111122223333:trail/local",
                    A,
                    "a-logs",
                ),
                trail(
                    "arn:aws:cloudtrail:us-east-1:111122223333:trail/lost",
                    A,
                    "nowhere",
                ),
                bucket(A, "a-logs", "x"),
            ],
        ),
        (ARCHIVE, vec![bucket(ARCHIVE, "org-logs", "x")]),
    ]);
    let everything: Vec<Resource> = own.values().flatten().cloned().collect();
    for (how, findings) in [
        ("whole", whole(&baseline, &everything)),
        (
            "by account",
            by_account(&baseline, &[A, ARCHIVE], &own, &everything),
        ),
    ] {
        let org = &findings["arn:aws:cloudtrail:us-east-1:111122223333:trail/org"];
        assert_eq!(org.status, Status::Pass, "{how}: {org:?}");
        assert_eq!(evidence(org, "bucket"), json!("org-logs"), "{how}");
        assert_eq!(evidence(org, "bucket_account"), json!(ARCHIVE), "{how}");
        let local = &findings["arn:aws:cloudtrail:us-east-1:111122223333:trail/local"];
        assert_eq!(local.status, Status::Fail, "{how}: {local:?}");
        assert!(
            local.reason.contains(&format!("a-logs is in account {A}")),
            "{how}: {local:?}"
        );
        assert_eq!(evidence(local, "bucket_account"), json!(A), "{how}");
        // Scanned, the log-archive account does not have it: fail, not error.
        let lost = &findings["arn:aws:cloudtrail:us-east-1:111122223333:trail/lost"];
        assert_eq!(lost.status, Status::Fail, "{how}: {lost:?}");
        assert_eq!(evidence(lost, "bucket_account"), Value::Null, "{how}");
        assert_eq!(
            evidence(lost, "log_archive_account"),
            json!(ARCHIVE),
            "{how}"
        );
    }
}
