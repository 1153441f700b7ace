//! `s3_bucket_tls_only`: the bucket policy denies every request not made over TLS.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use crate::policy::{BaseOperator, Effect, Policy};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketTlsOnly;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_tls_only",
    title: "S3 bucket policy denies requests not made over TLS",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "S3 accepts plain HTTP unless the bucket policy denies it; ePHI read or written \
                over HTTP crosses the network unencrypted (transmission security, \
                164.312(e)(1) and 164.312(e)(2)(ii)).",
    remediation: "Add a bucket policy statement (PutBucketPolicy, or S3 console > bucket > \
                  Permissions > Bucket policy) with Effect Deny, Principal \"*\", Action \"s3:*\", \
                  Resource the bucket ARN and arn:aws:s3:::BUCKET/*, and Condition \
                  {\"Bool\": {\"aws:SecureTransport\": \"false\"}}; optionally a second Deny with \
                  {\"NumericLessThan\": {\"s3:TlsVersion\": \"1.2\"}}.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketPolicy"],
    params: &[],
};

impl Rule for S3BucketTlsOnly {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let Some(document) = try_observed!(bucket.policy, "bucket policy") else {
            return Outcome::fail("the bucket has no policy, so plain-HTTP requests are allowed")
                .with("bucket_policy", "absent")
                .with("secure_transport_deny", None::<&str>);
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the bucket policy cannot be read: {why}"))
                    .with("bucket_policy", "malformed");
            }
        };
        // ePHI lives in the objects: a deny on the bucket ARN alone leaves GetObject and
        // PutObject over plain HTTP allowed, so the objects must be covered.
        let objects_arn = format!("{}/*", subject.arn.as_str());
        let denial = policy.insecure_transport_denial("s3:*", &objects_arn);
        let tls_version = min_tls_version(&policy);
        let rejected: Vec<Value> = denial.rejected.iter().map(|r| r.evidence()).collect();

        let outcome = match denial.enforced_by {
            Some(stmt) => Outcome::pass(format!(
                "statement {} denies all S3 actions to everyone when aws:SecureTransport is false",
                stmt.label()
            ))
            .with("secure_transport_deny", stmt.label())
            .with("statement_index", stmt.index)
            .with("resources", stmt.resources.evidence("Resource")),
            None if rejected.is_empty() => Outcome::fail(
                "the bucket policy has no statement denying requests without aws:SecureTransport",
            )
            .with("secure_transport_deny", None::<&str>),
            None => Outcome::fail(
                "no bucket policy statement denies every non-TLS request (see rejected_statements)",
            )
            .with("secure_transport_deny", None::<&str>)
            .with("rejected_statements", rejected),
        };
        outcome
            .with("bucket_policy", "present")
            .with("tls_version_deny_below", tls_version)
    }
}

/// The version below which a `Deny` statement rejects requests by `s3:TlsVersion`, if any.
fn min_tls_version(policy: &Policy) -> Option<&str> {
    policy
        .statements()
        .iter()
        .filter(|s| s.effect == Effect::Deny)
        .flat_map(|s| s.conditions.iter())
        .find(|c| {
            c.operator.base == BaseOperator::NumericLessThan
                && !c.operator.if_exists
                && c.operator.set.is_none()
                && c.is_key("s3:TlsVersion")
        })
        .and_then(|c| c.values.first())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::s3::fixtures::policy;
    use crate::testing::*;

    fn deny_http(resource: Value, condition: Value) -> Value {
        json!({
            "Sid": "DenyHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resource,
            "Condition": condition
        })
    }

    fn with_statement(stmt: Value) -> Resource {
        let mut b = bucket("phi");
        b.policy = policy(stmt);
        bucket_resource(b)
    }

    #[test]
    fn pass_with_secure_transport_deny() {
        let o = expect(
            run(
                &S3BucketTlsOnly,
                &with_statement(deny_http(
                    json!(["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"]),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                )),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["secure_transport_deny"], "DenyHttp");
        assert_eq!(o.evidence["tls_version_deny_below"], Value::Null);
    }

    #[test]
    fn secure_transport_deny_on_bucket_arn_only_fails() {
        // Object requests are not covered by a deny on the bucket ARN alone.
        let o = run(
            &S3BucketTlsOnly,
            &with_statement(deny_http(
                json!("arn:aws:s3:::phi"),
                json!({"Bool": {"aws:SecureTransport": "false"}}),
            )),
            &[],
        );
        let o = expect(o, Status::Fail);
        assert!(o.reason.contains("see rejected_statements"), "{}", o.reason);
        assert_evidence(
            &o,
            "rejected_statements",
            json!([{
                "statement": "DenyHttp",
                "problem": "Resource does not cover arn:aws:s3:::phi/*"
            }]),
        );
        assert_evidence(&o, "secure_transport_deny", json!(null));
    }

    #[test]
    fn secure_transport_deny_on_objects_only_passes() {
        let o = expect(
            run(
                &S3BucketTlsOnly,
                &with_statement(deny_http(
                    json!("arn:aws:s3:::phi/*"),
                    json!({"BoolIfExists": {"aws:securetransport": false}}),
                )),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("statement DenyHttp"), "{}", o.reason);
        assert_evidence(&o, "secure_transport_deny", json!("DenyHttp"));
    }

    #[test]
    fn pass_with_aws_principal_wildcard_action_and_resource() {
        let mut stmt = deny_http(
            json!("*"),
            json!({"Bool": {"aws:SecureTransport": ["false"]}}),
        );
        stmt["Principal"] = json!({"AWS": "*"});
        stmt["Action"] = json!(["*"]);
        let o = expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "secure_transport_deny", json!("DenyHttp"));
        assert_evidence(&o, "resources", json!({"Resource": ["*"]}));
    }

    #[test]
    fn deny_action_boundary_star_and_s3_star_pass_a_narrower_wildcard_fails() {
        for action in ["*", "s3:*", "S3:*"] {
            let mut stmt = deny_http(
                json!("arn:aws:s3:::phi/*"),
                json!({"Bool": {"aws:SecureTransport": "false"}}),
            );
            stmt["Action"] = json!(action);
            let o = expect(
                run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
                Status::Pass,
            );
            assert_evidence(&o, "secure_transport_deny", json!("DenyHttp"));
        }
        for action in ["s3:Get*", "s3:*Object", "ec2:*"] {
            let mut stmt = deny_http(
                json!("arn:aws:s3:::phi/*"),
                json!({"Bool": {"aws:SecureTransport": "false"}}),
            );
            stmt["Action"] = json!(action);
            let o = expect(
                run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
                Status::Fail,
            );
            assert_evidence(
                &o,
                "rejected_statements",
                json!([{
                    "statement": "DenyHttp",
                    "problem": "Action does not cover every action (s3:* or *)"
                }]),
            );
        }
    }

    #[test]
    fn deny_principal_must_be_everyone() {
        let mut stmt = deny_http(
            json!("arn:aws:s3:::phi/*"),
            json!({"Bool": {"aws:SecureTransport": "false"}}),
        );
        stmt["Principal"] = json!({"AWS": "arn:aws:iam::111122223333:root"});
        let o = expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "rejected_statements",
            json!([{"statement": "DenyHttp", "problem": "Principal is not \"*\""}]),
        );
    }

    #[test]
    fn tls_version_deny_is_reported_as_an_extra() {
        let mut b = bucket("phi");
        b.policy = posture_model::Observed::Collected(json!({
            "Statement": [
                deny_http(json!("arn:aws:s3:::phi/*"), json!({"Bool": {"aws:SecureTransport": "false"}})),
                deny_http(json!("arn:aws:s3:::phi/*"), json!({"NumericLessThan": {"s3:TlsVersion": "1.2"}})),
            ]
        }));
        let o = expect(
            run(&S3BucketTlsOnly, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["tls_version_deny_below"], "1.2");
    }

    #[test]
    fn tls_version_deny_alone_does_not_pass() {
        let o = expect(
            run(
                &S3BucketTlsOnly,
                &with_statement(deny_http(
                    json!("arn:aws:s3:::phi/*"),
                    json!({"NumericLessThan": {"s3:TlsVersion": 1.2}}),
                )),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["tls_version_deny_below"], "1.2");
    }

    #[test]
    fn secure_transport_anded_with_tls_version_does_not_pass() {
        let o = expect(
            run(
                &S3BucketTlsOnly,
                &with_statement(deny_http(
                    json!("arn:aws:s3:::phi/*"),
                    json!({
                        "Bool": {"aws:SecureTransport": "false"},
                        "NumericLessThan": {"s3:TlsVersion": "1.2"}
                    }),
                )),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["rejected_statements"][0]["statement"],
            "DenyHttp"
        );
    }

    #[test]
    fn fail_when_deny_covers_only_some_actions() {
        let mut stmt = deny_http(
            json!("arn:aws:s3:::phi/*"),
            json!({"Bool": {"aws:SecureTransport": "false"}}),
        );
        stmt["Action"] = json!("s3:GetObject");
        let o = expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Fail,
        );
        assert!(
            o.evidence["rejected_statements"][0]["problem"]
                .as_str()
                .is_some_and(|p| p.contains("Action")),
            "{:?}",
            o.evidence
        );
    }

    #[test]
    fn fail_when_deny_is_for_another_bucket() {
        let o = expect(
            run(
                &S3BucketTlsOnly,
                &with_statement(deny_http(
                    json!("arn:aws:s3:::other/*"),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                )),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["rejected_statements"][0]["problem"],
            "Resource does not cover arn:aws:s3:::phi/*"
        );
    }

    #[test]
    fn fail_when_secure_transport_true_is_allowed_instead() {
        let mut stmt = deny_http(
            json!("arn:aws:s3:::phi/*"),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
        );
        stmt["Effect"] = json!("Allow");
        let o = expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "rejected_statements",
            json!([{"statement": "DenyHttp", "problem": "Effect is not Deny"}]),
        );
        assert_evidence(&o, "bucket_policy", json!("present"));
    }

    #[test]
    fn fail_without_policy() {
        let o = expect(
            run(&S3BucketTlsOnly, &bucket_resource(bucket("phi")), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no policy"), "{}", o.reason);
        assert_eq!(o.evidence["bucket_policy"], "absent");
    }

    #[test]
    fn error_when_policy_denied() {
        let mut b = bucket("phi");
        b.policy = denied("s3:GetBucketPolicy");
        let o = expect(
            run(&S3BucketTlsOnly, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketPolicy"), "{}", o.reason);
    }

    #[test]
    fn secure_transport_deny_on_objects_arn_makes_bucket_compliant() {
        // Other tools demand the bucket ARN too; object requests are what carry ePHI, and
        // bucket-level calls hold no object data.
        let o = expect(
            run(
                &S3BucketTlsOnly,
                &with_statement(deny_http(
                    json!("arn:aws:s3:::phi/*"),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                )),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["secure_transport_deny"], "DenyHttp");
        assert_eq!(o.evidence["statement_index"], 0);
        assert_eq!(
            o.evidence["resources"],
            json!({"Resource": ["arn:aws:s3:::phi/*"]})
        );
    }

    #[test]
    fn deny_with_not_action_excluding_other_services_passes() {
        let mut stmt = deny_http(
            json!("arn:aws:s3:::phi/*"),
            json!({"Bool": {"aws:SecureTransport": "false"}}),
        );
        stmt.as_object_mut().map(|s| s.remove("Action"));
        stmt["NotAction"] = json!("ec2:*");
        let o = expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "secure_transport_deny", json!("DenyHttp"));
    }

    #[test]
    fn error_when_policy_is_malformed() {
        let mut b = bucket("phi");
        b.policy = posture_model::Observed::Collected(json!({"Statement": [{"Effect": "Deny"}]}));
        let o = expect(
            run(&S3BucketTlsOnly, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("Action"), "{}", o.reason);
        assert_eq!(o.evidence["bucket_policy"], "malformed");
    }
}
