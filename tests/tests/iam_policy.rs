//! The least-privilege policy in deploy/iam covers every call a scan makes: a seeded scan's
//! `api_calls` are mapped to IAM actions and each must be granted by the member-account
//! policy (or, for the security account's own calls, by the scanner policy).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::BTreeSet;

use posture_e2e::{Moto, run_posture, seed, workspace_root};

/// IAM actions whose names differ from the API operation they authorize.
fn iam_action(operation: &str) -> String {
    match operation {
        "s3:ListBuckets" => "s3:ListAllMyBuckets".into(),
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration".into(),
        "s3:GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock".into(),
        "s3:GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration".into(),
        "s3:GetBucketReplication" => "s3:GetReplicationConfiguration".into(),
        "s3:GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration".into(),
        "s3:GetBucketNotificationConfiguration" => "s3:GetBucketNotification".into(),
        "s3control:GetPublicAccessBlock" => "s3:GetAccountPublicAccessBlock".into(),
        "s3control:ListAccessPoints" => "s3:ListAccessPoints".into(),
        "s3control:GetAccessPoint" => "s3:GetAccessPoint".into(),
        other => other.to_owned(),
    }
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
}
