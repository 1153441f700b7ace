//! `Observed<T>`: a value that the collector tried to read.
//!
//! The point of this type is that "we could not see" is never confused with "it is off".
//! A lookup that failed, was denied or is not implemented by the endpoint becomes
//! [`Observed::Unavailable`], which every rule must turn into an `Error` result.

use serde::{Deserialize, Serialize};

/// The outcome of reading one setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Observed<T> {
    /// AWS answered with the value.
    Collected(T),
    /// AWS answered that the setting is not configured (for example
    /// `NoSuchBucketPolicy` or `ServerSideEncryptionConfigurationNotFoundError`).
    Absent,
    /// The value could not be read; the reason says why.
    Unavailable(Unavailable),
}

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// What kind of failure it was.
    pub kind: UnavailableKind,
    /// The API operation, as `service:Operation` (e.g. `s3:GetBucketEncryption`).
    pub operation: String,
    /// The error code AWS returned, if any (e.g. `AccessDenied`).
    pub code: Option<String>,
    /// A human-readable message.
    pub message: String,
}

/// The class of a collection failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnavailableKind {
    /// The credentials lack permission.
    Denied,
    /// The endpoint does not implement the operation.
    Unsupported,
    /// Throttled after all retries.
    Throttled,
    /// Any other error: network, service fault, unparseable answer.
    Failed,
    /// The collector did not run for this value (the scan was limited or interrupted).
    NotCollected,
}

impl UnavailableKind {
    /// The stable name used in JSON (`denied`, `unsupported`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            UnavailableKind::Denied => "denied",
            UnavailableKind::Unsupported => "unsupported",
            UnavailableKind::Throttled => "throttled",
            UnavailableKind::Failed => "failed",
            UnavailableKind::NotCollected => "not_collected",
        }
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.operation, self.kind)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// The operation named by [`Observed::not_recorded`].
pub const NOT_RECORDED_OPERATION: &str = "posture:NotRecorded";

impl<T> Observed<T> {
    /// A field that a stored resource does not have because an earlier version of Posture
    /// wrote it: rules report `Error` for it, and drift does not count its appearance as a
    /// change. Used as the serde default of fields added to existing resource kinds.
    pub fn not_recorded() -> Self {
        Observed::Unavailable(Unavailable {
            kind: UnavailableKind::NotCollected,
            operation: NOT_RECORDED_OPERATION.to_owned(),
            code: None,
            message: "not recorded: this resource was stored by an earlier version of Posture"
                .to_owned(),
        })
    }

    /// The collected value, `Ok(None)` when absent, or the reason it is unavailable.
    pub fn get(&self) -> Result<Option<&T>, &Unavailable> {
        match self {
            Observed::Collected(v) => Ok(Some(v)),
            Observed::Absent => Ok(None),
            Observed::Unavailable(u) => Err(u),
        }
    }

    /// Maps the collected value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Collected(v) => Observed::Collected(f(v)),
            Observed::Absent => Observed::Absent,
            Observed::Unavailable(u) => Observed::Unavailable(u),
        }
    }

    /// Borrows the collected value.
    pub fn as_ref(&self) -> Observed<&T> {
        match self {
            Observed::Collected(v) => Observed::Collected(v),
            Observed::Absent => Observed::Absent,
            Observed::Unavailable(u) => Observed::Unavailable(u.clone()),
        }
    }

    /// The reason the value is unavailable, if it is.
    pub fn unavailable(&self) -> Option<&Unavailable> {
        match self {
            Observed::Unavailable(u) => Some(u),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_explicit_state() {
        let v: Observed<bool> = Observed::Collected(true);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"state":"collected","value":true}"#
        );
        let a: Observed<bool> = Observed::Absent;
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"state":"absent"}"#);
        let u: Observed<bool> = Observed::Unavailable(Unavailable {
            kind: UnavailableKind::Denied,
            operation: "s3:GetBucketPolicy".into(),
            code: Some("AccessDenied".into()),
            message: "denied".into(),
        });
        let json = serde_json::to_string(&u).unwrap();
        let back: Observed<bool> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, u);
        assert!(back.get().is_err());
    }
}
