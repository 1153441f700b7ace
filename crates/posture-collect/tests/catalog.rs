//! The one table of collectors (`posture_model::catalog`) names operations the SDK for Rust
//! really has: each operation is looked up among the operation modules of the SDK crates
//! this build uses (found with `cargo metadata`), not in a second hand-written list.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use posture_model::catalog::{COLLECTORS, MEMBER_PLANNING_CALLS, SCANNER_CALLS};

/// The SDK crates that make calls of an IAM prefix.
fn sdk_crates(prefix: &str) -> &'static [&'static str] {
    match prefix {
        "access-analyzer" => &["aws-sdk-accessanalyzer"],
        "elasticfilesystem" => &["aws-sdk-efs"],
        "elasticloadbalancing" => &[
            "aws-sdk-elasticloadbalancing",
            "aws-sdk-elasticloadbalancingv2",
        ],
        "logs" => &["aws-sdk-cloudwatchlogs"],
        "acm" => &["aws-sdk-acm"],
        "autoscaling" => &["aws-sdk-autoscaling"],
        "backup" => &["aws-sdk-backup"],
        "cloudtrail" => &["aws-sdk-cloudtrail"],
        "cloudwatch" => &["aws-sdk-cloudwatch"],
        "config" => &["aws-sdk-config"],
        "ec2" => &["aws-sdk-ec2"],
        "guardduty" => &["aws-sdk-guardduty"],
        "iam" => &["aws-sdk-iam"],
        "kms" => &["aws-sdk-kms"],
        "macie2" => &["aws-sdk-macie2"],
        "organizations" => &["aws-sdk-organizations"],
        "rds" => &["aws-sdk-rds"],
        "s3" => &["aws-sdk-s3"],
        "s3control" => &["aws-sdk-s3control"],
        "secretsmanager" => &["aws-sdk-secretsmanager"],
        "securityhub" => &["aws-sdk-securityhub"],
        "sns" => &["aws-sdk-sns"],
        "ssm" => &["aws-sdk-ssm"],
        "sts" => &["aws-sdk-sts"],
        _ => &[],
    }
}

/// The SDK's module name for an operation: `DescribeDBInstances` → `describe_db_instances`,
/// `ListMFADevices` → `list_mfa_devices` (a word starts at a capital after a small letter
/// or digit, or at the last capital of a run that a small letter follows).
fn snake(operation: &str) -> String {
    let chars: Vec<char> = operation.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Operation module names of every `aws-sdk-*` package in the build, by package name.
fn sdk_operations() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found = BTreeMap::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap();
        if !name.starts_with("aws-sdk-") {
            continue;
        }
        let dir = PathBuf::from(pkg["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .join("src/operation");
        let ops: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                Some(name.trim_end_matches(".rs").to_owned())
            })
            .collect();
        found.insert(name.to_owned(), ops);
    }
    found
}

#[test]
fn snake_case_follows_the_sdk() {
    assert_eq!(snake("DescribeDBInstances"), "describe_db_instances");
    assert_eq!(snake("ListMFADevices"), "list_mfa_devices");
    assert_eq!(
        snake("GetEbsEncryptionByDefault"),
        "get_ebs_encryption_by_default"
    );
}

#[test]
fn every_operation_of_the_collectors_table_is_an_sdk_operation() {
    let sdk = sdk_operations();
    let mut missing = Vec::new();
    let calls = COLLECTORS
        .iter()
        .flat_map(|c| c.calls.iter())
        .chain(MEMBER_PLANNING_CALLS)
        .chain(SCANNER_CALLS);
    let mut checked = 0;
    for call in calls {
        let (prefix, op) = call.operation.split_once(':').unwrap();
        let crates = sdk_crates(prefix);
        assert!(!crates.is_empty(), "no SDK crate for prefix {prefix}");
        let module = snake(op);
        let known = crates
            .iter()
            .any(|k| sdk.get(*k).is_some_and(|ops| ops.contains(&module)));
        if !known {
            missing.push(format!("{} ({module} in {crates:?})", call.operation));
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
    assert!(missing.is_empty(), "not SDK operations: {missing:#?}");
}
