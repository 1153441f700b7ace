//! PHI scope: which resources hold protected health information, decided by their tags.
//!
//! Which tags mark PHI is the organisation's configuration, not the baseline's: the CLI
//! reads a [`PhiScope`] from its configuration and passes it to the evaluation. The
//! baseline only says which rules apply to PHI resources alone (`[scope] phi_only`).
//!
//! Matching is generous on purpose, because marking a resource as PHI only ever adds
//! scrutiny: tag keys and values compare without regard to case or surrounding spaces.

use std::collections::BTreeMap;

use posture_model::{Observed, Tags, Unavailable};
use serde::{Deserialize, Serialize};

/// The tags that mark a resource as holding PHI: a resource is PHI when any configured key
/// is present with one of its accepted values (any value when the list is empty).
///
/// In TOML:
///
/// ```toml
/// [phi]
/// tags = { phi = ["true", "yes", "1"], data-classification = ["phi", "ephi"] }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPhiScope", into = "RawPhiScope")]
pub struct PhiScope {
    /// Tag key → accepted values, keys and values lowercased and trimmed.
    tags: BTreeMap<String, Vec<String>>,
}

/// A PHI scope was configured in a way that would mark nothing, or is ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhiScopeError {
    /// No tag key at all: no resource could ever be PHI, which would turn every
    /// PHI-scoped rule off.
    #[error("the PHI scope names no tag key: list at least one, e.g. phi = [\"true\"]")]
    NoTags,
    /// An empty or blank key.
    #[error("the PHI scope has an empty tag key")]
    EmptyKey,
    /// Two keys that differ only in case or spaces.
    #[error("the PHI scope lists tag key {0:?} twice (keys compare without regard to case)")]
    DuplicateKey(String),
    /// A blank accepted value (it would match nothing useful; use an empty list for "any").
    #[error("the PHI scope lists an empty value for tag key {0:?} (use [] to accept any value)")]
    EmptyValue(String),
}

/// Whether one resource holds PHI, as far as its tags tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhiState<'a> {
    /// A configured tag matched.
    Phi,
    /// The tags were read and none matched (or the resource has none).
    NotPhi,
    /// The tags could not be collected.
    Unknown(&'a Unavailable),
}

impl PhiScope {
    /// A scope from tag key → accepted values (an empty list accepts any value).
    pub fn new(tags: BTreeMap<String, Vec<String>>) -> Result<Self, PhiScopeError> {
        if tags.is_empty() {
            return Err(PhiScopeError::NoTags);
        }
        let mut normalised = BTreeMap::new();
        for (key, values) in tags {
            let k = norm(&key);
            if k.is_empty() {
                return Err(PhiScopeError::EmptyKey);
            }
            let mut vs = Vec::with_capacity(values.len());
            for v in values {
                let v = norm(&v);
                if v.is_empty() {
                    return Err(PhiScopeError::EmptyValue(key));
                }
                vs.push(v);
            }
            vs.sort();
            vs.dedup();
            if normalised.insert(k, vs).is_some() {
                return Err(PhiScopeError::DuplicateKey(key));
            }
        }
        Ok(Self { tags: normalised })
    }

    /// The configured keys and their accepted values (normalised: lowercase, trimmed).
    pub fn tags(&self) -> &BTreeMap<String, Vec<String>> {
        &self.tags
    }

    /// Whether collected `tags` mark a resource as PHI.
    pub fn is_phi(&self, tags: &Tags) -> bool {
        tags.iter().any(|(key, value)| {
            self.tags.iter().any(|(k, accepted)| {
                same(key, k) && (accepted.is_empty() || accepted.iter().any(|v| same(value, v)))
            })
        })
    }

    /// Whether a resource with `tags` as observed holds PHI; `Unknown` when its tags could
    /// not be collected (a failed or skipped lookup, or tags asked for and not returned:
    /// collectors record those as `Unavailable`), which a `phi_only` rule reports as
    /// `Error`. `Absent` means the resource has no tag set (AWS said so, or the kind cannot
    /// be tagged, like the account and region subjects), so it is not PHI.
    pub fn classify<'a>(&self, tags: &'a Observed<Tags>) -> PhiState<'a> {
        match tags {
            Observed::Collected(t) if self.is_phi(t) => PhiState::Phi,
            Observed::Collected(_) | Observed::Absent => PhiState::NotPhi,
            Observed::Unavailable(why) => PhiState::Unknown(why),
        }
    }
}

impl Default for PhiScope {
    /// `phi` = true/yes/1 and `data-classification` = phi/ephi.
    fn default() -> Self {
        let tags = [
            ("phi", &["true", "yes", "1"][..]),
            ("data-classification", &["phi", "ephi"][..]),
        ];
        Self {
            tags: tags
                .into_iter()
                .map(|(k, vs)| {
                    let mut vs: Vec<String> = vs.iter().map(|v| (*v).to_owned()).collect();
                    vs.sort();
                    (k.to_owned(), vs)
                })
                .collect(),
        }
    }
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Whether `text` normalises to `normalised`, without allocating (this runs for every
/// finding of a large estate).
fn same(text: &str, normalised: &str) -> bool {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(normalised.chars())
}

/// The configuration form of [`PhiScope`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhiScope {
    /// Tag key → accepted values; an empty list accepts any value.
    tags: BTreeMap<String, Vec<String>>,
}

impl TryFrom<RawPhiScope> for PhiScope {
    type Error = PhiScopeError;
    fn try_from(raw: RawPhiScope) -> Result<Self, PhiScopeError> {
        Self::new(raw.tags)
    }
}

impl From<PhiScope> for RawPhiScope {
    fn from(scope: PhiScope) -> Self {
        Self { tags: scope.tags }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::UnavailableKind;

    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn default_scope_matches_phi_and_data_classification_without_regard_to_case() {
        let s = PhiScope::default();
        assert!(s.is_phi(&tags(&[("phi", "true")])));
        assert!(s.is_phi(&tags(&[("PHI", "Yes")])));
        assert!(s.is_phi(&tags(&[("phi", "1")])));
        assert!(s.is_phi(&tags(&[("owner", "x"), ("Data-Classification", " ePHI ")])));
        assert!(!s.is_phi(&tags(&[("phi", "false")])));
        assert!(!s.is_phi(&tags(&[("data-classification", "public")])));
        assert!(!s.is_phi(&tags(&[("data-class", "phi")])));
        assert!(!s.is_phi(&Tags::new()));
    }

    #[test]
    fn an_empty_value_list_accepts_any_value() {
        let s = PhiScope::new([("hipaa".to_owned(), vec![])].into()).unwrap();
        assert!(s.is_phi(&tags(&[("hipaa", "anything")])));
        assert!(!s.is_phi(&tags(&[("phi", "true")])));
    }

    #[test]
    fn classify_distinguishes_unknown_tags() {
        let s = PhiScope::default();
        assert_eq!(s.classify(&Observed::Absent), PhiState::NotPhi);
        let phi = Observed::Collected(tags(&[("phi", "true")]));
        assert_eq!(s.classify(&phi), PhiState::Phi);
        let denied = Observed::Unavailable(Unavailable {
            kind: UnavailableKind::Denied,
            operation: "s3:GetBucketTagging".into(),
            code: None,
            message: "denied".into(),
        });
        assert!(matches!(s.classify(&denied), PhiState::Unknown(_)));
    }

    #[test]
    fn configuration_that_would_mark_nothing_is_rejected() {
        assert_eq!(PhiScope::new(BTreeMap::new()), Err(PhiScopeError::NoTags));
        assert_eq!(
            PhiScope::new([(" ".to_owned(), vec![])].into()),
            Err(PhiScopeError::EmptyKey)
        );
        assert!(matches!(
            PhiScope::new([("phi".to_owned(), vec![String::new()])].into()),
            Err(PhiScopeError::EmptyValue(_))
        ));
        assert!(matches!(
            PhiScope::new([("phi".to_owned(), vec![]), ("PHI".to_owned(), vec![])].into()),
            Err(PhiScopeError::DuplicateKey(_))
        ));
    }

    #[test]
    fn deserialises_from_configuration_and_rejects_unknown_fields() {
        let s: PhiScope =
            toml::from_str("tags = { phi = [\"TRUE\"], data-classification = [] }").unwrap();
        assert!(s.is_phi(&tags(&[("data-classification", "anything")])));
        assert!(s.is_phi(&tags(&[("phi", "true")])));
        assert!(toml::from_str::<PhiScope>("tag = {}").is_err());
        let e = toml::from_str::<PhiScope>("tags = {}").unwrap_err();
        assert!(e.to_string().contains("names no tag key"), "{e}");
    }
}
