//! The least-privilege policy is generated from the one table of collectors
//! (`posture_model::iam_policy`, printed by `posture iam-policy`), and a real scan proves it
//! exact: every call a seeded scan makes must be granted by the generated policies (member
//! role, or the scanner's own for the security account's calls), and every action they
//! grant must be called by that scan or be allow-listed in
//! `posture_model::iam_policy::NOT_EXERCISED_ON_MOTO` with its reason (and an allow-listed
//! action the scan did call is listed needlessly). The files in deploy/iam are the
//! binary's output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::BTreeSet;

use posture_e2e::{Moto, run_posture, seed, workspace_root};
use posture_model::iam_policy::{self, NOT_EXERCISED_ON_MOTO};
use posture_model::{Service, catalog};

/// The IAM action that grants `operation`, from the one table of collectors.
fn iam_action(operation: &str) -> String {
    catalog::call_named(operation)
        .unwrap_or_else(|| {
            panic!("the scan called {operation}, which posture_model::catalog does not list")
        })
        .iam_action
        .to_owned()
}

/// The actions of a policy document as IAM reads it (`Action` a string or a list).
fn actions_of(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap().to_owned()).collect()
            }
            _ => vec![],
        })
        .collect()
}

/// What `posture iam-policy ARGS` prints.
fn generated(args: &[&str]) -> String {
    let out = run_posture(["iam-policy"].iter().chain(args), &[]).expect("iam-policy");
    assert_eq!(out.code, Some(0), "{}", out.describe());
    out.stdout
}

/// The checks on one scan's calls against the generated policies: `Err` with every
/// problem, so the test names them all.
fn check_calls(
    calls: &BTreeSet<String>,
    member: &BTreeSet<String>,
    scanner: &BTreeSet<String>,
) -> Result<(), String> {
    let called: BTreeSet<String> = calls
        .iter()
        // GetCallerIdentity needs no permission.
        .filter(|op| *op != "sts:GetCallerIdentity")
        .map(|op| iam_action(op))
        .collect();
    let allowed: BTreeSet<String> = NOT_EXERCISED_ON_MOTO
        .iter()
        .map(|u| u.action.to_owned())
        .collect();
    let mut problems = Vec::new();
    let missing: Vec<&String> = called
        .iter()
        .filter(|a| !member.contains(*a) && !scanner.contains(*a))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "the scan called actions the generated policy does not grant: {missing:?}"
        ));
    }
    let unexplained: Vec<&String> = member
        .iter()
        .chain(scanner)
        .filter(|a| !called.contains(*a) && !allowed.contains(*a))
        .collect();
    if !unexplained.is_empty() {
        problems.push(format!(
            "the policy grants actions the scan never called and NOT_EXERCISED_ON_MOTO does \
             not explain: {unexplained:?}"
        ));
    }
    let needless: Vec<&String> = allowed.iter().filter(|a| called.contains(*a)).collect();
    if !needless.is_empty() {
        problems.push(format!(
            "NOT_EXERCISED_ON_MOTO lists actions the scan did call: {needless:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_policy_grants_exactly_the_calls_a_scan_makes() {
    let moto = Moto::start().expect("start moto");
    let sdk = moto.sdk_config("us-east-1").await;
    seed::seed_mixed_account(&sdk).await.expect("seed");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.sqlite");
    let out = run_posture(
        [
            "scan",
            "--endpoint-url",
            &moto.endpoint_url(),
            "--region",
            "us-east-1",
            "--region",
            "us-west-2",
            "--format",
            "json",
            "--store",
            store.to_str().unwrap(),
        ],
        &[],
    )
    .expect("scan");
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.describe());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let calls: BTreeSet<String> = json["coverage"]["api_calls"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(
        calls.len() > 30,
        "the seeded scan exercises most collectors: {calls:?}"
    );

    // The policies as the binary prints them.
    let member_text = generated(&[]);
    let scanner_text = generated(&["--policy", "scanner"]);
    let member = actions_of(&serde_json::from_str(&member_text).unwrap());
    let scanner = actions_of(&serde_json::from_str(&scanner_text).unwrap());
    check_calls(&calls, &member, &scanner).unwrap_or_else(|e| panic!("{e}"));

    // The checks bite: a policy without one of the calls made, and a policy with an action
    // no scan calls, both fail.
    let mut short = member.clone();
    short.remove("s3:GetEncryptionConfiguration");
    let e = check_calls(&calls, &short, &scanner).unwrap_err();
    assert!(
        e.contains("does not grant: [\"s3:GetEncryptionConfiguration\"]"),
        "{e}"
    );
    let mut long = member.clone();
    long.insert("s3:GetObject".to_owned());
    let e = check_calls(&calls, &long, &scanner).unwrap_err();
    assert!(e.contains("not explain: [\"s3:GetObject\"]"), "{e}");

    // The files in deploy/iam are the binary's output.
    for (file, text) in [
        ("deploy/iam/posture-read-only-policy.json", &member_text),
        (
            "deploy/iam/security-account-scanner-policy.json",
            &scanner_text,
        ),
    ] {
        assert_eq!(
            std::fs::read_to_string(workspace_root().join(file)).unwrap(),
            **text,
            "{file}: regenerate with POSTURE_REGENERATE_DEPLOY=1 cargo test -p posture-model --lib iam_policy"
        );
    }
    // And the policy is the table's, for all services or a selection.
    assert_eq!(
        member,
        iam_policy::member_actions(&Service::ALL)
            .into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
    );
    let s3 = actions_of(&serde_json::from_str(&generated(&["--services", "s3"])).unwrap());
    assert!(s3.contains("s3:ListAllMyBuckets") && !s3.contains("iam:GetCredentialReport"));
    let bad = run_posture(["iam-policy", "--services", "s4"], &[]).unwrap();
    assert_eq!(bad.code, Some(2), "{}", bad.describe());
    assert!(
        bad.stderr.contains("unknown service \"s4\""),
        "{}",
        bad.describe()
    );
}
