//! The store schema and its migrations, one list for both backends (the DDL uses only what
//! SQLite and PostgreSQL share). Migration N brings the schema to version N; the version is
//! kept in `schema_migrations`. Stores made before that table existed (SQLite, version 1)
//! carried their version in `PRAGMA user_version`.

use crate::db::{Db, Dialect, Val};
use crate::{StoreError, chain, q};

/// Migrations, in order; index i brings the schema to version i + 1.
const MIGRATIONS: &[&str] = &[
    // 1: snapshots, content-addressed bodies, per-snapshot membership, findings.
    "CREATE TABLE snapshots (
        id             TEXT PRIMARY KEY,
        started_at     TEXT NOT NULL,
        finished_at    TEXT NOT NULL,
        accounts       TEXT NOT NULL,
        regions        TEXT NOT NULL,
        coverage       TEXT NOT NULL,
        resource_count BIGINT NOT NULL
     );
     CREATE TABLE bodies (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
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
        seq         BIGINT NOT NULL,
        rule_id     TEXT NOT NULL,
        arn         TEXT NOT NULL,
        status      TEXT NOT NULL,
        severity    TEXT NOT NULL,
        body        TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, seq)
     );
     CREATE INDEX findings_by_rule ON findings (rule_id, arn);",
    // 2: the hash chain, version intervals instead of per-snapshot membership, evaluations,
    //    finding history, drift events, waiver history, pruning checkpoints.
    "ALTER TABLE snapshots ADD COLUMN seq BIGINT;
     ALTER TABLE snapshots ADD COLUMN services TEXT;
     ALTER TABLE snapshots ADD COLUMN manifest TEXT;
     ALTER TABLE snapshots ADD COLUMN manifest_hash TEXT;
     ALTER TABLE snapshots ADD COLUMN prev_manifest_hash TEXT;
     CREATE UNIQUE INDEX snapshots_by_seq ON snapshots (seq);
     CREATE TABLE resource_versions (
        kind       TEXT NOT NULL,
        arn        TEXT NOT NULL,
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        service    TEXT NOT NULL,
        hash       TEXT NOT NULL REFERENCES bodies(hash),
        valid_from BIGINT NOT NULL,
        valid_to   BIGINT,
        PRIMARY KEY (kind, arn, valid_from)
     );
     CREATE INDEX resource_versions_current ON resource_versions (valid_to, kind, arn);
     CREATE INDEX resource_versions_span ON resource_versions (valid_from, valid_to);
     CREATE TABLE evaluations (
        snapshot_id      TEXT PRIMARY KEY REFERENCES snapshots(id),
        baseline_name    TEXT NOT NULL,
        baseline_version TEXT NOT NULL,
        evaluated_at     TEXT NOT NULL,
        finding_count    BIGINT NOT NULL
     );
     CREATE TABLE finding_status (
        rule_id        TEXT NOT NULL,
        arn            TEXT NOT NULL,
        account        TEXT NOT NULL,
        region         TEXT NOT NULL,
        service        TEXT NOT NULL,
        status         TEXT NOT NULL,
        since          TEXT NOT NULL,
        since_snapshot TEXT NOT NULL,
        last_seen      TEXT NOT NULL,
        last_snapshot  TEXT NOT NULL,
        PRIMARY KEY (rule_id, arn)
     );
     CREATE TABLE failure_episodes (
        rule_id           TEXT NOT NULL,
        arn               TEXT NOT NULL,
        opened_at         TEXT NOT NULL,
        opened_snapshot   TEXT NOT NULL,
        last_seen         TEXT NOT NULL,
        resolved_at       TEXT,
        resolved_snapshot TEXT,
        PRIMARY KEY (rule_id, arn, opened_snapshot)
     );
     CREATE TABLE drift_events (
        snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
        seq         BIGINT NOT NULL,
        event       TEXT NOT NULL,
        rule_id     TEXT,
        arn         TEXT NOT NULL,
        body        TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, seq)
     );
     CREATE TABLE waiver_history (
        snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
        rule_id     TEXT NOT NULL,
        arn         TEXT NOT NULL,
        waiver      TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, rule_id, arn)
     );
     CREATE TABLE chain_checkpoints (
        pruned_through_seq BIGINT PRIMARY KEY,
        manifest_hash      TEXT NOT NULL,
        pruned_at          TEXT NOT NULL,
        snapshots_pruned   BIGINT NOT NULL
     );",
    // 3: findings carry their account, so a scan reads the previous snapshot's findings one
    //    account at a time (filled in for existing rows by `backfill_finding_accounts`);
    //    resource versions and finding status are indexed by account for the same reason.
    "ALTER TABLE findings ADD COLUMN account TEXT;
     CREATE INDEX findings_by_account ON findings (snapshot_id, account, seq);
     CREATE INDEX resource_versions_by_account ON resource_versions (account, valid_from);",
    // 4: the coverage record is stored row by row (one row per collection that ran, one per
    //    failed call), so a scan streams it instead of holding it, and it is read back a page
    //    at a time. Snapshots written before keep their statement in `snapshots.coverage`
    //    (`coverage_rows` = 0) and verify as before.
    "ALTER TABLE snapshots ADD COLUMN coverage_rows BIGINT NOT NULL DEFAULT 0;
     CREATE TABLE collections (
        snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
        seq         BIGINT NOT NULL,
        account     TEXT NOT NULL,
        region      TEXT NOT NULL,
        service     TEXT NOT NULL,
        resources   BIGINT NOT NULL,
        complete    BIGINT NOT NULL,
        PRIMARY KEY (snapshot_id, seq)
     );
     CREATE TABLE gaps (
        snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
        seq         BIGINT NOT NULL,
        account     TEXT NOT NULL,
        region      TEXT NOT NULL,
        service     TEXT NOT NULL,
        operation   TEXT NOT NULL,
        resource    TEXT,
        body        TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, seq)
     );",
    // 5: finding bodies are stored once per distinct content, like resource bodies: a scan
    //    that finds what the last one found adds a row per finding, not its JSON again.
    //    Findings written before keep their body in `findings.body` (`body_hash` NULL); later
    //    ones have an empty `body` and a `body_hash` into `finding_bodies`.
    "ALTER TABLE findings ADD COLUMN body_hash TEXT;
     CREATE TABLE finding_bodies (
        hash TEXT PRIMARY KEY,
        body TEXT NOT NULL
     );
     CREATE INDEX findings_by_body ON findings (body_hash);",
    // 6: finding status knows its resource kind, so that a scan which could not read one
    //    kind (a denied list call) keeps the history of exactly that kind's findings open.
    //    Rows written before have none and are kept open by their service instead.
    "ALTER TABLE finding_status ADD COLUMN kind TEXT;",
    // 7: findings and the coverage record as intervals, like resources: a finding's state is
    //    stored once per change (`finding_versions`, valid from one snapshot `seq` to another
    //    or open), and so are collection records and failed calls (`collection_versions`,
    //    `gap_versions`), so that an unchanged scan costs a snapshot header and one row per
    //    account (`snapshot_accounts`, which also says when each account was last scanned).
    //    A snapshot's findings are the versions valid at its `seq` in its accounts.
    //    Snapshots written before (`intervals` = 0) keep their rows in `findings`,
    //    `collections` and `gaps` and verify as before; the open versions are seeded from
    //    each account's newest findings (`chain::backfill_v7`), which replace `finding_status`.
    //    Resource versions and failure episodes are keyed by account too: an AWS managed
    //    policy has one ARN in every account, and each account's copy (its attachments) is
    //    its own resource. An episode that ended before, whose finding was forgotten, has an
    //    empty account.
    "ALTER TABLE snapshots ADD COLUMN intervals BIGINT NOT NULL DEFAULT 0;
     CREATE TABLE resource_versions_v7 (
        kind       TEXT NOT NULL,
        arn        TEXT NOT NULL,
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        service    TEXT NOT NULL,
        hash       TEXT NOT NULL REFERENCES bodies(hash),
        valid_from BIGINT NOT NULL,
        valid_to   BIGINT,
        PRIMARY KEY (kind, account, arn, valid_from)
     );
     INSERT INTO resource_versions_v7 (kind, arn, account, region, service, hash, valid_from, valid_to)
        SELECT kind, arn, account, region, service, hash, valid_from, valid_to FROM resource_versions;
     DROP TABLE resource_versions;
     ALTER TABLE resource_versions_v7 RENAME TO resource_versions;
     CREATE INDEX resource_versions_current ON resource_versions (valid_to, kind, arn);
     CREATE INDEX resource_versions_span ON resource_versions (valid_from, valid_to);
     CREATE INDEX resource_versions_by_account ON resource_versions (account, valid_from);
     CREATE TABLE failure_episodes_v7 (
        rule_id           TEXT NOT NULL,
        arn               TEXT NOT NULL,
        account           TEXT NOT NULL,
        opened_at         TEXT NOT NULL,
        opened_snapshot   TEXT NOT NULL,
        last_seen         TEXT NOT NULL,
        resolved_at       TEXT,
        resolved_snapshot TEXT,
        PRIMARY KEY (rule_id, account, arn, opened_snapshot)
     );
     INSERT INTO failure_episodes_v7 (rule_id, arn, account, opened_at, opened_snapshot, last_seen,
        resolved_at, resolved_snapshot)
        SELECT e.rule_id, e.arn, COALESCE((SELECT MIN(fs.account) FROM finding_status fs
          WHERE fs.rule_id = e.rule_id AND fs.arn = e.arn), ''), e.opened_at, e.opened_snapshot,
          e.last_seen, e.resolved_at, e.resolved_snapshot FROM failure_episodes e;
     DROP TABLE failure_episodes;
     ALTER TABLE failure_episodes_v7 RENAME TO failure_episodes;
     CREATE TABLE snapshot_accounts (
        seq         BIGINT NOT NULL,
        account     TEXT NOT NULL,
        entered     BIGINT NOT NULL,
        finished_at TEXT NOT NULL,
        PRIMARY KEY (seq, account)
     );
     CREATE INDEX snapshot_accounts_by_account ON snapshot_accounts (account, entered, seq);
     CREATE TABLE finding_versions (
        rule_id    TEXT NOT NULL,
        arn        TEXT NOT NULL,
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        service    TEXT NOT NULL,
        kind       TEXT NOT NULL,
        status     TEXT NOT NULL,
        severity   TEXT NOT NULL,
        since      TEXT NOT NULL,
        body_hash  TEXT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_to   BIGINT,
        PRIMARY KEY (rule_id, account, arn, valid_from)
     );
     CREATE INDEX finding_versions_open ON finding_versions (account, valid_to);
     CREATE INDEX finding_versions_order ON finding_versions (account, rule_id, region, arn, valid_from, valid_to);
     CREATE INDEX finding_versions_by_body ON finding_versions (body_hash);
     CREATE TABLE collection_versions (
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        service    TEXT NOT NULL,
        resources  BIGINT NOT NULL,
        complete   BIGINT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_to   BIGINT,
        PRIMARY KEY (account, region, service, valid_from)
     );
     CREATE INDEX collection_versions_open ON collection_versions (account, valid_to);
     CREATE TABLE gap_versions (
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        service    TEXT NOT NULL,
        operation  TEXT NOT NULL,
        resource   TEXT,
        body       TEXT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_to   BIGINT
     );
     CREATE INDEX gap_versions_open ON gap_versions (account, valid_to);
     CREATE INDEX gap_versions_span ON gap_versions (account, valid_from);",
    // 8: leases on accounts, so daemons sharing the store split the schedule between them
    //    (`leases.rs`): one row per account, its holder, the cycle (Unix seconds of the
    //    schedule's tick) and the expiry (Unix milliseconds by the database's clock). Not
    //    part of the history: no hash covers it, and it is safe to empty.
    "CREATE TABLE scan_leases (
        account    TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        cycle      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
     );",
    // 9: the alert outbox (`outbox.rs`): each alert a scan composed, written in the
    //    snapshot's transaction, keyed, with its route and body. Not part of the history:
    //    no hash covers it; pruned with the snapshots. The delivery state
    //    (`alert_deliveries`) is created here on PostgreSQL only: on SQLite it lives in a
    //    file beside the store, so that deliveries can be recorded while a scan holds the
    //    store's write lock.
    "CREATE TABLE alert_outbox (
        key         TEXT PRIMARY KEY,
        route       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        snapshot_id TEXT,
        created_ms  BIGINT NOT NULL,
        body        TEXT NOT NULL
     );
     CREATE INDEX alert_outbox_route ON alert_outbox (route, created_ms);",
];

/// The schema version this build writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Checks, without changing anything, that the database holds a Posture store of the
/// current schema. `location` is for error messages.
pub(crate) fn check_current(db: &mut dyn Db, location: &str) -> Result<(), StoreError> {
    let has_table = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        }
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name = 'schema_migrations'"
        }
    };
    let present = db
        .query(has_table, &[])
        .map_err(q("look for the schema"))?
        .first()
        .and_then(|r| r.first().and_then(Val::opt_int))
        .unwrap_or(0);
    let found = if present == 0 {
        // SQLite stores of schema 1 kept the version in user_version only.
        match db.dialect() {
            Dialect::Sqlite => db
                .query("PRAGMA user_version", &[])
                .map_err(q("read schema version"))?
                .first()
                .and_then(|r| r.first().and_then(Val::opt_int))
                .unwrap_or(0),
            Dialect::Postgres => 0,
        }
    } else {
        db.query("SELECT MAX(version) FROM schema_migrations", &[])
            .map_err(q("read schema version"))?
            .first()
            .and_then(|r| r.first().and_then(Val::opt_int))
            .unwrap_or(0)
    };
    if found == 0 {
        return Err(StoreError::NotAStore {
            location: location.to_owned(),
        });
    }
    if found > CURRENT {
        return Err(StoreError::TooNew {
            location: location.to_owned(),
            found,
            supported: CURRENT,
        });
    }
    if found < CURRENT {
        return Err(StoreError::Outdated {
            location: location.to_owned(),
            found,
            current: CURRENT,
        });
    }
    Ok(())
}

/// Applies pending migrations. `location` is for error messages.
pub(crate) fn migrate(db: &mut dyn Db, location: &str) -> Result<(), StoreError> {
    if db.dialect() == Dialect::Postgres {
        // Replicas starting together would otherwise race to create the same tables
        // (`CREATE TABLE IF NOT EXISTS` is not safe against a concurrent creator). A session
        // lock: held across the migrations' own transactions, released below.
        db.batch(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .map_err(q("wait for other migrations"))?;
        let result = migrate_locked(db, location);
        let unlocked = db
            .batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .map_err(q("release the migration lock"));
        return result.and(unlocked);
    }
    migrate_locked(db, location)
}

/// The advisory lock key PostgreSQL migrations hold ("PSTM").
const MIGRATION_LOCK: i64 = 0x5053_544d;

fn migrate_locked(db: &mut dyn Db, location: &str) -> Result<(), StoreError> {
    db.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL, applied_at TEXT NOT NULL)")
        .map_err(q("create schema_migrations"))?;
    let recorded = db
        .query("SELECT MAX(version) FROM schema_migrations", &[])
        .map_err(q("read schema version"))?
        .first()
        .and_then(|r| r.first().and_then(Val::opt_int));
    let found = match (recorded, db.dialect()) {
        (Some(v), _) => v,
        // SQLite stores of schema 1 kept the version in user_version.
        (None, Dialect::Sqlite) => db
            .query("PRAGMA user_version", &[])
            .map_err(q("read schema version"))?
            .first()
            .and_then(|r| r.first().and_then(Val::opt_int))
            .unwrap_or(0),
        (None, Dialect::Postgres) => 0,
    };
    if found > CURRENT {
        return Err(StoreError::TooNew {
            location: location.to_owned(),
            found,
            supported: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let version = i64::try_from(i + 1).unwrap_or(CURRENT);
        db.batch("BEGIN").map_err(q("begin migration"))?;
        let result = (|| {
            db.batch(sql).map_err(q("apply migration"))?;
            if version == 2 {
                chain::backfill_v1(db)?;
            }
            if version == 3 {
                backfill_finding_accounts(db)?;
            }
            if version == 7 {
                crate::versions::backfill_v7(db)?;
            }
            if version == 9 && db.dialect() == Dialect::Postgres {
                crate::outbox::create_deliveries_table(db)?;
            }
            db.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[
                    Val::Int(version),
                    Val::Text(chrono::Utc::now().to_rfc3339()),
                ],
            )
            .map_err(q("record schema version"))?;
            Ok(())
        })();
        match result {
            Ok(()) => db.batch("COMMIT").map_err(q("commit migration"))?,
            Err(e) => {
                // The migration failed part-way; undo it so the store stays at `found`.
                if let Err(rollback) = db.batch("ROLLBACK") {
                    tracing_free_log(&format!(
                        "rollback after a failed migration also failed: {rollback}"
                    ));
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Fills `findings.account` from each finding's body (`resource.account`).
fn backfill_finding_accounts(db: &mut dyn Db) -> Result<(), StoreError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "UPDATE findings SET account = json_extract(body, '$.resource.account') WHERE account IS NULL"
        }
        Dialect::Postgres => {
            "UPDATE findings SET account = (body::jsonb -> 'resource' ->> 'account') WHERE account IS NULL"
        }
    };
    db.exec(sql, &[])
        .map_err(q("fill in the accounts of findings"))?;
    Ok(())
}

/// The store has no logger of its own; a failed rollback is reported on stderr because the
/// original error is what the caller sees.
fn tracing_free_log(message: &str) {
    eprintln!("posture-store: {message}");
}
