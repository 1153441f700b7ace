//! `s3_bucket_tls_only`: the bucket policy denies every request not made over TLS.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use super::public_access::{
    effect_is, glob, principal_is_everyone, statement_label, statements, strings,
};
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
        let Some(policy) = try_observed!(bucket.policy, "bucket policy") else {
            return Outcome::fail("the bucket has no policy, so plain-HTTP requests are allowed")
                .with("bucket_policy", "absent")
                .with("secure_transport_deny", None::<&str>);
        };
        let bucket_arn = subject.arn.as_str();
        let objects_arn = format!("{bucket_arn}/*");
        let stmts = statements(policy);

        let mut rejected = Vec::new();
        let mut found = None;
        for (i, stmt) in stmts.iter().enumerate() {
            if !mentions(stmt, "aws:SecureTransport") {
                continue;
            }
            match secure_transport_deny(stmt, &objects_arn) {
                Ok(()) => {
                    found = Some((statement_label(stmt, i), stmt));
                    break;
                }
                Err(problem) => rejected.push(json!({
                    "statement": statement_label(stmt, i),
                    "problem": problem,
                })),
            }
        }
        let tls_version = stmts.iter().find_map(|s| min_tls_version(s));

        let outcome = match found {
            Some((label, stmt)) => Outcome::pass(format!(
                "statement {label} denies all S3 actions to everyone when aws:SecureTransport is false"
            ))
            .with("secure_transport_deny", label)
            .with("resources", strings(stmt.get("Resource"))),
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

/// Whether the statement's `Condition` mentions `key` (case-insensitive) under any operator.
fn mentions(stmt: &Value, key: &str) -> bool {
    stmt.get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|ops| {
            ops.values()
                .filter_map(Value::as_object)
                .any(|keys| keys.keys().any(|k| k.eq_ignore_ascii_case(key)))
        })
}

/// Why a statement with extra condition operators or keys does not count.
const NARROWED: &str =
    "Condition tests something besides aws:SecureTransport, which narrows the deny";

/// Checks that `stmt` denies every S3 request from everyone to the bucket or its objects
/// whenever the request is not over TLS; otherwise says which requirement it misses.
fn secure_transport_deny(stmt: &Value, objects_arn: &str) -> Result<(), &'static str> {
    if !effect_is(stmt, "Deny") {
        return Err("Effect is not Deny");
    }
    if !principal_is_everyone(stmt) {
        return Err("Principal is not \"*\"");
    }
    if !strings(stmt.get("Action"))
        .iter()
        .any(|a| glob(a, "s3:*", true))
    {
        return Err("Action does not cover every S3 action (s3:* or *)");
    }
    // ePHI lives in the objects: a deny on the bucket ARN alone leaves GetObject and
    // PutObject over plain HTTP allowed, so the objects must be covered.
    if !strings(stmt.get("Resource"))
        .iter()
        .any(|r| glob(r, objects_arn, false))
    {
        return Err("Resource does not cover the bucket's objects (arn:aws:s3:::BUCKET/*)");
    }
    // Condition operators and keys are ANDed: anything besides aws:SecureTransport narrows
    // the deny (for example, adding s3:TlsVersion exempts plain HTTP, which has no TLS version).
    let Some(ops) = stmt.get("Condition").and_then(Value::as_object) else {
        return Err("Condition is not an object");
    };
    let mut op_entries = ops.iter();
    let (Some((op, keys)), None) = (op_entries.next(), op_entries.next()) else {
        return Err(NARROWED);
    };
    if !(op.eq_ignore_ascii_case("Bool") || op.eq_ignore_ascii_case("BoolIfExists")) {
        return Err("aws:SecureTransport is not tested with Bool or BoolIfExists");
    }
    let mut key_entries = keys.as_object().into_iter().flatten();
    let (Some((key, value)), None) = (key_entries.next(), key_entries.next()) else {
        return Err(NARROWED);
    };
    if !key.eq_ignore_ascii_case("aws:SecureTransport") {
        return Err(NARROWED);
    }
    let is_false = |v: &Value| match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.eq_ignore_ascii_case("false"),
        _ => false,
    };
    let matches_false = match value {
        Value::Array(items) => items.iter().any(is_false),
        other => is_false(other),
    };
    if matches_false {
        Ok(())
    } else {
        Err("aws:SecureTransport is not compared with false")
    }
}

/// The version below which a `Deny` statement rejects requests by `s3:TlsVersion`, if any.
fn min_tls_version(stmt: &Value) -> Option<String> {
    if !effect_is(stmt, "Deny") {
        return None;
    }
    let ops = stmt.get("Condition")?.as_object()?;
    ops.iter()
        .filter(|(op, _)| op.eq_ignore_ascii_case("NumericLessThan"))
        .filter_map(|(_, keys)| keys.as_object())
        .flat_map(|keys| keys.iter())
        .find(|(k, _)| k.eq_ignore_ascii_case("s3:TlsVersion"))
        .map(|(_, v)| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::s3::fixtures::{not_a_bucket, policy};
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
        expect(o, Status::Fail);
    }

    #[test]
    fn secure_transport_deny_on_objects_only_passes() {
        expect(
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
    }

    #[test]
    fn pass_with_aws_principal_wildcard_action_and_resource() {
        let mut stmt = deny_http(
            json!("*"),
            json!({"Bool": {"aws:SecureTransport": ["false"]}}),
        );
        stmt["Principal"] = json!({"AWS": "*"});
        stmt["Action"] = json!(["*"]);
        expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Pass,
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
        expect(
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
    }

    #[test]
    fn fail_when_secure_transport_true_is_allowed_instead() {
        let mut stmt = deny_http(
            json!("arn:aws:s3:::phi/*"),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
        );
        stmt["Effect"] = json!("Allow");
        expect(
            run(&S3BucketTlsOnly, &with_statement(stmt), &[]),
            Status::Fail,
        );
    }

    #[test]
    fn fail_without_policy() {
        let o = expect(
            run(&S3BucketTlsOnly, &bucket_resource(bucket("phi")), &[]),
            Status::Fail,
        );
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
    fn not_applicable_to_other_kinds() {
        expect(
            run(&S3BucketTlsOnly, &not_a_bucket(), &[]),
            Status::NotApplicable,
        );
    }
}
