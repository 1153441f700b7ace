//! The snapshot store: every scan's resources, coverage, findings and drift, with a history
//! that can be verified. Two backends behind one implementation: an embedded SQLite file
//! (the default) and PostgreSQL (for teams and replicas sharing one history).
//!
//! Invariants:
//! - a snapshot becomes visible only when complete: a scan's writes are one transaction
//!   that commits at the end, so a killed scan leaves the store as it was;
//! - resource bodies are stored once per distinct content (SHA-256 of canonical JSON), and
//!   an unchanged resource costs one row for all the snapshots it stays unchanged in
//!   (`resource_versions` holds validity intervals, not per-snapshot copies);
//! - each snapshot's manifest carries the hash of the previous manifest: the history is a
//!   hash chain that [`Store::verify`] checks, naming what was altered or removed;
//! - pruning keeps the chain verifiable through a checkpoint of the last pruned manifest;
//! - the schema is versioned; `open` applies pending migrations in place, and a store of a
//!   newer schema is refused.
//!
//! A `Store` does blocking IO and, for PostgreSQL, runs the client's own small runtime: use
//! it from a thread that is not inside a Tokio runtime.

mod chain;
pub mod db;
mod leases;
mod outbox;
mod read;
mod report_read;
mod schema;
mod versions;
mod write;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub use chain::{PruneReport, VerifyProblem, VerifyReport};
pub use leases::{LeaseRow, Reach};
pub use outbox::{DeliveryState, OutboxCounts, OutboxEntry};
pub use read::{
    DriftPart, DriftRecord, FailureEpisode, FindingCursor, FindingFilter, FindingsPage,
    for_each_page,
};
pub use report_read::{RuleStatusCount, SealedManifest};
pub use write::{DriftEvent, SnapshotSummary, SnapshotWriter};

use crate::db::{Db, PostgresDb, SqliteDb};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The daemon's lease on these accounts expired and may be another replica's: the
    /// snapshot was rolled back rather than stored twice.
    #[error(
        "the lease on account(s) {} expired before the commit (another replica may scan them); the snapshot was rolled back",
        accounts.join(", ")
    )]
    LeaseLost {
        /// The accounts.
        accounts: Vec<String>,
    },
    /// The database could not be opened or reached.
    #[error("cannot open the store at {location}: {message}")]
    Open {
        /// Where.
        location: String,
        /// Why.
        message: String,
    },
    /// The store was written by a newer Posture.
    #[error(
        "the store at {location} has schema version {found}, newer than this posture understands ({supported}); upgrade posture"
    )]
    TooNew {
        /// Where.
        location: String,
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
        source: db::DbError,
    },
    /// A stored document could not be decoded.
    #[error("stored {what} is corrupt: {message}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The cause.
        message: String,
    },
    /// A snapshot id that is not in the store.
    #[error("no snapshot {0} in the store (see `posture snapshots`)")]
    NoSuchSnapshot(String),
    /// A read-only command was pointed at a SQLite file that does not exist.
    #[error(
        "no store at {location}: run `posture scan --store {location}` to create one, or check the path"
    )]
    Missing { location: String },
    /// A read-only command was pointed at a database without Posture's schema.
    #[error(
        "{location} holds no Posture store (no schema_migrations table); only `posture scan` creates one"
    )]
    NotAStore { location: String },
    /// A read-only command was pointed at a store of an older schema, which only a scan
    /// upgrades.
    #[error(
        "the store at {location} has schema version {found}; this posture writes {current}: run `posture scan` once to upgrade it"
    )]
    Outdated {
        location: String,
        found: i64,
        current: i64,
    },
}

pub(crate) fn q(operation: &'static str) -> impl FnOnce(db::DbError) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

pub(crate) fn corrupt(what: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    }
}

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl StoreLocation {
    /// Parses `postgres://…`/`postgresql://…`, `sqlite://PATH`, or a plain file path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            StoreLocation::Postgres(text.to_owned())
        } else {
            StoreLocation::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(p) => write!(f, "{}", p.display()),
            // Never print a password that may be in the URL.
            StoreLocation::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

fn redact(url: &str) -> String {
    // The userinfo ends at the last '@' before the path (a password may hold '@').
    let masked = match url.find("://") {
        Some(scheme) => {
            let rest = &url[scheme + 3..];
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => match rest[..at].split_once(':') {
                    Some((user, _)) => {
                        format!("{}{user}:***{}", &url[..scheme + 3], &rest[at..])
                    }
                    None => url.to_owned(),
                },
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    // libpq-style parameters may carry the password too.
    match masked.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => masked,
    }
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn passwords_are_masked_wherever_the_url_carries_them() {
        use super::redact;
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://u:p@ss@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require&password=secret"),
            "postgres://u@h/db?sslmode=require&password=***"
        );
        assert_eq!(redact("postgres://h/db?x=a@b"), "postgres://h/db?x=a@b");
        assert_eq!(redact("/var/lib/posture.sqlite"), "/var/lib/posture.sqlite");
    }
}

/// The store.
pub struct Store {
    db: Box<dyn Db>,
    location: String,
    /// The SQLite file, for the alert delivery file beside it.
    sqlite_path: Option<PathBuf>,
    /// Whether the alert delivery file is attached (SQLite).
    deliveries_attached: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

/// What opening a store may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the store if it is missing and apply pending migrations (`posture scan`, the
    /// daemon).
    CreateOrMigrate,
    /// Open an existing store of the current schema and change nothing: a missing SQLite
    /// file, a database without Posture's schema or an older schema is an error, and
    /// nothing is created (`verify`, `diff`, `snapshots`, reports).
    Existing,
}

impl Store {
    /// Opens (creating and migrating when needed) the store: for commands that write.
    pub fn open(location: &StoreLocation) -> Result<Self, StoreError> {
        Self::open_with(location, OpenMode::CreateOrMigrate)
    }

    /// Opens an existing store without creating or migrating anything: for read-only
    /// commands.
    pub fn open_existing(location: &StoreLocation) -> Result<Self, StoreError> {
        Self::open_with(location, OpenMode::Existing)
    }

    /// Opens the store at `location` in `mode`.
    pub fn open_with(location: &StoreLocation, mode: OpenMode) -> Result<Self, StoreError> {
        let shown = location.to_string();
        let open_err = |message: String| StoreError::Open {
            location: shown.clone(),
            message,
        };
        let mut db: Box<dyn Db> = match location {
            StoreLocation::Sqlite(path) if mode == OpenMode::Existing => {
                if !path.is_file() {
                    return Err(StoreError::Missing {
                        location: shown.clone(),
                    });
                }
                let conn = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | rusqlite::OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(|e| open_err(e.to_string()))?;
                conn.busy_timeout(std::time::Duration::from_secs(30))
                    .map_err(|e| open_err(e.to_string()))?;
                let mut db = SqliteDb(conn);
                db.batch("PRAGMA foreign_keys = ON;")
                    .map_err(|e| open_err(e.0))?;
                Box::new(db)
            }
            StoreLocation::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        open_err(format!("cannot create directory {}: {e}", dir.display()))
                    })?;
                }
                let conn = rusqlite::Connection::open(path).map_err(|e| open_err(e.to_string()))?;
                conn.busy_timeout(std::time::Duration::from_secs(30))
                    .map_err(|e| open_err(e.to_string()))?;
                let mut db = SqliteDb(conn);
                db.batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                    .map_err(|e| open_err(e.0))?;
                Box::new(db)
            }
            StoreLocation::Postgres(url) => {
                Box::new(PostgresDb::connect(url).map_err(|e| open_err(e.0))?)
            }
        };
        match mode {
            OpenMode::CreateOrMigrate => schema::migrate(db.as_mut(), &shown)?,
            OpenMode::Existing => schema::check_current(db.as_mut(), &shown)?,
        }
        Ok(Self {
            db,
            location: shown,
            sqlite_path: match location {
                StoreLocation::Sqlite(path) => Some(path.clone()),
                StoreLocation::Postgres(_) => None,
            },
            deliveries_attached: false,
        })
    }

    /// Where the store lives (passwords redacted).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Starts writing a snapshot. Nothing is visible to readers until [`SnapshotWriter::commit`].
    pub fn begin_snapshot(
        &mut self,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<SnapshotWriter<'_>, StoreError> {
        SnapshotWriter::begin(self.db.as_mut(), started_at)
    }
}

/// Canonical JSON of a resource and its SHA-256, hex-encoded.
pub fn content_hash(resource: &posture_model::Resource) -> (String, String) {
    // serde_json writes struct fields in declaration order and maps (BTreeMap, and
    // serde_json::Value objects without the preserve_order feature) sorted by key, so the
    // same content always yields the same text.
    let text = serde_json::to_string(resource).unwrap_or_default();
    (sha256_hex(text.as_bytes()), text)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_hide_passwords() {
        assert_eq!(
            StoreLocation::parse("/tmp/p.sqlite"),
            StoreLocation::Sqlite("/tmp/p.sqlite".into())
        );
        assert_eq!(
            StoreLocation::parse("sqlite:///tmp/p.sqlite"),
            StoreLocation::Sqlite("/tmp/p.sqlite".into())
        );
        let pg = StoreLocation::parse("postgres://posture:s3cret@db:5432/posture");
        assert_eq!(pg.to_string(), "postgres://posture:***@db:5432/posture");
        assert!(!format!("{pg}").contains("s3cret"));
    }
}
