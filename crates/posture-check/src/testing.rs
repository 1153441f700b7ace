//! Fixtures for rule tests: small, typed resources and a one-call runner.

use chrono::{DateTime, TimeZone, Utc};
use posture_model::resources::*;
use posture_model::{
    AccountId, Arn, Coverage, Finding, Gap, Observed, Region, Resource, ResourceBody, Status,
    Unavailable, UnavailableKind,
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

/// Runs `rule` on `subject` with explicit parameters.
pub fn run_with(
    rule: &dyn Rule,
    subject: &Resource,
    others: &[Resource],
    params: &Params,
) -> Outcome {
    let mut all = vec![subject.clone()];
    all.extend_from_slice(others);
    let coverage = Coverage::default();
    let index = SnapshotIndex::new(&all, &coverage);
    let ctx = Ctx {
        index: &index,
        params,
        now: now(),
    };
    rule.check(subject, &ctx)
}

/// Evaluates `baseline` over `resources` with no waivers, no attestations and the default
/// PHI scope, and returns the findings.
pub fn evaluate(
    resources: &[Resource],
    coverage: &Coverage,
    baseline: &Baseline,
    now: DateTime<Utc>,
) -> Vec<Finding> {
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
