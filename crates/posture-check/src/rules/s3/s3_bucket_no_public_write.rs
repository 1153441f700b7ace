//! `s3_bucket_no_public_write`: neither the bucket ACL nor the bucket policy lets the public
//! write, overwrite or delete objects or change access, unless Block Public Access
//! neutralises the grant.

use posture_model::{Resource, ResourceKind, Severity};

use super::public_access::{self, Access};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct S3BucketNoPublicWrite;

static META: RuleMeta = RuleMeta {
    id: "s3_bucket_no_public_write",
    title: "S3 bucket does not allow public write access",
    severity: Severity::Critical,
    subject: ResourceKind::S3Bucket,
    rationale: "A bucket anyone can write to lets outsiders alter, overwrite or delete ePHI \
                (integrity, 164.312(c)(1)) or change its ACL to expose it (access control, \
                164.312(a)(1)).",
    remediation: "Remove WRITE/WRITE_ACP/FULL_CONTROL grants to the AllUsers and \
                  AuthenticatedUsers groups (PutBucketAcl, or set Object Ownership to \
                  BucketOwnerEnforced), remove policy statements that allow \
                  s3:Put*/s3:Delete* to Principal \"*\" or restrict them to known callers with a \
                  condition such as aws:PrincipalOrgID or aws:SourceVpce (PutBucketPolicy), and \
                  turn on Block Public Access.",
    api_calls: &[
        "s3:ListBuckets",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicy",
        "s3:GetPublicAccessBlock",
    ],
    params: &[],
};

impl Rule for S3BucketNoPublicWrite {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        public_access::check(subject, ctx, Access::Write)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{ACL_ALL_USERS, ACL_AUTHENTICATED_USERS, BucketAcl};
    use posture_model::{Observed, Status};
    use serde_json::json;

    use super::*;
    use crate::rules::s3::fixtures::{ALL_ON, group_grant, policy};
    use crate::testing::*;

    #[test]
    fn pass_when_private() {
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(bucket("phi")), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["acl_public_grants"], json!([]));
    }

    #[test]
    fn public_get_policy_is_not_public_write() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:Get*",
            "Resource": "arn:aws:s3:::phi/*"
        }));
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["policy_public_statements"], json!([]));
    }

    #[test]
    fn public_get_star_is_public_read_not_public_write() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["s3:Get*", "s3:List*"],
            "Resource": ["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"]
        }));
        let subject = bucket_resource(b);
        let o = expect(run(&S3BucketNoPublicWrite, &subject, &[]), Status::Pass);
        assert_evidence(&o, "policy_public_statements", json!([]));
        assert_eq!(
            o.reason,
            "neither the bucket ACL nor the bucket policy grants public write"
        );
        let o = expect(
            run(
                &crate::rules::s3::s3_bucket_no_public_read::S3BucketNoPublicRead,
                &subject,
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"][0]["covers"],
            json!([
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:ListBucket",
                "s3:ListBucketVersions"
            ])
        );
    }

    #[test]
    fn fail_when_not_action_excludes_only_deletes() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": "*",
            "NotAction": "s3:Delete*",
            "Resource": "arn:aws:s3:::phi/*"
        }));
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"][0]["covers"],
            json!(["s3:PutObject", "s3:PutObjectAcl"])
        );
    }

    #[test]
    fn public_read_acl_is_not_public_write() {
        let mut b = bucket("phi");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_ALL_USERS, "READ")],
        });
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "acl_public_grants", json!([]));
    }

    #[test]
    fn fail_on_public_write_acl_grant() {
        let mut b = bucket("phi");
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_AUTHENTICATED_USERS, "WRITE_ACP")],
        });
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["acl_public_grants"],
            json!([{"grantee": ACL_AUTHENTICATED_USERS, "permission": "WRITE_ACP"}])
        );
    }

    #[test]
    fn fail_on_public_put_policy() {
        let mut b = bucket("phi");
        b.policy = policy(json!({
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["s3:PutObject"],
            "Resource": "arn:aws:s3:::phi/*"
        }));
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["policy_public_statements"],
            json!([{
                "statement": "Statement[0]",
                "principal": {"AWS": "*"},
                "covers": ["s3:PutObject"]
            }])
        );
    }

    #[test]
    fn fail_on_public_wildcard_policy() {
        // Boundary: `*` and `s3:*` reach every write action on the bucket and its objects;
        // `s3:Put*` only the puts, and `s3:Get*` none (public_get_policy_is_not_public_write).
        let all = json!([
            "s3:PutObject",
            "s3:PutObjectAcl",
            "s3:PutBucketAcl",
            "s3:PutBucketPolicy",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion"
        ]);
        let puts = json!([
            "s3:PutObject",
            "s3:PutObjectAcl",
            "s3:PutBucketAcl",
            "s3:PutBucketPolicy"
        ]);
        for (action, covers) in [("*", &all), ("s3:*", &all), ("s3:Put*", &puts)] {
            let mut b = bucket("phi");
            b.policy = policy(json!({
                "Effect": "Allow",
                "Principal": "*",
                "Action": action,
                "Resource": "*"
            }));
            let o = expect(
                run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
                Status::Fail,
            );
            assert!(
                o.reason.contains("bucket policy allows public write"),
                "{action}: {}",
                o.reason
            );
            assert_eq!(
                &o.evidence["policy_public_statements"][0]["covers"], covers,
                "{action}"
            );
            assert_evidence(&o, "restrict_public_buckets", json!("off"));
        }
    }

    #[test]
    fn pass_when_bucket_block_neutralises_public_grants() {
        let mut b = bucket("phi");
        b.public_access_block = Observed::Collected(ALL_ON);
        b.acl = Observed::Collected(BucketAcl {
            owner_id: None,
            grants: vec![group_grant(ACL_ALL_USERS, "FULL_CONTROL")],
        });
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["ignore_public_acls"], "on (bucket)");
    }

    #[test]
    fn error_when_acl_denied() {
        let mut b = bucket("phi");
        b.acl = denied("s3:GetBucketAcl");
        let o = expect(
            run(&S3BucketNoPublicWrite, &bucket_resource(b), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("s3:GetBucketAcl"), "{}", o.reason);
        assert_eq!(o.evidence["acl_public_grants"], "unavailable");
    }
}
