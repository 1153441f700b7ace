//! `s3_bucket_no_cross_account_access`: the bucket policy grants nothing to principals
//! outside the bucket's own account and the accounts in `trusted_account_ids` (default
//! none).
//!
//! Read with [`crate::policy::Policy::external_grants`]: an `Allow` to another account (by
//! principal, or by an `aws:PrincipalAccount` condition) counts, and so does a grant to
//! anyone (`Principal "*"`), which reaches every account; a grant to anyone that is pinned
//! to the owner's organization, VPCs, endpoints or IP ranges does not. A `Deny` in the
//! same policy that takes the grant away clears it. No bucket policy grants nothing.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::policy::Policy;
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketNoCrossAccountAccess;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_no_cross_account_access",
    title: "S3 bucket policy grants no access to untrusted accounts",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "A bucket policy statement granting another account (or anyone) access lets \
                principals the organisation does not manage read, change or delete the ePHI in \
                the bucket, outside its own access reviews; access must be authorised, and \
                only to accounts the organisation trusts (164.308(a)(4)(ii)(B)).",
    remediation: "Remove the bucket policy statements that grant other accounts (or \"*\") \
                  access, or limit them with aws:PrincipalOrgID; list accounts that are \
                  trusted on purpose (a business associate's, a log archive) in \
                  trusted_account_ids.",
    api_calls: &["s3:ListBuckets", "s3:GetBucketPolicy"],
    params: &[ParamSpec {
        name: "trusted_account_ids",
        ty: ParamType::IntegerList,
        default: "",
        doc: "Account ids (besides the bucket's own) the bucket policy may grant access to.",
    }],
};

impl Rule for S3BucketNoCrossAccountAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        // Account ids are 12 digits; a TOML integer loses leading zeros.
        let mut trusted: Vec<String> = ctx
            .ints("trusted_account_ids")
            .iter()
            .map(|id| format!("{id:012}"))
            .collect();
        trusted.push(subject.account.as_str().to_owned());
        trusted.sort();
        trusted.dedup();
        let Some(document) = try_observed!(bucket.policy, "bucket policy") else {
            return Outcome::pass("the bucket has no policy, so it grants no other account access")
                .with("bucket_policy", "absent")
                .with("trusted_accounts", &trusted);
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the bucket policy cannot be read: {why}"))
                    .with("bucket_policy", "malformed");
            }
        };
        let refs: Vec<&str> = trusted.iter().map(String::as_str).collect();
        let grants = policy.external_grants(&refs);
        let evidence: Vec<Value> = grants
            .iter()
            .map(|g| {
                json!({
                    "statement": g.statement.label(),
                    "account": g.account.as_deref().unwrap_or("*"),
                })
            })
            .collect();
        let outcome = if grants.is_empty() {
            Outcome::pass("the bucket policy grants no access outside the trusted accounts")
        } else {
            let described: Vec<String> = grants
                .iter()
                .map(|g| match &g.account {
                    Some(a) => format!("statement {} grants account {a}", g.statement.label()),
                    None => format!("statement {} grants anyone", g.statement.label()),
                })
                .collect();
            Outcome::fail(format!(
                "the bucket policy grants access outside the trusted accounts: {}",
                described.join("; ")
            ))
        };
        outcome
            .with("bucket_policy", "present")
            .with("trusted_accounts", &trusted)
            .with("external_grants", evidence)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::s3::fixtures::policy;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    fn with_policy(statement: Value) -> Resource {
        let mut b = bucket("phi");
        b.policy = policy(statement);
        bucket_resource(b)
    }

    fn grant_to(principal: Value) -> Resource {
        with_policy(json!({
            "Sid": "Share", "Effect": "Allow", "Principal": principal,
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"
        }))
    }

    #[test]
    fn pass_without_policy() {
        let o = expect(
            run(
                &S3BucketNoCrossAccountAccess,
                &bucket_resource(bucket("phi")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["bucket_policy"], "absent");
    }

    #[test]
    fn pass_for_own_account() {
        let o = expect(
            run(
                &S3BucketNoCrossAccountAccess,
                &grant_to(json!({"AWS": "arn:aws:iam::111122223333:role/app"})),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "external_grants", json!([]));
        assert_evidence(&o, "trusted_accounts", json!(["111122223333"]));
        assert_evidence(&o, "bucket_policy", json!("present"));
    }

    #[test]
    fn fail_for_other_account() {
        let o = expect(
            run(
                &S3BucketNoCrossAccountAccess,
                &grant_to(json!({"AWS": "arn:aws:iam::444455556666:root"})),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["external_grants"],
            json!([{"statement": "Share", "account": "444455556666"}])
        );
    }

    #[test]
    fn fail_for_public_statement() {
        let o = expect(
            run(&S3BucketNoCrossAccountAccess, &grant_to(json!("*")), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("statement Share grants anyone"),
            "{}",
            o.reason
        );
        assert_evidence(
            &o,
            "external_grants",
            json!([{"statement": "Share", "account": "*"}]),
        );
    }

    #[test]
    fn pass_for_trusted_account() {
        let mut params = Params::defaults(&S3BucketNoCrossAccountAccess);
        params.set(
            "trusted_account_ids",
            ParamValue::IntegerList(vec![444_455_556_666]),
        );
        let o = expect(
            run_with(
                &S3BucketNoCrossAccountAccess,
                &grant_to(json!({"AWS": "444455556666"})),
                &[],
                &params,
            ),
            Status::Pass,
        );
        assert_evidence(
            &o,
            "trusted_accounts",
            json!(["111122223333", "444455556666"]),
        );
        assert_evidence(&o, "external_grants", json!([]));
        // Boundary: the neighbouring account id is not trusted.
        let o = expect(
            run_with(
                &S3BucketNoCrossAccountAccess,
                &grant_to(json!({"AWS": "444455556667"})),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "external_grants",
            json!([{"statement": "Share", "account": "444455556667"}]),
        );
    }

    #[test]
    fn trusted_account_id_keeps_its_leading_zero() {
        // A TOML integer drops the leading zero of 012345678901; the rule pads it back.
        let mut params = Params::defaults(&S3BucketNoCrossAccountAccess);
        params.set(
            "trusted_account_ids",
            ParamValue::IntegerList(vec![12_345_678_901]),
        );
        let o = expect(
            run_with(
                &S3BucketNoCrossAccountAccess,
                &grant_to(json!({"AWS": "arn:aws:iam::012345678901:root"})),
                &[],
                &params,
            ),
            Status::Pass,
        );
        assert_evidence(
            &o,
            "trusted_accounts",
            json!(["012345678901", "111122223333"]),
        );
    }

    #[test]
    fn error_when_policy_unavailable() {
        let mut b = bucket("phi");
        b.policy = denied("s3:GetBucketPolicy");
        let o = expect(
            run(&S3BucketNoCrossAccountAccess, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketPolicy"), "{}", o.reason);
    }

    #[test]
    fn error_when_policy_malformed() {
        let mut b = bucket("phi");
        b.policy = posture_model::Observed::Collected(json!({"Version": "2012-10-17"}));
        let o = expect(
            run(&S3BucketNoCrossAccountAccess, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("bucket policy cannot be read"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "bucket_policy", json!("malformed"));
    }
}
