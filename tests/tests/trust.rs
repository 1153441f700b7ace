//! Trust in history end to end (issue 11): scan a moto account, deny
//! `rds:DescribeDBInstances` to the scanner (a loopback proxy answers it with
//! `AccessDenied`, as a changed policy would), scan, allow it again, scan. The denied scan
//! must remove no DB instance and resolve none of their failures (they become `error`,
//! `new_error` in drift), while a bucket deleted in the same scan is removed and its
//! failures resolved; the third scan continues the instance's failures from the first
//! (same first-seen time, no `new_failure`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::net::SocketAddr;

use posture_e2e::proxy::{Proxy, ProxySettings};
use posture_e2e::{Moto, run_posture, scan_json};
use serde_json::Value;

fn scan(endpoint: &str, store: &str) -> Value {
    scan_json(&[
        "--endpoint-url",
        endpoint,
        "--region",
        "us-east-1",
        "--services",
        "rds,s3",
        "--store",
        store,
    ])
}

fn findings_on<'a>(report: &'a Value, arn: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["arn"] == arn)
        .collect()
}

fn transitions<'a>(report: &'a Value, arn: &str) -> Vec<(&'a str, &'a str)> {
    report["drift"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["resource"]["arn"] == arn)
        .map(|t| {
            (
                t["transition"].as_str().unwrap(),
                t["rule_id"].as_str().unwrap(),
            )
        })
        .collect()
}

fn resource_changes<'a>(report: &'a Value, arn: &str) -> Vec<&'a str> {
    report["drift"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["arn"] == arn)
        .map(|c| c["change"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_list_call_resolves_and_removes_nothing_while_a_read_service_beside_it_does() {
    let moto = Moto::start().expect("start moto");
    let upstream: SocketAddr = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = Proxy::start(
        upstream,
        ProxySettings {
            latency: std::time::Duration::ZERO,
            throttle_rate: 0.0,
        },
    )
    .await
    .expect("start proxy");
    let sdk = moto.sdk_config("us-east-1").await;
    let rds = aws_sdk_rds::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    // An unencrypted, public database: it fails several rules.
    let db = rds
        .create_db_instance()
        .db_instance_identifier("phi-claims")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .master_username("posture")
        .master_user_password("not-a-real-password-1")
        .allocated_storage(20)
        .storage_encrypted(false)
        .publicly_accessible(true)
        .send()
        .await
        .expect("create db instance");
    let db_arn = db
        .db_instance()
        .and_then(|d| d.db_instance_arn())
        .expect("db arn")
        .to_owned();
    // A bucket without default encryption (moto's pre-2023 default): it fails too, and
    // is deleted before the second scan.
    s3.create_bucket()
        .bucket("phi-scratch")
        .send()
        .await
        .expect("create bucket");
    let bucket_arn = "arn:aws:s3:::phi-scratch";

    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("trust.sqlite");
    let store = store.to_str().expect("utf-8 path");
    let endpoint = proxy.url();

    // Scan 1: everything read.
    let first = scan(&endpoint, store);
    let not_scanned = first["coverage"]["not_scanned"].as_array().unwrap();
    assert_eq!(
        not_scanned.len(),
        17,
        "every service but rds and s3 is listed as not scanned: {not_scanned:?}"
    );
    assert!(!not_scanned.iter().any(|s| s == "rds" || s == "s3"));
    assert!(
        !first["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"].as_str().unwrap().starts_with("cloudtrail_")),
        "the rules of a service left out give no finding"
    );
    let db_failures: Vec<(String, String)> = findings_on(&first, &db_arn)
        .into_iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["first_seen"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        db_failures.len() >= 2,
        "the database fails several rules: {db_failures:?}"
    );
    let bucket_failures: Vec<String> = findings_on(&first, bucket_arn)
        .into_iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!bucket_failures.is_empty(), "the bucket fails a rule");

    // Scan 2: the DB instance listing is denied; the bucket is deleted.
    proxy.deny(&["DescribeDBInstances"]);
    s3.delete_bucket()
        .bucket("phi-scratch")
        .send()
        .await
        .expect("delete bucket");
    let second = scan(&endpoint, store);
    assert!(proxy.denied() > 0, "the proxy denied the listing");
    let failed_calls: Vec<&str> = second["coverage"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["operation"].as_str().unwrap())
        .collect();
    assert!(
        failed_calls.contains(&"rds:DescribeDBInstances"),
        "{failed_calls:?}"
    );
    assert!(
        resource_changes(&second, &db_arn).is_empty(),
        "the unread instance is not removed: {}",
        second["drift"]["resources"]
    );
    let db_transitions = transitions(&second, &db_arn);
    assert!(
        !db_transitions.iter().any(|(t, _)| *t == "resolved"),
        "{db_transitions:?}"
    );
    for (rule, _) in &db_failures {
        assert!(
            db_transitions.contains(&("new_error", rule.as_str())),
            "{rule}: {db_transitions:?}"
        );
        let now = findings_on(&second, &db_arn)
            .into_iter()
            .find(|f| f["rule_id"] == rule.as_str())
            .unwrap_or_else(|| panic!("{rule} is carried"));
        assert_eq!(now["status"], "error");
        assert_eq!(
            now["evidence"]["unread"]["operation"],
            "rds:DescribeDBInstances"
        );
        assert_eq!(now["evidence"]["unread"]["code"], "AccessDenied");
        assert_eq!(now["evidence"]["last_status"], "fail");
    }
    // The bucket, read in full and gone, is removed and its failures resolved.
    assert_eq!(resource_changes(&second, bucket_arn), vec!["removed"]);
    let bucket_transitions = transitions(&second, bucket_arn);
    for rule in &bucket_failures {
        assert!(
            bucket_transitions.contains(&("resolved", rule.as_str())),
            "{rule}: {bucket_transitions:?}"
        );
    }

    // Scan 3: allowed again. The failures go on from the first scan.
    proxy.deny(&[]);
    let third = scan(&endpoint, store);
    assert!(
        resource_changes(&third, &db_arn).is_empty(),
        "the instance was kept, so reading it again adds nothing: {}",
        third["drift"]["resources"]
    );
    let db_transitions = transitions(&third, &db_arn);
    assert!(
        !db_transitions.iter().any(|(t, _)| *t == "new_failure"),
        "{db_transitions:?}"
    );
    for (rule, first_seen) in &db_failures {
        let now = findings_on(&third, &db_arn)
            .into_iter()
            .find(|f| f["rule_id"] == rule.as_str())
            .unwrap();
        assert_eq!(now["status"], "fail");
        assert_eq!(
            now["first_seen"].as_str(),
            Some(first_seen.as_str()),
            "{rule} fails since the first scan"
        );
    }
    // Still failing is a state, counted rather than stored as an event.
    assert!(
        third["drift"]["still_failing"].as_u64().unwrap() >= db_failures.len() as u64,
        "{}",
        third["drift"]
    );
}

/// Issue 11: read-only commands pointed at a store that does not exist say so, exit 2 and
/// create nothing (`verify` used to create an empty store and call it intact).
#[test]
fn read_only_commands_never_create_a_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let typo = dir.path().join("typo.sqlite");
    let typo_str = typo.to_str().unwrap();
    for args in [
        vec!["verify", "--store", typo_str],
        vec!["snapshots", "--store", typo_str],
        vec!["diff", "--store", typo_str],
    ] {
        let out = run_posture(&args, &[]).expect("run posture");
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.describe());
        assert!(
            out.stderr.contains(&format!("no store at {typo_str}")),
            "{args:?}: {}",
            out.describe()
        );
        assert!(!typo.exists(), "{args:?} created {typo_str}");
    }
}
