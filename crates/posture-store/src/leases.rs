//! Leases on accounts, so several daemons sharing one store (PostgreSQL) split a schedule
//! without a cluster of their own, and a restarted daemon resumes rather than rescans.
//!
//! A scan cycle is identified by its start (the schedule's tick). A replica claims an
//! account for a while (`scan_leases`, one row per account: holder, cycle, expiry); a claim
//! succeeds when the account has no lease, its lease expired, or the claimant already holds
//! it. After the claim the replica looks at `snapshot_accounts`: an account a snapshot
//! started at or after the cycle's start already covers is released and skipped. Because a
//! scanner commits its snapshot before it releases its lease, whoever claims the account
//! next sees that snapshot: no account is scanned twice in a cycle, whatever the timing.
//! A replica killed mid-scan leaves its leases to expire; another takes them over then.
//! Expiry is measured by the database's clock, so replicas on hosts with skewed clocks
//! agree on it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use posture_model::AccountId;

use crate::db::{Db, Dialect, Val};
use crate::{Store, StoreError, q};

/// Which scans of an account [`Store::last_scanned`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every scan that had the account in scope, entered or not.
    Tried,
    /// Only scans that entered the account and collected it.
    Entered,
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The account.
    pub account: String,
    /// Who holds (or last held) it.
    pub holder: String,
    /// The cycle it was claimed for.
    pub cycle: DateTime<Utc>,
    /// Milliseconds until it expires by the database's clock (negative: expired).
    pub expires_in_ms: i64,
}

/// The database's clock in Unix milliseconds, as SQL.
pub(crate) fn now_ms(db: &dyn Db) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => "CAST(unixepoch('subsec') * 1000 AS BIGINT)",
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

impl Store {
    /// When a snapshot last covered each of `accounts`: the start of the newest such
    /// snapshot. `Reach::Tried` counts a scan that could not enter the account (its role
    /// could not be assumed: it holds only `error` findings), which still settles a cycle;
    /// `Reach::Entered` counts only scans that collected it, the "last successful scan" of
    /// metrics and readiness. Accounts never scanned so are absent.
    pub fn last_scanned(
        &mut self,
        accounts: &[AccountId],
        reach: Reach,
    ) -> Result<BTreeMap<AccountId, DateTime<Utc>>, StoreError> {
        let mut out = BTreeMap::new();
        for account in accounts {
            if let Some(at) = last_started(self.db.as_mut(), account.as_str(), reach)? {
                out.insert(account.clone(), at);
            }
        }
        Ok(out)
    }

    /// Claims up to `limit` of `accounts`, in order, for `holder` in the cycle that started
    /// at `cycle`, for `lease`: each account free, expired or already `holder`'s, and not
    /// covered by a snapshot started at or after `cycle` (pass `only_due = false` to claim
    /// covered accounts too: a scan someone asked for). Returns the accounts claimed.
    pub fn claim_accounts(
        &mut self,
        holder: &str,
        accounts: &[AccountId],
        cycle: DateTime<Utc>,
        lease: Duration,
        limit: usize,
        only_due: bool,
    ) -> Result<Vec<AccountId>, StoreError> {
        let mut claimed = Vec::new();
        // One query for what the cycle already covers, so a claim costs the accounts it
        // tries, not a query per account of the estate.
        let covered = if only_due {
            covered_since_cycle(self.db.as_mut(), cycle)?
        } else {
            BTreeSet::new()
        };
        for account in accounts {
            if claimed.len() >= limit {
                break;
            }
            if covered.contains(account.as_str()) {
                continue;
            }
            if !claim_one(
                self.db.as_mut(),
                holder,
                account.as_str(),
                cycle,
                millis(lease),
            )? {
                continue;
            }
            // Authoritative after the claim (see the module's documentation): a snapshot
            // committed since the query above was released before this claim could win.
            if only_due && covered_since(self.db.as_mut(), account.as_str(), cycle)? {
                self.release_leases(holder, std::slice::from_ref(account))?;
                continue;
            }
            claimed.push(account.clone());
        }
        Ok(claimed)
    }

    /// Extends `holder`'s leases on `accounts` by `lease` from now. Returns the accounts
    /// whose lease `holder` no longer holds (it expired and another replica took it): the
    /// scan of those must stop.
    pub fn renew_leases(
        &mut self,
        holder: &str,
        accounts: &[AccountId],
        lease: Duration,
    ) -> Result<Vec<AccountId>, StoreError> {
        let mut lost = Vec::new();
        for account in accounts {
            let db = self.db.as_mut();
            let sql = format!(
                "UPDATE scan_leases SET expires_at = {} + $3 WHERE account = $1 AND holder = $2",
                now_ms(db)
            );
            let n = db
                .exec(
                    &sql,
                    &[
                        account.as_str().into(),
                        holder.into(),
                        Val::Int(millis(lease)),
                    ],
                )
                .map_err(q("renew a lease"))?;
            if n == 0 {
                lost.push(account.clone());
            }
        }
        Ok(lost)
    }

    /// Gives up `holder`'s leases on `accounts` (after their snapshot is committed, or when
    /// their scan is abandoned): another replica may claim them at once.
    pub fn release_leases(
        &mut self,
        holder: &str,
        accounts: &[AccountId],
    ) -> Result<(), StoreError> {
        for account in accounts {
            self.db
                .exec(
                    "DELETE FROM scan_leases WHERE account = $1 AND holder = $2",
                    &[account.as_str().into(), holder.into()],
                )
                .map_err(q("release a lease"))?;
        }
        Ok(())
    }

    /// Every lease, by account.
    pub fn leases(&mut self) -> Result<Vec<LeaseRow>, StoreError> {
        let db = self.db.as_mut();
        let sql = format!(
            "SELECT account, holder, cycle, expires_at - {} FROM scan_leases ORDER BY account",
            now_ms(db)
        );
        let rows = db.query(&sql, &[]).map_err(q("read leases"))?;
        Ok(rows
            .iter()
            .map(|r| LeaseRow {
                account: r[0].text().to_owned(),
                holder: r[1].text().to_owned(),
                cycle: DateTime::from_timestamp(r[2].int(), 0).unwrap_or_default(),
                expires_in_ms: r[3].int(),
            })
            .collect())
    }

    /// The store's size in bytes: the SQLite file with its write-ahead log, or the
    /// PostgreSQL database.
    pub fn size_bytes(&mut self) -> Result<u64, StoreError> {
        let db = self.db.as_mut();
        let sql = match db.dialect() {
            Dialect::Sqlite => {
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            }
            Dialect::Postgres => "SELECT pg_database_size(current_database())",
        };
        let rows = db.query(sql, &[]).map_err(q("read the store's size"))?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Val::opt_int)
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0))
    }

    /// The current findings (each account's newest scan) counted by status and severity.
    pub fn current_finding_counts(
        &mut self,
    ) -> Result<BTreeMap<(String, String), u64>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT status, severity, COUNT(*) FROM finding_versions WHERE valid_to IS NULL \
                 GROUP BY status, severity",
                &[],
            )
            .map_err(q("count current findings"))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    (r[0].text().to_owned(), r[1].text().to_owned()),
                    u64::try_from(r[2].int()).unwrap_or(0),
                )
            })
            .collect())
    }
}

fn claim_one(
    db: &mut dyn Db,
    holder: &str,
    account: &str,
    cycle: DateTime<Utc>,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    // One statement, so two replicas racing for the account cannot both win: PostgreSQL
    // re-checks the WHERE on the row the other transaction wrote; SQLite serialises writers.
    let now = now_ms(db);
    let sql = format!(
        "INSERT INTO scan_leases (account, holder, cycle, expires_at) VALUES ($1, $2, $3, {now} + $4) \
         ON CONFLICT (account) DO UPDATE SET holder = excluded.holder, cycle = excluded.cycle, \
         expires_at = excluded.expires_at \
         WHERE scan_leases.holder = excluded.holder OR scan_leases.expires_at < {now}"
    );
    let n = db
        .exec(
            &sql,
            &[
                account.into(),
                holder.into(),
                Val::Int(cycle.timestamp()),
                Val::Int(lease_ms),
            ],
        )
        .map_err(q("claim an account"))?;
    Ok(n > 0)
}

fn last_started(
    db: &mut dyn Db,
    account: &str,
    reach: Reach,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let entered = match reach {
        Reach::Tried => "",
        Reach::Entered => " AND sa.entered = 1",
    };
    let rows = db
        .query(
            // The latest start, not the latest commit: a scan that started earlier may commit
            // later (another writer on a shared store), and coverage is by start.
            &format!(
                "SELECT MAX(s.started_at) FROM snapshot_accounts sa JOIN snapshots s ON s.seq = sa.seq \
                 WHERE sa.account = $1{entered}"
            ),
            &[account.into()],
        )
        .map_err(q("read when an account was last scanned"))?;
    Ok(rows
        .first()
        .and_then(|r| r[0].opt_text())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc)))
}

fn covered_since(db: &mut dyn Db, account: &str, cycle: DateTime<Utc>) -> Result<bool, StoreError> {
    Ok(last_started(db, account, Reach::Tried)?.is_some_and(|at| at >= cycle))
}

/// Every account a snapshot started at or after `cycle` covered. Start times are stored as
/// RFC 3339 text in UTC with microseconds, which sorts as time.
fn covered_since_cycle(
    db: &mut dyn Db,
    cycle: DateTime<Utc>,
) -> Result<BTreeSet<String>, StoreError> {
    let rows = db
        .query(
            "SELECT DISTINCT sa.account FROM snapshot_accounts sa JOIN snapshots s ON s.seq = sa.seq \
             WHERE s.started_at >= $1",
            &[crate::write::ts(cycle).into()],
        )
        .map_err(q("read the accounts scanned this cycle"))?;
    Ok(rows.iter().map(|r| r[0].text().to_owned()).collect())
}

/// Fails unless `holder` holds an unexpired lease on every account of snapshot `seq`
/// (recorded in `snapshot_accounts`, inside the commit's transaction). On PostgreSQL the
/// holder's lease rows are locked first, so a replica claiming one of them now waits for
/// this commit and then sees the snapshot.
pub(crate) fn check_held(db: &mut dyn Db, seq: i64, holder: &str) -> Result<(), StoreError> {
    if db.dialect() == Dialect::Postgres {
        db.query(
            "SELECT account FROM scan_leases WHERE holder = $1 FOR UPDATE",
            &[holder.into()],
        )
        .map_err(q("lock this daemon's leases"))?;
    }
    let now = now_ms(db);
    let rows = db
        .query(
            &format!(
                "SELECT sa.account FROM snapshot_accounts sa WHERE sa.seq = $1 AND NOT EXISTS \
                 (SELECT 1 FROM scan_leases l WHERE l.account = sa.account AND l.holder = $2 \
                 AND l.expires_at > {now}) ORDER BY sa.account"
            ),
            &[Val::Int(seq), holder.into()],
        )
        .map_err(q("check this daemon's leases"))?;
    if rows.is_empty() {
        return Ok(());
    }
    Err(StoreError::LeaseLost {
        accounts: rows.iter().map(|r| r[0].text().to_owned()).collect(),
    })
}
