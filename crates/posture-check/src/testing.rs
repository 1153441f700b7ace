//! Fixtures for rule tests: small, typed resources and a one-call runner.
//!
//! Nothing here counts as collected unless a rule declares it: [`run`] records exactly the
//! rule's [`RuleMeta::input_services`](crate::RuleMeta::input_services) as collected where
//! the fixture's resources live, and fails the test when the rule reads a service it does
//! not declare in `api_calls`.

use chrono::{DateTime, TimeZone, Utc};
use posture_model::resources::*;
use std::collections::BTreeSet;

use posture_model::{
    AccountId, Arn, CollectionRecord, Coverage, Finding, Gap, Observed, Region, Resource,
    ResourceBody, Status, Unavailable, UnavailableKind,
};

use crate::{Baseline, Ctx, Input, Outcome, Params, PhiScope, Rule, SnapshotIndex};

/// The account every fixture lives in.
pub fn account() -> AccountId {
    AccountId::new("111122223333").expect("valid")
}

/// The region every regional fixture lives in.
pub fn region() -> Region {
    Region::new("us-east-1").expect("valid")
}

/// A fixed evaluation time: 2026-06-01T00:00:00Z.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// `now()` minus `days`.
pub fn days_ago(days: i64) -> DateTime<Utc> {
    now() - chrono::Duration::days(days)
}

/// An `Unavailable` value as an access-denied lookup produces it.
pub fn denied<T>(operation: &str) -> Observed<T> {
    Observed::Unavailable(Unavailable {
        kind: UnavailableKind::Denied,
        operation: operation.to_owned(),
        code: Some("AccessDenied".to_owned()),
        message: "not authorized".to_owned(),
    })
}

/// Wraps a body into a resource in the fixture account; `region` may be `global`.
pub fn resource(arn: &str, region: Region, body: ResourceBody) -> Resource {
    Resource {
        arn: Arn::new(arn).expect("fixture ARN is valid"),
        account: account(),
        region,
        tags: Observed::Collected(Default::default()),
        body,
    }
}

/// A list-level gap for `operation` in the fixture account and `region`.
pub fn list_gap(operation: &str, region: Region) -> Gap {
    Gap {
        account: account(),
        region,
        service: operation.split(':').next().unwrap_or_default().to_owned(),
        operation: operation.to_owned(),
        resource: None,
        kind: UnavailableKind::Unsupported,
        code: Some("InternalFailure".to_owned()),
        message: "not implemented".to_owned(),
    }
}

/// Runs `rule` on `subject` with the rule's default parameters and `others` in the snapshot.
pub fn run(rule: &dyn Rule, subject: &Resource, others: &[Resource]) -> Outcome {
    run_with(rule, subject, others, &Params::defaults(rule))
}

/// Runs `rule` on `subject` with explicit parameters, and the rule's declared inputs
/// collected where the fixture lives ([`declared_coverage`]).
pub fn run_with(
    rule: &dyn Rule,
    subject: &Resource,
    others: &[Resource],
    params: &Params,
) -> Outcome {
    let mut all = vec![subject.clone()];
    all.extend_from_slice(others);
    let coverage = declared_coverage(&[rule], &all);
    run_covered(rule, subject, &all, params, &coverage)
}

/// Runs `rule` on `subject` (one of `all`) over `coverage` as the evaluator does: `Error`
/// without calling the rule when a declared input was not collected where the subject
/// needs it, else the rule's answer.
///
/// Panics when, at its default parameters, the rule looked up the data of a service it does
/// not declare in `api_calls` (an undeclared input: its absence would go unnoticed). A
/// parameter may switch on an optional lookup (a customer-managed-key requirement reads
/// KMS keys), which the rule must then treat as unknown where it finds nothing.
#[track_caller]
pub fn run_covered(
    rule: &dyn Rule,
    subject: &Resource,
    all: &[Resource],
    params: &Params,
    coverage: &Coverage,
) -> Outcome {
    let meta = rule.meta();
    let index = SnapshotIndex::new(all, coverage);
    let inputs = meta.input_services();
    let missing = crate::evaluate::uncollected_inputs(&inputs, subject, &index);
    if !missing.is_empty() {
        return crate::evaluate::not_collected_outcome(subject, &missing);
    }
    let ctx = Ctx {
        index: &index,
        params,
        now: now(),
    };
    let outcome = rule.check(subject, &ctx);
    if *params != Params::defaults(rule) {
        return outcome;
    }
    let undeclared: Vec<String> = index
        .reads()
        .into_iter()
        .filter(|s| s != "posture" && !inputs.contains(&s.as_str()))
        .collect();
    assert!(
        undeclared.is_empty(),
        "{} reads {undeclared:?} but its api_calls declare only {inputs:?}",
        meta.id
    );
    outcome
}

/// A coverage record in which exactly the declared inputs of `rules` were collected, in
/// the fixture account and region, in `global`, and in every other (account, region) that
/// one of `resources` lives in; nothing else was collected and nothing failed.
pub fn declared_coverage(rules: &[&dyn Rule], resources: &[Resource]) -> Coverage {
    let services: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.meta().input_services())
        .collect();
    let mut scopes: BTreeSet<(AccountId, Region)> = BTreeSet::new();
    scopes.insert((account(), region()));
    for r in resources {
        scopes.insert((r.account.clone(), r.region.clone()));
    }
    let accounts: BTreeSet<AccountId> = scopes.iter().map(|(a, _)| a.clone()).collect();
    scopes.extend(accounts.into_iter().map(|a| (a, Region::global())));
    let mut collected = Vec::new();
    for (account, region) in &scopes {
        for service in &services {
            collected.push(CollectionRecord {
                account: account.clone(),
                region: region.clone(),
                service: (*service).to_owned(),
                resources: 0,
                complete: true,
            });
        }
    }
    Coverage {
        collected,
        ..Coverage::default()
    }
}

/// Evaluates `baseline` over `resources` with no waivers, no attestations and the default
/// PHI scope, and returns the findings. When `coverage` records no collection, the
/// baseline rules' declared inputs count as collected where the resources live (see
/// [`declared_coverage`]); its failed calls are kept.
pub fn evaluate(
    resources: &[Resource],
    coverage: &Coverage,
    baseline: &Baseline,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut covered;
    let coverage = if coverage.collected.is_empty() {
        let rules: Vec<&dyn Rule> = baseline.rules.iter().map(|e| e.rule).collect();
        covered = declared_coverage(&rules, resources);
        covered.failed = coverage.failed.clone();
        &covered
    } else {
        coverage
    };
    crate::evaluate(&Input {
        resources,
        coverage,
        baseline,
        waivers: None,
        attestations: None,
        phi: &PhiScope::default(),
        now,
    })
    .findings
}

/// A baseline that includes only `rule`, at its default parameters.
pub fn baseline_of(rule: &dyn Rule) -> Baseline {
    let toml = format!(
        "name = \"t\"\nversion = \"1\"\n[[citations]]\nid = \"t\"\ntitle = \"t\"\nrules = [\"{}\"]\n",
        rule.meta().id
    );
    Baseline::from_toml("test.toml", &toml).expect("valid baseline")
}

/// Asserts the status and returns the outcome for further checks on reason and evidence.
#[track_caller]
pub fn expect(outcome: Outcome, status: Status) -> Outcome {
    assert_eq!(outcome.status, status, "unexpected outcome: {outcome:?}");
    assert!(!outcome.reason.is_empty(), "every outcome carries a reason");
    outcome
}

/// A bucket with every setting absent.
pub fn bucket(name: &str) -> S3Bucket {
    S3Bucket {
        name: name.to_owned(),
        creation_date: None,
        encryption: Observed::Absent,
        public_access_block: Observed::Absent,
        policy: Observed::Absent,
        acl: Observed::Collected(BucketAcl {
            owner_id: Some("owner".into()),
            grants: vec![],
        }),
        versioning: Observed::Collected(BucketVersioning {
            status: None,
            mfa_delete: None,
        }),
        object_lock: Observed::Absent,
        logging: Observed::Absent,
        replication: Observed::Absent,
        object_ownership: Observed::Absent,
        lifecycle: Observed::Absent,
        notifications: Observed::Collected(BucketNotifications {
            topics: vec![],
            queues: vec![],
            lambda_functions: vec![],
            event_bridge: false,
        }),
    }
}

/// A bucket resource.
pub fn bucket_resource(b: S3Bucket) -> Resource {
    resource(
        &format!("arn:aws:s3:::{}", b.name),
        region(),
        ResourceBody::S3Bucket(b),
    )
}

/// Asserts that the evidence field `field` of `outcome` equals `expected`, showing the whole
/// outcome when it does not.
#[track_caller]
pub fn assert_evidence(outcome: &Outcome, field: &str, expected: serde_json::Value) {
    assert_eq!(
        outcome.evidence.get(field),
        Some(&expected),
        "evidence `{field}` of {outcome:?}"
    );
}
