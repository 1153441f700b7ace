//! S3 rules.

use crate::Rule;

mod s3_access_point_public_access_block;
mod s3_account_public_access_block_all;
mod s3_bucket_acls_disabled;
mod s3_bucket_default_encryption;
mod s3_bucket_event_notifications;
mod s3_bucket_iac_provenance;
mod s3_bucket_mfa_delete;
mod s3_bucket_no_cross_account_access;
mod s3_bucket_no_public_read;
mod s3_bucket_no_public_write;
mod s3_bucket_object_lock;
mod s3_bucket_policy_no_public_principal;
mod s3_bucket_public_access_block;
mod s3_bucket_replication;
mod s3_bucket_server_access_logging;
mod s3_bucket_sse_kms;
mod s3_bucket_tls_only;
mod s3_bucket_versioned_lifecycle;
mod s3_bucket_versioning;

/// The S3 rules.
pub const RULES: &[&dyn Rule] = &[
    &s3_access_point_public_access_block::S3AccessPointPublicAccessBlock,
    &s3_account_public_access_block_all::S3AccountPublicAccessBlockAll,
    &s3_bucket_acls_disabled::S3BucketAclsDisabled,
    &s3_bucket_default_encryption::S3BucketDefaultEncryption,
    &s3_bucket_event_notifications::S3BucketEventNotifications,
    &s3_bucket_iac_provenance::S3BucketIacProvenance,
    &s3_bucket_mfa_delete::S3BucketMfaDelete,
    &s3_bucket_no_cross_account_access::S3BucketNoCrossAccountAccess,
    &s3_bucket_no_public_read::S3BucketNoPublicRead,
    &s3_bucket_no_public_write::S3BucketNoPublicWrite,
    &s3_bucket_object_lock::S3BucketObjectLock,
    &s3_bucket_policy_no_public_principal::S3BucketPolicyNoPublicPrincipal,
    &s3_bucket_public_access_block::S3BucketPublicAccessBlock,
    &s3_bucket_replication::S3BucketReplication,
    &s3_bucket_server_access_logging::S3BucketServerAccessLogging,
    &s3_bucket_sse_kms::S3BucketSseKms,
    &s3_bucket_tls_only::S3BucketTlsOnly,
    &s3_bucket_versioned_lifecycle::S3BucketVersionedLifecycle,
    &s3_bucket_versioning::S3BucketVersioning,
];

/// Shared by the public-access rules: bucket ACL grants, the effective Block Public
/// Access flags (bucket and account combined), and what the bucket policy grants to
/// anyone (read through [`crate::policy`]).
pub(crate) mod public_access {
    use posture_model::resources::{
        ACL_ALL_USERS, ACL_AUTHENTICATED_USERS, PublicAccessBlock, S3Bucket,
    };
    use posture_model::{
        AccountId, Observed, Region, Resource, ResourceBody, ResourceKind, Unavailable,
    };
    use serde_json::{Value, json};

    use crate::policy::{Policy, PolicyError, Target};
    use crate::{Ctx, Outcome};

    // ---- Block Public Access -----------------------------------------------------------

    /// The account-level Block Public Access setting of `account`: `Absent` when the
    /// account never set it, `Unavailable` when it could not be read (including a failed
    /// `s3control:GetPublicAccessBlock` that left no resource in the snapshot).
    pub(crate) fn account_setting(
        ctx: &Ctx<'_>,
        account: &AccountId,
    ) -> Observed<PublicAccessBlock> {
        let found = ctx
            .resources(
                ResourceKind::S3AccountPublicAccessBlock,
                account,
                &Region::global(),
            )
            .find_map(|r| match &r.body {
                ResourceBody::S3AccountPublicAccessBlock(s) => Some(s.config.clone()),
                _ => None,
            });
        if let Some(config) = found {
            return config;
        }
        match ctx
            .gaps_in_account(account, "s3control:GetPublicAccessBlock")
            .next()
        {
            Some(gap) => Observed::Unavailable(Unavailable {
                kind: gap.kind,
                operation: gap.operation.clone(),
                code: gap.code.clone(),
                message: gap.message.clone(),
            }),
            None => Observed::Absent,
        }
    }

    /// A Block Public Access setting as evidence: the four flags, `"absent"` or
    /// `"unavailable"`.
    pub(crate) fn setting_evidence(setting: &Observed<PublicAccessBlock>) -> Value {
        match setting {
            Observed::Collected(p) => serde_json::to_value(p).unwrap_or_default(),
            Observed::Absent => json!("absent"),
            Observed::Unavailable(_) => json!("unavailable"),
        }
    }

    /// The effective value of one Block Public Access flag. S3 applies the most
    /// restrictive combination of the bucket and account settings, flag by flag.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Flag<'a> {
        /// On, set at `"bucket"` or `"account"` level.
        On(&'static str),
        /// Off at both levels.
        Off,
        /// Not on wherever it could be read, and one level could not be read.
        Unknown(&'a Unavailable),
    }

    impl Flag<'_> {
        /// For evidence: `"on (bucket)"`, `"on (account)"`, `"off"`, `"unavailable"`.
        pub(crate) fn describe(&self) -> String {
            match self {
                Flag::On(level) => format!("on ({level})"),
                Flag::Off => "off".to_owned(),
                Flag::Unknown(_) => "unavailable".to_owned(),
            }
        }
    }

    /// A bucket's own Block Public Access setting and its account's.
    #[derive(Debug)]
    pub(crate) struct EffectiveBlock {
        /// The bucket's setting.
        pub bucket: Observed<PublicAccessBlock>,
        /// The account's setting.
        pub account: Observed<PublicAccessBlock>,
    }

    impl EffectiveBlock {
        /// Reads both settings for `bucket` (the body of `subject`).
        pub(crate) fn of(subject: &Resource, bucket: &S3Bucket, ctx: &Ctx<'_>) -> Self {
            Self {
                bucket: bucket.public_access_block.clone(),
                account: account_setting(ctx, &subject.account),
            }
        }

        /// The effective value of the flag `pick` reads.
        pub(crate) fn flag(&self, pick: fn(&PublicAccessBlock) -> bool) -> Flag<'_> {
            if let Observed::Collected(p) = &self.bucket
                && pick(p)
            {
                return Flag::On("bucket");
            }
            if let Observed::Collected(p) = &self.account
                && pick(p)
            {
                return Flag::On("account");
            }
            match (self.bucket.unavailable(), self.account.unavailable()) {
                (Some(u), _) | (None, Some(u)) => Flag::Unknown(u),
                (None, None) => Flag::Off,
            }
        }

        /// Adds both settings to `outcome` as evidence.
        pub(crate) fn evidence(&self, outcome: Outcome) -> Outcome {
            outcome
                .with("bucket_public_access_block", setting_evidence(&self.bucket))
                .with(
                    "account_public_access_block",
                    setting_evidence(&self.account),
                )
        }
    }

    // ---- public read / write -----------------------------------------------------------

    /// Which kind of public access a rule looks for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Access {
        /// Reading objects or listing the bucket.
        Read,
        /// Writing, overwriting or deleting objects, or changing access.
        Write,
    }

    impl Access {
        fn word(self) -> &'static str {
            match self {
                Access::Read => "read",
                Access::Write => "write",
            }
        }

        /// ACL permissions that confer this access.
        fn acl_permissions(self) -> &'static [&'static str] {
            match self {
                Access::Read => &["READ", "READ_ACP", "FULL_CONTROL"],
                Access::Write => &["WRITE", "WRITE_ACP", "FULL_CONTROL"],
            }
        }

        /// The actions that confer this access, each with the resource it applies to:
        /// a policy `Action` of `s3:Get*`, `s3:GetObject*`, `s3:List*`, `s3:*` or `*`
        /// reaches a read one; `s3:Put*`, `s3:Delete*`, `s3:*` or `*` a write one.
        fn actions(self) -> &'static [(&'static str, Level)] {
            match self {
                Access::Read => &[
                    ("s3:GetObject", Level::Objects),
                    ("s3:GetObjectVersion", Level::Objects),
                    ("s3:ListBucket", Level::Bucket),
                    ("s3:ListBucketVersions", Level::Bucket),
                ],
                Access::Write => &[
                    ("s3:PutObject", Level::Objects),
                    ("s3:PutObjectAcl", Level::Objects),
                    ("s3:PutBucketAcl", Level::Bucket),
                    ("s3:PutBucketPolicy", Level::Bucket),
                    ("s3:DeleteObject", Level::Objects),
                    ("s3:DeleteObjectVersion", Level::Objects),
                ],
            }
        }
    }

    /// What an S3 action applies to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Level {
        /// The bucket ARN (`arn:aws:s3:::bucket`).
        Bucket,
        /// Its objects (`arn:aws:s3:::bucket/*`).
        Objects,
    }

    /// Why a source of access could not be read.
    #[derive(Debug)]
    enum Unreadable<'a> {
        /// It was not collected.
        Unavailable(&'a Unavailable),
        /// It was collected but is not a policy document.
        Malformed(PolicyError),
    }

    impl Unreadable<'_> {
        fn outcome(&self, what: &str) -> Outcome {
            match self {
                Unreadable::Unavailable(why) => Outcome::unavailable(what, why),
                Unreadable::Malformed(why) => {
                    Outcome::error(format!("the {what} cannot be read: {why}"))
                }
            }
        }

        fn evidence(&self) -> Value {
            match self {
                Unreadable::Unavailable(_) => json!("unavailable"),
                Unreadable::Malformed(_) => json!("malformed"),
            }
        }
    }

    /// ACL grants of `access` to the AllUsers or AuthenticatedUsers groups, as evidence.
    fn public_grants(bucket: &S3Bucket, access: Access) -> Result<Vec<Value>, Unreadable<'_>> {
        let Some(acl) = bucket.acl.get().map_err(Unreadable::Unavailable)? else {
            return Ok(Vec::new());
        };
        Ok(acl
            .grants
            .iter()
            .filter(|g| {
                g.grantee_uri
                    .as_deref()
                    .is_some_and(|u| u == ACL_ALL_USERS || u == ACL_AUTHENTICATED_USERS)
                    && access.acl_permissions().contains(&g.permission.as_str())
            })
            .map(|g| json!({ "grantee": g.grantee_uri, "permission": g.permission }))
            .collect())
    }

    /// What the bucket policy grants to anyone, as evidence.
    #[derive(Debug, Default)]
    pub(crate) struct PolicyStatements {
        /// Statements granting `access` to anyone.
        pub public: Vec<Value>,
        /// Statements to anyone restricted by a condition on who can call.
        pub limited: Vec<Value>,
        /// Statements to anyone that an explicit Deny cancels.
        pub denied: Vec<Value>,
    }

    /// Any S3 action on the bucket or on its objects.
    const ANY_ACTION: &[(&str, Level)] = &[("s3:*", Level::Bucket), ("s3:*", Level::Objects)];

    /// What the bucket policy grants to anyone at all (any S3 action on the bucket or its
    /// objects), read as the public-read and public-write rules read it: `Principal "*"`
    /// limited by a condition on who can call (`aws:PrincipalOrgID`, `aws:SourceVpce`, ...)
    /// is not public, and an explicit Deny wins. `Err` is the `Error` outcome when the
    /// policy could not be collected or is not a policy document.
    pub(crate) fn policy_exposure(
        subject: &Resource,
        bucket: &S3Bucket,
    ) -> Result<PolicyStatements, Outcome> {
        statements_for(subject, bucket, ANY_ACTION).map_err(|u| {
            u.outcome("bucket policy")
                .with("policy_public_statements", u.evidence())
        })
    }

    /// Reads the bucket policy with the evaluator: which statements grant `access` to
    /// anyone (`Principal "*"`, `NotPrincipal`), with no condition restricting who can
    /// call and no explicit Deny taking it away.
    fn public_statements<'a>(
        subject: &Resource,
        bucket: &'a S3Bucket,
        access: Access,
    ) -> Result<PolicyStatements, Unreadable<'a>> {
        statements_for(subject, bucket, access.actions())
    }

    /// [`public_statements`] for any list of (action, level) targets.
    fn statements_for<'a>(
        subject: &Resource,
        bucket: &'a S3Bucket,
        actions: &[(&str, Level)],
    ) -> Result<PolicyStatements, Unreadable<'a>> {
        let Some(document) = bucket.policy.get().map_err(Unreadable::Unavailable)? else {
            return Ok(PolicyStatements::default());
        };
        let policy = Policy::parse(document).map_err(Unreadable::Malformed)?;
        let bucket_arn = subject.arn.as_str();
        let objects_arn = format!("{bucket_arn}/*");
        let targets: Vec<Target<'_>> = actions
            .iter()
            .map(|&(action, level)| match level {
                Level::Bucket => Target::new(action, bucket_arn),
                Level::Objects => Target::new(action, &objects_arn),
            })
            .collect();
        let exposure = policy.public_access(&targets);
        Ok(PolicyStatements {
            public: exposure.public.iter().map(|e| e.evidence()).collect(),
            limited: exposure.limited.iter().map(|e| e.evidence()).collect(),
            denied: exposure.denied.iter().map(|e| e.evidence()).collect(),
        })
    }

    /// What one source of access (the ACL or the policy) amounts to.
    enum Verdict<'r, 'a> {
        /// Grants nothing public.
        Clear,
        /// Grants public access, and Block Public Access does not neutralise it.
        Public,
        /// Whatever it grants, Block Public Access neutralises it (at this level).
        Neutralised(&'static str),
        /// Cannot tell: the source could not be read.
        Unknown(&'static str, &'r Unreadable<'a>),
        /// Cannot tell: the Block Public Access flag that would decide could not be read.
        BlockUnknown(&'static str, &'a Unavailable),
    }

    fn verdict<'r, 'a>(
        found: Result<bool, &'r Unreadable<'a>>,
        flag: &Flag<'a>,
        what: &'static str,
        block_what: &'static str,
    ) -> Verdict<'r, 'a> {
        match (flag, found) {
            (Flag::On(level), _) => Verdict::Neutralised(level),
            (_, Err(u)) => Verdict::Unknown(what, u),
            (_, Ok(false)) => Verdict::Clear,
            (Flag::Off, Ok(true)) => Verdict::Public,
            (Flag::Unknown(u), Ok(true)) => Verdict::BlockUnknown(block_what, u),
        }
    }

    fn found_evidence(found: Result<&Vec<Value>, &Unreadable<'_>>) -> Value {
        match found {
            Ok(v) => Value::Array(v.clone()),
            Err(u) => u.evidence(),
        }
    }

    /// The shared check of `s3_bucket_no_public_read` and `s3_bucket_no_public_write`.
    pub(crate) fn check(subject: &Resource, ctx: &Ctx<'_>, access: Access) -> Outcome {
        let ResourceBody::S3Bucket(bucket) = &subject.body else {
            return Outcome::not_applicable("not an S3 bucket");
        };
        let word = access.word();
        let block = EffectiveBlock::of(subject, bucket, ctx);
        let ignore_acls = block.flag(|p| p.ignore_public_acls);
        let restrict = block.flag(|p| p.restrict_public_buckets);
        let grants = public_grants(bucket, access);
        let stmts = public_statements(subject, bucket, access);
        let acl = verdict(
            grants.as_ref().map(|g| !g.is_empty()),
            &ignore_acls,
            "bucket ACL",
            "Block Public Access IgnorePublicAcls (needed because the ACL has public grants)",
        );
        let policy = verdict(
            stmts.as_ref().map(|s| !s.public.is_empty()),
            &restrict,
            "bucket policy",
            "Block Public Access RestrictPublicBuckets (needed because the policy has public statements)",
        );
        let evidence = |o: Outcome| {
            let mut o = o
                .with("acl_public_grants", found_evidence(grants.as_ref()))
                .with(
                    "policy_public_statements",
                    found_evidence(stmts.as_ref().map(|s| &s.public)),
                )
                .with("ignore_public_acls", ignore_acls.describe())
                .with("restrict_public_buckets", restrict.describe());
            if let Ok(s) = &stmts {
                if !s.limited.is_empty() {
                    o = o.with("policy_limited_statements", &s.limited);
                }
                if !s.denied.is_empty() {
                    o = o.with("policy_denied_statements", &s.denied);
                }
            }
            block.evidence(o)
        };

        let mut public = Vec::new();
        if matches!(acl, Verdict::Public) {
            public.push(format!(
                "the bucket ACL grants public {word} to AllUsers/AuthenticatedUsers"
            ));
        }
        if matches!(policy, Verdict::Public) {
            public.push(format!(
                "the bucket policy allows public {word} to everyone (Principal \"*\") with no \
                 condition restricting who can call and no Deny overriding it"
            ));
        }
        if !public.is_empty() {
            return evidence(Outcome::fail(format!(
                "{}, and Block Public Access does not neutralise it",
                public.join("; ")
            )));
        }
        for v in [&acl, &policy] {
            match v {
                Verdict::Unknown(what, why) => return evidence(why.outcome(what)),
                Verdict::BlockUnknown(what, why) => {
                    return evidence(Outcome::unavailable(what, why));
                }
                _ => {}
            }
        }

        let mut neutralised = Vec::new();
        if let Verdict::Neutralised(level) = acl
            && !matches!(grants, Ok(ref g) if g.is_empty())
        {
            neutralised.push(format!(
                "IgnorePublicAcls ({level}) neutralises any public ACL grants"
            ));
        }
        if let Verdict::Neutralised(level) = policy
            && !matches!(stmts, Ok(ref s) if s.public.is_empty())
        {
            neutralised.push(format!(
                "RestrictPublicBuckets ({level}) neutralises any public policy statements"
            ));
        }
        let restricted = matches!(&stmts, Ok(s) if !s.limited.is_empty() || !s.denied.is_empty());
        let reason = if !neutralised.is_empty() {
            format!("no effective public {word}: {}", neutralised.join("; "))
        } else if restricted {
            format!(
                "neither the bucket ACL nor the bucket policy grants public {word}: the policy's \
                 statements to everyone are limited to known callers by their conditions or \
                 overridden by a Deny"
            )
        } else {
            format!("neither the bucket ACL nor the bucket policy grants public {word}")
        };
        let mut outcome = Outcome::pass(reason);
        if !neutralised.is_empty() {
            outcome = outcome.with("neutralised_by", &neutralised);
        }
        evidence(outcome)
    }
}

/// Fixtures shared by the S3 rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::{
        AccountInfo, AclGrant, PublicAccessBlock, S3AccountPublicAccessBlock,
    };
    use posture_model::{Observed, Region, Resource, ResourceBody};

    use crate::testing::{account, resource};

    /// All four Block Public Access flags on.
    pub(crate) const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// All four Block Public Access flags off.
    pub(crate) const ALL_OFF: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: false,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: false,
    };

    /// The account-level Block Public Access resource of the fixture account.
    pub(crate) fn account_block(config: Observed<PublicAccessBlock>) -> Resource {
        resource(
            "arn:aws:s3::111122223333:account-public-access-block",
            Region::global(),
            ResourceBody::S3AccountPublicAccessBlock(S3AccountPublicAccessBlock { config }),
        )
    }

    /// A subject of another kind (the account), for the not-applicable tests.
    pub(crate) fn not_a_bucket() -> Resource {
        resource(
            "arn:aws:iam::111122223333:root",
            Region::global(),
            ResourceBody::Account(AccountInfo {
                account_id: account(),
                scanned_as: "arn:aws:iam::111122223333:user/scanner".into(),
            }),
        )
    }

    /// A grant to an ACL group URI.
    pub(crate) fn group_grant(uri: &str, permission: &str) -> AclGrant {
        AclGrant {
            grantee_type: "Group".into(),
            grantee_uri: Some(uri.into()),
            grantee_id: None,
            permission: permission.into(),
        }
    }

    /// A policy document with one statement.
    pub(crate) fn policy(statement: serde_json::Value) -> Observed<serde_json::Value> {
        Observed::Collected(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [statement],
        }))
    }
}
