//! "Does the policy deny every request not made over TLS?": a statement-level question,
//! because the compliant pattern is one statement (Deny, everyone, every action,
//! `Bool aws:SecureTransport false`) and a finding must name it or say why each
//! candidate falls short.

use serde_json::{Value, json};

use super::Policy;
use super::condition::{BaseOperator, Condition};
use super::statement::{Effect, Principals, Statement};

/// Why a statement testing `aws:SecureTransport` does not refuse every non-TLS request:
/// conditions are ANDed, so any other condition (`s3:TlsVersion`, `aws:SourceVpce`, ...)
/// exempts some plain-HTTP requests; a plain-HTTP request has no TLS version at all.
pub const NARROWED: &str =
    "Condition tests something besides aws:SecureTransport, which narrows the deny";

/// The answer, with the statement that enforces TLS or why each candidate does not.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportDenial<'p> {
    /// The first statement that refuses every non-TLS request, if any.
    pub enforced_by: Option<&'p Statement>,
    /// Statements testing `aws:SecureTransport` that fall short, in document order (up to
    /// the enforcing one).
    pub rejected: Vec<Rejected<'p>>,
}

/// A statement about `aws:SecureTransport` that does not count.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected<'p> {
    /// The statement.
    pub statement: &'p Statement,
    /// What it misses.
    pub problem: String,
}

impl Rejected<'_> {
    /// `{"statement", "problem"}`.
    pub fn evidence(&self) -> Value {
        json!({ "statement": self.statement.label(), "problem": self.problem })
    }
}

impl Policy {
    /// Whether a single statement denies, to everyone (`Principal "*"`), every action
    /// matching `actions` on every resource matching `resource` whenever
    /// `aws:SecureTransport` is false (`Bool` or `BoolIfExists`, and no other condition).
    /// For a bucket, pass `s3:*` and `arn:aws:s3:::BUCKET/*`: a deny on the objects is
    /// what protects the data; one on the bucket ARN alone leaves object requests over
    /// HTTP.
    pub fn insecure_transport_denial(&self, actions: &str, resource: &str) -> TransportDenial<'_> {
        let mut rejected = Vec::new();
        for statement in self.statements() {
            if !statement
                .conditions
                .iter()
                .any(|c| c.is_key("aws:SecureTransport"))
            {
                continue;
            }
            match refuses_plain_http(statement, actions, resource) {
                Ok(()) => {
                    return TransportDenial {
                        enforced_by: Some(statement),
                        rejected,
                    };
                }
                Err(problem) => rejected.push(Rejected { statement, problem }),
            }
        }
        TransportDenial {
            enforced_by: None,
            rejected,
        }
    }
}

fn refuses_plain_http(st: &Statement, actions: &str, resource: &str) -> Result<(), String> {
    if st.effect != Effect::Deny {
        return Err("Effect is not Deny".to_owned());
    }
    if !matches!(&st.principals, Principals::Only { ids, .. } if Principals::names_anyone(ids)) {
        return Err("Principal is not \"*\"".to_owned());
    }
    if !st.actions.covers(actions) {
        return Err(format!(
            "Action does not cover every action ({actions} or *)"
        ));
    }
    if !st.resources.covers(resource) {
        return Err(format!("Resource does not cover {resource}"));
    }
    let [only]: &[Condition] = &st.conditions[..] else {
        return Err(NARROWED.to_owned());
    };
    if !only.is_key("aws:SecureTransport") {
        return Err(NARROWED.to_owned());
    }
    if only.operator.base != BaseOperator::Bool || only.operator.set.is_some() {
        return Err("aws:SecureTransport is not tested with Bool or BoolIfExists".to_owned());
    }
    if only.values.iter().any(|v| v.eq_ignore_ascii_case("false")) {
        Ok(())
    } else {
        Err("aws:SecureTransport is not compared with false".to_owned())
    }
}
