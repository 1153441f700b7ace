//! History end to end: two scans of a moto account with three changes between them (a
//! bucket made public, KMS key rotation disabled, SSH opened to the world) must produce
//! exactly those drift events and finding transitions; `posture diff` must agree; altering
//! one stored body in the SQLite file must make `posture verify` fail naming it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::BTreeSet;

use posture_e2e::{Moto, run_posture, scan_json};
use serde_json::Value;

fn scan(endpoint: &str, store: &str) -> Value {
    scan_json(&[
        "--endpoint-url",
        endpoint,
        "--region",
        "us-east-1",
        "--store",
        store,
    ])
}

/// (change, ARN) of every resource change, and (transition, rule, ARN) of every finding
/// transition other than "still failing".
/// (change, ARN) of resource changes.
type Changes = BTreeSet<(String, String)>;
/// (transition, rule, ARN) of finding transitions.
type Transitions = BTreeSet<(String, String, String)>;

fn drift_sets(resources: &Value, findings: &Value) -> (Changes, Transitions) {
    let changes = resources
        .as_array()
        .expect("resource changes")
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_owned(),
                c["arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let transitions = findings
        .as_array()
        .expect("finding transitions")
        .iter()
        .filter(|t| t["transition"] != "still_failing")
        .map(|t| {
            (
                t["transition"].as_str().unwrap().to_owned(),
                t["rule_id"].as_str().unwrap().to_owned(),
                t["resource"]["arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (changes, transitions)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_scans_record_exactly_the_changes_and_verify_names_an_altered_body() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    let sdk = moto.sdk_config("us-east-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let kms = aws_sdk_kms::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);

    // Before: a private bucket, a key with rotation on, a security group with no ingress.
    s3.create_bucket()
        .bucket("phi-history")
        .send()
        .await
        .expect("create bucket");
    let key = kms
        .create_key()
        .description("phi history")
        .send()
        .await
        .expect("create key");
    let key_id = key.key_metadata().expect("metadata").key_id().to_owned();
    let key_arn = key
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("key arn")
        .to_owned();
    kms.enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .expect("enable rotation");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.40.0.0/16")
        .send()
        .await
        .expect("create vpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    let sg = ec2
        .create_security_group()
        .group_name("history-app")
        .description("history test")
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("create security group");
    let sg_id = sg.group_id().expect("group id").to_owned();

    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("history.sqlite");
    let store = store.to_str().expect("utf-8 path");
    let first = scan(&endpoint, store);
    assert!(
        first["drift"].is_null(),
        "the first scan has nothing to compare with"
    );

    // The three changes.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::phi-history/*"}]}"#;
    s3.put_bucket_policy()
        .bucket("phi-history")
        .policy(policy)
        .send()
        .await
        .expect("make the bucket public");
    kms.disable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .expect("disable rotation");
    ec2.authorize_security_group_ingress()
        .group_id(&sg_id)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .expect("open ssh");

    let second = scan(&endpoint, store);
    let sg_arn = format!("arn:aws:ec2:us-east-1:123456789012:security-group/{sg_id}");
    let expected_changes: BTreeSet<(String, String)> = [
        ("modified", "arn:aws:s3:::phi-history"),
        ("modified", key_arn.as_str()),
        ("modified", sg_arn.as_str()),
    ]
    .iter()
    .map(|(c, a)| ((*c).to_owned(), (*a).to_owned()))
    .collect();
    let expected_transitions: BTreeSet<(String, String, String)> = [
        (
            "new_failure",
            "s3_bucket_no_public_read",
            "arn:aws:s3:::phi-history",
        ),
        // A policy statement allowing everyone is cross-account access too.
        (
            "new_failure",
            "s3_bucket_no_cross_account_access",
            "arn:aws:s3:::phi-history",
        ),
        // ... and a public principal in the bucket policy.
        (
            "new_failure",
            "s3_bucket_policy_no_public_principal",
            "arn:aws:s3:::phi-history",
        ),
        ("new_failure", "kms_cmk_rotation", key_arn.as_str()),
        ("new_failure", "sg_no_world_ssh", sg_arn.as_str()),
        // Port 22 is not among the authorized ports (80, 443).
        (
            "new_failure",
            "sg_only_authorized_ports_open",
            sg_arn.as_str(),
        ),
    ]
    .iter()
    .map(|(t, r, a)| ((*t).to_owned(), (*r).to_owned(), (*a).to_owned()))
    .collect();

    let drift = &second["drift"];
    assert_eq!(drift["since"], first["snapshot_id"]);
    let (changes, transitions) = drift_sets(&drift["resources"], &drift["findings"]);
    assert_eq!(
        changes, expected_changes,
        "resource changes in the scan's drift"
    );
    assert_eq!(
        transitions, expected_transitions,
        "finding transitions in the scan's drift"
    );

    // The field-level changes say what changed.
    let pointers = |arn: &str| -> Vec<String> {
        drift["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["arn"] == arn)
            .flat_map(|c| {
                c["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["pointer"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    assert!(
        pointers(&key_arn).contains(&"/body/config/rotation_enabled/value".to_owned()),
        "{:?}",
        pointers(&key_arn)
    );
    assert!(
        pointers(&sg_arn)
            .iter()
            .any(|p| p.starts_with("/body/config/ingress/0")),
        "{:?}",
        pointers(&sg_arn)
    );
    assert!(
        pointers("arn:aws:s3:::phi-history")
            .iter()
            .any(|p| p.starts_with("/body/config/policy"))
    );

    // Findings carry first_seen from the history: a still-failing one keeps the first scan's.
    let still = second["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule_id"] == "s3_bucket_tls_only"
                && f["resource"]["arn"] == "arn:aws:s3:::phi-history"
        })
        .expect("tls finding");
    assert_eq!(still["status"], "fail");
    let first_tls = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule_id"] == "s3_bucket_tls_only"
                && f["resource"]["arn"] == "arn:aws:s3:::phi-history"
        })
        .expect("tls finding in the first scan");
    assert_eq!(still["first_seen"], first_tls["first_seen"]);

    // posture diff (default: the last two snapshots) agrees.
    let out =
        run_posture(["diff", "--store", store, "--format", "json"], &[]).expect("run posture diff");
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let diff: Value = serde_json::from_str(&out.stdout).expect("diff JSON");
    let (changes, transitions) = drift_sets(&diff["resources"], &diff["findings"]);
    assert_eq!(
        changes, expected_changes,
        "resource changes in posture diff"
    );
    assert_eq!(
        transitions, expected_transitions,
        "finding transitions in posture diff"
    );
    // The tables of `posture diff` and `posture snapshots` fit the width they are given
    // (`COLUMNS`), as the scan's table does, even piped (before, they were as wide as their
    // longest reason: hundreds of columns).
    for args in [["diff", "--store", store], ["snapshots", "--store", store]] {
        let out = run_posture(args, &[("COLUMNS", "100")]).expect("run posture");
        assert_eq!(out.code, Some(0), "{}", out.describe());
        let widest = out
            .stdout
            .lines()
            .filter(|l| l.starts_with(['│', '┌', '└', '╞']))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        assert!(
            (1..=100).contains(&widest),
            "posture {} drew a table {widest} wide\n{}",
            args[0],
            out.stdout
        );
    }

    // verify: intact, then an altered body is named.
    let out = run_posture(["verify", "--store", store], &[]).expect("run posture verify");
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("history intact: 2 snapshots"),
        "{}",
        out.describe()
    );
    {
        let conn = rusqlite::Connection::open(store).expect("open the store file");
        let changed = conn
            .execute(
                "UPDATE bodies SET body = replace(body, '\"rotation_enabled\":{\"state\":\"collected\",\"value\":false}', \
                 '\"rotation_enabled\":{\"state\":\"collected\",\"value\":true}') WHERE body LIKE ?1",
                [format!("%{key_id}%")],
            )
            .expect("tamper");
        assert!(changed >= 1, "the key's bodies are in the store");
    }
    let out = run_posture(["verify", "--store", store], &[]).expect("run posture verify");
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout.contains(&format!("resource {key_arn}")),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("history NOT intact"),
        "{}",
        out.describe()
    );
}
