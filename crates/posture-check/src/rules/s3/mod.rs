//! S3 rules.

use crate::Rule;

mod s3_account_public_access_block_all;
mod s3_bucket_default_encryption;
mod s3_bucket_no_public_read;
mod s3_bucket_no_public_write;
mod s3_bucket_object_lock;
mod s3_bucket_public_access_block;
mod s3_bucket_server_access_logging;
mod s3_bucket_sse_kms;
mod s3_bucket_tls_only;
mod s3_bucket_versioning;

/// The S3 rules.
pub const RULES: &[&dyn Rule] = &[
    &s3_account_public_access_block_all::S3AccountPublicAccessBlockAll,
    &s3_bucket_default_encryption::S3BucketDefaultEncryption,
    &s3_bucket_no_public_read::S3BucketNoPublicRead,
    &s3_bucket_no_public_write::S3BucketNoPublicWrite,
    &s3_bucket_object_lock::S3BucketObjectLock,
    &s3_bucket_public_access_block::S3BucketPublicAccessBlock,
    &s3_bucket_server_access_logging::S3BucketServerAccessLogging,
    &s3_bucket_sse_kms::S3BucketSseKms,
    &s3_bucket_tls_only::S3BucketTlsOnly,
    &s3_bucket_versioning::S3BucketVersioning,
];

/// Shared by the public-access rules: reading IAM-style policy documents, bucket ACL
/// grants, and the effective Block Public Access flags (bucket and account combined).
pub(crate) mod public_access {
    use posture_model::resources::{
        ACL_ALL_USERS, ACL_AUTHENTICATED_USERS, PublicAccessBlock, S3Bucket,
    };
    use posture_model::{
        AccountId, Observed, Region, Resource, ResourceBody, ResourceKind, Unavailable,
    };
    use serde_json::{Value, json};

    use crate::{Ctx, Outcome};

    // ---- policy documents ------------------------------------------------------------

    /// The statements of a policy document: `Statement` may be one object or an array.
    pub(crate) fn statements(policy: &Value) -> Vec<&Value> {
        match policy.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        }
    }

    /// A string-or-array-of-strings field as strings; anything else is empty.
    pub(crate) fn strings(value: Option<&Value>) -> Vec<&str> {
        match value {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the statement's `Effect` is `effect`.
    pub(crate) fn effect_is(stmt: &Value, effect: &str) -> bool {
        stmt.get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(effect))
    }

    /// Whether `Principal` is `"*"`, `{"AWS": "*"}` or `{"AWS": [.., "*", ..]}`.
    pub(crate) fn principal_is_everyone(stmt: &Value) -> bool {
        match stmt.get("Principal") {
            Some(Value::String(s)) => s == "*",
            Some(Value::Object(map)) => strings(map.get("AWS")).contains(&"*"),
            _ => false,
        }
    }

    /// Whether an `Allow` statement grants to everyone: `Principal` is everyone, or it uses
    /// `NotPrincipal` (which allows every principal except the ones named).
    pub(crate) fn allows_everyone(stmt: &Value) -> bool {
        effect_is(stmt, "Allow")
            && (principal_is_everyone(stmt) || stmt.get("NotPrincipal").is_some())
    }

    /// Whether the statement carries a non-empty `Condition` block.
    pub(crate) fn has_condition(stmt: &Value) -> bool {
        match stmt.get("Condition") {
            None | Some(Value::Null) => false,
            Some(Value::Object(map)) => !map.is_empty(),
            Some(_) => true,
        }
    }

    /// A statement's `Sid`, or its position when it has none (for evidence).
    pub(crate) fn statement_label(stmt: &Value, index: usize) -> String {
        stmt.get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or_else(|| format!("#{index}"), str::to_owned)
    }

    /// Wildcard match of `text` against `pattern` (`*` any run, `?` one character), as IAM
    /// matches actions and resources. `fold` makes it ASCII case-insensitive.
    pub(crate) fn glob(pattern: &str, text: &str, fold: bool) -> bool {
        let (p, t) = (pattern.as_bytes(), text.as_bytes());
        let same = |a: u8, b: u8| {
            if fold {
                a.eq_ignore_ascii_case(&b)
            } else {
                a == b
            }
        };
        let (mut pi, mut ti) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() && p[pi] == b'*' {
                backtrack = Some((pi, ti));
                pi += 1;
            } else if pi < p.len() && (p[pi] == b'?' || same(p[pi], t[ti])) {
                pi += 1;
                ti += 1;
            } else if let Some((star, from)) = backtrack {
                pi = star + 1;
                ti = from + 1;
                backtrack = Some((star, from + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
    }

    /// Which of `targets` the statement's `Action` (or `NotAction`) covers, matched
    /// case-insensitively with wildcards.
    pub(crate) fn covered_actions(stmt: &Value, targets: &[&'static str]) -> Vec<&'static str> {
        if let Some(action) = stmt.get("Action") {
            let patterns = strings(Some(action));
            targets
                .iter()
                .copied()
                .filter(|t| patterns.iter().any(|p| glob(p, t, true)))
                .collect()
        } else if let Some(not_action) = stmt.get("NotAction") {
            let patterns = strings(Some(not_action));
            targets
                .iter()
                .copied()
                .filter(|t| !patterns.iter().any(|p| glob(p, t, true)))
                .collect()
        } else {
            Vec::new()
        }
    }

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

        /// Concrete actions a statement is matched against: an `Action` of `s3:Get*`,
        /// `s3:GetObject*`, `s3:List*`, `s3:*` or `*` covers a read one; `s3:Put*`,
        /// `s3:Delete*`, `s3:*` or `*` a write one.
        fn actions(self) -> &'static [&'static str] {
            match self {
                Access::Read => &[
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                ],
                Access::Write => &[
                    "s3:PutObject",
                    "s3:PutObjectAcl",
                    "s3:PutBucketAcl",
                    "s3:PutBucketPolicy",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
            }
        }
    }

    /// ACL grants of `access` to the AllUsers or AuthenticatedUsers groups, as evidence.
    fn public_grants(bucket: &S3Bucket, access: Access) -> Result<Vec<Value>, &Unavailable> {
        let Some(acl) = bucket.acl.get()? else {
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

    /// Unconditional `Allow` statements granting `access` to everyone, as evidence.
    fn public_statements(bucket: &S3Bucket, access: Access) -> Result<Vec<Value>, &Unavailable> {
        let Some(policy) = bucket.policy.get()? else {
            return Ok(Vec::new());
        };
        Ok(statements(policy)
            .into_iter()
            .enumerate()
            .filter(|(_, s)| allows_everyone(s) && !has_condition(s))
            .filter_map(|(i, s)| {
                let covered = covered_actions(s, access.actions());
                (!covered.is_empty())
                    .then(|| json!({ "statement": statement_label(s, i), "covers": covered }))
            })
            .collect())
    }

    /// What one source of access (the ACL or the policy) amounts to.
    enum Verdict<'a> {
        /// Grants nothing public.
        Clear,
        /// Grants public access, and Block Public Access does not neutralise it.
        Public,
        /// Whatever it grants, Block Public Access neutralises it (at this level).
        Neutralised(&'static str),
        /// Cannot tell.
        Unknown(&'static str, &'a Unavailable),
    }

    fn verdict<'a>(
        found: &Result<Vec<Value>, &'a Unavailable>,
        flag: &Flag<'a>,
        what: &'static str,
        block_what: &'static str,
    ) -> Verdict<'a> {
        match (flag, found) {
            (Flag::On(level), _) => Verdict::Neutralised(level),
            (_, Err(u)) => Verdict::Unknown(what, u),
            (_, Ok(grants)) if grants.is_empty() => Verdict::Clear,
            (Flag::Off, Ok(_)) => Verdict::Public,
            (Flag::Unknown(u), Ok(_)) => Verdict::Unknown(block_what, u),
        }
    }

    fn found_evidence(found: &Result<Vec<Value>, &Unavailable>) -> Value {
        match found {
            Ok(v) => Value::Array(v.clone()),
            Err(_) => json!("unavailable"),
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
        let stmts = public_statements(bucket, access);
        let acl = verdict(
            &grants,
            &ignore_acls,
            "bucket ACL",
            "Block Public Access IgnorePublicAcls (needed because the ACL has public grants)",
        );
        let policy = verdict(
            &stmts,
            &restrict,
            "bucket policy",
            "Block Public Access RestrictPublicBuckets (needed because the policy has public statements)",
        );
        let evidence = |o: Outcome| {
            block.evidence(
                o.with("acl_public_grants", found_evidence(&grants))
                    .with("policy_public_statements", found_evidence(&stmts))
                    .with("ignore_public_acls", ignore_acls.describe())
                    .with("restrict_public_buckets", restrict.describe()),
            )
        };

        let mut public = Vec::new();
        if matches!(acl, Verdict::Public) {
            public.push(format!(
                "the bucket ACL grants public {word} to AllUsers/AuthenticatedUsers"
            ));
        }
        if matches!(policy, Verdict::Public) {
            public.push(format!(
                "the bucket policy allows public {word} to Principal \"*\" without a condition"
            ));
        }
        if !public.is_empty() {
            return evidence(Outcome::fail(format!(
                "{}, and Block Public Access does not neutralise it",
                public.join("; ")
            )));
        }
        for v in [&acl, &policy] {
            if let Verdict::Unknown(what, why) = v {
                return evidence(Outcome::unavailable(what, why));
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
            && !matches!(stmts, Ok(ref s) if s.is_empty())
        {
            neutralised.push(format!(
                "RestrictPublicBuckets ({level}) neutralises any public policy statements"
            ));
        }
        let reason = if neutralised.is_empty() {
            format!("neither the bucket ACL nor the bucket policy grants public {word}")
        } else {
            format!("no effective public {word}: {}", neutralised.join("; "))
        };
        let mut outcome = Outcome::pass(reason);
        if !neutralised.is_empty() {
            outcome = outcome.with("neutralised_by", &neutralised);
        }
        evidence(outcome)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn glob_matches_like_iam() {
            assert!(glob("s3:Get*", "s3:GetObject", true));
            assert!(glob("s3:getobject*", "s3:GetObject", true));
            assert!(glob("*", "s3:PutObject", true));
            assert!(glob("s3:*", "s3:PutObject", true));
            assert!(glob("s3:?etObject", "s3:GetObject", true));
            assert!(!glob("s3:Get*", "s3:PutObject", true));
            assert!(!glob("s3:GetObject", "s3:GetObjectVersion", true));
            assert!(!glob("arn:aws:s3:::A/*", "arn:aws:s3:::a/*", false));
            assert!(glob("arn:aws:s3:::a*", "arn:aws:s3:::a/*", false));
        }

        #[test]
        fn principal_forms() {
            assert!(principal_is_everyone(&json!({"Principal": "*"})));
            assert!(principal_is_everyone(&json!({"Principal": {"AWS": "*"}})));
            assert!(principal_is_everyone(
                &json!({"Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}})
            ));
            assert!(!principal_is_everyone(
                &json!({"Principal": {"AWS": "arn:aws:iam::111122223333:root"}})
            ));
            assert!(!principal_is_everyone(
                &json!({"Principal": {"Service": "*"}})
            ));
            assert!(allows_everyone(&json!({
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}
            })));
            assert!(!allows_everyone(
                &json!({"Effect": "Deny", "Principal": "*"})
            ));
        }

        #[test]
        fn not_action_covers_what_it_does_not_exclude() {
            let s = json!({"NotAction": "s3:Delete*"});
            assert_eq!(
                covered_actions(&s, &["s3:GetObject", "s3:DeleteObject"]),
                ["s3:GetObject"]
            );
        }
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
