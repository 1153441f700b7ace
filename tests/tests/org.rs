//! Organization-wide scanning end to end: the management account of a moto organization
//! scans itself and two member accounts (through the role Organizations creates in them)
//! in two regions; an excluded account is skipped; an account that cannot be entered is
//! reported with every rule as `error` while the others complete.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use posture_e2e::{Moto, run_posture};
use serde_json::Value;

const MANAGEMENT: &str = "123456789012";
const ROLE: &str = "OrganizationAccountAccessRole";

async fn as_member(base: &SdkConfig, account: &str) -> SdkConfig {
    let out = aws_sdk_sts::Client::new(base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{ROLE}"))
        .role_session_name("seed")
        .send()
        .await
        .expect("assume role into the member account");
    let c = out.credentials().expect("credentials");
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "seed",
    );
    base.to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

fn scan(
    endpoint: &str,
    store: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, Value, String) {
    let mut args = vec![
        "scan",
        "--endpoint-url",
        endpoint,
        "--region",
        "us-east-1",
        "--region",
        "us-west-2",
    ];
    args.extend_from_slice(&["--format", "json", "--store", store]);
    args.extend_from_slice(extra);
    let out = run_posture(&args, env).expect("run posture");
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{}", out.describe()));
    (out.code, json, out.stderr)
}

fn statuses_by_account(json: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in json["findings"].as_array().unwrap() {
        out.entry(f["resource"]["account"].as_str().unwrap().to_owned())
            .or_default()
            .insert(f["status"].as_str().unwrap().to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_is_scanned_account_by_account() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    let base = moto.sdk_config("us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&base);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    for name in ["clinical", "research"] {
        org.create_account()
            .account_name(name)
            .email(format!("{name}@example.org"))
            .send()
            .await
            .expect("create account");
    }
    let listed = org.list_accounts().send().await.expect("list accounts");
    let mut members: Vec<String> = listed
        .accounts()
        .iter()
        .filter_map(|a| a.id())
        .filter(|id| *id != MANAGEMENT)
        .map(str::to_owned)
        .collect();
    members.sort();
    assert_eq!(members.len(), 2, "two member accounts");

    // One unencrypted bucket per account, in us-west-2, to see per-account findings.
    for account in std::iter::once(MANAGEMENT.to_owned()).chain(members.iter().cloned()) {
        let conf = if account == MANAGEMENT {
            base.clone()
        } else {
            as_member(&base, &account).await
        };
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .region(aws_types::region::Region::new("us-west-2"))
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket(format!("org-{account}"))
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                    .build(),
            )
            .send()
            .await
            .expect("create bucket");
    }

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("org.sqlite");
    let store = store.to_str().unwrap();

    // The whole organization.
    let (code, json, stderr) = scan(
        &endpoint,
        store,
        &["--organization", "--role-name", ROLE],
        &[],
    );
    assert_eq!(code, Some(1), "failures exist: {stderr}");
    let mut all: Vec<String> = std::iter::once(MANAGEMENT.to_owned())
        .chain(members.iter().cloned())
        .collect();
    all.sort();
    let accounts: Vec<String> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        accounts, all,
        "every account of the organization was scanned"
    );
    assert_eq!(
        json["regions"],
        serde_json::json!(["us-east-1", "us-west-2"])
    );
    let calls = &json["coverage"]["api_calls"];
    assert_eq!(
        calls["sts:AssumeRole"], 2,
        "one role assumption per member account, none for the caller"
    );
    assert!(calls["organizations:ListAccounts"].as_u64().unwrap() >= 1);
    let findings = json["findings"].as_array().unwrap();
    for account in &all {
        let encryption = findings
            .iter()
            .find(|f| {
                f["rule_id"] == "s3_bucket_default_encryption"
                    && f["resource"]["arn"] == format!("arn:aws:s3:::org-{account}")
            })
            .unwrap_or_else(|| panic!("no encryption finding for account {account}'s bucket"));
        assert_eq!(encryption["status"], "fail");
        assert_eq!(encryption["resource"]["account"], account.as_str());
        assert_eq!(encryption["resource"]["region"], "us-west-2");
        for region in ["us-east-1", "us-west-2"] {
            let arn = format!("arn:aws:ec2:{region}:{account}:region/{region}");
            assert!(
                findings
                    .iter()
                    .any(|f| f["rule_id"] == "cloudtrail_trail_logging_in_region"
                        && f["resource"]["arn"] == arn),
                "no per-region finding for {arn}"
            );
        }
    }
    // No account is unreachable here, so nothing is an error for that reason.
    assert!(
        json["coverage"]["failed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["operation"] != "sts:AssumeRole")
    );

    // Exclusion: the second member is skipped.
    let (_, json, _) = scan(
        &endpoint,
        store,
        &["--organization", "--role-name", ROLE],
        &[("POSTURE_ACCOUNTS_EXCLUDE", &members[1])],
    );
    let accounts: BTreeSet<&str> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(accounts, BTreeSet::from([MANAGEMENT, members[0].as_str()]));

    // An account that cannot be entered (no role configured for it) is reported; the
    // caller's account completes.
    let (code, json, stderr) = scan(
        &endpoint,
        store,
        &["--account", MANAGEMENT, "--account", "999999999999"],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("account 999999999999 was not scanned"),
        "{stderr}"
    );
    let by_account = statuses_by_account(&json);
    assert_eq!(
        by_account["999999999999"],
        BTreeSet::from(["error".to_owned()]),
        "every rule is an error there"
    );
    assert!(by_account[MANAGEMENT].contains("pass") && by_account[MANAGEMENT].contains("fail"));
    let gap = json["coverage"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["account"] == "999999999999")
        .expect("a gap for the unreachable account");
    assert_eq!(gap["operation"], "sts:AssumeRole");
}
