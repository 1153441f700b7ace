//! Newtypes for identifiers, so that an account id can never be passed where an ARN is
//! expected. Constructors validate; `Deserialize` goes through the same validation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An identifier failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// What kind of identifier was expected, e.g. `account id`.
    pub what: &'static str,
    /// The rejected input.
    pub input: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.what, self.input, self.reason)
    }
}

impl std::error::Error for IdError {}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $validate:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `value`.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                let check: fn(&str) -> Result<(), &'static str> = $validate;
                match check(&value) {
                    Ok(()) => Ok(Self(value)),
                    Err(reason) => Err(IdError { what: $what, input: value, reason }),
                }
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
    };
}

string_id!(
    /// A 12-digit AWS account id.
    AccountId,
    "account id",
    |s| {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err("an AWS account id is exactly 12 digits")
        }
    }
);

string_id!(
    /// An AWS region name such as `us-east-1`, or `global` for account-wide services
    /// (IAM, the S3 account settings) that have no region.
    Region,
    "region",
    |s| {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok { Ok(()) } else { Err("a region is lowercase letters, digits and dashes, like us-east-1") }
    }
);

impl Region {
    /// The pseudo-region of account-wide services (IAM, S3 account settings).
    pub fn global() -> Self {
        Self("global".to_owned())
    }

    /// Whether this is the pseudo-region of account-wide services.
    pub fn is_global(&self) -> bool {
        self.0 == "global"
    }
}

string_id!(
    /// An Amazon Resource Name. Posture uses real ARNs wherever AWS defines one; the few
    /// account- and region-wide settings that have none get a documented ARN of the same
    /// shape (see `resources::ResourceKind`).
    Arn,
    "ARN",
    |s| {
        if s.starts_with("arn:") && s.splitn(6, ':').count() == 6 {
            Ok(())
        } else {
            Err("an ARN has the form arn:partition:service:region:account:resource")
        }
    }
);

impl Arn {
    /// Builds an ARN in the `aws` partition from its fields. Always well-formed: the
    /// fields are joined with `:` so there are six of them whatever they contain.
    pub fn from_parts(service: &str, region: &str, account: &str, resource: &str) -> Self {
        Self(format!("arn:aws:{service}:{region}:{account}:{resource}"))
    }

    /// The service field of the ARN (`s3`, `iam`, ...).
    pub fn service(&self) -> &str {
        self.0.split(':').nth(2).unwrap_or_default()
    }

    /// The account field of the ARN; empty for S3 buckets.
    pub fn account(&self) -> &str {
        self.0.split(':').nth(4).unwrap_or_default()
    }
}

string_id!(
    /// A rule id of the form `<service>_<resource>_<property>`: lowercase ASCII letters,
    /// digits and underscores.
    RuleId,
    "rule id",
    |s| {
        let ok = !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && s.as_bytes()[0].is_ascii_lowercase();
        if ok { Ok(()) } else { Err("a rule id is lowercase letters, digits and underscores") }
    }
);

string_id!(
    /// The id of one snapshot: a sortable, unique string assigned by the store.
    SnapshotId,
    "snapshot id",
    |s| {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Ok(())
        } else {
            Err("a snapshot id is letters, digits and dashes")
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_requires_twelve_digits() {
        assert!(AccountId::new("123456789012").is_ok());
        let err = AccountId::new("12345").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid account id \"12345\": an AWS account id is exactly 12 digits"
        );
        assert!(AccountId::new("12345678901a").is_err());
    }

    #[test]
    fn arn_fields() {
        let arn = Arn::new("arn:aws:iam::123456789012:user/alice").unwrap();
        assert_eq!(arn.service(), "iam");
        assert_eq!(arn.account(), "123456789012");
        assert!(Arn::new("not-an-arn").is_err());
    }

    #[test]
    fn ids_deserialize_through_validation() {
        let ok: Result<Region, _> = serde_json::from_str("\"eu-west-1\"");
        assert!(ok.is_ok());
        let bad: Result<Region, _> = serde_json::from_str("\"EU WEST\"");
        assert!(bad.is_err());
        let rule: Result<RuleId, _> = serde_json::from_str("\"s3_bucket_versioning\"");
        assert!(rule.is_ok());
    }

    mod hostile {
        //! Hostile input (issue 12, item 8): identifiers come from AWS answers and from
        //! stored snapshots; validation must answer, never panic.

        use proptest::prelude::*;
        use proptest::test_runner::Config;

        use super::super::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                prop::collection::vec(
                    prop::sample::select(
                        &["arn", ":", "aws", "s3", "", "é", "💥", "*", "/", "1"][..]
                    ),
                    0..10
                )
                .prop_map(|p| p.concat()),
            ]
        }

        proptest! {
            #![proptest_config(Config { cases: 1024, failure_persistence: None, ..Config::default() })]

            /// Every constructor answers on any text, and what it accepts round-trips
            /// through serde and `Display`.
            #[test]
            fn ids_validate_any_text(s in text()) {
                let arn = Arn::new(s.clone());
                prop_assert_eq!(
                    arn.is_ok(),
                    s.starts_with("arn:") && s.matches(':').count() >= 5
                );
                if let Ok(arn) = arn {
                    let _ = (arn.service(), arn.account());
                    let back: Arn = serde_json::from_value(serde_json::to_value(&arn).expect("a string"))
                        .expect("round trip");
                    prop_assert_eq!(back.as_str(), s.as_str());
                }
                for ok in [
                    AccountId::new(s.clone()).map(|v| v.to_string()),
                    Region::new(s.clone()).map(|v| v.to_string()),
                    RuleId::new(s.clone()).map(|v| v.to_string()),
                    SnapshotId::new(s.clone()).map(|v| v.to_string()),
                ] {
                    match ok {
                        Ok(v) => prop_assert_eq!(&v, &s),
                        Err(e) => prop_assert!(!e.to_string().is_empty()),
                    }
                }
                let _ = serde_json::from_value::<Arn>(serde_json::Value::String(s)); // Err is fine.
            }

            /// An ARN built from parts gives its service and account back whenever
            /// they (and the region) hold no `:`.
            #[test]
            fn arn_from_parts_reads_back(
                service in "[a-z0-9-]{0,12}",
                region in "[a-z0-9-]{0,12}",
                account in "[0-9]{0,12}",
                resource in any::<String>(),
            ) {
                let arn = Arn::from_parts(&service, &region, &account, &resource);
                prop_assert!(Arn::new(arn.to_string()).is_ok());
                prop_assert_eq!(arn.service(), service.as_str());
                prop_assert_eq!(arn.account(), account.as_str());
            }
        }
    }
}
