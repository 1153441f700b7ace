//! The machine formats against their published JSON Schemas, vendored under
//! `tests/schemas/` (no network at test time; see `tests/schemas/README.md` for where each
//! file comes from): every OCSF event of the seeded store against OCSF 1.7.0's
//! `compliance_finding` with the `cloud` profile, and the SARIF log against the OASIS SARIF
//! 2.1.0 schema. Each schema is also shown to reject a broken document, so a validator that
//! accepts everything cannot pass these tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed step is a failed test"
)]

mod support;

use jsonschema::{Registry, Validator};
use posture_check::Baseline;
use posture_report::{Format, OCSF_VERSION, Request, SARIF_SCHEMA, Snapshot, Written};
use serde_json::{Value, json};
use support::{account, as_of, seeded};

fn schema(name: &str) -> Value {
    let path = format!("{}/tests/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The OCSF class schema, with every object schema it refers to registered under its URI.
fn with_ocsf<T>(f: impl FnOnce(&Validator) -> T) -> T {
    let bundle = schema("ocsf-1.7.0-compliance_finding-cloud.json");
    let root = bundle["root"].as_str().unwrap().to_owned();
    let schemas = bundle["schemas"].as_object().unwrap();
    let registry = Registry::new()
        .extend(schemas.iter().map(|(uri, s)| (uri.clone(), s.clone())))
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&schemas[&root])
        .expect("the OCSF schema compiles with every reference resolved locally");
    f(&validator)
}

fn report(format: Format) -> (Value, Written) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = seeded(dir.path());
    let baseline = Baseline::hipaa().unwrap();
    let request = Request {
        format,
        snapshot: Snapshot::Latest,
        since: None,
        accounts: &[],
        baseline: &baseline,
        as_of: as_of(),
    };
    let mut out = Vec::new();
    let written = posture_report::write(&mut store, &request, &mut out).unwrap();
    (serde_json::from_slice(&out).expect("valid JSON"), written)
}

fn errors(validator: &Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_ocsf_event_is_a_valid_compliance_finding() {
    let (doc, written) = report(Format::Ocsf);
    let events = doc.as_array().unwrap();
    assert_eq!(
        events.len() as u64,
        written.findings,
        "one event per finding"
    );
    with_ocsf(|validator| {
        for e in events {
            let errors = errors(validator, e);
            assert!(
                errors.is_empty(),
                "{} is not a valid OCSF {OCSF_VERSION} Compliance Finding: {errors:#?}",
                e["metadata"]["uid"]
            );
        }
    });
    assert!(
        events
            .iter()
            .all(|e| e["metadata"]["version"] == OCSF_VERSION)
    );

    // The regression: the PHI-tagged group opened to the internet in account 1.
    let arn = support::OPEN_SG.replace("{account}", account(1).as_str());
    let open = events
        .iter()
        .find(|e| {
            e["compliance"]["control"] == "sg_no_world_db_ports" && e["resources"][0]["uid"] == arn
        })
        .expect("the open group's event");
    assert_eq!(open["compliance"]["status_id"], 3);
    assert_eq!(open["compliance"]["status_code"], "fail");
    assert_eq!(open["status_id"], 1, "New: no waiver covers it");
    assert_eq!(open["severity_id"], 5, "critical");
    assert_eq!(open["resources"][0]["labels"], json!(["phi"]));
    assert_eq!(open["cloud"]["account"]["uid"], account(1).as_str());
    assert!(
        open["compliance"]["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("164.312")),
        "{}",
        open["compliance"]
    );
    assert!(
        open["evidences"][0]["data"]
            .as_object()
            .is_some_and(|d| !d.is_empty()),
        "the evidence the rule decided on: {}",
        open["evidences"]
    );
    assert_eq!(
        open["finding_info"]["uid"],
        format!("sg_no_world_db_ports:{arn}")
    );

    // Account 0's group is waived: suppressed, still a compliance failure, the waiver kept.
    let arn0 = support::OPEN_SG.replace("{account}", account(0).as_str());
    let waived = events
        .iter()
        .find(|e| {
            e["compliance"]["control"] == "sg_no_world_db_ports" && e["resources"][0]["uid"] == arn0
        })
        .expect("the waived group's event");
    assert_eq!(waived["status_id"], 3, "Suppressed");
    assert_eq!(waived["compliance"]["status_id"], 3, "still not compliant");
    assert_eq!(waived["compliance"]["status_code"], "waived");
    assert!(waived["unmapped"]["waiver"]["owner"].is_string());

    // The denied call: unknown, never a pass.
    let unknown: Vec<&Value> = events
        .iter()
        .filter(|e| e["compliance"]["status_code"] == "error")
        .collect();
    assert!(!unknown.is_empty(), "the seeded store has a denied call");
    assert!(unknown.iter().all(|e| e["compliance"]["status_id"] == 0));
}

#[test]
fn the_ocsf_schema_rejects_a_broken_event() {
    let (doc, _) = report(Format::Ocsf);
    let good = doc[0].clone();
    with_ocsf(|validator| {
        assert!(errors(validator, &good).is_empty());
        for (what, broken) in [
            ("another class", {
                let mut e = good.clone();
                e["class_uid"] = json!(2001);
                e
            }),
            ("a field OCSF does not define", {
                let mut e = good.clone();
                e["rule_id"] = json!("x");
                e
            }),
            ("no finding_info.uid", {
                let mut e = good.clone();
                e["finding_info"].as_object_mut().unwrap().remove("uid");
                e
            }),
            ("a compliance status outside the enum", {
                let mut e = good.clone();
                e["compliance"]["status_id"] = json!(7);
                e
            }),
        ] {
            assert!(
                !errors(validator, &broken).is_empty(),
                "the schema accepted {what}"
            );
        }
    });
}

#[test]
fn the_sarif_log_is_valid_sarif_2_1_0() {
    let (doc, written) = report(Format::Sarif);
    let validator = jsonschema::options()
        .build(&schema("sarif-schema-2.1.0.json"))
        .unwrap();
    let errors = errors(&validator, &doc);
    assert!(errors.is_empty(), "not valid SARIF 2.1.0: {errors:#?}");
    assert_eq!(doc["$schema"], SARIF_SCHEMA);

    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let baseline = Baseline::hipaa().unwrap();
    assert_eq!(rules.len(), baseline.rules.len() + baseline.manual.len());
    let results = run["results"].as_array().unwrap();
    let counts = &run["properties"]["counts"];
    assert_eq!(
        results.len() as u64,
        counts["fail"].as_u64().unwrap()
            + counts["waived"].as_u64().unwrap()
            + counts["error"].as_u64().unwrap(),
        "every failure, waived failure and error, nothing else"
    );
    assert_eq!(
        results
            .iter()
            .filter(|r| r["properties"]["status"] == "fail")
            .count() as u64,
        written.failing
    );
    for r in results {
        let i = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at its rule");
        match r["properties"]["status"].as_str().unwrap() {
            "error" => assert_eq!(
                (r["kind"].as_str(), r["level"].as_str()),
                (Some("open"), Some("none"))
            ),
            "waived" => {
                assert_eq!(r["kind"], "fail");
                assert_eq!(r["suppressions"][0]["status"], "accepted");
            }
            "fail" => {
                assert_eq!(r["kind"], "fail");
                assert!(r.get("suppressions").is_none());
            }
            other => panic!("a {other} result in SARIF"),
        }
        assert!(
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap()
                .starts_with("arn:")
        );
    }
    let arn = support::OPEN_SG.replace("{account}", account(1).as_str());
    let open = results
        .iter()
        .find(|r| {
            r["ruleId"] == "sg_no_world_db_ports"
                && r["properties"]["resource"]["arn"] == arn.as_str()
        })
        .unwrap();
    assert_eq!(open["level"], "error", "critical");
    assert_eq!(open["properties"]["phi"], true);
    assert!(
        open["properties"]["evidence"]
            .as_object()
            .is_some_and(|e| !e.is_empty())
    );

    // The schema is not vacuous.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(
        !validator.is_valid(&broken),
        "the schema accepted level fatal"
    );
    let mut broken = doc;
    broken["version"] = json!("2.0.0");
    assert!(
        !validator.is_valid(&broken),
        "the schema accepted version 2.0.0"
    );
}
