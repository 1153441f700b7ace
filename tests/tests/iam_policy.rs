//! The least-privilege policy in deploy/iam covers every call a scan makes: a seeded scan's
//! `api_calls` must all be calls of the one table of collectors (`posture_model::catalog`),
//! their IAM actions (from the table) must be granted by the member-account policy (or, for
//! the security account's own calls, by the scanner policy), and the policies grant exactly
//! the table's actions, nothing more.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::BTreeSet;

use posture_e2e::{Moto, run_posture, seed, workspace_root};
use posture_model::catalog;

/// The IAM action that grants `operation`, from the one table of collectors.
fn iam_action(operation: &str) -> String {
    catalog::call_named(operation)
        .unwrap_or_else(|| {
            panic!("the scan called {operation}, which posture_model::catalog does not list")
        })
        .iam_action
        .to_owned()
}

fn actions(file: &str) -> BTreeSet<String> {
    let path = workspace_root().join("deploy/iam").join(file);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
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

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_policy_grants_every_call_a_scan_makes() {
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
    let member = actions("posture-read-only-policy.json");
    let scanner = actions("security-account-scanner-policy.json");
    let calls: Vec<String> = json["coverage"]["api_calls"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(
        calls.len() > 30,
        "the seeded scan exercises most collectors: {calls:?}"
    );
    let missing: Vec<String> = calls
        .iter()
        // GetCallerIdentity needs no permission.
        .filter(|op| *op != "sts:GetCallerIdentity")
        .map(|op| iam_action(op))
        .filter(|a| !member.contains(a) && !scanner.contains(a))
        .collect();
    assert!(missing.is_empty(), "deploy/iam does not grant: {missing:?}");

    // The policies grant exactly what the table's calls need.
    let table: BTreeSet<String> = catalog::COLLECTORS
        .iter()
        .flat_map(|c| c.calls.iter())
        .chain(catalog::MEMBER_PLANNING_CALLS)
        .map(|c| c.iam_action.to_owned())
        .collect();
    assert_eq!(member, table, "posture-read-only-policy.json vs the table");
    let scanner_table: BTreeSet<String> = catalog::SCANNER_CALLS
        .iter()
        .map(|c| c.iam_action.to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(
        scanner, scanner_table,
        "security-account-scanner-policy.json"
    );
}
