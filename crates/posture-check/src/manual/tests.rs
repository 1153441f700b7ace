//! The attestation file's loader and which attestation speaks for a control. The findings
//! manual controls produce are tested with the evaluation, in `evaluate/tests.rs`.

use super::*;

const ENTRY: &str = "[[attestation]]\ncontrol = \"manual_risk_analysis\"\nattested_by = \"Dana Whitfield, Security Official\"\nattested_on = 2026-01-15\nexpires = 2027-01-14\nevidence = \"https://grc.example.org/risk-analysis/2026\"\n";

fn baseline() -> Baseline {
    Baseline::hipaa().expect("shipped baseline is valid")
}

fn load(text: &str) -> Result<Attestations, LoadError> {
    Attestations::from_toml("attestations.toml", text, &baseline())
}

#[track_caller]
fn load_err(text: &str, line: usize, needle: &str) {
    let e = load(text).expect_err("the file is invalid");
    assert_eq!(e.file, "attestations.toml");
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains(needle), "{e}");
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_complete_attestation_loads() {
    let a = load(&format!("{ENTRY}notes = \"reviewed by the board\"\n")).unwrap();
    let [a] = a.entries() else {
        panic!("one attestation")
    };
    assert_eq!(a.control.as_str(), "manual_risk_analysis");
    assert_eq!(a.attested_on, day(2026, 1, 15));
    assert_eq!(a.expires, day(2027, 1, 14));
    assert_eq!(a.notes.as_deref(), Some("reviewed by the board"));
    assert_eq!(a.location, "attestations.toml:1");
}

#[test]
fn unknown_control_is_rejected_with_the_known_ones() {
    let text = ENTRY.replace("manual_risk_analysis", "manual_risk_analisys");
    load_err(&text, 2, "no such manual control");
    let e = load(&text).unwrap_err();
    assert!(e.message.contains("manual_risk_analysis"), "{e}");
}

#[test]
fn missing_expiry_is_rejected() {
    load_err(
        &ENTRY.replace("expires = 2027-01-14\n", ""),
        1,
        "has no `expires`",
    );
}

#[test]
fn bad_date_is_rejected_at_its_line() {
    load_err(
        &ENTRY.replace("2026-01-15", "\"15/01/2026\""),
        4,
        "`attested_on` is \"15/01/2026\"",
    );
}

#[test]
fn expiry_before_attestation_is_rejected() {
    load_err(
        &ENTRY.replace("2027-01-14", "2025-01-14"),
        5,
        "is before attested_on",
    );
}

#[test]
fn missing_evidence_and_unknown_fields_are_rejected() {
    load_err(
        &ENTRY.replace(
            "evidence = \"https://grc.example.org/risk-analysis/2026\"\n",
            "",
        ),
        1,
        "has no `evidence`",
    );
    load_err(
        &format!("{ENTRY}approved = true\n"),
        7,
        "unknown field `approved`",
    );
}

fn two() -> Attestations {
    let renewed = ENTRY
        .replace("2026-01-15", "2026-12-20")
        .replace("2027-01-14", "2027-12-19")
        .replace("/2026", "/2027");
    load(&format!("{ENTRY}\n{renewed}")).unwrap()
}

#[test]
fn the_live_attestation_attested_last_speaks_for_the_control() {
    let a = two();
    let (state, current) = a.current("manual_risk_analysis", day(2026, 6, 1));
    assert_eq!(state, AttestationState::Attested);
    assert_eq!(current.unwrap().attested_on, day(2026, 1, 15));
    let (state, current) = a.current("manual_risk_analysis", day(2027, 1, 1));
    assert_eq!(state, AttestationState::Attested);
    assert_eq!(current.unwrap().attested_on, day(2026, 12, 20));
}

#[test]
fn an_attestation_holds_through_its_expiry_day() {
    let a = load(ENTRY).unwrap();
    let at = |d| a.current("manual_risk_analysis", d).0;
    assert_eq!(at(day(2027, 1, 14)), AttestationState::Attested);
    assert_eq!(at(day(2027, 1, 15)), AttestationState::Expired);
}

#[test]
fn no_attestation_or_only_a_future_one_is_missing() {
    let a = load(ENTRY).unwrap();
    assert_eq!(
        a.current("manual_restore_testing", day(2026, 6, 1)),
        (AttestationState::Missing, None)
    );
    assert_eq!(
        a.current("manual_risk_analysis", day(2026, 1, 14)),
        (AttestationState::Missing, None)
    );
}

#[test]
fn the_example_attestation_file_loads_against_the_shipped_baseline() {
    let a = load(include_str!("../../../../config/attestations.example.toml"))
        .expect("config/attestations.example.toml is valid");
    assert_eq!(a.entries().len(), 3);
}
