//! The store schema and its migrations. Each migration is a step from version N-1 to N,
//! applied in one transaction; the version lives in SQLite's `user_version`.

use std::path::Path;

use rusqlite::Connection;

use crate::{StoreError, q};

/// Migrations, in order; index i brings the schema to version i + 1.
const MIGRATIONS: &[&str] = &[
    // 1: snapshots, content-addressed bodies, membership, findings.
    "CREATE TABLE snapshots (
        id             TEXT PRIMARY KEY,
        started_at     TEXT NOT NULL,
        finished_at    TEXT NOT NULL,
        accounts       TEXT NOT NULL,   -- JSON array of account ids
        regions        TEXT NOT NULL,   -- JSON array of regions
        coverage       TEXT NOT NULL,   -- JSON: collected, failed (gaps), api_calls
        resource_count INTEGER NOT NULL
     );
     CREATE TABLE bodies (
        hash TEXT PRIMARY KEY,          -- SHA-256 of the canonical JSON, hex
        body TEXT NOT NULL              -- the resource as canonical JSON
     );
     CREATE TABLE snapshot_resources (
        snapshot_id TEXT NOT NULL,
        kind        TEXT NOT NULL,
        arn         TEXT NOT NULL,
        account     TEXT NOT NULL,
        region      TEXT NOT NULL,
        hash        TEXT NOT NULL REFERENCES bodies(hash),
        PRIMARY KEY (snapshot_id, kind, arn)
     );
     CREATE TABLE findings (
        snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
        seq         INTEGER NOT NULL,
        rule_id     TEXT NOT NULL,
        arn         TEXT NOT NULL,
        status      TEXT NOT NULL,
        severity    TEXT NOT NULL,
        body        TEXT NOT NULL,      -- the finding as JSON
        PRIMARY KEY (snapshot_id, seq)
     );
     CREATE INDEX findings_by_rule ON findings (rule_id, arn);",
];

/// The schema version this build writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(q("read schema version"))?;
    if found > CURRENT {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            supported: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction().map_err(q("begin migration"))?;
        tx.execute_batch(sql).map_err(q("apply migration"))?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(CURRENT),
        )
        .map_err(q("set schema version"))?;
        tx.commit().map_err(q("commit migration"))?;
    }
    Ok(())
}
