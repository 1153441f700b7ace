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
    /// The HIPAA citations the baseline maps this rule to.
    pub citations: Vec<Citation>,
    /// What the decision rested on.
    pub evidence: Evidence,
    /// A one-line explanation of the verdict (for `Error`, why it could not decide).
    pub reason: String,
    /// Since when this rule has given this resource this status without interruption, as the
    /// store's history says; `None` until the finding has been stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
}
