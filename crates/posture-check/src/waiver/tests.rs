//! The waiver file's loader and selectors. How waivers change findings is tested with the
//! evaluation, in `evaluate/tests.rs`.

use posture_model::{AccountId, Arn, Region, ResourceKind, ResourceRef, Tags};

use super::*;

const HEAD: &str = "# waivers\n[[waiver]]\nrule = \"s3_bucket_versioning\"\n";
const REST: &str = "owner = \"platform@example.org\"\njustification = \"scratch buckets hold no PHI\"\nticket = \"SEC-101\"\nexpires = 2026-12-31\n";

fn load(text: &str) -> Result<Waivers, LoadError> {
    Waivers::from_toml("waivers.toml", text)
}

#[track_caller]
fn load_err(text: &str, line: usize, needle: &str) -> LoadError {
    let e = load(text).expect_err("the file is invalid");
    assert_eq!(e.file, "waivers.toml");
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains(needle), "{e}");
    e
}

#[test]
fn a_complete_waiver_loads_with_its_location() {
    let w = load(&format!(
        "{HEAD}arn = \"arn:aws:s3:::scratch-*\"\naccount = \"111122223333\"\nregion = \"us-east-1\"\ntags = {{ env = \"dev\" }}\n{REST}"
    ))
    .unwrap();
    let [w] = w.entries() else {
        panic!("one waiver")
    };
    assert_eq!(w.rule.as_str(), "s3_bucket_versioning");
    assert_eq!(w.selector.arn.as_deref(), Some("arn:aws:s3:::scratch-*"));
    assert_eq!(
        w.selector.account.as_ref().unwrap().as_str(),
        "111122223333"
    );
    assert_eq!(w.selector.region.as_ref().unwrap().as_str(), "us-east-1");
    assert_eq!(w.selector.tags["env"], "dev");
    assert_eq!(w.ticket, "SEC-101");
    assert_eq!(w.expires, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    assert_eq!(w.location, "waivers.toml:2");
    assert_eq!(
        w.to_string(),
        "waiver SEC-101 for s3_bucket_versioning (waivers.toml:2)"
    );
}

#[test]
fn an_empty_file_has_no_waivers() {
    assert!(load("# nothing waived\n").unwrap().entries().is_empty());
}

#[test]
fn expiry_may_be_a_quoted_date() {
    let text = format!(
        "{HEAD}region = \"us-east-1\"\n{}",
        REST.replace("2026-12-31", "\"2026-12-31\"")
    );
    assert_eq!(
        load(&text).unwrap().entries()[0].expires,
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
    );
}

#[test]
fn unknown_rule_is_rejected_at_its_line() {
    load_err(
        &format!("[[waiver]]\nregion = \"us-east-1\"\nrule = \"s3_bucket_versionning\"\n{REST}"),
        3,
        "not a known rule id",
    );
}

#[test]
fn wildcard_rule_is_rejected() {
    load_err(
        &format!("[[waiver]]\nrule = \"*\"\nregion = \"us-east-1\"\n{REST}"),
        2,
        "exactly one rule id",
    );
    load_err(
        &format!("[[waiver]]\nrule = \"s3_*\"\nregion = \"us-east-1\"\n{REST}"),
        2,
        "exactly one rule id",
    );
}

#[test]
fn manual_control_cannot_be_waived() {
    load_err(
        &format!("[[waiver]]\nrule = \"manual_risk_analysis\"\nregion = \"us-east-1\"\n{REST}"),
        2,
        "record an attestation",
    );
}

#[test]
fn missing_rule_is_rejected() {
    load_err(
        &format!("\n[[waiver]]\nregion = \"us-east-1\"\n{REST}"),
        2,
        "has no `rule`",
    );
}

#[test]
fn missing_expiry_is_rejected_because_risk_acceptance_must_be_reviewed() {
    let text = format!(
        "{HEAD}region = \"us-east-1\"\n{}",
        REST.replace("expires = 2026-12-31\n", "")
    );
    let e = load_err(&text, 2, "has no `expires`");
    assert!(e.message.contains("must be reviewed"), "{e}");
    assert!(e.message.contains("YYYY-MM-DD"), "{e}");
}

#[test]
fn bad_dates_are_rejected_at_their_line() {
    for bad in [
        "\"next year\"",
        "\"2026-02-30\"",
        "2026-12-31T00:00:00Z",
        "20261231",
    ] {
        let text = format!(
            "{HEAD}region = \"us-east-1\"\n{}",
            REST.replace("2026-12-31", bad)
        );
        load_err(&text, 8, "write a date like `expires = 2027-01-31`");
    }
}

#[test]
fn a_waiver_without_selector_is_rejected() {
    load_err(&format!("{HEAD}{REST}"), 2, "selects no resource");
}

#[test]
fn unknown_field_is_rejected_at_its_line() {
    load_err(
        &format!("{HEAD}region = \"us-east-1\"\nresource = \"x\"\n{REST}"),
        5,
        "unknown field `resource`",
    );
    load_err("[[waivers]]\n", 1, "unknown field `waivers`");
}

#[test]
fn missing_or_empty_accountability_fields_are_rejected() {
    let text = format!(
        "{HEAD}region = \"us-east-1\"\n{}",
        REST.replace("SEC-101", " ")
    );
    load_err(&text, 7, "`ticket` is empty");
    let text = format!(
        "{HEAD}region = \"us-east-1\"\n{}",
        REST.replace("owner = \"platform@example.org\"\n", "")
    );
    load_err(&text, 2, "has no `owner`");
    let text = format!(
        "{HEAD}region = \"us-east-1\"\n{}",
        REST.replace("justification = \"scratch buckets hold no PHI\"\n", "")
    );
    load_err(&text, 2, "has no `justification`");
}

#[test]
fn malformed_selectors_are_rejected_at_their_line() {
    load_err(
        &format!("{HEAD}account = \"1111\"\n{REST}"),
        4,
        "exactly 12 digits",
    );
    load_err(&format!("{HEAD}region = \"US East\"\n{REST}"), 4, "region");
    load_err(
        &format!("{HEAD}arn = \"scratch-*\"\n{REST}"),
        4,
        "not an ARN pattern",
    );
    load_err(&format!("{HEAD}tags = {{}}\n{REST}"), 4, "`tags` is empty");
}

fn resource(arn: &str, account: &str, region: &str, tags: &[(&str, &str)]) -> ResourceRef {
    ResourceRef {
        arn: Arn::new(arn).unwrap(),
        kind: ResourceKind::S3Bucket,
        account: AccountId::new(account).unwrap(),
        region: Region::new(region).unwrap(),
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Tags>(),
    }
}

#[test]
fn selector_matches_by_arn_glob() {
    let s = Selector {
        arn: Some("arn:aws:s3:::scratch-?-*".into()),
        ..Selector::default()
    };
    assert!(s.matches(&resource(
        "arn:aws:s3:::scratch-a-1",
        "111122223333",
        "us-east-1",
        &[]
    )));
    assert!(s.matches(&resource(
        "arn:aws:s3:::scratch-b-x/y",
        "444455556666",
        "eu-west-1",
        &[]
    )));
    assert!(!s.matches(&resource(
        "arn:aws:s3:::scratch-ab-1",
        "111122223333",
        "us-east-1",
        &[]
    )));
    assert!(!s.matches(&resource(
        "arn:aws:s3:::Scratch-a-1",
        "111122223333",
        "us-east-1",
        &[]
    )));
}

#[test]
fn selector_matches_by_account() {
    let s = Selector {
        account: Some(AccountId::new("111122223333").unwrap()),
        ..Selector::default()
    };
    assert!(s.matches(&resource(
        "arn:aws:s3:::a",
        "111122223333",
        "us-east-1",
        &[]
    )));
    assert!(!s.matches(&resource(
        "arn:aws:s3:::a",
        "444455556666",
        "us-east-1",
        &[]
    )));
}

#[test]
fn selector_matches_by_region() {
    let s = Selector {
        region: Some(Region::new("eu-west-1").unwrap()),
        ..Selector::default()
    };
    assert!(s.matches(&resource(
        "arn:aws:s3:::a",
        "111122223333",
        "eu-west-1",
        &[]
    )));
    assert!(!s.matches(&resource(
        "arn:aws:s3:::a",
        "111122223333",
        "us-east-1",
        &[]
    )));
}

#[test]
fn selector_matches_when_every_tag_matches_exactly() {
    let s = Selector {
        tags: [("env", "dev"), ("team", "research")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Selector::default()
    };
    let r = |tags| resource("arn:aws:s3:::a", "111122223333", "us-east-1", tags);
    assert!(s.matches(&r(&[("env", "dev"), ("team", "research"), ("x", "y")])));
    assert!(!s.matches(&r(&[("env", "dev")])));
    assert!(!s.matches(&r(&[("env", "Dev"), ("team", "research")])));
    assert!(!s.matches(&r(&[])));
}

#[test]
fn every_selector_part_must_match() {
    let s = Selector {
        arn: Some("arn:aws:s3:::scratch-*".into()),
        region: Some(Region::new("us-east-1").unwrap()),
        ..Selector::default()
    };
    assert!(s.matches(&resource(
        "arn:aws:s3:::scratch-1",
        "111122223333",
        "us-east-1",
        &[]
    )));
    assert!(!s.matches(&resource(
        "arn:aws:s3:::scratch-1",
        "111122223333",
        "us-west-2",
        &[]
    )));
    assert!(!s.matches(&resource(
        "arn:aws:s3:::phi-1",
        "111122223333",
        "us-east-1",
        &[]
    )));
}

#[test]
fn a_waiver_holds_through_its_expiry_day_and_not_the_day_after() {
    let waivers = load(&format!("{HEAD}region = \"us-east-1\"\n{REST}")).unwrap();
    let w = &waivers.entries()[0];
    assert!(w.is_live(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
    assert!(!w.is_live(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
}

#[test]
fn the_example_waiver_file_loads() {
    let w = load(include_str!("../../../../config/waivers.example.toml"))
        .expect("config/waivers.example.toml is valid");
    assert_eq!(w.entries().len(), 2);
    assert!(
        w.entries()
            .iter()
            .all(|w| w.selector != Selector::default())
    );
}
