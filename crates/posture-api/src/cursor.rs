//! Paging cursors: opaque to clients (base64url of a small JSON document), checked when
//! they come back. A findings or drift cursor names its snapshot, so paging through the
//! latest snapshot goes on in the same snapshot when a newer one is committed meanwhile.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use posture_store::FindingCursor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Failure;

/// Where a snapshot list continues: before this position.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotsCursor {
    pub before: i64,
}

/// Where a findings page continues.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FindingsCursor {
    pub snapshot: String,
    #[serde(flatten)]
    pub at: At,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum At {
    /// A row of a snapshot written before schema 7.
    Seq(i64),
    /// The last finding's (account, rule, region, ARN).
    Key([String; 4]),
}

impl From<FindingCursor> for At {
    fn from(cursor: FindingCursor) -> Self {
        match cursor {
            FindingCursor::Seq(s) => At::Seq(s),
            FindingCursor::Key(key) => {
                let mut it = key.into_iter();
                At::Key(std::array::from_fn(|_| it.next().unwrap_or_default()))
            }
        }
    }
}

impl From<At> for FindingCursor {
    fn from(at: At) -> Self {
        match at {
            At::Seq(s) => FindingCursor::Seq(s),
            At::Key(key) => FindingCursor::Key(key.into()),
        }
    }
}

/// Where a drift page continues.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DriftCursor {
    pub snapshot: String,
    pub part: String,
    pub after: i64,
}

pub(crate) fn encode<T: Serialize>(cursor: &T) -> String {
    // Serialising these plain structs cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

pub(crate) fn decode<T: DeserializeOwned>(text: &str) -> Result<T, Failure> {
    let bad = || {
        Failure::bad_request(
            "malformed cursor: pass back the next_cursor of the previous page unchanged",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = FindingsCursor {
            snapshot: "s".into(),
            at: At::from(FindingCursor::Key(vec![
                "a".into(),
                "r".into(),
                "g".into(),
                "n".into(),
            ])),
        };
        let back: FindingsCursor = decode(&encode(&c)).unwrap();
        assert_eq!(
            FindingCursor::from(back.at),
            FindingCursor::Key(vec!["a".into(), "r".into(), "g".into(), "n".into()])
        );
        assert!(decode::<FindingsCursor>("!!").is_err());
        // A key of the wrong length would bind the wrong number of SQL parameters.
        let short = URL_SAFE_NO_PAD.encode(r#"{"snapshot":"s","key":["a"]}"#);
        assert!(decode::<FindingsCursor>(&short).is_err());
    }
}
