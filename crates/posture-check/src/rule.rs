//! The rule trait and what a rule sees while it runs.

use chrono::{DateTime, Utc};
use posture_model::{
    AccountId, Evidence, Gap, Region, Resource, ResourceKind, Severity, Status, Unavailable,
};
use serde::Serialize;

use crate::{Params, SnapshotIndex};

/// Static description of a rule.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Id, `<service>_<resource>_<property>`.
    pub id: &'static str,
    /// One-line title, phrased as the compliant state.
    pub title: &'static str,
    /// Severity of a failure.
    pub severity: Severity,
    /// The kind of resource each finding is about.
    pub subject: ResourceKind,
    /// Why it matters for ePHI.
    pub rationale: &'static str,
    /// How to fix a failure.
    pub remediation: &'static str,
    /// The API calls (`service:Operation`) whose data the rule reads: every one, including
    /// those of the related resources it looks up. They are its declared inputs: a failed
    /// list call among them turns the rule's result in that account and region into
    /// `Error`, and so does a collection among [`RuleMeta::input_services`] that did not run
    /// there (the rule is not even called).
    pub api_calls: &'static [&'static str],
    /// Tunable parameters.
    pub params: &'static [ParamSpec],
}

impl RuleMeta {
    /// The collections (`scan.services` names: `cloudwatch` for `logs:` and `sns:` calls)
    /// that make the rule's `api_calls`, sorted and without duplicates. A call no collector
    /// makes is left out (the registry's tests reject such a call).
    pub fn input_services(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .api_calls
            .iter()
            .filter_map(|call| posture_model::services::collection_of(call))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One tunable parameter of a rule.
#[derive(Debug, Serialize)]
pub struct ParamSpec {
    /// Name, with its unit (`max_access_key_age_days`).
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// Default when the baseline does not set it.
    pub default: &'static str,
    /// What it means.
    pub doc: &'static str,
}

/// The type of a parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// A whole number.
    Integer,
    /// true / false.
    Boolean,
    /// A list of whole numbers.
    IntegerList,
    /// A list of strings (default written comma-separated).
    StringList,
}

/// What a rule concluded about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Pass, Fail, Error or NotApplicable.
    pub status: Status,
    /// One line: why.
    pub reason: String,
    /// The fields and values decided on.
    pub evidence: Evidence,
}

impl Outcome {
    /// A pass.
    pub fn pass(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Pass,
            reason: reason.into(),
            evidence: Evidence::new(),
        }
    }

    /// A failure.
    pub fn fail(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Fail,
            reason: reason.into(),
            evidence: Evidence::new(),
        }
    }

    /// Not applicable to this subject.
    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Self {
            status: Status::NotApplicable,
            reason: reason.into(),
            evidence: Evidence::new(),
        }
    }

    /// Could not decide.
    pub fn error(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Error,
            reason: reason.into(),
            evidence: Evidence::new(),
        }
    }

    /// Could not decide because `what` was not collected.
    pub fn unavailable(what: &str, why: &Unavailable) -> Self {
        Self::error(format!("{what} could not be collected: {why}"))
            .with("unavailable", serde_json::to_value(why).unwrap_or_default())
    }

    /// Adds one piece of evidence.
    pub fn with(mut self, field: &str, value: impl Serialize) -> Self {
        self.evidence.insert(
            field.to_owned(),
            serde_json::to_value(value).unwrap_or_default(),
        );
        self
    }
}

/// A rule: a pure function from one subject resource (and the rest of the snapshot) to an
/// outcome.
pub trait Rule: Sync {
    /// Static description.
    fn meta(&self) -> &'static RuleMeta;

    /// Evaluates one subject of kind `meta().subject`.
    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome;

    /// Evaluates every subject of one evaluation that passed the evaluator's pre-checks (PHI
    /// scope, failed list calls, uncollected inputs), in one call: one outcome per subject,
    /// in the same order. The evaluator calls it once per rule per evaluated index (one
    /// account, or a whole snapshot, whose subjects may then span several accounts).
    ///
    /// The default asks [`Rule::check`] for each subject. A rule whose cost is per call
    /// rather than per subject (a Rego rule, which builds its input once) overrides it. An
    /// answer with fewer outcomes than subjects leaves the rest `Error`, never `Pass`.
    fn check_all(&self, subjects: &[&Resource], ctx: &Ctx<'_>) -> Vec<Outcome> {
        subjects.iter().map(|s| self.check(s, ctx)).collect()
    }
}

/// What a rule can see while it runs.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The whole snapshot, indexed.
    pub index: &'a SnapshotIndex<'a>,
    /// The rule's parameters from the baseline (or defaults).
    pub params: &'a Params,
    /// The evaluation time.
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    /// An integer parameter. The baseline loader has already checked names and types
    /// against the rule's `ParamSpec`s, and filled in defaults.
    pub fn int(&self, name: &str) -> i64 {
        self.params.int(name)
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> bool {
        self.params.bool(name)
    }

    /// A list-of-integers parameter.
    pub fn ints(&self, name: &str) -> Vec<i64> {
        self.params.ints(name)
    }

    /// A list-of-strings parameter.
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.params.strings(name)
    }

    /// Resources of `kind` in the given account and region.
    pub fn resources(
        &self,
        kind: ResourceKind,
        account: &AccountId,
        region: &Region,
    ) -> impl Iterator<Item = &Resource> + '_ {
        self.index.in_scope(kind, account, region)
    }

    /// List-level gaps for `operation` anywhere in `account`.
    pub fn gaps_in_account<'r>(
        &'r self,
        account: &'r AccountId,
        operation: &'r str,
    ) -> impl Iterator<Item = &'r Gap> + 'r {
        self.index
            .list_gaps_in(account)
            .iter()
            .copied()
            .filter(move |g| g.operation == operation)
    }
}

/// Turns an `Observed` field into a value or an `Error` outcome; rules use it as
/// `let enc = try_observed!(bucket.encryption, "default encryption");`.
#[macro_export]
macro_rules! try_observed {
    ($field:expr, $what:expr) => {
        match $field.get() {
            Ok(value) => value,
            Err(why) => return $crate::Outcome::unavailable($what, why),
        }
    };
}
