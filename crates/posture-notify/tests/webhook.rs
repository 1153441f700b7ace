//! The signed generic webhook: the envelope, a signature checked against an independent
//! HMAC implementation, and every way `verify` rejects a request.

#![allow(clippy::unwrap_used, reason = "test code")]

mod fixtures;

use posture_model::alert::Alert;
use posture_notify::webhook::{
    MAX_SKEW_SECS, SIGNATURE_HEADER, TIMESTAMP_HEADER, VerifyError, body, sign, verify,
};
use serde_json::Value;

const SECRET: &[u8] = b"whsec_test";
const NOW: i64 = 1_700_000_000;

#[test]
fn header_names_are_the_documented_ones() {
    assert_eq!(TIMESTAMP_HEADER, "X-Posture-Timestamp");
    assert_eq!(SIGNATURE_HEADER, "X-Posture-Signature");
}

#[test]
fn signature_matches_an_independent_hmac() {
    // Computed with Python's hmac module, not with aws-lc:
    //   python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test",
    //     b"1700000000."+b"{\"version\":1,\"kind\":\"test\"}", hashlib.sha256).hexdigest())'
    let body = br#"{"version":1,"kind":"test"}"#;
    assert_eq!(
        sign(SECRET, NOW, body),
        "v1=445abf5e65ed8da6d38634359fbfc0b5f0cc62d1c67ca27a6c89876cdde4b6f3"
    );
    // An empty key and body:
    //   python3 -c 'import hmac,hashlib; print(hmac.new(b"", b"0.", hashlib.sha256).hexdigest())'
    assert_eq!(
        sign(b"", 0, b""),
        "v1=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"
    );
}

#[test]
fn body_is_the_versioned_envelope_of_the_alert() {
    for (name, alert) in fixtures::all() {
        let bytes = body(&alert);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 3, "{name}");
        assert_eq!(v["version"], 1, "{name}");
        assert_eq!(v["kind"], alert.kind.as_str(), "{name}");
        let back: Alert = serde_json::from_value(v["alert"].clone()).unwrap();
        assert_eq!(back, alert, "{name}: the alert round-trips");
        assert_eq!(body(&alert), bytes, "{name}: deterministic");
    }
    let v: Value = serde_json::from_slice(&body(&fixtures::regressions())).unwrap();
    assert_eq!(v["alert"]["total"], 2);
    assert_eq!(
        v["alert"]["items"][1]["changes"][0]["pointer"],
        "/body/policy"
    );
    assert_eq!(v["alert"]["items"][1]["changes"][0]["new"], Value::Null);
}

#[test]
fn a_signed_body_verifies_within_five_minutes_either_way() {
    let bytes = body(&fixtures::regressions());
    let sig = sign(SECRET, NOW, &bytes);
    let ts = NOW.to_string();
    assert_eq!(verify(SECRET, &ts, &sig, &bytes, NOW), Ok(()));
    assert_eq!(verify(SECRET, &ts, &sig, &bytes, NOW + 300), Ok(()));
    assert_eq!(verify(SECRET, &ts, &sig, &bytes, NOW - 300), Ok(()));
    assert_eq!(
        verify(SECRET, &ts, &sig, &bytes, NOW + 301),
        Err(VerifyError::Stale { skew_secs: 301 })
    );
    assert_eq!(
        verify(SECRET, &ts, &sig, &bytes, NOW - 301),
        Err(VerifyError::Stale { skew_secs: 301 })
    );
    assert_eq!(MAX_SKEW_SECS, 300);
    // Far away in time (or a timestamp of 0) does not overflow.
    assert_eq!(
        verify(SECRET, &ts, &sig, &bytes, i64::MIN),
        Err(VerifyError::Stale {
            skew_secs: (NOW as u64) + (i64::MIN.unsigned_abs())
        })
    );
}

#[test]
fn wrong_secret_body_or_timestamp_is_a_bad_signature() {
    let bytes = body(&fixtures::regressions());
    let sig = sign(SECRET, NOW, &bytes);
    let ts = NOW.to_string();
    assert_eq!(
        verify(b"other", &ts, &sig, &bytes, NOW),
        Err(VerifyError::BadSignature)
    );
    let mut tampered = bytes.clone();
    tampered[10] ^= 1;
    assert_eq!(
        verify(SECRET, &ts, &sig, &tampered, NOW),
        Err(VerifyError::BadSignature)
    );
    // The timestamp is signed: moving it (within the window) breaks the signature.
    let moved = (NOW + 1).to_string();
    assert_eq!(
        verify(SECRET, &moved, &sig, &bytes, NOW),
        Err(VerifyError::BadSignature)
    );
    // One hex digit off.
    let mut flipped = sig.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_eq!(
        verify(SECRET, &ts, &flipped, &bytes, NOW),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn malformed_headers_are_rejected_before_any_hmac() {
    let bytes = b"{}";
    let sig = sign(SECRET, NOW, bytes);
    for ts in [
        "",
        " 1700000000",
        "1700000000 ",
        "+1700000000",
        "-1700000000",
        "1.7e9",
        "abc",
        "99999999999999999999",
    ] {
        assert_eq!(
            verify(SECRET, ts, &sig, bytes, NOW),
            Err(VerifyError::MalformedTimestamp),
            "timestamp {ts:?}"
        );
    }
    let ts = NOW.to_string();
    let hex = sig.strip_prefix("v1=").unwrap();
    for bad in [
        String::new(),
        hex.to_owned(),
        format!("v0={hex}"),
        format!("V1={hex}"),
        format!("v1={}", &hex[..63]),
        format!("v1={hex}0"),
        format!("v1={}zz", &hex[..62]),
        format!("v1= {}", &hex[..63]),
    ] {
        assert_eq!(
            verify(SECRET, &ts, &bad, bytes, NOW),
            Err(VerifyError::MalformedSignature),
            "signature {bad:?}"
        );
    }
}

#[test]
fn errors_read_as_lowercase_sentences_naming_the_header() {
    assert_eq!(
        VerifyError::Stale { skew_secs: 301 }.to_string(),
        "X-Posture-Timestamp is 301 s away from the receiver's clock, more than the 300 s allowed"
    );
    assert_eq!(
        VerifyError::MalformedSignature.to_string(),
        "malformed X-Posture-Signature header: expected v1= and 64 hex digits"
    );
    assert_eq!(
        VerifyError::BadSignature.to_string(),
        "X-Posture-Signature does not match the timestamp and body"
    );
}
