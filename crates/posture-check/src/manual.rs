//! Manual controls and their attestations.
//!
//! The baseline lists process controls no API can prove (`[[manual]]`: risk analysis,
//! BAAs, restore tests, ...). A person attests to each in a reviewed file
//! (`config/attestations.toml`): who, when, until when, and where the evidence is. The
//! evaluation reports every manual control on every scanned account as `Manual`, never
//! `Pass`: attested, missing or expired, said in the evidence key `attestation_state` and
//! in the reason, so a report shows the gap honestly instead of pretending.

use std::ops::Range;

use chrono::NaiveDate;
use posture_model::{Evidence, Finding, Resource, RuleId, Status};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::evaluate::resource_ref;
use crate::load::{LoadError, Source};
use crate::{Baseline, ManualControl};

/// The attestations of one file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Attestations {
    entries: Vec<Attestation>,
}

/// One person's statement that a manual control is in place, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attestation {
    /// The manual control (`manual_risk_analysis`).
    pub control: RuleId,
    /// Who attests (name and role).
    pub attested_by: String,
    /// When they attested.
    pub attested_on: NaiveDate,
    /// The last day the attestation holds (inclusive, UTC); then it must be renewed.
    pub expires: NaiveDate,
    /// Where the evidence is: a URL or a document reference.
    pub evidence: String,
    /// Anything an auditor should know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Where it is written, `FILE:LINE`.
    pub location: String,
}

/// What an auditor needs to know about a manual control's attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationState {
    /// A current attestation exists.
    Attested,
    /// None exists (or only one dated after the evaluation).
    Missing,
    /// The latest one has expired.
    Expired,
}

impl AttestationState {
    /// The string used in evidence (`attested`, `missing`, `expired`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationState::Attested => "attested",
            AttestationState::Missing => "missing",
            AttestationState::Expired => "expired",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    attestation: Vec<Spanned<RawAttestation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttestation {
    control: Option<Spanned<String>>,
    attested_by: Option<Spanned<String>>,
    attested_on: Option<Spanned<toml::Value>>,
    expires: Option<Spanned<toml::Value>>,
    evidence: Option<Spanned<String>>,
    notes: Option<Spanned<String>>,
}

impl Attestations {
    /// Parses and validates an attestation file against the manual controls of `baseline`
    /// (an attestation for a control the baseline does not define is a typo that would
    /// leave the real control missing). `file` is only used in messages.
    pub fn from_toml(file: &str, text: &str, baseline: &Baseline) -> Result<Self, LoadError> {
        let src = Source { file, text };
        let raw: RawFile = src.parse()?;
        let entries = raw
            .attestation
            .iter()
            .map(|a| attestation(&src, a.span(), a.get_ref(), baseline))
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Every attestation, in file order.
    pub fn entries(&self) -> &[Attestation] {
        &self.entries
    }

    /// The attestation that speaks for `control` on `today`, and its state: the live one
    /// attested last; else the one that expired last; else none (`Missing`).
    pub fn current(
        &self,
        control: &str,
        today: NaiveDate,
    ) -> (AttestationState, Option<&Attestation>) {
        let of_control = || {
            self.entries
                .iter()
                .filter(move |a| a.control.as_str() == control && a.attested_on <= today)
        };
        let live = of_control()
            .filter(|a| today <= a.expires)
            .max_by_key(|a| (a.attested_on, a.expires));
        if let Some(a) = live {
            return (AttestationState::Attested, Some(a));
        }
        match of_control().max_by_key(|a| (a.expires, a.attested_on)) {
            Some(a) => (AttestationState::Expired, Some(a)),
            None => (AttestationState::Missing, None),
        }
    }
}

fn attestation(
    src: &Source<'_>,
    span: Range<usize>,
    a: &RawAttestation,
    baseline: &Baseline,
) -> Result<Attestation, LoadError> {
    let Some(control) = &a.control else {
        return Err(src.err(
            Some(span),
            "attestation has no `control`: add `control = \"manual_…\"` naming a [[manual]] \
             control of the baseline",
        ));
    };
    let Some(manual) = baseline.manual_control(control.get_ref().trim()) else {
        let known: Vec<&str> = baseline.manual.iter().map(|m| m.id.as_str()).collect();
        return Err(src.err(
            Some(control.span()),
            format!(
                "attestation for {:?}: the baseline has no such manual control (it has: {})",
                control.get_ref(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let what = format!("attestation for {}", manual.id);
    let attested_by = src.required_text(
        &span,
        a.attested_by.as_ref(),
        "attested_by",
        &what,
        "who attests, with their role",
    )?;
    let attested_on = src.required_date(
        &span,
        a.attested_on.as_ref(),
        "attested_on",
        &what,
        "the day it was attested",
    )?;
    let expires = src.required_date(
        &span,
        a.expires.as_ref(),
        "expires",
        &what,
        "an attestation must be renewed; give the last day it holds",
    )?;
    if expires < attested_on {
        let at = a.expires.as_ref().map(Spanned::span);
        return Err(src.err(
            at,
            format!("{what}: expires ({expires}) is before attested_on ({attested_on})"),
        ));
    }
    let evidence = src.required_text(
        &span,
        a.evidence.as_ref(),
        "evidence",
        &what,
        "a URL or document reference an auditor can open",
    )?;
    let notes = a
        .notes
        .as_ref()
        .map(|n| n.get_ref().trim().to_owned())
        .filter(|n| !n.is_empty());
    Ok(Attestation {
        control: manual.id.clone(),
        attested_by,
        attested_on,
        expires,
        evidence,
        notes,
        location: format!("{}:{}", src.file, src.line(span.start)),
    })
}

/// One `Manual` finding per manual control of `baseline` and per account subject.
pub(crate) fn findings(
    baseline: &Baseline,
    attestations: Option<&Attestations>,
    accounts: &[&Resource],
    today: NaiveDate,
) -> Vec<Finding> {
    let mut out = Vec::with_capacity(baseline.manual.len() * accounts.len());
    for control in &baseline.manual {
        let (state, attestation) = attestations
            .map(|a| a.current(control.id.as_str(), today))
            .unwrap_or((AttestationState::Missing, None));
        let (reason, evidence) = verdict(control, state, attestation, today, attestations);
        for account in accounts {
            out.push(Finding {
                rule_id: control.id.clone(),
                title: control.title.clone(),
                status: Status::Manual,
                severity: control.severity,
                resource: resource_ref(account),
                phi: false,
                citations: control.citations.clone(),
                evidence: evidence.clone(),
                reason: reason.clone(),
                waiver: None,
                first_seen: None,
            });
        }
    }
    out
}

fn verdict(
    control: &ManualControl,
    state: AttestationState,
    attestation: Option<&Attestation>,
    today: NaiveDate,
    all: Option<&Attestations>,
) -> (String, Evidence) {
    let mut evidence = Evidence::new();
    evidence.insert(
        "attestation_state".to_owned(),
        serde_json::Value::from(state.as_str()),
    );
    evidence.insert(
        "expected_evidence".to_owned(),
        serde_json::Value::from(control.expected_evidence.as_str()),
    );
    if let Some(a) = attestation {
        evidence.insert(
            "attestation".to_owned(),
            serde_json::json!({
                "attested_by": a.attested_by,
                "attested_on": a.attested_on,
                "expires": a.expires,
                "evidence": a.evidence,
                "notes": a.notes,
            }),
        );
    }
    let reason = match (state, attestation) {
        (AttestationState::Attested, Some(a)) => format!(
            "attested by {} on {}, valid through {}",
            a.attested_by, a.attested_on, a.expires
        ),
        (AttestationState::Expired, Some(a)) => format!("attestation expired on {}", a.expires),
        _ => {
            let future = all.and_then(|all| {
                all.entries
                    .iter()
                    .filter(|a| a.control == control.id && a.attested_on > today)
                    .map(|a| a.attested_on)
                    .min()
            });
            match future {
                Some(d) => {
                    format!("no attestation (the one dated {d} is later than this evaluation)")
                }
                None => "no attestation".to_owned(),
            }
        }
    };
    (reason, evidence)
}

#[cfg(test)]
mod tests;
