//! `s3_bucket_policy_no_public_principal`: the bucket policy has no `Allow` to everyone
//! (`Principal "*"`, `{"AWS": "*"}` or `NotPrincipal`) that a condition on who can call does
//! not restrict.
//!
//! The policy is read exactly as `s3_bucket_no_public_read` / `_write` read it (the shared
//! [`super::public_access::policy_exposure`] over the policy evaluator), for any S3 action:
//! `Principal "*"` limited by `aws:PrincipalOrgID`, `aws:SourceVpce`, `aws:SourceAccount`
//! and the other caller-pinning keys is not public; `aws:SecureTransport` alone does not
//! restrict; an explicit `Deny` that takes the grant away wins. Unlike those rules this one
//! judges the policy document itself: Block Public Access (`RestrictPublicBuckets`) is
//! shown as evidence but does not make a public statement pass, since removing the flag
//! would expose the bucket at once.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::public_access::{self, EffectiveBlock};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketPolicyNoPublicPrincipal;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_policy_no_public_principal",
    title: "S3 bucket policy allows no unrestricted public principal",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "A bucket policy statement that allows Principal \"*\" with no condition pinning \
                the caller to the organization, a VPC endpoint or known accounts grants its \
                actions to anyone on the internet; access to ePHI must be limited to authorized \
                persons and software (164.308(a)(4), 164.312(a)(1)). Block Public Access can \
                mask such a statement, but it stays one configuration change away from a \
                disclosure.",
    remediation: "Remove the Allow statements to Principal \"*\" from the bucket policy \
                  (PutBucketPolicy), name the accounts or roles that need access instead, or \
                  restrict each such statement with a condition on who can call: \
                  aws:PrincipalOrgID, aws:SourceVpce, aws:SourceAccount or aws:PrincipalArn.",
    api_calls: &[
        "s3:ListBuckets",
        "s3:GetBucketPolicy",
        "s3:GetPublicAccessBlock",
    ],
    params: &[],
};

impl Rule for S3BucketPolicyNoPublicPrincipal {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let has_policy = matches!(bucket.policy.get(), Ok(Some(_)));
        let stmts = match public_access::policy_exposure(subject, bucket) {
            Ok(s) => s,
            Err(outcome) => return outcome,
        };
        let restrict = EffectiveBlock::of(subject, bucket, ctx)
            .flag(|p| p.restrict_public_buckets)
            .describe();
        let outcome = if !stmts.public.is_empty() {
            Outcome::fail(format!(
                "the bucket policy has {} statement(s) allowing everyone (Principal \"*\") with \
                 no condition restricting who can call and no Deny overriding them",
                stmts.public.len()
            ))
        } else if !has_policy {
            Outcome::pass("the bucket has no bucket policy")
        } else if !stmts.limited.is_empty() || !stmts.denied.is_empty() {
            Outcome::pass(
                "the bucket policy's statements to everyone are limited to known callers by \
                 their conditions or overridden by a Deny",
            )
        } else {
            Outcome::pass("the bucket policy allows nothing to everyone")
        };
        outcome
            .with("policy_public_statements", &stmts.public)
            .with("policy_limited_statements", &stmts.limited)
            .with("policy_denied_statements", &stmts.denied)
            .with("restrict_public_buckets", restrict)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};
    use serde_json::json;

    use super::*;
    use crate::rules::s3::fixtures::{ALL_ON, account_block, policy};
    use crate::testing::*;

    fn with_policy(statement: serde_json::Value) -> Resource {
        let mut b = bucket("phi");
        b.policy = policy(statement);
        bucket_resource(b)
    }

    fn public_statement() -> serde_json::Value {
        json!({
            "Sid": "Anyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::phi/*"
        })
    }

    #[test]
    fn pass_without_policy() {
        let o = expect(
            run(
                &S3BucketPolicyNoPublicPrincipal,
                &bucket_resource(bucket("phi")),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("no bucket policy"), "{}", o.reason);
        assert_eq!(o.evidence["policy_public_statements"], json!([]));
    }

    #[test]
    fn fail_on_principal_star() {
        let o = expect(
            run(
                &S3BucketPolicyNoPublicPrincipal,
                &with_policy(public_statement()),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"][0]["statement"],
            "Anyone"
        );
        assert_eq!(o.evidence["restrict_public_buckets"], "off");
    }

    #[test]
    fn fail_on_put_to_aws_star_even_when_block_public_access_masks_it() {
        let o = expect(
            run(
                &S3BucketPolicyNoPublicPrincipal,
                &with_policy(json!({
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::phi/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}}
                })),
                &[account_block(Observed::Collected(ALL_ON))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["restrict_public_buckets"], "on (account)");
    }

    #[test]
    fn principal_star_limited_by_org_id_passes() {
        let mut s = public_statement();
        s["Condition"] = json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}});
        let o = expect(
            run(&S3BucketPolicyNoPublicPrincipal, &with_policy(s), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("limited"), "{}", o.reason);
        assert_eq!(
            o.evidence["policy_limited_statements"][0]["limited_by"],
            json!(["StringEquals aws:PrincipalOrgID o-abc123"])
        );
    }

    #[test]
    fn named_account_principal_passes() {
        let o = expect(
            run(
                &S3BucketPolicyNoPublicPrincipal,
                &with_policy(json!({
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::phi/*"
                })),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("allows nothing"), "{}", o.reason);
        assert_evidence(&o, "policy_public_statements", json!([]));
        assert_evidence(&o, "policy_limited_statements", json!([]));
    }

    #[test]
    fn principal_star_and_aws_star_are_public() {
        for principal in [json!("*"), json!({"AWS": "*"}), json!({"AWS": ["*"]})] {
            let o = expect(
                run(
                    &S3BucketPolicyNoPublicPrincipal,
                    &with_policy(json!({
                        "Sid": "Open",
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::phi/*"
                    })),
                    &[],
                ),
                Status::Fail,
            );
            assert!(o.reason.contains("1 statement(s)"), "{}", o.reason);
            assert_eq!(
                o.evidence["policy_public_statements"][0]["principal"], principal,
                "{principal}"
            );
        }
    }

    #[test]
    fn error_when_policy_unavailable_or_malformed() {
        let mut b = bucket("phi");
        b.policy = denied("s3:GetBucketPolicy");
        let o = expect(
            run(&S3BucketPolicyNoPublicPrincipal, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketPolicy"), "{}", o.reason);
        assert_eq!(o.evidence["policy_public_statements"], "unavailable");
        let mut b = bucket("phi");
        b.policy = Observed::Collected(json!({"Statement": 3}));
        let o = expect(
            run(&S3BucketPolicyNoPublicPrincipal, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["policy_public_statements"], "malformed");
    }
}
