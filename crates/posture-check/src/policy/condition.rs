//! Condition entries, and which of them decide *who* can make a request.
//!
//! The evaluator never has a concrete request context: it asks whether some caller of a
//! given kind (anyone at all, a principal of one account, the holder of an identity
//! policy) could make a request the statement applies to. So each condition is assessed
//! for a caller as [`Holds::Never`] (no such caller can satisfy it), [`Holds::Always`]
//! (every such caller satisfies it) or [`Holds::Maybe`] (the caller may or may not;
//! the caller chooses most request properties, so for an `Allow` this counts as
//! satisfiable, and for a `Deny` as avoidable).
//!
//! Only conditions on the *exposure keys* ([`ExposureKey`]) restrict who can call. They
//! pin the caller's identity (account, organization, ARN, user id, service) or network
//! (VPC, VPC endpoint, source IP range) to values the policy owner controls. A condition
//! on any other key (`aws:SecureTransport`, `s3:x-amz-acl`, `aws:Referer`,
//! `aws:CurrentTime`, `aws:PrincipalTag/*`, `kms:ViaService`, ...) is something the
//! caller can satisfy, so it narrows *how* a grant is used, not *who* gets it.

use std::fmt;

use super::glob;
use super::statement::is_account_id;

/// One operator-key-values entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator, parsed.
    pub operator: Operator,
    /// The key as written (`aws:PrincipalOrgID`); keys compare case-insensitively.
    pub key: String,
    /// The values, as strings (`true`, `1.2`), in document order.
    pub values: Vec<String>,
}

/// A condition operator: a base test, optionally `…IfExists`, optionally with a
/// `ForAnyValue:` / `ForAllValues:` set qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The operator as written.
    pub raw: String,
    /// The test.
    pub base: BaseOperator,
    /// `…IfExists`: true when the key is absent from the request.
    pub if_exists: bool,
    /// `ForAnyValue:` / `ForAllValues:`.
    pub set: Option<SetQualifier>,
}

/// `ForAnyValue:` or `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// At least one request value matches (false when the key is absent).
    ForAnyValue,
    /// Every request value matches (true when the key is absent or empty).
    ForAllValues,
}

/// The condition operators IAM defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // The names are IAM's own.
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
    /// An operator this evaluator does not know; it is assumed to restrict nothing it can
    /// rely on (an `Allow` stays open, a `Deny` is not counted on).
    Unknown,
}

const BASE_NAMES: &[(&str, BaseOperator)] = &[
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl Operator {
    /// Parses an operator name, case-insensitively. Unknown names parse (as
    /// [`BaseOperator::Unknown`]) so that a new IAM operator does not make every policy
    /// using it unreadable.
    pub fn parse(raw: &str) -> Self {
        let mut rest = raw;
        let mut set = None;
        for (prefix, qualifier) in [
            ("ForAnyValue:", SetQualifier::ForAnyValue),
            ("ForAllValues:", SetQualifier::ForAllValues),
        ] {
            if let Some(head) = rest.get(..prefix.len())
                && head.eq_ignore_ascii_case(prefix)
            {
                rest = &rest[prefix.len()..];
                set = Some(qualifier);
            }
        }
        let lookup = |name: &str| {
            BASE_NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|&(_, op)| op)
        };
        let (base, if_exists) = match lookup(rest) {
            Some(op) => (op, false),
            None => {
                let cut = rest.len().saturating_sub("IfExists".len());
                match (rest.get(..cut), rest.get(cut..)) {
                    (Some(head), Some(tail)) if tail.eq_ignore_ascii_case("IfExists") => {
                        match lookup(head) {
                            Some(BaseOperator::Null) | None => (BaseOperator::Unknown, false),
                            Some(op) => (op, true),
                        }
                    }
                    _ => (BaseOperator::Unknown, false),
                }
            }
        };
        Self {
            raw: raw.to_owned(),
            base,
            if_exists,
            set,
        }
    }

    /// How the operator relates a present key to its values.
    fn polarity(&self) -> Polarity {
        use BaseOperator::*;
        match self.base {
            StringEquals
            | StringEqualsIgnoreCase
            | StringLike
            | NumericEquals
            | DateEquals
            | Bool
            | BinaryEquals
            | IpAddress
            | ArnEquals
            | ArnLike => Polarity::Match,
            StringNotEquals
            | StringNotEqualsIgnoreCase
            | StringNotLike
            | NumericNotEquals
            | DateNotEquals
            | NotIpAddress
            | ArnNotEquals
            | ArnNotLike => Polarity::Mismatch,
            NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals
            | Null
            | Unknown => Polarity::Other,
        }
    }

    /// Whether values are wildcard patterns (`StringLike`, and all `Arn…` operators).
    fn wildcards(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.base,
            StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike
        )
    }

    /// Whether the key's values are compared as strings in any case (the IgnoreCase
    /// family).
    fn ignores_case(&self) -> bool {
        matches!(
            self.base,
            BaseOperator::StringEqualsIgnoreCase | BaseOperator::StringNotEqualsIgnoreCase
        )
    }
}

/// How an operator uses its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polarity {
    /// True when the request value matches one of the values; false when the key is
    /// absent (unless `IfExists`).
    Match,
    /// True when the request value matches none of the values, or the key is absent.
    Mismatch,
    /// Comparisons and `Null`: no statement about who the caller is.
    Other,
}

/// Whether a condition holds for a kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// For no such caller.
    Never,
    /// For some: the request decides.
    Maybe,
    /// For every such caller.
    Always,
}

/// The kinds of caller the evaluator reasons about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// Anyone at all: anonymous, or a principal of an account the policy does not name,
    /// outside the owner's organization, VPCs, endpoints and IP ranges. "Public" means
    /// this caller is allowed.
    Anyone,
    /// Some principal of this account (otherwise an outsider, as for `Anyone`).
    Account(&'a str),
    /// The principal an identity policy is attached to. Its request context is unknown,
    /// so every condition is [`Holds::Maybe`].
    Holder,
}

/// The condition keys that limit who can make a request, by the kind of value they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExposureKey {
    /// The calling account: `aws:PrincipalAccount`, `kms:CallerAccount`,
    /// `s3:DataAccessPointAccount`; or, for calls made by an AWS service, the account of
    /// the resource it acts for: `aws:SourceAccount`, `aws:SourceOwner`.
    Account,
    /// An ARN whose account (or, for S3 buckets, globally unique name) is fixed:
    /// `aws:PrincipalArn`, `aws:SourceArn`, `s3:DataAccessPointArn`.
    Arn,
    /// `aws:PrincipalOrgID`.
    OrgId,
    /// `aws:PrincipalOrgPaths`: limiting when the organization id (first segment) is fixed.
    OrgPath,
    /// `aws:SourceVpc`, `aws:SourceVpce`: limiting when no wildcard is used (`vpce-*`
    /// would admit anyone's endpoint).
    Network,
    /// `aws:SourceIp`: limiting unless a range is `/0` (`0.0.0.0/0`, `::/0`).
    SourceIp,
    /// `aws:userid` (`AROAROLEID:*`): limiting when the part before `:` is fixed.
    UserId,
    /// `aws:PrincipalServiceName`: only that AWS service can call.
    ServiceName,
    /// `aws:PrincipalIsAWSService` `true`: only AWS services can call.
    IsAwsService,
}

impl ExposureKey {
    /// The exposure key `key` is, if any (case-insensitive).
    pub fn of(key: &str) -> Option<Self> {
        const KEYS: &[(&str, ExposureKey)] = &[
            ("aws:PrincipalAccount", ExposureKey::Account),
            ("kms:CallerAccount", ExposureKey::Account),
            ("s3:DataAccessPointAccount", ExposureKey::Account),
            ("aws:SourceAccount", ExposureKey::Account),
            ("aws:SourceOwner", ExposureKey::Account),
            ("aws:PrincipalArn", ExposureKey::Arn),
            ("aws:SourceArn", ExposureKey::Arn),
            ("s3:DataAccessPointArn", ExposureKey::Arn),
            ("aws:PrincipalOrgID", ExposureKey::OrgId),
            ("aws:PrincipalOrgPaths", ExposureKey::OrgPath),
            ("aws:SourceVpc", ExposureKey::Network),
            ("aws:SourceVpce", ExposureKey::Network),
            ("aws:SourceIp", ExposureKey::SourceIp),
            ("aws:userid", ExposureKey::UserId),
            ("aws:PrincipalServiceName", ExposureKey::ServiceName),
            ("aws:PrincipalIsAWSService", ExposureKey::IsAwsService),
        ];
        KEYS.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|&(_, kind)| kind)
    }

    /// Whether `value` pins the caller to something the owner controls. `wildcards` says
    /// whether the operator reads `*` and `?` as wildcards.
    fn is_fixed(self, value: &str, wildcards: bool) -> bool {
        if value.contains("${") {
            return only_owner_variables(value);
        }
        let fixed = |part: &str| !(part.is_empty() || (wildcards && glob::has_wildcard(part)));
        match self {
            ExposureKey::Account
            | ExposureKey::OrgId
            | ExposureKey::Network
            | ExposureKey::ServiceName => fixed(value),
            ExposureKey::Arn => {
                let fields: Vec<&str> = value.splitn(6, ':').collect();
                match fields[..] {
                    // An S3 bucket ARN has no account; its name is globally unique.
                    [_, _, _, _, "", resource] => fixed(resource),
                    [_, _, _, _, account, _] => fixed(account),
                    _ => fixed(value),
                }
            }
            ExposureKey::OrgPath => fixed(value.split('/').next().unwrap_or_default()),
            ExposureKey::UserId => fixed(value.split(':').next().unwrap_or_default()),
            ExposureKey::SourceIp => value
                .rsplit_once('/')
                .is_none_or(|(_, bits)| bits.trim().parse::<u8>().is_ok_and(|b| b > 0)),
            ExposureKey::IsAwsService => value.eq_ignore_ascii_case("true"),
        }
    }
}

/// Whether every policy variable in `value` names the resource's owner
/// (`${aws:ResourceAccount}`, `${aws:ResourceOrgID}`, `${aws:ResourceOrgPaths}`), which
/// is fixed; any other variable (`${aws:PrincipalAccount}`, `${aws:username}`) follows
/// the caller.
fn only_owner_variables(value: &str) -> bool {
    value.split("${").skip(1).all(|rest| {
        let name = rest.split('}').next().unwrap_or_default();
        [
            "aws:ResourceAccount",
            "aws:ResourceOrgID",
            "aws:ResourceOrgPaths",
        ]
        .iter()
        .any(|v| v.eq_ignore_ascii_case(name))
    })
}

impl Condition {
    /// The exposure key this condition tests, if it tests one.
    pub fn exposure_key(&self) -> Option<ExposureKey> {
        ExposureKey::of(&self.key)
    }

    /// Whether the key is `key` (case-insensitive).
    pub fn is_key(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }

    /// Whether the condition holds for `caller` (see the module docs).
    pub fn holds_for(&self, caller: Caller<'_>) -> Holds {
        match caller {
            Caller::Holder => Holds::Maybe,
            Caller::Anyone => self.holds_for_outsider(),
            Caller::Account(account) => self.holds_for_account(account),
        }
    }

    /// For an outsider: a fixed exposure key cannot be matched (it names the owner's
    /// things, or a specific other party), and cannot be avoided by a mismatch test.
    fn holds_for_outsider(&self) -> Holds {
        let Some(kind) = self.exposure_key() else {
            return Holds::Maybe;
        };
        let fixed = !self.values.is_empty()
            && self
                .values
                .iter()
                .all(|v| kind.is_fixed(v, self.operator.wildcards()));
        if !fixed {
            return Holds::Maybe;
        }
        match (self.operator.polarity(), self.operator.set) {
            // IfExists: an anonymous caller has no PrincipalOrgID, a request from the
            // internet no SourceVpce, so the test passes for them. ForAllValues is true
            // for an absent key.
            (Polarity::Match, None | Some(SetQualifier::ForAnyValue))
                if !self.operator.if_exists =>
            {
                Holds::Never
            }
            // A mismatch test holds when the key is absent or differs.
            (Polarity::Mismatch, None) => Holds::Always,
            _ => Holds::Maybe,
        }
    }

    /// For a principal of `account`: account keys are compared with it; ARN keys by their
    /// account field; everything else as for an outsider.
    fn holds_for_account(&self, account: &str) -> Holds {
        let matched = match self.exposure_key() {
            Some(ExposureKey::Account)
                if self.is_key("aws:PrincipalAccount") || self.is_key("kms:CallerAccount") =>
            {
                Some(self.values.iter().any(|v| self.value_matches(v, account)))
            }
            Some(ExposureKey::Arn) if self.is_key("aws:PrincipalArn") => {
                Some(self.values.iter().any(|v| {
                    let fields: Vec<&str> = v.splitn(6, ':').collect();
                    fields
                        .get(4)
                        .is_some_and(|a| glob::matches(a, account, glob::Case::Sensitive))
                }))
            }
            _ => None,
        };
        let Some(matched) = matched else {
            return self.holds_for_outsider();
        };
        let exact_account = self.is_key("aws:PrincipalAccount") || self.is_key("kms:CallerAccount");
        match (self.operator.polarity(), matched) {
            (Polarity::Match, true) if exact_account => Holds::Always,
            (Polarity::Match, true) => Holds::Maybe,
            (Polarity::Match, false) => Holds::Never,
            (Polarity::Mismatch, true) if exact_account => Holds::Never,
            (Polarity::Mismatch, true) => Holds::Maybe,
            (Polarity::Mismatch, false) => Holds::Always,
            (Polarity::Other, _) => Holds::Maybe,
        }
    }

    fn value_matches(&self, value: &str, actual: &str) -> bool {
        let case = if self.operator.ignores_case() {
            glob::Case::Insensitive
        } else {
            glob::Case::Sensitive
        };
        if self.operator.wildcards() {
            glob::matches(value, actual, case)
        } else {
            match case {
                glob::Case::Insensitive => value.eq_ignore_ascii_case(actual),
                glob::Case::Sensitive => value == actual,
            }
        }
    }

    /// The account ids the condition names, when it tests the caller's account: the values
    /// of an account key, and the account field of an `aws:PrincipalArn` value (a grant to
    /// anyone pinned to another account's role is a grant to that account).
    pub fn named_accounts(&self) -> impl Iterator<Item = &str> {
        let account_key = self.is_key("aws:PrincipalAccount") || self.is_key("kms:CallerAccount");
        let arn_key = self.is_key("aws:PrincipalArn");
        self.values.iter().filter_map(move |v| {
            if account_key {
                Some(v.as_str()).filter(|v| is_account_id(v))
            } else if arn_key {
                v.split(':').nth(4).filter(|a| is_account_id(a))
            } else {
                None
            }
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.operator.raw, self.key)?;
        match &self.values[..] {
            [one] => f.write_str(one),
            many => write!(f, "[{}]", many.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: Operator::parse(op),
            key: key.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn operators_parse_with_prefixes_and_suffixes() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists");
        assert_eq!(op.base, BaseOperator::StringLike);
        assert!(op.if_exists);
        assert_eq!(op.set, Some(SetQualifier::ForAnyValue));
        let op = Operator::parse("boolifexists");
        assert_eq!((op.base, op.if_exists), (BaseOperator::Bool, true));
        assert_eq!(Operator::parse("Null").base, BaseOperator::Null);
        assert_eq!(Operator::parse("NullIfExists").base, BaseOperator::Unknown);
        assert_eq!(Operator::parse("Fuzzy").base, BaseOperator::Unknown);
        // A known operator followed by eight letters that are not `IfExists` is unknown,
        // not that operator's IfExists form.
        let op = Operator::parse("StringEqualsNotThere");
        assert_eq!((op.base, op.if_exists), (BaseOperator::Unknown, false));
    }

    /// Only `StringLike` and the `Arn…` operators read `*` as a wildcard: with
    /// `StringEquals`, `*` is a literal no organization or account has.
    #[test]
    fn a_star_is_literal_for_string_equals() {
        let c = cond("StringEquals", "aws:PrincipalOrgID", &["*"]);
        assert_eq!(c.holds_for(Caller::Anyone), Holds::Never);
        let c = cond("StringEquals", "aws:PrincipalAccount", &["4444*"]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Never);
        let c = cond("StringLike", "aws:PrincipalAccount", &["4444*"]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Always);
    }

    /// `aws:PrincipalArn` is compared by its account field: a match names some principals
    /// of that account (Maybe, not Always), a mismatch excludes only some of them.
    /// Other ARN and account keys (`aws:SourceArn`, `aws:SourceAccount`) name a resource or
    /// service's source, not the calling account: they are judged as for an outsider.
    #[test]
    fn principal_arn_conditions_compare_the_account_field() {
        const ROLE: &str = "arn:aws:iam::444455556666:role/x";
        let c = cond("ArnEquals", "aws:PrincipalArn", &[ROLE]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Maybe);
        assert_eq!(c.holds_for(Caller::Account("777788889999")), Holds::Never);
        let c = cond("ArnNotEquals", "aws:PrincipalArn", &[ROLE]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Maybe);
        assert_eq!(c.holds_for(Caller::Account("777788889999")), Holds::Always);
        let c = cond(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:444455556666:topic"],
        );
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Never);
        let c = cond("StringEquals", "aws:SourceAccount", &["444455556666"]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Never);
    }

    #[test]
    fn fixed_exposure_keys_exclude_outsiders() {
        for c in [
            cond("StringEquals", "aws:PrincipalOrgID", &["o-abc123"]),
            cond("StringEquals", "aws:sourcevpce", &["vpce-1234"]),
            cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]),
            cond(
                "ArnLike",
                "aws:SourceArn",
                &["arn:aws:cloudtrail:*:111122223333:trail/*"],
            ),
            cond("ArnLike", "aws:SourceArn", &["arn:aws:s3:::logs-bucket"]),
            cond("StringLike", "aws:userid", &["AROAEXAMPLE:*"]),
            cond(
                "ForAnyValue:StringLike",
                "aws:PrincipalOrgPaths",
                &["o-abc/r-1/*"],
            ),
            cond("StringEquals", "kms:CallerAccount", &["111122223333"]),
            cond(
                "StringEquals",
                "aws:PrincipalAccount",
                &["${aws:ResourceAccount}"],
            ),
            cond("Bool", "aws:PrincipalIsAWSService", &["true"]),
        ] {
            assert_eq!(c.holds_for(Caller::Anyone), Holds::Never, "{c}");
        }
    }

    #[test]
    fn broad_or_optional_exposure_tests_do_not_exclude_outsiders() {
        for c in [
            cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8", "0.0.0.0/0"]),
            cond("IpAddress", "aws:SourceIp", &["::/0"]),
            cond("StringLike", "aws:SourceVpce", &["vpce-*"]),
            cond("StringLike", "aws:PrincipalOrgID", &["*"]),
            cond("StringEqualsIfExists", "aws:PrincipalOrgID", &["o-abc123"]),
            cond(
                "ForAllValues:StringLike",
                "aws:PrincipalOrgPaths",
                &["o-abc/*"],
            ),
            cond("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*:role/x"]),
            cond(
                "StringEquals",
                "aws:PrincipalAccount",
                &["${aws:PrincipalAccount}"],
            ),
            cond("Null", "aws:PrincipalOrgID", &["false"]),
            cond("StringNotEquals", "aws:PrincipalOrgID", &["o-abc123"]),
            cond("Bool", "aws:SecureTransport", &["true"]),
            cond(
                "StringEquals",
                "kms:ViaService",
                &["s3.us-east-1.amazonaws.com"],
            ),
        ] {
            assert_ne!(c.holds_for(Caller::Anyone), Holds::Never, "{c}");
        }
    }

    #[test]
    fn mismatch_on_a_fixed_key_always_holds_for_outsiders() {
        let c = cond("StringNotEquals", "aws:PrincipalOrgID", &["o-abc123"]);
        assert_eq!(c.holds_for(Caller::Anyone), Holds::Always);
        let c = cond("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"]);
        assert_eq!(c.holds_for(Caller::Anyone), Holds::Always);
    }

    #[test]
    fn account_conditions_compare_with_the_caller_account() {
        let c = cond("StringEquals", "aws:PrincipalAccount", &["444455556666"]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Always);
        assert_eq!(c.holds_for(Caller::Account("777788889999")), Holds::Never);
        let c = cond("StringNotEquals", "kms:CallerAccount", &["111122223333"]);
        assert_eq!(c.holds_for(Caller::Account("444455556666")), Holds::Always);
        assert_eq!(c.holds_for(Caller::Account("111122223333")), Holds::Never);
        assert_eq!(c.holds_for(Caller::Holder), Holds::Maybe);
    }

    #[test]
    fn display_for_evidence() {
        assert_eq!(
            cond("StringEquals", "aws:PrincipalOrgID", &["o-abc"]).to_string(),
            "StringEquals aws:PrincipalOrgID o-abc"
        );
        assert_eq!(
            cond("IpAddress", "aws:SourceIp", &["a", "b"]).to_string(),
            "IpAddress aws:SourceIp [a, b]"
        );
    }
}
