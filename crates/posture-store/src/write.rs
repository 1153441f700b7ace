//! Writing one snapshot, all in one transaction: resources and the coverage record (one
//! row per collection that ran, one per failed call) stream in during collection; the
//! evaluation reads them back one account at a time and streams findings and drift in;
//! the header and the chain link are written at commit. Nothing of the snapshot is held in
//! memory beyond one batch: staging tables hold it until commit, and the manifest's digests
//! are computed as rows stream past.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use posture_model::{
    AccountId, CollectionRecord, CoverageSummary, Finding, Gap, Region, Resource, SnapshotId,
    SnapshotMeta, Status, Unread,
};

use crate::chain::{self, LinesDigest, Scope};
use crate::db::{Db, Dialect, Val};
use crate::versions;
use crate::{StoreError, content_hash, q};

/// Timestamps are stored as RFC 3339 text with microseconds, UTC.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A snapshot being written. Dropping it without `commit` rolls everything back.
pub struct SnapshotWriter<'a> {
    db: &'a mut dyn Db,
    id: SnapshotId,
    started_at: DateTime<Utc>,
    open: bool,
    pending: Vec<Staged>,
    /// Collection records waiting to be written.
    pending_collections: Vec<CollectionRecord>,
    /// Failed calls waiting to be written.
    pending_gaps: Vec<Gap>,
    /// Drift events staged so far, with their digest.
    drift: LinesDigest,
    /// Whether the history is locked against other writers (PostgreSQL).
    locked: bool,
    /// The accounts this writer has claimed (see [`SnapshotWriter::claim_account`]).
    claimed: std::collections::HashSet<String>,
    /// Rules the scan left out (see [`SnapshotWriter::omit_rules`]).
    omitted_rules: Vec<String>,
    /// The daemon whose leases must still hold at commit (see
    /// [`SnapshotWriter::require_leases`]).
    lease_holder: Option<String>,
}

/// Resources written per round trip.
const BATCH: usize = 500;

/// A resource waiting to be written.
struct Staged {
    kind: &'static str,
    service: &'static str,
    arn: String,
    account: String,
    region: String,
    hash: String,
    body: String,
}

impl std::fmt::Debug for SnapshotWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter")
            .field("id", &self.id)
            .finish()
    }
}

/// What is known about a snapshot only once collection and evaluation have finished.
#[derive(Debug)]
pub struct SnapshotSummary {
    /// When collection finished.
    pub finished_at: DateTime<Utc>,
    /// Accounts scanned.
    pub accounts: Vec<AccountId>,
    /// Regions scanned.
    pub regions: Vec<Region>,
    /// Services collected (`s3`, `iam`, ...).
    pub services: Vec<String>,
    /// API calls made, by `service:Operation` (the collections and failed calls were
    /// streamed in with [`SnapshotWriter::put_collection`] and [`SnapshotWriter::put_gap`]).
    pub api_calls: BTreeMap<String, u64>,
    /// The baseline's name and version.
    pub baseline: (String, String),
}

/// A drift event against the previous snapshot: (event, rule id, ARN, JSON body).
pub type DriftEvent = (String, Option<String>, String, serde_json::Value);

impl<'a> SnapshotWriter<'a> {
    pub(crate) fn begin(db: &'a mut dyn Db, started_at: DateTime<Utc>) -> Result<Self, StoreError> {
        let id =
            SnapshotId::new(started_at.format("%Y%m%dT%H%M%S%6fZ").to_string()).map_err(|e| {
                StoreError::Corrupt {
                    what: "snapshot id",
                    message: e.to_string(),
                }
            })?;
        db.batch(match db.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })
        .map_err(q("begin snapshot"))?;
        let mut w = Self {
            db,
            id,
            started_at,
            open: true,
            pending: Vec::new(),
            pending_collections: Vec::new(),
            pending_gaps: Vec::new(),
            drift: LinesDigest::default(),
            locked: false,
            claimed: std::collections::HashSet::new(),
            omitted_rules: Vec::new(),
            lease_holder: None,
        };
        w.db
            .batch(
                "CREATE TEMP TABLE IF NOT EXISTS staged_resources (
                    kind TEXT NOT NULL, arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
                    service TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (kind, account, arn));
                 CREATE TEMP TABLE IF NOT EXISTS staged_findings (
                    rule_id TEXT NOT NULL, arn TEXT NOT NULL, account TEXT NOT NULL,
                    region TEXT NOT NULL, service TEXT NOT NULL, kind TEXT NOT NULL,
                    status TEXT NOT NULL, severity TEXT NOT NULL, since TEXT NOT NULL,
                    hash TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (rule_id, account, arn));
                 CREATE TEMP TABLE IF NOT EXISTS staged_waivers (
                    rule_id TEXT NOT NULL, arn TEXT NOT NULL, waiver TEXT NOT NULL,
                    PRIMARY KEY (rule_id, arn));
                 CREATE TEMP TABLE IF NOT EXISTS staged_drift (
                    seq BIGINT PRIMARY KEY, event TEXT NOT NULL, rule_id TEXT, arn TEXT NOT NULL,
                    body TEXT NOT NULL);
                 CREATE TEMP TABLE IF NOT EXISTS staged_collections (
                    account TEXT NOT NULL, region TEXT NOT NULL, service TEXT NOT NULL,
                    resources BIGINT NOT NULL, complete BIGINT NOT NULL);
                 CREATE TEMP TABLE IF NOT EXISTS staged_unread (
                    account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL,
                    service TEXT NOT NULL, PRIMARY KEY (account, region, kind));
                 CREATE TEMP TABLE IF NOT EXISTS staged_gaps (
                    account TEXT NOT NULL, region TEXT NOT NULL, service TEXT NOT NULL,
                    operation TEXT NOT NULL, resource TEXT, body TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS staged_collections_by_key
                    ON staged_collections (account, region, service);
                 CREATE INDEX IF NOT EXISTS staged_gaps_by_account
                    ON staged_gaps (account, resource);
                 CREATE INDEX IF NOT EXISTS staged_resources_by_account
                    ON staged_resources (account, kind);",
            )
            .map_err(q("create staging tables"))?;
        w.clear_staging()?;
        Ok(w)
    }

    /// The open transaction (for the outbox, which stages alerts in it).
    pub(crate) fn db_mut(&mut self) -> &mut dyn Db {
        self.db
    }

    /// The id the snapshot will have.
    pub fn id(&self) -> &SnapshotId {
        &self.id
    }

    /// Adds one resource. A resource seen twice in one scan (same kind and ARN) keeps the
    /// last body. Writes are batched; [`SnapshotWriter::commit`] flushes the rest.
    pub fn put_resource(&mut self, resource: &Resource) -> Result<(), StoreError> {
        let (hash, text) = content_hash(resource);
        let kind = resource.kind();
        self.pending.push(Staged {
            kind: kind.as_str(),
            service: kind.service(),
            arn: resource.arn.to_string(),
            account: resource.account.to_string(),
            region: resource.region.to_string(),
            hash,
            body: text,
        });
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Records a (account, region, service) collection that ran. Batched like resources.
    pub fn put_collection(&mut self, record: &CollectionRecord) -> Result<(), StoreError> {
        self.pending_collections.push(record.clone());
        if self.pending_collections.len() >= BATCH {
            self.flush_coverage()?;
        }
        Ok(())
    }

    /// Records a call that failed. Batched like resources.
    pub fn put_gap(&mut self, gap: &Gap) -> Result<(), StoreError> {
        self.pending_gaps.push(gap.clone());
        if self.pending_gaps.len() >= BATCH {
            self.flush_coverage()?;
        }
        Ok(())
    }

    /// Writes the pending collection records and failed calls.
    fn flush_coverage(&mut self) -> Result<(), StoreError> {
        let collections = std::mem::take(&mut self.pending_collections);
        if !collections.is_empty() {
            let params: Vec<Val> = collections
                .iter()
                .flat_map(|c| {
                    [
                        c.account.as_str().into(),
                        c.region.as_str().into(),
                        c.service.as_str().into(),
                        Val::Int(i64::try_from(c.resources).unwrap_or(i64::MAX)),
                        Val::Int(i64::from(c.complete)),
                    ]
                })
                .collect();
            self.db
                .exec(
                    &format!(
                        "INSERT INTO staged_collections (account, region, service, resources, complete) VALUES {}",
                        marks(collections.len(), 5)
                    ),
                    &params,
                )
                .map_err(q("stage collection records"))?;
        }
        let gaps = std::mem::take(&mut self.pending_gaps);
        if !gaps.is_empty() {
            let params: Vec<Val> = gaps
                .iter()
                .flat_map(|g| {
                    [
                        g.account.as_str().into(),
                        g.region.as_str().into(),
                        g.service.as_str().into(),
                        g.operation.as_str().into(),
                        g.resource.as_ref().map(|r| r.to_string()).into(),
                        to_json(g).into(),
                    ]
                })
                .collect();
            self.db
                .exec(
                    &format!(
                        "INSERT INTO staged_gaps (account, region, service, operation, resource, body) VALUES {}",
                        marks(gaps.len(), 6)
                    ),
                    &params,
                )
                .map_err(q("stage failed calls"))?;
        }
        Ok(())
    }

    /// The (region, service) collections recorded so far in `account`.
    pub fn staged_collections(
        &mut self,
        account: &AccountId,
    ) -> Result<Vec<(Region, String)>, StoreError> {
        self.flush_coverage()?;
        let rows = self
            .db
            .query(
                "SELECT region, service FROM staged_collections WHERE account = $1",
                &[account.as_str().into()],
            )
            .map_err(q("read staged collection records"))?;
        rows.iter()
            .map(|r| {
                let region = Region::new(r[0].text()).map_err(|e| StoreError::Corrupt {
                    what: "staged collection record",
                    message: e.to_string(),
                })?;
                Ok((region, r[1].text().to_owned()))
            })
            .collect()
    }

    /// Whether any collection has been recorded (every scan records them; fixtures and
    /// benchmarks may stage bare resources).
    pub fn has_staged_collections(&mut self) -> Result<bool, StoreError> {
        self.flush_coverage()?;
        let rows = self
            .db
            .query("SELECT 1 FROM staged_collections LIMIT 1", &[])
            .map_err(q("read staged collection records"))?;
        Ok(!rows.is_empty())
    }

    /// The failed list calls (gaps with no resource) recorded so far in `account`. Gaps
    /// about one resource stay in the store: the resource itself carries what could not be
    /// read.
    pub fn staged_list_gaps(&mut self, account: &AccountId) -> Result<Vec<Gap>, StoreError> {
        self.flush_coverage()?;
        crate::read::query_json(
            self.db,
            "SELECT body FROM staged_gaps WHERE account = $1 AND resource IS NULL",
            &[account.as_str().into()],
            "staged failed call",
        )
    }

    /// The accounts with a failed list call so far (an account whose role could not be
    /// assumed has one and no resources), sorted.
    pub fn staged_gap_accounts(&mut self) -> Result<Vec<AccountId>, StoreError> {
        self.flush_coverage()?;
        let mut out = Vec::new();
        let mut bad = None;
        self.db
            .query_each(
                "SELECT DISTINCT account FROM staged_gaps WHERE resource IS NULL",
                &[],
                &mut |r| {
                    match AccountId::new(r[0].text()) {
                        Ok(a) => out.push(a),
                        Err(e) => {
                            bad.get_or_insert(e.to_string());
                        }
                    }
                    Ok(())
                },
            )
            .map_err(q("read staged failed calls"))?;
        if let Some(message) = bad {
            return Err(StoreError::Corrupt {
                what: "staged failed call",
                message,
            });
        }
        out.sort();
        Ok(out)
    }

    /// Writes the pending resources as multi-row inserts: one round trip per batch instead
    /// of two per resource, which is what makes PostgreSQL over a network fast.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        // One statement may not touch a row twice (PostgreSQL rejects it for DO UPDATE):
        // keep the last occurrence of each key.
        let mut seen = std::collections::HashSet::new();
        pending.reverse();
        pending.retain(|p| seen.insert((p.kind, p.account.clone(), p.arn.clone())));
        pending.reverse();
        let mut bodies: Vec<&Staged> = Vec::with_capacity(pending.len());
        let mut hashes = std::collections::HashSet::new();
        for p in &pending {
            if hashes.insert(p.hash.as_str()) {
                bodies.push(p);
            }
        }
        let params: Vec<Val> = bodies
            .iter()
            .flat_map(|p| [Val::Text(p.hash.clone()), Val::Text(p.body.clone())])
            .collect();
        self.db
            .exec(
                &format!(
                    "INSERT INTO bodies (hash, body) VALUES {} ON CONFLICT (hash) DO NOTHING",
                    marks(bodies.len(), 2)
                ),
                &params,
            )
            .map_err(q("write resource bodies"))?;
        let params: Vec<Val> = pending
            .iter()
            .flat_map(|p| {
                [
                    Val::Text(p.kind.to_owned()),
                    Val::Text(p.arn.clone()),
                    Val::Text(p.account.clone()),
                    Val::Text(p.region.clone()),
                    Val::Text(p.service.to_owned()),
                    Val::Text(p.hash.clone()),
                ]
            })
            .collect();
        self.db
            .exec(
                &format!(
                    "INSERT INTO staged_resources (kind, arn, account, region, service, hash) VALUES {} \
                     ON CONFLICT (kind, account, arn) DO UPDATE SET hash = excluded.hash",
                    marks(pending.len(), 6)
                ),
                &params,
            )
            .map_err(q("stage resources"))?;
        Ok(())
    }

    fn clear_staging(&mut self) -> Result<(), StoreError> {
        self.db
            .batch(
                "DELETE FROM staged_resources; DELETE FROM staged_findings; \
                 DELETE FROM staged_waivers; DELETE FROM staged_drift; \
                 DELETE FROM staged_collections; DELETE FROM staged_gaps; \
                 DELETE FROM staged_unread;",
            )
            .map_err(q("clear staging tables"))
    }

    /// The accounts that have resources in this snapshot so far, sorted.
    pub fn staged_accounts(&mut self) -> Result<Vec<AccountId>, StoreError> {
        self.flush()?;
        let rows = self
            .db
            .query("SELECT DISTINCT account FROM staged_resources", &[])
            .map_err(q("read staged accounts"))?;
        let mut out = rows
            .iter()
            .map(|r| {
                AccountId::new(r[0].text()).map_err(|e| StoreError::Corrupt {
                    what: "staged account",
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.sort();
        Ok(out)
    }

    /// This snapshot's resources so far whose kind is `kind` (any when `None`), in `account`
    /// (any when `None`) and `region` (any when `None`), sorted by (kind, ARN).
    pub fn staged_resources(
        &mut self,
        kind: Option<&str>,
        account: Option<&AccountId>,
        region: Option<&Region>,
    ) -> Result<Vec<Resource>, StoreError> {
        self.flush()?;
        let mut conditions = vec!["1 = 1".to_owned()];
        let mut params = Vec::new();
        for (column, value) in [
            ("s.kind", kind.map(str::to_owned)),
            ("s.account", account.map(ToString::to_string)),
            ("s.region", region.map(ToString::to_string)),
        ] {
            if let Some(v) = value {
                params.push(Val::Text(v));
                conditions.push(format!("{column} = ${}", params.len()));
            }
        }
        let order = chain::bytewise(self.db, &["s.kind", "s.arn"]);
        crate::read::query_json(
            self.db,
            &format!(
                "SELECT b.body FROM staged_resources s JOIN bodies b ON b.hash = s.hash \
                 WHERE {} ORDER BY {order}",
                conditions.join(" AND ")
            ),
            &params,
            "staged resource",
        )
    }

    /// The resources of committed snapshot `id` in `account`, sorted by (kind, ARN).
    pub fn snapshot_resources(
        &mut self,
        id: &SnapshotId,
        account: &AccountId,
    ) -> Result<Vec<Resource>, StoreError> {
        crate::read::resources_in(self.db, id, Some(account))
    }

    /// The newest committed snapshot that entered `account`: the scan this one compares
    /// the account with.
    pub fn last_scan_of(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<SnapshotMeta>, StoreError> {
        crate::read::last_scan_of(self.db, account, None)
    }

    /// The findings of committed snapshot `id` in `account`, in stored order.
    pub fn snapshot_findings(
        &mut self,
        id: &SnapshotId,
        account: &AccountId,
    ) -> Result<Vec<Finding>, StoreError> {
        crate::read::findings_in(self.db, id, Some(account))
    }

    /// Claims `account` for this snapshot until it commits or rolls back: on PostgreSQL,
    /// another writer that claims the same account waits until then, so that it reads the
    /// account's previous scan and current finding versions as this one leaves them (two
    /// scans of one account at once, such as a daemon's and a one-off `--account` scan,
    /// would otherwise each decide against the state before the other). Writers of other
    /// accounts go on. Claim accounts in a fixed order (the pipeline goes in account order),
    /// so that two writers never wait for each other. Nothing to do on SQLite, whose writers
    /// are serialised from the first statement. Idempotent.
    pub fn claim_account(&mut self, account: &AccountId) -> Result<(), StoreError> {
        if self.db.dialect() != Dialect::Postgres || self.claimed.contains(account.as_str()) {
            return Ok(());
        }
        // The two-key form, in a class of Posture's own ("pstr"); a hash collision between
        // two accounts only makes one writer wait.
        self.db
            .exec(
                "SELECT pg_advisory_xact_lock(1886614642, hashtext($1))",
                &[account.as_str().into()],
            )
            .map_err(q("claim an account"))?;
        self.claimed.insert(account.to_string());
        Ok(())
    }

    /// Serialises writers of the history (PostgreSQL replicas sharing one store) for the
    /// chain append at commit: numbering the snapshot, moving the versions forward, sealing
    /// the manifest. Everything before (staging, evaluation, finding history) runs
    /// concurrently with other writers.
    /// Makes the commit fail (and the snapshot roll back) unless `holder` still holds an
    /// unexpired lease on every account of the snapshot: a daemon that stalled past its
    /// lease, whose accounts another replica claimed, must not store them a second time.
    pub fn require_leases(&mut self, holder: &str) {
        self.lease_holder = Some(holder.to_owned());
    }

    fn lock(&mut self) -> Result<(), StoreError> {
        if !self.locked && self.db.dialect() == Dialect::Postgres {
            self.db
                .batch("LOCK TABLE snapshots IN SHARE ROW EXCLUSIVE MODE")
                .map_err(q("lock snapshots"))?;
        }
        self.locked = true;
        Ok(())
    }

    /// Adds findings of the evaluation (a finding given twice keeps the last). Records
    /// their history (failure episodes) as of `at` (when collection finished; pass the same
    /// time to [`SnapshotWriter::commit`]) and fills each finding's `first_seen` from it. A
    /// finding exactly as its current version is staged without its body: at commit it
    /// extends that version instead of writing anything.
    pub fn put_findings(
        &mut self,
        findings: &mut [Finding],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = at;
        let mut accounts: Vec<AccountId> = findings
            .iter()
            .map(|f| f.resource.account.clone())
            .collect();
        accounts.sort();
        accounts.dedup();
        for account in &accounts {
            self.claim_account(account)?;
        }
        for chunk in findings.chunks_mut(BATCH) {
            let current = self.record_statuses(chunk, now)?;
            // One statement may not touch a row twice: the last occurrence of a key wins.
            let mut keys = std::collections::HashSet::new();
            let mut rows = Vec::with_capacity(chunk.len() * 11);
            let mut waivers = Vec::new();
            let mut count = 0;
            for f in chunk.iter().rev() {
                if !keys.insert((
                    f.rule_id.as_str(),
                    f.resource.account.as_str(),
                    f.resource.arn.as_str(),
                )) {
                    continue;
                }
                count += 1;
                let text = serde_json::to_string(f).unwrap_or_default();
                let hash = crate::sha256_hex(text.as_bytes());
                let unchanged = current.get(&(
                    f.rule_id.to_string(),
                    f.resource.arn.to_string(),
                    f.resource.account.to_string(),
                )) == Some(&hash);
                if !unchanged && let Some(waiver) = &f.waiver {
                    waivers.extend([
                        f.rule_id.as_str().into(),
                        f.resource.arn.as_str().into(),
                        Val::Text(serde_json::to_string(waiver).unwrap_or_default()),
                    ]);
                }
                rows.extend([
                    f.rule_id.as_str().into(),
                    f.resource.arn.as_str().into(),
                    f.resource.account.as_str().into(),
                    f.resource.region.as_str().into(),
                    f.resource.kind.service().into(),
                    f.resource.kind.as_str().into(),
                    f.status.as_str().into(),
                    f.severity.as_str().into(),
                    f.first_seen.map(ts).unwrap_or_else(|| ts(now)).into(),
                    hash.into(),
                    if unchanged { String::new() } else { text }.into(),
                ]);
            }
            self.db
                .exec(
                    &format!(
                        "INSERT INTO staged_findings (rule_id, arn, account, region, service, kind, status, severity, \
                         since, hash, body) VALUES {} ON CONFLICT (rule_id, account, arn) DO UPDATE SET \
                         region = excluded.region, service = excluded.service, kind = excluded.kind, \
                         status = excluded.status, severity = excluded.severity, since = excluded.since, \
                         hash = excluded.hash, body = excluded.body",
                        marks(count, 11)
                    ),
                    &rows,
                )
                .map_err(q("stage findings"))?;
            if !waivers.is_empty() {
                self.db
                    .exec(
                        &format!(
                            "INSERT INTO staged_waivers (rule_id, arn, waiver) VALUES {} \
                             ON CONFLICT (rule_id, arn) DO NOTHING",
                            marks(waivers.len() / 3, 3)
                        ),
                        &waivers,
                    )
                    .map_err(q("stage waiver history"))?;
            }
        }
        Ok(())
    }

    /// Records what the scan could not read in `account` (see [`posture_model::Unread`]):
    /// at commit, resources there that were not seen stay current and their findings' history
    /// stays open, instead of being retired and resolved. `regions` are the scanned regions.
    pub fn put_unread(
        &mut self,
        account: &AccountId,
        unread: &Unread,
        regions: &[Region],
    ) -> Result<(), StoreError> {
        for chunk in unread.pairs(regions).chunks(BATCH) {
            let mut rows = Vec::with_capacity(chunk.len() * 4);
            for (region, kind) in chunk {
                rows.extend([
                    Val::from(account.as_str()),
                    region.as_str().into(),
                    kind.as_str().into(),
                    kind.service().into(),
                ]);
            }
            self.db
                .exec(
                    &format!(
                        "INSERT INTO staged_unread (account, region, kind, service) VALUES {} \
                         ON CONFLICT (account, region, kind) DO NOTHING",
                        marks(chunk.len(), 4)
                    ),
                    &rows,
                )
                .map_err(q("stage unread scope"))?;
        }
        Ok(())
    }

    /// Rules this scan left out (they read a service the user left out of the scan): at
    /// commit, their earlier findings' history is kept, neither resolved nor forgotten.
    pub fn omit_rules(&mut self, rules: impl IntoIterator<Item = String>) {
        self.omitted_rules.extend(rules);
    }

    /// Adds drift events against the previous snapshot, in the order they are to be stored.
    pub fn put_drift(&mut self, events: Vec<DriftEvent>) -> Result<(), StoreError> {
        for (event, rule, arn, body) in events {
            let text = serde_json::to_string(&body).unwrap_or_default();
            self.drift.push(&text);
            self.db
                .exec(
                    "INSERT INTO staged_drift (seq, event, rule_id, arn, body) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        Val::Int(self.drift.count() - 1),
                        event.into(),
                        rule.into(),
                        arn.into(),
                        text.into(),
                    ],
                )
                .map_err(q("stage drift event"))?;
        }
        Ok(())
    }

    /// Links the snapshot into the chain, closes the history of findings that are gone, and
    /// commits: the snapshot becomes visible. On PostgreSQL this is the one critical section
    /// among writers sharing the store: the snapshot is numbered and its versions moved
    /// forward under a lock taken here, held only until the commit.
    pub fn commit(mut self, summary: SnapshotSummary) -> Result<SnapshotMeta, StoreError> {
        self.flush()?;
        self.flush_coverage()?;
        self.lock()?;
        let finished = summary.finished_at;
        let scope = Scope::new(&summary.accounts, &summary.regions, &summary.services);
        let (prev_seq, prev_hash) = chain::head(self.db)?;
        let seq = prev_seq + 1;
        let entered: Vec<String> = summary.accounts.iter().map(ToString::to_string).collect();
        versions::record_accounts(self.db, seq, &entered, &ts(finished))?;
        if let Some(holder) = self.lease_holder.take() {
            crate::leases::check_held(self.db, seq, &holder)?;
        }
        chain::advance_versions(self.db, seq, &scope, chain::UnreadRows::Staged)?;
        let (resource_count, resources_sha256) = chain::membership_digest(self.db, seq, &scope)?;
        // Findings that were in scope and were not reported: their resource is gone.
        let now_text = ts(finished);
        let id_text = self.id.to_string();
        let gone = versions::unreported_findings(self.db, seq)?;
        let omitted = std::mem::take(&mut self.omitted_rules);
        for g in gone.iter().filter(|g| g.in_scope(&scope, &omitted)) {
            if g.status == Status::Fail.as_str() {
                self.last_seen_failing(&g.rule_id, &g.arn, &g.account, Some(seq))?;
            }
            if matches!(g.status.as_str(), "fail" | "error") {
                // Also a failure that went undecided before its resource was deleted.
                self.resolve(&g.rule_id, &g.arn, &g.account, &now_text, &id_text)?;
            }
        }
        versions::advance_findings(self.db, seq, &gone)?;
        let count = |db: &mut dyn Db, sql: &str| -> Result<u64, StoreError> {
            let rows = db.query(sql, &[]).map_err(q("count coverage records"))?;
            Ok(rows
                .first()
                .and_then(|r| r.first())
                .map_or(0, |v| u64::try_from(v.int()).unwrap_or_default()))
        };
        let coverage = CoverageSummary {
            collections: count(self.db, "SELECT COUNT(*) FROM staged_collections")?,
            incomplete: count(
                self.db,
                "SELECT COUNT(*) FROM staged_collections WHERE complete = 0",
            )?,
            failed_calls: count(self.db, "SELECT COUNT(*) FROM staged_gaps")?,
            api_calls: summary.api_calls,
        };
        let coverage_text = to_json(&coverage);
        versions::advance_coverage(self.db, seq)?;
        let coverage_sha256 = versions::coverage_digest(self.db, &coverage_text, seq)?;
        let (finding_count, findings_sha256) = versions::findings_digest(self.db, seq)?;
        let manifest = chain::Manifest {
            format: chain::MANIFEST_FORMAT,
            id: self.id.to_string(),
            seq,
            started_at: ts(self.started_at),
            finished_at: ts(finished),
            accounts: entered,
            regions: summary.regions.iter().map(ToString::to_string).collect(),
            services: summary.services.clone(),
            resource_count,
            resources_sha256,
            coverage_sha256,
            findings_sha256,
            drift_sha256: std::mem::take(&mut self.drift).hex(),
            baseline: summary.baseline.0.clone(),
            baseline_version: summary.baseline.1.clone(),
            prev_manifest_sha256: prev_hash,
        };
        let (manifest_text, manifest_hash) = manifest.seal();
        self.db
            .exec(
                "INSERT INTO snapshots (id, seq, started_at, finished_at, accounts, regions, services, coverage, \
                 resource_count, manifest, manifest_hash, prev_manifest_hash, coverage_rows, intervals) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, 1)",
                &[
                    self.id.as_str().into(),
                    Val::Int(seq),
                    ts(self.started_at).into(),
                    ts(finished).into(),
                    to_json(&manifest.accounts).into(),
                    to_json(&manifest.regions).into(),
                    to_json(&manifest.services).into(),
                    coverage_text.into(),
                    Val::Int(resource_count),
                    manifest_text.into(),
                    manifest_hash.into(),
                    manifest.prev_manifest_sha256.clone().into(),
                ],
            )
            .map_err(q("write snapshot header"))?;
        self.db
            .exec(
                "INSERT INTO evaluations (snapshot_id, baseline_name, baseline_version, evaluated_at, finding_count) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    self.id.as_str().into(),
                    summary.baseline.0.clone().into(),
                    summary.baseline.1.clone().into(),
                    ts(finished).into(),
                    Val::Int(finding_count),
                ],
            )
            .map_err(q("write evaluation"))?;
        let id: Val = self.id.as_str().into();
        // A waiver is recorded with the snapshot whose finding version first carried it.
        self.db
            .exec(
                "INSERT INTO waiver_history (snapshot_id, rule_id, arn, waiver) \
                 SELECT $1, rule_id, arn, waiver FROM staged_waivers",
                std::slice::from_ref(&id),
            )
            .map_err(q("write waiver history"))?;
        self.db
            .exec(
                "INSERT INTO drift_events (snapshot_id, seq, event, rule_id, arn, body) \
                 SELECT $1, seq, event, rule_id, arn, body FROM staged_drift",
                std::slice::from_ref(&id),
            )
            .map_err(q("write drift events"))?;
        self.clear_staging()?;
        self.db.batch("COMMIT").map_err(q("commit snapshot"))?;
        self.open = false;
        Ok(SnapshotMeta {
            id: self.id.clone(),
            started_at: self.started_at,
            finished_at: finished,
            accounts: summary.accounts,
            regions: summary.regions,
            services: summary.services,
            coverage,
            resource_count: u64::try_from(resource_count).unwrap_or_default(),
        })
    }

    /// Records `failure_episodes` for a batch of findings (a few statements per batch, not
    /// per finding) and fills each one's `first_seen` from the current finding version and
    /// the open episode. Returns the body hash of each (rule, ARN, account)'s current
    /// version (an AWS managed policy has one ARN in every account).
    /// Failure episodes that go on are extended at commit, in one statement.
    fn record_statuses(
        &mut self,
        batch: &mut [Finding],
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashMap<(String, String, String), String>, StoreError> {
        let now_text = ts(now);
        let id = self.id.to_string();
        // The current version of each (rule, ARN), and its open failure episode.
        let mut keys = Vec::with_capacity(batch.len() * 3);
        for f in batch.iter() {
            keys.push(Val::from(f.rule_id.as_str()));
            keys.push(Val::from(f.resource.arn.as_str()));
            keys.push(Val::from(f.resource.account.as_str()));
        }
        let rows = self
            .db
            .query(
                &format!(
                    // A join on the key list, not `(rule_id, arn) IN (VALUES …)`, which SQLite
                    // answers with a scan of the whole table.
                    // The open failure episode too: a failure that went undecided (its data
                    // could not be read) and fails again continues it.
                    "SELECT k.column1, k.column2, k.column3, v.status, v.since, v.body_hash, e.opened_at \
                     FROM (VALUES {}) AS k \
                     LEFT JOIN finding_versions v ON v.rule_id = k.column1 AND v.arn = k.column2 \
                     AND v.account = k.column3 AND v.valid_to IS NULL \
                     LEFT JOIN failure_episodes e ON e.rule_id = k.column1 AND e.arn = k.column2 \
                     AND e.account = k.column3 AND e.resolved_at IS NULL",
                    marks(batch.len(), 3)
                ),
                &keys,
            )
            .map_err(q("read finding history"))?;
        let mut before: std::collections::HashMap<(String, String, String), (String, String)> =
            std::collections::HashMap::new();
        let mut current: std::collections::HashMap<(String, String, String), String> =
            std::collections::HashMap::new();
        let mut open_since: std::collections::HashMap<(String, String, String), String> =
            std::collections::HashMap::new();
        for r in rows {
            let own = (
                r[0].text().to_owned(),
                r[1].text().to_owned(),
                r[2].text().to_owned(),
            );
            if let (Some(status), Some(since), Some(hash)) =
                (r[3].opt_text(), r[4].opt_text(), r[5].opt_text())
            {
                before.insert(own.clone(), (status.to_owned(), since.to_owned()));
                current.insert(own.clone(), hash.to_owned());
            }
            if let Some(opened) = r[6].opt_text() {
                open_since.insert(own, opened.to_owned());
            }
        }
        let mut decided = std::collections::HashSet::new();
        let mut opened = Vec::new();
        let mut resolved = Vec::new();
        let mut stopped = Vec::new();
        // Last occurrence wins, as it does when staging.
        for f in batch.iter_mut().rev() {
            let key = (
                f.rule_id.to_string(),
                f.resource.arn.to_string(),
                f.resource.account.to_string(),
            );
            let prev = before.get(&key);
            let episode = open_since.get(&key);
            let status = f.status.as_str();
            let since = match (prev, episode) {
                // Failing in an open episode (also after it went undecided): since it opened.
                (_, Some(opened)) if f.status == Status::Fail => opened.clone(),
                (Some((s, since)), _) if s == status => since.clone(),
                _ => now_text.clone(),
            };
            f.first_seen = Some(
                DateTime::parse_from_rfc3339(&since)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(now),
            );
            if !decided.insert(key.clone()) {
                continue;
            }
            // An undecided finding (`error`: its data could not be read) neither opens nor
            // closes a failure episode: nobody saw it fixed.
            let was_failing = episode.is_some();
            let failing = f.status == Status::Fail;
            if failing && !was_failing {
                opened.extend([
                    Val::from(key.0.clone()),
                    key.1.clone().into(),
                    key.2.clone().into(),
                    now_text.clone().into(),
                    id.clone().into(),
                    now_text.clone().into(),
                ]);
            } else if was_failing && !failing && f.status != Status::Error {
                resolved.push(key.clone());
            }
            // A failure no longer seen failing (resolved, or undecided): its episode was last
            // seen failing by the account's previous scan. While it fails, readers take the
            // account's last scan instead, so an unchanged scan writes nothing here.
            if was_failing && !failing && prev.is_some_and(|(s, _)| s == Status::Fail.as_str()) {
                stopped.push(key.clone());
            }
        }
        if !opened.is_empty() {
            self.db
                .exec(
                    &format!(
                        "INSERT INTO failure_episodes (rule_id, arn, account, opened_at, opened_snapshot, last_seen) \
                         VALUES {}",
                        marks(opened.len() / 6, 6)
                    ),
                    &opened,
                )
                .map_err(q("open failure episodes"))?;
        }
        for (rule, arn, account) in stopped {
            self.last_seen_failing(&rule, &arn, &account, None)?;
        }
        for (rule, arn, account) in resolved {
            self.resolve(&rule, &arn, &account, &now_text, &id)?;
        }
        Ok(current)
    }

    /// Records when an open failure episode was last seen failing: the finish of the
    /// account's last scan before snapshot `before` (all committed scans when `None`).
    fn last_seen_failing(
        &mut self,
        rule: &str,
        arn: &str,
        account: &str,
        before: Option<i64>,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                "UPDATE failure_episodes SET last_seen = COALESCE((SELECT MAX(sa.finished_at) \
                 FROM snapshot_accounts sa WHERE sa.account = $3 AND sa.seq < $4), last_seen) \
                 WHERE rule_id = $1 AND arn = $2 AND account = $3 AND resolved_at IS NULL",
                &[
                    rule.into(),
                    arn.into(),
                    account.into(),
                    Val::Int(before.unwrap_or(i64::MAX)),
                ],
            )
            .map_err(q("record when a failure was last seen"))?;
        Ok(())
    }

    fn resolve(
        &mut self,
        rule: &str,
        arn: &str,
        account: &str,
        now: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                "UPDATE failure_episodes SET resolved_at = $3, resolved_snapshot = $4 \
                 WHERE rule_id = $1 AND arn = $2 AND account = $5 AND resolved_at IS NULL",
                &[
                    rule.into(),
                    arn.into(),
                    now.into(),
                    id.into(),
                    account.into(),
                ],
            )
            .map_err(q("resolve failure episode"))?;
        Ok(())
    }
}

impl Drop for SnapshotWriter<'_> {
    fn drop(&mut self) {
        if self.open {
            // The scan did not finish: undo everything it wrote. If the rollback itself
            // fails the connection is going away, and the database discards the open
            // transaction with it.
            if let Err(e) = self.db.batch("ROLLBACK") {
                eprintln!("posture-store: rollback of an unfinished snapshot failed: {e}");
            }
        }
    }
}

/// `($1, $2), ($3, $4)`: placeholders for a multi-row insert.
fn marks(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// JSON text for a JSON column; the values stored always serialise.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
