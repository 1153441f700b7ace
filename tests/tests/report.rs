//! The evidence report and bundle of the moto demo account, through the real binary: the
//! account seeded with a passing and a failing resource per rule (`seed_mixed_account`)
//! and scanned twice; `posture report` in every format; the HTML opened in headless
//! Chromium with every citation of the baseline shown with a status and no console error;
//! a signed `.tar.gz` bundle (keys made by `openssl`) and a directory bundle that verify,
//! and fail verification, naming the file, after one byte is changed; `posture verify
//! --bundle` opening no store unless one is given.
//!
//! `POSTURE_REPORT_SCREENSHOT=PATH` copies the screenshot of the report there
//! (docs/report-moto.png is made this way).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

use std::path::Path;

use posture_e2e::browser::{chromium, console_errors, headless};
use posture_e2e::seed::{PRIMARY, SECONDARY};
use posture_e2e::workspace_root;
use posture_e2e::{Moto, PostureOutput, baseline_manual_ids, baseline_rule_ids, run_posture};
use serde_json::Value;

fn posture(args: &[&str], env: &[(&str, &str)]) -> PostureOutput {
    run_posture(args, env).expect("posture runs")
}

fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs (Debian's openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_report_and_bundle_of_the_moto_demo_account() {
    let moto = Moto::start().expect("start moto");
    let endpoint = moto.endpoint_url();
    moto.seed_demo_account().expect("seed the demo account");

    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("p.sqlite");
    let store = store_path.to_str().unwrap();
    let scan = [
        "scan",
        "--endpoint-url",
        &endpoint,
        "--region",
        PRIMARY,
        "--region",
        SECONDARY,
        "--store",
        store,
    ];
    for _ in 0..2 {
        let out = posture(&scan, &[]);
        assert_eq!(out.code, Some(1), "failures found: {}", out.describe());
    }

    // Every format, to standard output.
    let report = |format: &str| {
        let out = posture(
            &["report", "--format", format, "--out", "-", "--store", store],
            &[],
        );
        assert_eq!(out.code, Some(0), "{format}: {}", out.describe());
        out.stdout
    };
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    let total: u64 = [
        "pass",
        "fail",
        "error",
        "not_applicable",
        "waived",
        "manual",
    ]
    .iter()
    .map(|s| json["summary"][s].as_u64().unwrap())
    .sum();
    assert!(json["summary"]["fail"].as_u64().unwrap() > 0);
    let ocsf: Value = serde_json::from_str(&report("ocsf")).unwrap();
    assert_eq!(
        ocsf.as_array().unwrap().len() as u64,
        total,
        "one event per finding"
    );
    let sarif: Value = serde_json::from_str(&report("sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let csv = report("csv");
    assert_eq!(
        csv.lines().count() as u64,
        total + 1,
        "a header and a row per finding"
    );
    assert!(report("markdown").contains("164.312"));

    // The HTML, seen in Chromium: every citation with a status, no console error.
    let html = dir.path().join("report.html");
    let out = posture(
        &["report", "--out", html.to_str().unwrap(), "--store", store],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(out.stderr.contains("history intact"), "{}", out.stderr);
    match chromium() {
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromium is missing: scripts/install-chromium.sh installs it"
            );
            eprintln!("skipped the browser: chromium is not installed");
        }
        Some(browser) => {
            let profile = dir.path().join("profile");
            let (dom, log) = headless(&browser, &profile, &html, &["--dump-dom"]).unwrap();
            let baseline = workspace_root().join("config/baselines/hipaa-security-rule.toml");
            let text = std::fs::read_to_string(&baseline).unwrap();
            let doc: toml::Value = toml::from_str(&text).unwrap();
            let citations: Vec<&str> = doc["citations"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c["id"].as_str()).collect())
                .unwrap_or_default();
            assert!(!citations.is_empty(), "the baseline lists its citations");
            for id in &citations {
                let at = dom
                    .find(&format!("id=\"citation-{id}\""))
                    .unwrap_or_else(|| panic!("citation {id} not rendered"));
                let item = &dom[at..at + dom[at..].find("</li>").unwrap()];
                assert!(
                    item.contains("class=\"badge st-"),
                    "{id} has no status: {item}"
                );
            }
            for rule in baseline_rule_ids(&baseline).unwrap() {
                assert!(dom.contains(&rule), "rule {rule} is not in the report");
            }
            for manual in baseline_manual_ids(&baseline).unwrap() {
                assert!(
                    dom.contains(&manual),
                    "manual control {manual} is not in the report"
                );
            }
            assert!(
                console_errors(&log).is_empty(),
                "{:?}",
                console_errors(&log)
            );
            let shot = dir.path().join("report.png");
            headless(
                &browser,
                &profile,
                &html,
                &[
                    &format!("--screenshot={}", shot.display()),
                    "--window-size=1280,1800",
                ],
            )
            .unwrap();
            let png = std::fs::read(&shot).unwrap();
            assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000);
            if let Some(to) = std::env::var_os("POSTURE_REPORT_SCREENSHOT") {
                std::fs::copy(&shot, to).unwrap();
            }
        }
    }

    // A signed .tar.gz bundle, keys made by openssl.
    let key = dir.path().join("signing.pem");
    let public = dir.path().join("signing.pub.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        key.to_str().unwrap(),
    ]);
    openssl(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    let bundle = dir.path().join("evidence.tar.gz");
    let out = posture(
        &[
            "report",
            "--bundle",
            bundle.to_str().unwrap(),
            "--sign-key",
            key.to_str().unwrap(),
            "--store",
            store,
        ],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(out.stderr.contains("signed by sha256:"), "{}", out.stderr);
    let out = posture(
        &[
            "report",
            "--bundle",
            bundle.to_str().unwrap(),
            "--store",
            store,
        ],
        &[],
    );
    assert_ne!(out.code, Some(0), "an existing bundle is never overwritten");
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);

    // Verified alone, in an empty home: no store is opened or created.
    let home = dir.path().join("auditor-home");
    std::fs::create_dir(&home).unwrap();
    let home_env = [("HOME", home.to_str().unwrap())];
    let verify = |path: &Path, extra: &[&str]| {
        let mut args = vec!["verify", "--bundle", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        posture(&args, &home_env)
    };
    let out = verify(&bundle, &["--public-key", public.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(out.stdout.contains("bundle verified"), "{}", out.stdout);
    assert!(out.stdout.contains("signed by sha256:"), "{}", out.stdout);
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "verifying a bundle created nothing in the home directory (no store)"
    );
    // Against the store it came from.
    let out = verify(&bundle, &["--store", store]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("snapshots and head found"),
        "{}",
        out.stdout
    );
    // Against a store that does not exist: an error, and none is created.
    let missing = dir.path().join("no-store.sqlite");
    let out = verify(&bundle, &["--store", missing.to_str().unwrap()]);
    assert_ne!(out.code, Some(0));
    assert!(!missing.exists(), "verify created a store");

    // One byte changed: the archive fails.
    let damaged = dir.path().join("damaged.tar.gz");
    std::fs::copy(&bundle, &damaged).unwrap();
    flip_middle_byte(&damaged);
    let out = verify(&damaged, &["--public-key", public.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stdout.contains("bundle NOT verified"), "{}", out.stdout);

    // A directory bundle: one byte of the HTML changed, named.
    let tree = dir.path().join("evidence-dir");
    let out = posture(
        &[
            "report",
            "--bundle",
            tree.to_str().unwrap(),
            "--store",
            store,
        ],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(verify(&tree, &[]).code, Some(0));
    flip_middle_byte(&tree.join("report.html"));
    let out = verify(&tree, &["--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let result: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["verified"], false);
    let problems = result["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .starts_with("altered: report.html"),
        "{problems:?}"
    );
}
