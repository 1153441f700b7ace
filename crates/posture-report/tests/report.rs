//! The evidence report over a seeded store (see `support`): golden files of every format
//! (`UPDATE_GOLDEN=1 cargo test -p posture-report` rewrites them; review the diff), and
//! the properties a reader relies on: counts that match the rows, every citation present
//! with a status, waivers expired by the report's date flagged, escaping, the account
//! filter, and a tampered store reported as not intact.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod support;

use std::path::PathBuf;

use posture_check::Baseline;
use posture_model::AccountId;
use posture_report::{Format, ReportError, Request, Snapshot, Written};
use posture_store::Store;
use support::{HOSTILE, account, as_of, seeded};

fn report(
    store: &mut Store,
    format: Format,
    accounts: &[AccountId],
) -> Result<(String, Written), ReportError> {
    let baseline = Baseline::hipaa().unwrap();
    let request = Request {
        format,
        snapshot: Snapshot::Latest,
        since: None,
        accounts,
        baseline: &baseline,
        as_of: as_of(),
    };
    let mut out = Vec::new();
    let written = posture_report::write(store, &request, &mut out)?;
    Ok((String::from_utf8(out).unwrap(), written))
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to write it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from its golden file at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (UPDATE_GOLDEN=1 rewrites it; review the diff)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn every_format_matches_its_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    for (format, name) in [
        (Format::Html, "report.html"),
        (Format::Json, "report.json"),
        (Format::Csv, "report.csv"),
        (Format::Markdown, "report.md"),
        (Format::Ocsf, "report.ocsf.json"),
        (Format::Sarif, "report.sarif"),
    ] {
        // One account keeps the golden files small (the second has no S3 buckets and no
        // AWS managed policies: they are only in the first).
        let (text, _) = report(&mut store, format, &[account(1)]).unwrap();
        golden(name, &text);
    }
}

#[test]
fn the_json_counts_match_its_rows_and_every_citation_has_a_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let (text, written) = report(&mut store, Format::Json, &[]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let rules = doc["rules"].as_array().unwrap();
    let mut rows = 0;
    for rule in rules {
        let findings = rule["findings"].as_array().unwrap();
        assert_eq!(
            rule["failing"].as_u64().unwrap(),
            findings.len() as u64,
            "{}",
            rule["rule_id"]
        );
        for f in findings {
            assert_eq!(f["status"], "fail");
            assert_eq!(f["rule_id"], rule["rule_id"]);
            assert_eq!(f["snapshot_id"], doc["snapshot"]["snapshot_id"]);
            assert_eq!(f["snapshot_hash"], doc["snapshot"]["hash"]);
            assert!(f["resource"]["arn"].is_string() && f["resource"]["tags"].is_object());
            assert!(f["evidence"].as_object().is_some_and(|e| !e.is_empty()));
            assert!(f["phi"].is_boolean());
        }
        rows += findings.len() as u64;
    }
    assert_eq!(rows, doc["summary"]["fail"].as_u64().unwrap());
    assert_eq!(rows, written.failing);
    assert!(rows > 0, "the seeded account fails some rules");
    // The regression of the second scan is there, on the PHI-tagged group.
    let sg = rules
        .iter()
        .find(|r| r["rule_id"] == "sg_no_world_db_ports")
        .expect("the opened security group fails");
    let arns: Vec<&str> = sg["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["arn"].as_str().unwrap())
        .collect();
    let sg1 = support::OPEN_SG.replace("{account}", account(1).as_str());
    assert!(arns.contains(&sg1.as_str()), "{arns:?}");
    let sg0 = support::OPEN_SG.replace("{account}", account(0).as_str());
    assert!(
        !arns.contains(&sg0.as_str()),
        "account 0's group is waived, not failing: {arns:?}"
    );

    let baseline = Baseline::hipaa().unwrap();
    let citations = doc["citations"].as_array().unwrap();
    assert_eq!(citations.len(), baseline.citations.len());
    for (entry, c) in baseline.citations.iter().zip(citations) {
        assert_eq!(c["id"], entry.citation.id.as_str());
        assert!(c["status"].as_str().is_some_and(|s| !s.is_empty()));
    }
    // A citation whose rule fails is failing; its standard counts it.
    let failing_sg = citations
        .iter()
        .filter(|c| {
            c["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["rule_id"] == "sg_no_world_db_ports")
        })
        .collect::<Vec<_>>();
    assert!(!failing_sg.is_empty());
    for c in failing_sg {
        assert_eq!(c["status"], "fail", "{}", c["id"]);
    }
    let standards = doc["standards"].as_array().unwrap();
    let ids: Vec<&str> = standards
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["164.308", "164.310", "164.312", "164.316"]);
    for s in standards {
        assert_eq!(
            s["trend"].as_array().unwrap().len(),
            3,
            "three scans in the period"
        );
    }
    // The manual control attested in the attestations file, the others missing.
    let attested = doc["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule_id"] == "manual_risk_analysis")
        .collect::<Vec<_>>();
    assert_eq!(attested.len(), 2, "one per account");
    assert!(
        attested
            .iter()
            .all(|a| a["state"] == "attested" && a["evidence"] == "GRC-1: risk analysis 2025")
    );
    // The denied list call names the rules it left unverified.
    let gaps = doc["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0]["operation"], "ec2:DescribeVolumes");
    assert!(
        gaps[0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "ebs_volume_encrypted"),
        "{}",
        gaps[0]["rules"]
    );
    assert!(doc["chain"]["intact"].as_bool().unwrap());
    assert_eq!(doc["chain"]["snapshots"], 3);
}

#[test]
fn a_rule_whose_collections_were_not_scanned_leaves_its_citation_unverified() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let (text, _) = report(&mut store, Format::Json, &[]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let scanned: Vec<&str> = doc["snapshot"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let baseline = Baseline::hipaa().unwrap();
    let mut not_scanned = 0;
    for c in doc["citations"].as_array().unwrap() {
        let rules = c["rules"].as_array().unwrap();
        for r in rules.iter().filter(|r| r["kind"] == "automated") {
            let id = r["rule_id"].as_str().unwrap();
            let inputs = baseline.rule(id).unwrap().rule.meta().input_services();
            let all_scanned = inputs.iter().all(|s| scanned.contains(s));
            match r["status"].as_str().unwrap() {
                "not_scanned" => {
                    not_scanned += 1;
                    assert!(!all_scanned, "{id}: every collection it reads ran");
                    let counts = r["counts"].as_object().unwrap();
                    assert!(counts.values().all(|n| n == 0), "{id}: {counts:?}");
                    // Worse than a pass: the citation is at best partly unverified.
                    assert!(
                        !matches!(
                            c["status"].as_str().unwrap(),
                            "pass" | "attested" | "not_applicable" | "no_findings"
                        ),
                        "{}: {} with {id} not scanned",
                        c["id"],
                        c["status"]
                    );
                }
                "no_findings" => assert!(
                    all_scanned,
                    "{id} had nothing to check, yet was not scanned"
                ),
                _ => {}
            }
        }
    }
    assert!(
        not_scanned > 0,
        "the seeded store collects only the services of its resources: some rules read others"
    );
    for s in doc["standards"].as_array().unwrap() {
        let unverified = s["controls_unverified"].as_u64().unwrap();
        let counted = doc["citations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["standard"] == s["id"]
                    && matches!(
                        c["status"].as_str().unwrap(),
                        "error" | "missing" | "expired" | "not_scanned"
                    )
            })
            .count() as u64;
        assert_eq!(unverified, counted, "{}", s["id"]);
    }
}

#[test]
fn the_waiver_register_flags_a_waiver_expired_by_the_report_date() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let (text, _) = report(&mut store, Format::Json, &[]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let waivers = doc["waivers"].as_array().unwrap();
    assert_eq!(waivers.len(), 1, "{waivers:#?}");
    let w = &waivers[0];
    assert_eq!(w["ticket"], "SEC-42");
    assert_eq!(w["owner"], "dba-team <dba@example.com>");
    assert_eq!(w["expires"], "2026-01-15");
    assert_eq!(
        w["expired"], true,
        "expired on 15 January, reported on 1 February"
    );
    assert_eq!(w["account"], account(0).as_str());
    assert_eq!(w["phi"], true);
    // A report made on the last day it applies does not flag it.
    let baseline = Baseline::hipaa().unwrap();
    let request = Request {
        format: Format::Json,
        snapshot: Snapshot::Latest,
        since: None,
        accounts: &[],
        baseline: &baseline,
        as_of: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 15, 23, 0, 0).unwrap(),
    };
    let mut out = Vec::new();
    posture_report::write(&mut store, &request, &mut out).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["waivers"][0]["expired"], false);
}

#[test]
fn html_escapes_every_value_and_names_every_citation() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let (html, _) = report(&mut store, Format::Html, &[]).unwrap();
    assert!(
        !html.contains("<img"),
        "a tag value reached the page as markup"
    );
    assert!(
        !html.contains("<script"),
        "an attestation reached the page as markup"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("Dana &lt;script&gt;"));
    assert!(html.contains("dba-team &lt;dba@example.com&gt;"));
    for entry in &Baseline::hipaa().unwrap().citations {
        assert!(
            html.contains(&format!("id=\"citation-{}\"", entry.citation.id)),
            "{}",
            entry.citation.id
        );
    }
    // Self-contained: nothing is loaded from elsewhere, nothing runs.
    for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "@import"] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    assert!(html.contains("<polyline"), "a trend chart per standard");
    assert!(html.contains("@media print"));
    assert!(html.contains("<details id=\"rule-sg_no_world_db_ports\">"));
    let md = report(&mut store, Format::Markdown, &[]).unwrap().0;
    assert!(!md.contains("<img"), "markdown cells are escaped too");
    assert!(md.contains("dba-team &lt;dba@example.com&gt;"));
    assert!(md.contains("Dana &lt;script&gt;"));
    assert!(!md.contains("<script"));
    let csv = report(&mut store, Format::Csv, &[]).unwrap().0;
    assert!(
        csv.contains(&HOSTILE.replace('"', "\"\"")),
        "CSV keeps the value as it is"
    );
}

#[test]
fn an_account_filter_keeps_only_that_account_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let (all, _) = report(&mut store, Format::Csv, &[]).unwrap();
    let (one, written) = report(&mut store, Format::Csv, &[account(1)]).unwrap();
    let mut reader = csv::Reader::from_reader(one.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| &r[col("resource.account")] == account(1).as_str())
    );
    assert_eq!(rows.len() as u64, written.findings);
    let all_rows = csv::Reader::from_reader(all.as_bytes()).records().count();
    assert!(rows.len() < all_rows);
    // Citations and the PHI flag are columns of every row.
    let sg1 = support::OPEN_SG.replace("{account}", account(1).as_str());
    let open = rows
        .iter()
        .find(|r| &r[col("rule_id")] == "sg_no_world_db_ports" && r[col("resource.arn")] == sg1)
        .unwrap();
    assert_eq!(&open[col("status")], "fail");
    assert_eq!(&open[col("phi")], "true");
    assert!(open[col("citations")].contains("164.312"), "{:?}", open);

    let unknown = AccountId::new("999999999999").unwrap();
    match report(&mut store, Format::Html, &[unknown]) {
        Err(ReportError::NoSuchAccount { account, .. }) => assert_eq!(account, "999999999999"),
        other => panic!("expected NoSuchAccount, got {:?}", other.map(|r| r.1)),
    }
}

#[test]
fn a_tampered_store_is_reported_as_not_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    store
        .execute_raw(
            "UPDATE bodies SET body = replace(body, 'us-east-1', 'us-east-2') \
             WHERE hash = (SELECT MIN(hash) FROM bodies WHERE body LIKE '%us-east-1%')",
        )
        .unwrap();
    let (html, written) = report(&mut store, Format::Html, &[]).unwrap();
    assert!(!written.chain_intact);
    assert!(html.contains("NOT intact"));
    assert!(html.contains("ALTERED resource"));
}

#[test]
fn a_named_snapshot_is_reported_with_the_period_up_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let first = store.snapshots().unwrap()[0].id.to_string();
    let baseline = Baseline::hipaa().unwrap();
    let request = Request {
        format: Format::Json,
        snapshot: Snapshot::Id(first.clone()),
        since: None,
        accounts: &[],
        baseline: &baseline,
        as_of: as_of(),
    };
    let mut out = Vec::new();
    let written = posture_report::write(&mut store, &request, &mut out).unwrap();
    assert_eq!(written.snapshot_id, first);
    assert_eq!(written.period_snapshots, 1, "nothing before the first scan");
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let sg1 = support::OPEN_SG.replace("{account}", account(1).as_str());
    assert!(
        !doc["rules"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["findings"].as_array().unwrap())
            .any(|f| f["resource"]["arn"] == sg1.as_str()),
        "the group was opened after the first scan"
    );
    let missing = Request {
        snapshot: Snapshot::Id("20200101T000000000000Z".into()),
        ..request
    };
    assert!(matches!(
        posture_report::write(&mut store, &missing, &mut Vec::new()),
        Err(ReportError::Store(
            posture_store::StoreError::NoSuchSnapshot(_)
        ))
    ));
}
