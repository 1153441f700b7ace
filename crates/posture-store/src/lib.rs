//! The snapshot store: every scan's resources, coverage and findings, in an embedded SQLite
//! file.
//!
//! Invariants:
//! - a snapshot becomes visible only when complete: everything a scan writes goes into one
//!   transaction that commits at the end, so a killed scan leaves the store as it was;
//! - resource bodies are stored once per distinct content, keyed by the SHA-256 of their
//!   canonical JSON, so an unchanged estate costs little per scan;
//! - the schema is versioned; `open` applies pending migrations in place.

mod schema;

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use posture_model::{AccountId, Coverage, Finding, Region, Resource, SnapshotId, SnapshotMeta};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the store at {path}: {source}")]
    Open {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The store's directory could not be created.
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The store was written by a newer Posture.
    #[error(
        "the store at {path} has schema version {found}, newer than this posture understands ({supported}); upgrade posture"
    )]
    TooNew {
        /// The path.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A query failed.
    #[error("store {operation} failed: {source}")]
    Query {
        /// What was being done.
        operation: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
    /// A stored document could not be decoded.
    #[error("stored {what} is corrupt: {source}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The cause.
        source: serde_json::Error,
    },
}

fn q(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

/// The SQLite store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it to the current schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(q("set journal mode"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(q("set synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(q("enable foreign keys"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(q("set busy timeout"))?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        schema::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts writing a snapshot. Nothing is visible to readers until [`SnapshotWriter::commit`].
    pub fn begin_snapshot(
        &mut self,
        started_at: DateTime<Utc>,
    ) -> Result<SnapshotWriter<'_>, StoreError> {
        let tx = self.conn.transaction().map_err(q("begin snapshot"))?;
        let id = SnapshotId::new(format!("{}", started_at.format("%Y%m%dT%H%M%S%3fZ"))).map_err(
            |_| StoreError::Query {
                operation: "make snapshot id",
                source: rusqlite::Error::InvalidQuery,
            },
        )?;
        Ok(SnapshotWriter {
            tx,
            id,
            started_at,
            resources: 0,
        })
    }

    /// Every committed snapshot, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapshotMeta>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, started_at, finished_at, accounts, regions, coverage, resource_count \
                 FROM snapshots ORDER BY started_at, id",
            )
            .map_err(q("list snapshots"))?;
        let rows = stmt.query_map([], raw_meta).map_err(q("list snapshots"))?;
        rows.map(|r| r.map_err(q("list snapshots")).and_then(decode_meta))
            .collect()
    }

    /// The newest committed snapshot.
    pub fn latest_snapshot(&self) -> Result<Option<SnapshotMeta>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, started_at, finished_at, accounts, regions, coverage, resource_count \
                 FROM snapshots ORDER BY started_at DESC, id DESC LIMIT 1",
                [],
                raw_meta,
            )
            .optional()
            .map_err(q("read latest snapshot"))?
            .map(decode_meta)
            .transpose()
    }

    /// The resources of a snapshot, sorted by (account, region, kind, ARN).
    pub fn resources(&self, snapshot: &SnapshotId) -> Result<Vec<Resource>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT b.body FROM snapshot_resources sr JOIN bodies b ON b.hash = sr.hash \
                 WHERE sr.snapshot_id = ?1 ORDER BY sr.account, sr.region, sr.kind, sr.arn",
            )
            .map_err(q("read resources"))?;
        let rows = stmt
            .query_map([snapshot.as_str()], |r| r.get::<_, String>(0))
            .map_err(q("read resources"))?;
        rows.map(|r| {
            let text = r.map_err(q("read resources"))?;
            serde_json::from_str(&text).map_err(|source| StoreError::Corrupt {
                what: "resource",
                source,
            })
        })
        .collect()
    }

    /// The findings of a snapshot, in the order they were written (sorted by the checker).
    pub fn findings(&self, snapshot: &SnapshotId) -> Result<Vec<Finding>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM findings WHERE snapshot_id = ?1 ORDER BY seq")
            .map_err(q("read findings"))?;
        let rows = stmt
            .query_map([snapshot.as_str()], |r| r.get::<_, String>(0))
            .map_err(q("read findings"))?;
        rows.map(|r| {
            let text = r.map_err(q("read findings"))?;
            serde_json::from_str(&text).map_err(|source| StoreError::Corrupt {
                what: "finding",
                source,
            })
        })
        .collect()
    }
}

type RawMeta = (String, String, String, String, String, String, i64);

fn raw_meta(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawMeta> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn decode_meta(
    (id, started, finished, accounts, regions, coverage, count): RawMeta,
) -> Result<SnapshotMeta, StoreError> {
    let corrupt = |what| move |source| StoreError::Corrupt { what, source };
    let time = |t: &str| -> Result<DateTime<Utc>, StoreError> {
        serde_json::from_value(serde_json::Value::String(t.to_owned()))
            .map_err(corrupt("snapshot time"))
    };
    Ok(SnapshotMeta {
        id: serde_json::from_value(serde_json::Value::String(id))
            .map_err(corrupt("snapshot id"))?,
        started_at: time(&started)?,
        finished_at: time(&finished)?,
        accounts: serde_json::from_str(&accounts).map_err(corrupt("snapshot accounts"))?,
        regions: serde_json::from_str(&regions).map_err(corrupt("snapshot regions"))?,
        coverage: serde_json::from_str(&coverage).map_err(corrupt("snapshot coverage"))?,
        resource_count: u64::try_from(count).unwrap_or_default(),
    })
}

/// Canonical JSON and its SHA-256, hex-encoded.
pub fn content_hash(resource: &Resource) -> (String, String) {
    // serde_json writes struct fields in declaration order and maps (BTreeMap, and
    // serde_json::Value objects without the preserve_order feature) sorted by key, so the
    // same content always yields the same text.
    let text = serde_json::to_string(resource).unwrap_or_default();
    let hash = Sha256::digest(text.as_bytes());
    let hex = hash.iter().map(|b| format!("{b:02x}")).collect();
    (hex, text)
}

/// A snapshot being written. Dropping it without `commit` rolls everything back.
#[derive(Debug)]
pub struct SnapshotWriter<'a> {
    tx: Transaction<'a>,
    id: SnapshotId,
    started_at: DateTime<Utc>,
    resources: u64,
}

/// What is known about a snapshot only once collection has finished.
#[derive(Debug)]
pub struct SnapshotSummary<'f> {
    /// When collection finished.
    pub finished_at: DateTime<Utc>,
    /// Accounts scanned.
    pub accounts: Vec<AccountId>,
    /// Regions scanned.
    pub regions: Vec<Region>,
    /// Coverage.
    pub coverage: Coverage,
    /// Findings of the evaluation.
    pub findings: &'f [Finding],
}

impl SnapshotWriter<'_> {
    /// The id the snapshot will have.
    pub fn id(&self) -> &SnapshotId {
        &self.id
    }

    /// Adds one resource. A resource seen twice in one scan (same kind and ARN) keeps the
    /// last body.
    pub fn put_resource(&mut self, resource: &Resource) -> Result<(), StoreError> {
        let (hash, text) = content_hash(resource);
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO bodies (hash, body) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![hash, text]))
            .map_err(q("write resource body"))?;
        let changed = self
            .tx
            .prepare_cached(
                "INSERT OR REPLACE INTO snapshot_resources (snapshot_id, kind, arn, account, region, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.id.as_str(),
                    resource.kind().as_str(),
                    resource.arn.as_str(),
                    resource.account.as_str(),
                    resource.region.as_str(),
                    hash
                ])
            })
            .map_err(q("write snapshot membership"))?;
        self.resources += u64::try_from(changed).unwrap_or_default();
        Ok(())
    }

    /// Writes the header and findings and commits: the snapshot becomes visible.
    pub fn commit(self, summary: SnapshotSummary<'_>) -> Result<SnapshotMeta, StoreError> {
        let count: i64 = self
            .tx
            .query_row(
                "SELECT COUNT(*) FROM snapshot_resources WHERE snapshot_id = ?1",
                [self.id.as_str()],
                |r| r.get(0),
            )
            .map_err(q("count resources"))?;
        let meta = SnapshotMeta {
            id: self.id.clone(),
            started_at: self.started_at,
            finished_at: summary.finished_at,
            accounts: summary.accounts,
            regions: summary.regions,
            coverage: summary.coverage,
            resource_count: u64::try_from(count).unwrap_or_default(),
        };
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
        self.tx
            .execute(
                "INSERT INTO snapshots (id, started_at, finished_at, accounts, regions, coverage, resource_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    meta.id.as_str(),
                    ts(meta.started_at),
                    ts(meta.finished_at),
                    to_json(&meta.accounts),
                    to_json(&meta.regions),
                    to_json(&meta.coverage),
                    count
                ],
            )
            .map_err(q("write snapshot header"))?;
        {
            let mut stmt = self
                .tx
                .prepare(
                    "INSERT INTO findings (snapshot_id, seq, rule_id, arn, status, severity, body) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(q("write findings"))?;
            for (seq, f) in summary.findings.iter().enumerate() {
                stmt.execute(params![
                    meta.id.as_str(),
                    i64::try_from(seq).unwrap_or(i64::MAX),
                    f.rule_id.as_str(),
                    f.resource.arn.as_str(),
                    f.status.as_str(),
                    f.severity.as_str(),
                    serde_json::to_string(f).unwrap_or_default()
                ])
                .map_err(q("write findings"))?;
            }
        }
        self.tx.commit().map_err(q("commit snapshot"))?;
        Ok(meta)
    }
}

/// Serialises a value for a JSON column; the model types always serialise.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests;
