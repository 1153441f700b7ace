//! `s3_bucket_versioned_lifecycle`: a versioned bucket has an enabled lifecycle rule that
//! manages noncurrent versions (expires them, or transitions them to another storage class).
//!
//! Versioning `Enabled` or `Suspended` counts as versioned (a suspended bucket keeps its
//! noncurrent versions); a bucket never versioned is not applicable. Versioning that could
//! not be read is `Error`, never `Pass`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketVersionedLifecycle;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_versioned_lifecycle",
    title: "Versioned S3 bucket has a lifecycle rule for noncurrent versions",
    severity: Severity::Low,
    subject: ResourceKind::S3Bucket,
    rationale: "Versioning keeps every overwritten or deleted copy of ePHI; without a lifecycle \
                rule for noncurrent versions they accumulate with no retention decision, which \
                undermines a deliberate backup and retention plan (164.308(a)(7)(ii)(A)) and \
                the controlled disposal of media holding ePHI (164.310(d)(2)(iv)).",
    remediation: "Add a lifecycle rule with NoncurrentVersionExpiration (and, if wanted, \
                  NoncurrentVersionTransitions) sized to the retention policy \
                  (PutBucketLifecycleConfiguration, or S3 console > bucket > Management > \
                  Lifecycle rules), and make sure it is Enabled.",
    api_calls: &[
        "s3:ListBuckets",
        "s3:GetBucketVersioning",
        "s3:GetBucketLifecycleConfiguration",
    ],
    params: &[],
};

impl Rule for S3BucketVersionedLifecycle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let versioning = try_observed!(bucket.versioning, "the bucket's versioning");
        let status = versioning.and_then(|v| v.status.as_deref());
        let Some(status @ ("Enabled" | "Suspended")) = status else {
            return Outcome::not_applicable("the bucket has never been versioned")
                .with("versioning_status", status.unwrap_or("never enabled"));
        };
        let rules = try_observed!(bucket.lifecycle, "the bucket's lifecycle configuration");
        let rules = rules.map(Vec::as_slice).unwrap_or_default();
        let managing_rules: Vec<_> = rules
            .iter()
            .filter(|r| {
                r.status == "Enabled"
                    && (r.noncurrent_expiration_days.is_some()
                        || !r.noncurrent_transitions.is_empty())
            })
            .collect();
        let managing: Vec<_> = managing_rules
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "filter": r.filter,
                    "noncurrent_expiration_days": r.noncurrent_expiration_days,
                    "noncurrent_transitions": r.noncurrent_transitions,
                })
            })
            .collect();
        // A rule with a filter (prefix, tags, size) leaves the rest of the bucket's
        // noncurrent versions to pile up.
        let whole_bucket = managing_rules.iter().any(|r| r.filter.is_none());
        let outcome = if whole_bucket {
            Outcome::pass(format!(
                "versioning is {status} and {} enabled lifecycle rule(s) manage noncurrent \
                 versions",
                managing.len()
            ))
        } else if !managing_rules.is_empty() {
            let filters: Vec<&str> = managing_rules
                .iter()
                .filter_map(|r| r.filter.as_deref())
                .collect();
            Outcome::fail(format!(
                "versioning is {status} but noncurrent versions are managed only for part of \
                 the bucket ({})",
                filters.join("; ")
            ))
        } else if rules.is_empty() {
            Outcome::fail(format!(
                "versioning is {status} but the bucket has no lifecycle rules"
            ))
        } else {
            Outcome::fail(format!(
                "versioning is {status} but none of the bucket's {} lifecycle rule(s) is \
                 enabled and expires or transitions noncurrent versions",
                rules.len()
            ))
        };
        outcome
            .with("versioning_status", status)
            .with("lifecycle_rules", rules.len())
            .with("noncurrent_version_rules", managing)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{BucketVersioning, LifecycleRule};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn versioned(status: Option<&str>, lifecycle: Observed<Vec<LifecycleRule>>) -> Resource {
        let mut b = bucket("phi");
        b.versioning = Observed::Collected(BucketVersioning {
            status: status.map(Into::into),
            mfa_delete: None,
        });
        b.lifecycle = lifecycle;
        bucket_resource(b)
    }

    fn rule(status: &str, expire: Option<i32>) -> LifecycleRule {
        LifecycleRule {
            id: Some("noncurrent".into()),
            status: status.into(),
            noncurrent_expiration_days: expire,
            noncurrent_transitions: vec![],
            filter: None,
        }
    }

    #[test]
    fn fail_when_only_a_prefix_is_managed() {
        let mut r = rule("Enabled", Some(30));
        r.filter = Some("prefix logs/".into());
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(Some("Enabled"), Observed::Collected(vec![r])),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("only for part of the bucket (prefix logs/)"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["noncurrent_version_rules"][0]["filter"],
            "prefix logs/"
        );
    }

    #[test]
    fn pass_with_noncurrent_expiration() {
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(
                    Some("Enabled"),
                    Observed::Collected(vec![rule("Enabled", Some(365))]),
                ),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["noncurrent_version_rules"][0]["noncurrent_expiration_days"],
            365
        );
    }

    #[test]
    fn pass_with_noncurrent_transition_when_suspended() {
        let mut r = rule("Enabled", None);
        r.noncurrent_transitions = vec![(Some(30), "GLACIER".into())];
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(Some("Suspended"), Observed::Collected(vec![r])),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["versioning_status"], "Suspended");
    }

    #[test]
    fn fail_without_lifecycle_or_with_a_disabled_rule() {
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(Some("Enabled"), Observed::Absent),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("no lifecycle rules"), "{}", o.reason);
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(
                    Some("Enabled"),
                    Observed::Collected(vec![rule("Disabled", Some(30)), rule("Enabled", None)]),
                ),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["lifecycle_rules"], 2);
    }

    #[test]
    fn not_applicable_when_never_versioned() {
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(None, Observed::Absent),
                &[],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["versioning_status"], "never enabled");
    }

    #[test]
    fn error_when_versioning_or_lifecycle_unavailable() {
        let mut b = bucket("phi");
        b.versioning = denied("s3:GetBucketVersioning");
        b.lifecycle = Observed::Collected(vec![rule("Enabled", Some(1))]);
        let o = expect(
            run(&S3BucketVersionedLifecycle, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketVersioning"), "{}", o.reason);
        let o = expect(
            run(
                &S3BucketVersionedLifecycle,
                &versioned(
                    Some("Enabled"),
                    denied("s3:GetBucketLifecycleConfiguration"),
                ),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("lifecycle"), "{}", o.reason);
    }
}
