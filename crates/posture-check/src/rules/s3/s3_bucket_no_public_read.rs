//! `s3_bucket_no_public_read`: neither the bucket ACL nor the bucket policy lets the public
//! read or list the bucket, unless Block Public Access neutralises the grant.

use posture_model::{Resource, ResourceKind, Severity};

use super::public_access::{self, Access};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketNoPublicRead;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_no_public_read",
    title: "S3 bucket does not allow public read access",
    severity: Severity::Critical,
    subject: ResourceKind::S3Bucket,
    rationale: "An ACL grant to AllUsers/AuthenticatedUsers or a bucket policy allowing Principal \"*\" \
                to get or list objects lets anyone download ePHI stored in the bucket: an \
                impermissible disclosure and a failure of access control (164.312(a)(1)).",
    remediation: "Remove READ/READ_ACP/FULL_CONTROL grants to the AllUsers and AuthenticatedUsers \
                  groups (PutBucketAcl, or set Object Ownership to BucketOwnerEnforced), remove \
                  policy statements that allow s3:Get*/s3:List* to Principal \"*\" or restrict \
                  them to known callers with a condition such as aws:PrincipalOrgID or \
                  aws:SourceVpce (aws:SecureTransport alone does not) (PutBucketPolicy), and \
                  turn on Block Public Access.",
    api_calls: &[
        "s3:ListBuckets",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicy",
        "s3:GetPublicAccessBlock",
    ],
    params: &[],
};

impl Rule for S3BucketNoPublicRead {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        public_access::check(subject, ctx, Access::Read)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{
        ACL_ALL_USERS, ACL_AUTHENTICATED_USERS, BucketAcl, PublicAccessBlock,
    };
    use posture_model::{Observed, Status};
    use serde_json::json;

    use super::*;
    use crate::rules::s3::fixtures::{ALL_OFF, ALL_ON, account_block, group_grant, policy};
    use crate::testing::*;

    fn public_get_statement() -> serde_json::Value {
        json!({
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::phi/*"
        })
    }

    #[test]
    fn pass_when_private() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::phi/*"
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["acl_public_grants"], json!([]));
        assert_eq!(o.evidence["policy_public_statements"], json!([]));
    }

    #[test]
    fn fail_on_public_acl_grant() {
        let mut b = bucket("phi");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: Some("owner".into()),
            grants: vec![group_grant(ACL_ALL_USERS, "READ")],
        });
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["acl_public_grants"],
            json!([{"grantee": ACL_ALL_USERS, "permission": "READ"}])
        );
        assert_eq!(o.evidence["ignore_public_acls"], "off");
    }

    #[test]
    fn fail_on_authenticated_users_full_control() {
        let mut b = bucket("phi");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_AUTHENTICATED_USERS, "FULL_CONTROL")],
        });
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("bucket ACL grants public read"),
            "{}",
            o.reason
        );
        assert_evidence(
            &o,
            "acl_public_grants",
            json!([{"grantee": ACL_AUTHENTICATED_USERS, "permission": "FULL_CONTROL"}]),
        );
        assert_evidence(&o, "policy_public_statements", json!([]));
    }

    #[test]
    fn fail_on_public_policy() {
        let mut b = bucket("phi");
        b.policy = policy(public_get_statement());
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"],
            json!([{"statement": "PublicRead", "principal": "*", "covers": ["s3:GetObject"]}])
        );
    }

    #[test]
    fn fail_on_wildcard_actions_in_array_with_aws_principal() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:putobject", "S3:LIST*"],
            "Resource": ["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"]
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("bucket policy allows public read"),
            "{}",
            o.reason
        );
        // S3:LIST* (any case) reaches the list actions; s3:putobject is no read action.
        assert_eq!(
            o.evidence["policy_public_statements"][0]["covers"],
            json!(["s3:ListBucket", "s3:ListBucketVersions"])
        );
        assert_evidence(&o, "acl_public_grants", json!([]));
    }

    #[test]
    fn pass_when_public_statement_has_a_condition() {
        let mut b = bucket("phi");
        let mut s = public_get_statement();
        s["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-1234"}});
        b.policy = policy(s);
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert!(
            o.reason.contains("limited to known callers"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "policy_public_statements", json!([]));
        assert_eq!(
            o.evidence["policy_limited_statements"][0]["limited_by"],
            json!(["StringEquals aws:SourceVpce vpce-1234"])
        );
    }

    fn with_condition(condition: serde_json::Value) -> Resource {
        let mut b = bucket("phi");
        let mut s = public_get_statement();
        s["Condition"] = condition;
        b.policy = policy(s);
        bucket_resource(b)
    }

    #[test]
    fn principal_star_limited_by_principal_org_id_is_not_public() {
        let o = expect(
            run(
                &S3BucketNoPublicRead,
                &with_condition(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("limited"), "{}", o.reason);
        assert_eq!(
            o.evidence["policy_limited_statements"],
            json!([{
                "statement": "PublicRead",
                "covers": ["s3:GetObject"],
                "limited_by": ["StringEquals aws:PrincipalOrgID o-abc123"]
            }])
        );
    }

    #[test]
    fn condition_on_secure_transport_only_does_not_limit_exposure() {
        let o = expect(
            run(
                &S3BucketNoPublicRead,
                &with_condition(json!({"Bool": {"aws:SecureTransport": "true"}})),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"][0]["conditions_not_limiting"],
            json!(["Bool aws:SecureTransport true"])
        );
    }

    #[test]
    fn source_ip_any_range_is_still_public() {
        // Boundary: a /0 (IPv4 or IPv6, alone or beside a narrower range) is everyone; a /8
        // is a named network and limits the callers.
        for any in [
            json!("0.0.0.0/0"),
            json!("::/0"),
            json!(["10.0.0.0/8", "0.0.0.0/0"]),
        ] {
            let o = expect(
                run(
                    &S3BucketNoPublicRead,
                    &with_condition(json!({"IpAddress": {"aws:SourceIp": any}})),
                    &[],
                ),
                Status::Fail,
            );
            assert_eq!(
                o.evidence["policy_public_statements"][0]["statement"], "PublicRead",
                "{any}"
            );
            assert!(
                !o.evidence.contains_key("policy_limited_statements"),
                "{any}: {:?}",
                o.evidence
            );
        }
        for range in ["10.0.0.0/8", "203.0.113.0/24"] {
            let o = expect(
                run(
                    &S3BucketNoPublicRead,
                    &with_condition(json!({"IpAddress": {"aws:SourceIp": range}})),
                    &[],
                ),
                Status::Pass,
            );
            assert_evidence(&o, "policy_public_statements", json!([]));
            assert_eq!(
                o.evidence["policy_limited_statements"][0]["limited_by"],
                json!([format!("IpAddress aws:SourceIp {range}")])
            );
        }
    }

    #[test]
    fn public_get_star_is_public_read_not_public_write() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Sid": "GetStar",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:Get*",
            "Resource": "arn:aws:s3:::phi/*"
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"][0]["covers"],
            json!(["s3:GetObject", "s3:GetObjectVersion"])
        );
    }

    #[test]
    fn explicit_deny_wins_over_public_allow() {
        let mut b = bucket("phi");
        b.policy = Observed::Collected(json!({
            "Statement": [
                public_get_statement(),
                {
                    "Sid": "OnlyFromVpce",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"],
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1234"}}
                }
            ]
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["policy_denied_statements"],
            json!([{
                "statement": "PublicRead",
                "covers": ["s3:GetObject"],
                "denied_by": ["OnlyFromVpce"]
            }])
        );
    }

    #[test]
    fn principal_account_root_is_not_public() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "111122223333"]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::phi/*"
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.reason,
            "neither the bucket ACL nor the bucket policy grants public read"
        );
        assert_evidence(&o, "policy_public_statements", json!([]));
        assert!(!o.evidence.contains_key("policy_limited_statements"));
    }

    #[test]
    fn service_principal_is_not_public() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"]
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "policy_public_statements", json!([]));
        assert_evidence(&o, "acl_public_grants", json!([]));
    }

    #[test]
    fn allow_on_the_bucket_arn_does_not_expose_objects() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::phi"
        }));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "policy_public_statements", json!([]));
    }

    #[test]
    fn error_when_policy_is_malformed() {
        let mut b = bucket("phi");
        b.policy = Observed::Collected(json!({"Statement": {"Effect": "Allow", "Principal": "*"}}));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("bucket policy cannot be read"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["policy_public_statements"], "malformed");
    }

    #[test]
    fn pass_when_malformed_policy_is_neutralised() {
        let mut b = bucket("phi");
        b.public_access_block = Observed::Collected(ALL_ON);
        b.policy = Observed::Collected(json!({"Statement": 3}));
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert!(
            o.reason
                .contains("RestrictPublicBuckets (bucket) neutralises"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "policy_public_statements", json!("malformed"));
        assert_evidence(&o, "restrict_public_buckets", json!("on (bucket)"));
    }

    #[test]
    fn pass_when_public_write_only() {
        let mut b = bucket("phi");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_ALL_USERS, "WRITE")],
        });
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "acl_public_grants", json!([]));
    }

    #[test]
    fn pass_when_account_block_neutralises_public_grants() {
        let mut b = bucket("phi");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_ALL_USERS, "READ")],
        });
        b.policy = policy(public_get_statement());
        let o = expect(
            run(
                &S3BucketNoPublicRead,
                &bucket_resource(b),
                &[account_block(Observed::Collected(ALL_ON))],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("neutralises"), "{}", o.reason);
        assert_eq!(
            o.evidence["neutralised_by"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(o.evidence["restrict_public_buckets"], "on (account)");
    }

    #[test]
    fn fail_when_block_neutralises_only_the_acl() {
        let mut b = bucket("phi");
        b.public_access_block = Observed::Collected(PublicAccessBlock {
            ignore_public_acls: true,
            ..ALL_OFF
        });
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_ALL_USERS, "READ")],
        });
        b.policy = policy(public_get_statement());
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("policy"), "{}", o.reason);
        assert!(!o.reason.contains("ACL"), "{}", o.reason);
    }

    #[test]
    fn error_when_policy_denied() {
        let mut b = bucket("phi");
        b.policy = denied("s3:GetBucketPolicy");
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketPolicy"), "{}", o.reason);
        assert_eq!(o.evidence["policy_public_statements"], "unavailable");
    }

    #[test]
    fn error_when_acl_denied() {
        let mut b = bucket("phi");
        b.acl = denied("s3:GetBucketAcl");
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketAcl"), "{}", o.reason);
    }

    #[test]
    fn error_when_public_acl_and_block_setting_denied() {
        let mut b = bucket("phi");
        b.public_access_block = denied("s3:GetPublicAccessBlock");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_ALL_USERS, "READ")],
        });
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetPublicAccessBlock"), "{}", o.reason);
    }

    #[test]
    fn pass_when_unreadable_policy_is_neutralised() {
        let mut b = bucket("phi");
        b.public_access_block = Observed::Collected(ALL_ON);
        b.policy = denied("s3:GetBucketPolicy");
        let o = expect(
            run(&S3BucketNoPublicRead, &bucket_resource(b), &[]),
            Status::Pass,
        );
        // Only the unreadable policy needs neutralising: the empty ACL is not mentioned.
        assert_evidence(
            &o,
            "neutralised_by",
            json!(["RestrictPublicBuckets (bucket) neutralises any public policy statements"]),
        );
        assert_evidence(&o, "policy_public_statements", json!("unavailable"));
    }
}
