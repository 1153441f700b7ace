//! The result vocabulary: what a rule concluded about one resource, and why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AccountId, Arn, Region, ResourceKind, RuleId, Tags};

/// The outcome of one rule on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The resource meets the rule.
    Pass,
    /// The resource does not meet the rule.
    Fail,
    /// The rule could not decide: data was missing, denied or malformed. Never a pass.
    Error,
    /// The rule does not apply to this resource (e.g. an AWS-managed key for a rotation rule).
    NotApplicable,
    /// A waiver covers the failure.
    Waived,
    /// A process control that a person attests to.
    Manual,
}

impl Status {
    /// The lowercase name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
            Status::Waived => "waived",
            Status::Manual => "manual",
        }
    }
}

/// How bad a failure is. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical: ePHI is exposed or unrecoverable.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in tables, JSON and `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity {s:?}: expected one of info, low, medium, high, critical")
            })
    }
}

/// A HIPAA Security Rule citation, e.g. `164.312(a)(2)(iv)` "Encryption and decryption".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Citation {
    /// The paragraph of 45 CFR, e.g. `164.312(a)(2)(iv)`.
    pub id: String,
    /// The paragraph's title.
    pub title: String,
}

/// Which resource a finding is about: enough to find it in the console and to match waivers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    /// The resource's ARN.
    pub arn: Arn,
    /// The resource kind.
    pub kind: ResourceKind,
    /// The account the resource lives in.
    pub account: AccountId,
    /// The region, or `global`.
    pub region: Region,
    /// The resource's tags as collected.
    pub tags: Tags,
}

/// The fields and values a rule decided on. Keys are field names, values are what was seen.
pub type Evidence = BTreeMap<String, serde_json::Value>;

/// One rule's verdict on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that produced it.
    pub rule_id: RuleId,
    /// The rule's title.
    pub title: String,
    /// The verdict.
    pub status: Status,
    /// The rule's severity.
    pub severity: Severity,
    /// The resource it is about.
    pub resource: ResourceRef,
    /// Whether the resource is tagged as holding PHI under the configured PHI scope. Always
    /// written, so a consumer can select on `phi == false`; a finding stored before the
    /// field existed reads as `false`. Unknown tags (the lookup failed) read as `false`: the
    /// flag marks what is known to hold PHI, and a rule scoped to PHI reports `Error` there.
    #[serde(default)]
    pub phi: bool,
    /// The HIPAA citations the baseline maps this rule to.
    pub citations: Vec<Citation>,
    /// What the decision rested on.
    pub evidence: Evidence,
    /// A one-line explanation of the verdict (for `Error`, why it could not decide). For a
    /// `Waived` finding this is still the rule's reason for the failure the waiver accepts.
    pub reason: String,
    /// The waiver that accepted this failure; present exactly when `status` is `Waived`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
    /// Since when this rule has given this resource this status without interruption, as the
    /// store's history says; `None` until the finding has been stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
}

/// A waiver as it was applied to one finding: who accepted the risk, why, until when, and
/// what the rule had concluded, so a waived finding loses nothing of the failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedWaiver {
    /// The ticket that records the risk acceptance (it identifies the waiver).
    pub ticket: String,
    /// Who owns the accepted risk.
    pub owner: String,
    /// Why the failure is accepted.
    pub justification: String,
    /// The last day the waiver applies; the day after, the finding is a failure again.
    pub expires: chrono::NaiveDate,
    /// The status the rule gave before the waiver applied (only `Fail` is waivable).
    pub waived_status: Status,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Finding {
        Finding {
            rule_id: RuleId::new("s3_bucket_versioning").unwrap(),
            title: "t".into(),
            status: Status::Fail,
            severity: Severity::High,
            resource: ResourceRef {
                arn: Arn::new("arn:aws:s3:::b").unwrap(),
                kind: ResourceKind::S3Bucket,
                account: AccountId::new("111122223333").unwrap(),
                region: Region::new("us-east-1").unwrap(),
                tags: Tags::new(),
            },
            phi: false,
            citations: vec![],
            evidence: Evidence::new(),
            reason: "r".into(),
            waiver: None,
            first_seen: None,
        }
    }

    #[test]
    fn phi_is_always_written_and_waiver_only_when_present() {
        let json = serde_json::to_value(finding()).unwrap();
        assert_eq!(json["phi"], false);
        assert!(json.get("waiver").is_none());
    }

    #[test]
    fn findings_stored_before_phi_and_waiver_existed_still_read() {
        let mut old = serde_json::to_value(finding()).unwrap();
        let map = old.as_object_mut().unwrap();
        map.remove("phi");
        let back: Finding = serde_json::from_value(old).unwrap();
        assert_eq!(back, finding());
    }

    #[test]
    fn a_waived_finding_round_trips_with_its_waiver() {
        let mut f = finding();
        f.status = Status::Waived;
        f.waiver = Some(AppliedWaiver {
            ticket: "SEC-1".into(),
            owner: "o".into(),
            justification: "j".into(),
            expires: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            waived_status: Status::Fail,
        });
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains(r#""expires":"2026-12-31""#), "{json}");
        assert_eq!(serde_json::from_str::<Finding>(&json).unwrap(), f);
    }
}
