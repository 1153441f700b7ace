//! The alert outbox: alerts written in the same transaction as the snapshot that found
//! them, and their delivery state.
//!
//! `alert_outbox` (schema 9) holds each alert once, keyed (`{snapshot}/{route}/{kind}`, or a
//! digest's `digest/{day}/{route}`), with the route it is for and its body (the alert's
//! JSON). A scan that rolls back leaves no alert; a committed scan leaves every alert it
//! composed. Not part of the hash chain; pruned with the store's retention.
//!
//! `alert_deliveries` holds what happened to each alert: attempts, the next attempt, the
//! last error, who is sending it now (a claim that expires, so two daemons sharing a store
//! never send the same alert at once and a daemon killed mid-send leaves it to another),
//! and whether it was delivered or failed for good. An alert without a row there is
//! pending. On PostgreSQL the table lives in the store's database. On SQLite it lives in a
//! file beside the store (`<store>.deliveries`, attached by [`Store::attach_deliveries`]):
//! a scan holds the store's write lock from its first resource to its commit, and a
//! delivery must be marked as delivered the moment the webhook answers, not when the scan
//! ends. SQLite locks per file, so the sidecar stays writable during a scan.
//!
//! Delivery is at least once with one window: a daemon that dies after the webhook
//! accepted an alert and before [`Store::mark_delivered`] committed sends it again. The
//! mark is one single-row autocommit statement issued as soon as the answer arrives.
//! Alerts older than the `max_age` a caller passes are not sent (a webhook down for a week
//! does not wake a channel with a week of stale news); `posture alerts list` shows them as
//! expired.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::db::{Dialect, Val};
use crate::leases::{millis, now_ms};
use crate::{SnapshotWriter, Store, StoreError, q};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryState {
    /// Not delivered yet; will be tried (again).
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Given up: the webhook refused it for good (a 4xx other than 429) or too many attempts.
    Failed,
    /// Pending but older than the age past which alerts are not sent.
    Expired,
}

impl DeliveryState {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Expired => "expired",
        }
    }
}

/// One alert in the outbox, with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its key (unique).
    pub key: String,
    /// The route it is for.
    pub route: String,
    /// The alert kind (`regressions`, …).
    pub kind: String,
    /// The snapshot that found it, if any.
    pub snapshot_id: Option<String>,
    /// When it was written (the database's clock).
    pub created_at: DateTime<Utc>,
    /// The alert's JSON.
    pub body: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts started so far.
    pub attempts: i64,
    /// When the next attempt is due (pending ones that failed before).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Alerts per route and state.
pub type OutboxCounts = BTreeMap<(String, DeliveryState), u64>;

fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

const DELIVERIES_TABLE: &str = "CREATE TABLE IF NOT EXISTS {schema}alert_deliveries (
    key             TEXT PRIMARY KEY,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    claimed_by      TEXT,
    claim_until_ms  BIGINT,
    last_error      TEXT,
    updated_ms      BIGINT NOT NULL,
    delivered_ms    BIGINT
)";

/// The delivery table in the store's own database (PostgreSQL: schema 9's migration).
pub(crate) fn create_deliveries_table(db: &mut dyn crate::db::Db) -> Result<(), StoreError> {
    db.batch(&DELIVERIES_TABLE.replace("{schema}", ""))
        .map_err(q("create the alert delivery table"))
}

impl SnapshotWriter<'_> {
    /// Stages an alert for `route` in the snapshot's transaction: it exists exactly when the
    /// snapshot does. Returns its key. Writing the same route and kind twice in one snapshot
    /// keeps the first.
    pub fn put_alert(&mut self, route: &str, kind: &str, body: &str) -> Result<String, StoreError> {
        let key = format!("{}/{route}/{kind}", self.id());
        let id = self.id().to_string();
        let db = self.db_mut();
        let sql = format!(
            "INSERT INTO alert_outbox (key, route, kind, snapshot_id, created_ms, body) \
             VALUES ($1, $2, $3, $4, {}, $5) ON CONFLICT (key) DO NOTHING",
            now_ms(db)
        );
        db.exec(
            &sql,
            &[
                key.clone().into(),
                route.into(),
                kind.into(),
                id.into(),
                body.into(),
            ],
        )
        .map_err(q("stage an alert"))?;
        Ok(key)
    }
}

impl Store {
    /// Makes the delivery state writable while a scan holds the store's write lock: on
    /// SQLite, attaches `<store>.deliveries` (created when missing); on PostgreSQL, nothing
    /// to do. Call once on the connection that delivers alerts.
    pub fn attach_deliveries(&mut self) -> Result<(), StoreError> {
        let Some(path) = self.deliveries_path() else {
            return Ok(());
        };
        let text = path.to_string_lossy().into_owned();
        self.db
            .exec("ATTACH DATABASE $1 AS deliveries", &[text.into()])
            .map_err(q("attach the alert delivery file"))?;
        self.db
            .batch(&format!(
                "PRAGMA deliveries.journal_mode = WAL; {};",
                DELIVERIES_TABLE.replace("{schema}", "deliveries.")
            ))
            .map_err(q("create the alert delivery file"))?;
        self.deliveries_attached = true;
        Ok(())
    }

    /// The SQLite file that holds the delivery state, beside the store.
    pub fn deliveries_path(&self) -> Option<PathBuf> {
        self.sqlite_path.as_ref().map(|p| {
            let mut name = p.as_os_str().to_owned();
            name.push(".deliveries");
            PathBuf::from(name)
        })
    }

    /// Whether delivery state can be read: PostgreSQL, or SQLite with the file attached.
    fn has_deliveries(&self) -> bool {
        self.db.dialect() == Dialect::Postgres || self.deliveries_attached
    }

    /// Attaches the delivery file when it exists, for reading (`posture alerts list`); a
    /// store whose alerts were never delivered has none, and every alert reads as pending.
    pub fn attach_deliveries_if_present(&mut self) -> Result<(), StoreError> {
        match self.deliveries_path() {
            Some(p) if p.is_file() => self.attach_deliveries(),
            _ => Ok(()),
        }
    }

    /// Writes an alert that belongs to no snapshot (a digest). Returns `false` when an alert
    /// with this key exists already: a digest is written once, whichever replica or restart
    /// gets there first.
    pub fn enqueue_alert(
        &mut self,
        key: &str,
        route: &str,
        kind: &str,
        body: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO alert_outbox (key, route, kind, snapshot_id, created_ms, body) \
             VALUES ($1, $2, $3, NULL, {}, $4) ON CONFLICT (key) DO NOTHING",
            now_ms(self.db.as_ref())
        );
        let n = self
            .db
            .exec(&sql, &[key.into(), route.into(), kind.into(), body.into()])
            .map_err(q("write an alert"))?;
        Ok(n == 1)
    }

    /// Claims the next alert due for each of `routes` for `holder` for `lease`: per route,
    /// the oldest pending alert younger than `max_age` (alerts of a route go out in order),
    /// when its next attempt is due and nobody else holds it. The claim counts an attempt.
    pub fn claim_alerts(
        &mut self,
        holder: &str,
        routes: &[String],
        lease: Duration,
        max_age: Duration,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let pending = self.pending_heads(routes, max_age)?;
        let mut claimed = Vec::new();
        for mut entry in pending {
            let now = now_ms(self.db.as_ref());
            let sql = format!(
                "INSERT INTO alert_deliveries (key, state, attempts, next_attempt_ms, claimed_by, claim_until_ms, updated_ms) \
                 VALUES ($1, 'pending', 1, 0, $2, {now} + $3, {now}) \
                 ON CONFLICT (key) DO UPDATE SET attempts = alert_deliveries.attempts + 1, \
                 claimed_by = excluded.claimed_by, claim_until_ms = excluded.claim_until_ms, \
                 updated_ms = excluded.updated_ms \
                 WHERE alert_deliveries.state = 'pending' AND alert_deliveries.next_attempt_ms <= {now} \
                 AND (alert_deliveries.claim_until_ms IS NULL OR alert_deliveries.claim_until_ms < {now} \
                      OR alert_deliveries.claimed_by = $2)"
            );
            let n = self
                .db
                .exec(
                    &sql,
                    &[
                        entry.key.clone().into(),
                        holder.into(),
                        Val::Int(millis(lease)),
                    ],
                )
                .map_err(q("claim an alert"))?;
            if n == 1 {
                entry.attempts += 1;
                claimed.push(entry);
            }
        }
        Ok(claimed)
    }

    /// The oldest pending alert of each route in `routes`, younger than `max_age`.
    fn pending_heads(
        &mut self,
        routes: &[String],
        max_age: Duration,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut out = Vec::new();
        for route in routes {
            let now = now_ms(self.db.as_ref());
            let sql = format!(
                "SELECT {COLUMNS} FROM alert_outbox o LEFT JOIN alert_deliveries d ON d.key = o.key \
                 WHERE o.route = $1 AND (d.state IS NULL OR d.state = 'pending') \
                 AND o.created_ms >= {now} - $2 ORDER BY o.created_ms, o.key LIMIT 1"
            );
            let rows = self
                .db
                .query(&sql, &[route.clone().into(), Val::Int(millis(max_age))])
                .map_err(q("read pending alerts"))?;
            out.extend(rows.iter().map(|r| entry(r, None)));
        }
        Ok(out)
    }

    /// Marks `key` delivered (a 2xx answer): one autocommit statement, issued at once.
    pub fn mark_delivered(&mut self, key: &str) -> Result<(), StoreError> {
        let now = now_ms(self.db.as_ref());
        let sql = format!(
            "UPDATE alert_deliveries SET state = 'delivered', delivered_ms = {now}, updated_ms = {now}, \
             claimed_by = NULL, claim_until_ms = NULL WHERE key = $1"
        );
        self.db
            .exec(&sql, &[key.into()])
            .map_err(q("mark an alert delivered"))?;
        Ok(())
    }

    /// Records a failed attempt of `key`: it is tried again after `retry_in`.
    pub fn mark_retry(
        &mut self,
        key: &str,
        error: &str,
        retry_in: Duration,
    ) -> Result<(), StoreError> {
        let now = now_ms(self.db.as_ref());
        let sql = format!(
            "UPDATE alert_deliveries SET next_attempt_ms = {now} + $2, last_error = $3, updated_ms = {now}, \
             claimed_by = NULL, claim_until_ms = NULL WHERE key = $1"
        );
        self.db
            .exec(
                &sql,
                &[key.into(), Val::Int(millis(retry_in)), error.into()],
            )
            .map_err(q("record a failed delivery"))?;
        Ok(())
    }

    /// Gives `key` up: it is not tried again.
    pub fn mark_failed(&mut self, key: &str, error: &str) -> Result<(), StoreError> {
        let now = now_ms(self.db.as_ref());
        let sql = format!(
            "UPDATE alert_deliveries SET state = 'failed', last_error = $2, updated_ms = {now}, \
             claimed_by = NULL, claim_until_ms = NULL WHERE key = $1"
        );
        self.db
            .exec(&sql, &[key.into(), error.into()])
            .map_err(q("record an undeliverable alert"))?;
        Ok(())
    }

    /// The outbox, newest first, at most `limit` entries, optionally of one state.
    /// Alerts older than `max_age` that were never delivered read as expired.
    pub fn outbox(
        &mut self,
        state: Option<DeliveryState>,
        limit: usize,
        max_age: Duration,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let cutoff = self.now_ms()? - millis(max_age);
        let undelivered = "(d.state IS NULL OR d.state = 'pending')";
        let filter = match state {
            None => "1 = 1".to_owned(),
            Some(DeliveryState::Pending) => format!("{undelivered} AND o.created_ms >= $1"),
            Some(DeliveryState::Expired) => format!("{undelivered} AND o.created_ms < $1"),
            Some(DeliveryState::Delivered) => "d.state = 'delivered'".to_owned(),
            Some(DeliveryState::Failed) => "d.state = 'failed'".to_owned(),
        };
        let from = if self.has_deliveries() {
            "alert_outbox o LEFT JOIN alert_deliveries d ON d.key = o.key"
        } else {
            // Never delivered from this file: every alert is pending (or expired).
            "alert_outbox o LEFT JOIN (SELECT NULL AS key, NULL AS state, NULL AS attempts, \
             NULL AS next_attempt_ms, NULL AS last_error, NULL AS delivered_ms) d ON d.key = o.key"
        };
        // Every statement compares the cutoff with a column, so that PostgreSQL knows its
        // type (BIGINT) whichever filter is used.
        let sql = format!(
            "SELECT {COLUMNS} FROM {from} WHERE ({filter}) AND (o.created_ms >= $1 OR o.created_ms < $1) \
             ORDER BY o.created_ms DESC, o.key DESC LIMIT $2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(&sql, &[Val::Int(cutoff), Val::Int(limit)])
            .map_err(q("read the outbox"))?;
        Ok(rows.iter().map(|r| entry(r, Some(cutoff))).collect())
    }

    /// Alerts per route and state (for the daemon's metrics).
    pub fn outbox_counts(&mut self, max_age: Duration) -> Result<OutboxCounts, StoreError> {
        let cutoff = self.now_ms()? - millis(max_age);
        let sql = "SELECT o.route, d.state, CASE WHEN o.created_ms < $1 THEN 1 ELSE 0 END, COUNT(*) \
             FROM alert_outbox o LEFT JOIN alert_deliveries d ON d.key = o.key \
             GROUP BY o.route, d.state, CASE WHEN o.created_ms < $1 THEN 1 ELSE 0 END";
        let rows = self
            .db
            .query(sql, &[Val::Int(cutoff)])
            .map_err(q("count the outbox"))?;
        let mut out = OutboxCounts::new();
        for r in rows {
            let state = state_of(r[1].opt_text(), r[2].int() == 1);
            *out.entry((r[0].text().to_owned(), state)).or_default() +=
                u64::try_from(r[3].int()).unwrap_or(0);
        }
        Ok(out)
    }

    /// Whether an alert with `key` is in the outbox (a digest already written today).
    pub fn alert_exists(&mut self, key: &str) -> Result<bool, StoreError> {
        let rows = self
            .db
            .query("SELECT 1 FROM alert_outbox WHERE key = $1", &[key.into()])
            .map_err(q("look for an alert"))?;
        Ok(!rows.is_empty())
    }

    /// Every account a stored snapshot entered, sorted (the digest reads each one's last
    /// scan).
    pub fn scanned_accounts(&mut self) -> Result<Vec<posture_model::AccountId>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT DISTINCT account FROM snapshot_accounts ORDER BY account",
                &[],
            )
            .map_err(q("list scanned accounts"))?;
        Ok(rows
            .iter()
            .filter_map(|r| posture_model::AccountId::new(r[0].text()).ok())
            .collect())
    }

    /// Forgets delivery state of alerts no longer in the outbox (pruned with their
    /// snapshots). Returns how many rows went.
    pub fn prune_deliveries(&mut self) -> Result<u64, StoreError> {
        if !self.has_deliveries() {
            return Ok(0);
        }
        self.db
            .exec(
                "DELETE FROM alert_deliveries WHERE key NOT IN (SELECT key FROM alert_outbox)",
                &[],
            )
            .map_err(q("prune alert delivery state"))
    }

    fn now_ms(&mut self) -> Result<i64, StoreError> {
        let sql = format!("SELECT {}", now_ms(self.db.as_ref()));
        let rows = self.db.query(&sql, &[]).map_err(q("read the clock"))?;
        Ok(rows.first().and_then(|r| r.first()).map_or(0, Val::int))
    }
}

const COLUMNS: &str = "o.key, o.route, o.kind, o.snapshot_id, o.created_ms, o.body, d.state, \
     COALESCE(d.attempts, 0), d.next_attempt_ms, d.last_error, d.delivered_ms";

fn state_of(state: Option<&str>, old: bool) -> DeliveryState {
    match state {
        Some("delivered") => DeliveryState::Delivered,
        Some("failed") => DeliveryState::Failed,
        _ if old => DeliveryState::Expired,
        _ => DeliveryState::Pending,
    }
}

fn entry(r: &[Val], cutoff: Option<i64>) -> OutboxEntry {
    let created_ms = r[4].int();
    let state = state_of(r[6].opt_text(), cutoff.is_some_and(|c| created_ms < c));
    OutboxEntry {
        key: r[0].text().to_owned(),
        route: r[1].text().to_owned(),
        kind: r[2].text().to_owned(),
        snapshot_id: r[3].opt_text().map(str::to_owned),
        created_at: at_ms(created_ms),
        body: r[5].text().to_owned(),
        state,
        attempts: r[7].int(),
        next_attempt_at: r[8].opt_int().filter(|ms| *ms > 0).map(at_ms),
        last_error: r[9].opt_text().map(str::to_owned),
        delivered_at: r[10].opt_int().map(at_ms),
    }
}

/// Deletes outbox alerts written before `cutoff_ms` (Unix milliseconds), with the
/// snapshots the store's retention prunes.
pub(crate) fn prune_outbox(db: &mut dyn crate::db::Db, cutoff_ms: i64) -> Result<u64, StoreError> {
    db.exec(
        "DELETE FROM alert_outbox WHERE created_ms < $1",
        &[Val::Int(cutoff_ms)],
    )
    .map_err(q("prune the alert outbox"))
}
