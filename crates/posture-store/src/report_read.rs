//! Reads for the evidence report (`posture-report`): what a report needs besides the pages
//! of `read.rs`, in counts, so a report over a long period never decodes every finding of
//! every snapshot in it.

use posture_model::{AccountId, SnapshotId, Status};

use crate::db::Val;
use crate::{Store, StoreError, q};

/// A snapshot's manifest as sealed into the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedManifest {
    /// The canonical JSON text that was hashed.
    pub text: String,
    /// Its SHA-256 (lowercase hex), as recorded in the chain.
    pub hash: String,
}

/// How many findings of one rule had one status in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStatusCount {
    /// The rule (or manual control) id.
    pub rule_id: String,
    /// The status.
    pub status: Status,
    /// How many findings.
    pub count: u64,
}

impl Store {
    /// The manifest hash sealed into the chain for snapshot `id` (`None` for a snapshot
    /// written before the chain existed).
    pub fn manifest_hash(&mut self, id: &SnapshotId) -> Result<Option<String>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT manifest_hash FROM snapshots WHERE id = $1",
                &[id.as_str().into()],
            )
            .map_err(q("read manifest hash"))?;
        let Some(r) = rows.first() else {
            return Err(StoreError::NoSuchSnapshot(id.to_string()));
        };
        Ok(r[0].opt_text().map(str::to_owned))
    }

    /// The sealed manifest of snapshot `id`, byte for byte as its hash was computed, with
    /// that hash: `sha256(text) == hash` for an unaltered snapshot. `None` for a snapshot
    /// written before the chain existed. The evidence bundle ships these texts, so a
    /// reader can tie every snapshot it covers to the chain without the store.
    pub fn sealed_manifest(
        &mut self,
        id: &SnapshotId,
    ) -> Result<Option<SealedManifest>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT manifest, manifest_hash FROM snapshots WHERE id = $1",
                &[id.as_str().into()],
            )
            .map_err(q("read manifest"))?;
        let Some(r) = rows.first() else {
            return Err(StoreError::NoSuchSnapshot(id.to_string()));
        };
        Ok(match (r[0].opt_text(), r[1].opt_text()) {
            (Some(text), Some(hash)) if !text.is_empty() => Some(SealedManifest {
                text: text.to_owned(),
                hash: hash.to_owned(),
            }),
            _ => None,
        })
    }

    /// The findings of snapshot `id` counted per (rule, status), in `accounts` only when not
    /// empty; sorted by rule, then status. One grouped query: its cost is the snapshot's
    /// index range, its result the number of rules times statuses.
    pub fn finding_counts(
        &mut self,
        id: &SnapshotId,
        accounts: &[AccountId],
    ) -> Result<Vec<RuleStatusCount>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT seq, intervals FROM snapshots WHERE id = $1",
                &[id.as_str().into()],
            )
            .map_err(q("read snapshot"))?;
        let Some(r) = rows.first() else {
            return Err(StoreError::NoSuchSnapshot(id.to_string()));
        };
        let (seq, intervals) = (r[0].int(), r[1].int() != 0);
        let (mut params, table, alias_where) = if intervals {
            (
                vec![Val::Int(seq)],
                "finding_versions v",
                crate::versions::valid_at("v"),
            )
        } else {
            (
                vec![id.as_str().into()],
                "findings v",
                "v.snapshot_id = $1".to_owned(),
            )
        };
        let mut accounts_sql = String::new();
        if !accounts.is_empty() {
            let marks: Vec<String> = accounts
                .iter()
                .map(|a| {
                    params.push(a.as_str().into());
                    format!("${}", params.len())
                })
                .collect();
            accounts_sql = format!(" AND v.account IN ({})", marks.join(", "));
        }
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT v.rule_id, v.status, COUNT(*) FROM {table} WHERE {alias_where}{accounts_sql} \
                     GROUP BY v.rule_id, v.status"
                ),
                &params,
            )
            .map_err(q("count findings"))?;
        let mut out = rows
            .iter()
            .map(|r| {
                let status = serde_json::from_value(serde_json::Value::from(r[1].text()))
                    .map_err(crate::corrupt("finding status"))?;
                Ok(RuleStatusCount {
                    rule_id: r[0].text().to_owned(),
                    status,
                    count: u64::try_from(r[2].int()).unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| (&a.rule_id, a.status).cmp(&(&b.rule_id, b.status)));
        Ok(out)
    }
}
