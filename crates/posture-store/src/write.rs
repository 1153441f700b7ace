//! Writing one snapshot: resources stream in during collection; the header, findings, drift
//! and the chain link are written at commit, all in one transaction.

use chrono::{DateTime, SecondsFormat, Utc};
use posture_model::{
    AccountId, Coverage, Finding, Region, Resource, SnapshotId, SnapshotMeta, Status,
};

use crate::chain::{self, Scope};
use crate::db::{Db, Dialect, Val};
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
pub struct SnapshotSummary<'f> {
    /// When collection finished.
    pub finished_at: DateTime<Utc>,
    /// Accounts scanned.
    pub accounts: Vec<AccountId>,
    /// Regions scanned.
    pub regions: Vec<Region>,
    /// Services collected (`s3`, `iam`, ...).
    pub services: Vec<String>,
    /// Coverage.
    pub coverage: Coverage,
    /// The baseline's name and version.
    pub baseline: (String, String),
    /// Findings of the evaluation, sorted by the checker. `first_seen` is filled in by commit.
    pub findings: &'f mut [Finding],
    /// Drift events against the previous snapshot, as (event, rule id, ARN, JSON body).
    pub drift: Vec<(String, Option<String>, String, serde_json::Value)>,
}

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
        let w = Self {
            db,
            id,
            started_at,
            open: true,
            pending: Vec::new(),
        };
        w.db
            .batch(
                "CREATE TEMP TABLE IF NOT EXISTS staged_resources (
                    kind TEXT NOT NULL, arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
                    service TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (kind, arn))",
            )
            .map_err(q("create staging table"))?;
        w.db.exec("DELETE FROM staged_resources", &[])
            .map_err(q("clear staging table"))?;
        Ok(w)
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
        pending.retain(|p| seen.insert((p.kind, p.arn.clone())));
        pending.reverse();
        let mut bodies: Vec<&Staged> = Vec::with_capacity(pending.len());
        let mut hashes = std::collections::HashSet::new();
        for p in &pending {
            if hashes.insert(p.hash.as_str()) {
                bodies.push(p);
            }
        }
        let marks = |rows: usize, width: usize| -> String {
            (0..rows)
                .map(|r| {
                    let cols: Vec<String> =
                        (1..=width).map(|c| format!("${}", r * width + c)).collect();
                    format!("({})", cols.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
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
                     ON CONFLICT (kind, arn) DO UPDATE SET hash = excluded.hash",
                    marks(pending.len(), 6)
                ),
                &params,
            )
            .map_err(q("stage resources"))?;
        Ok(())
    }

    /// Links the snapshot into the chain, records findings (filling `first_seen`), history
    /// and drift, and commits: the snapshot becomes visible.
    pub fn commit(mut self, summary: SnapshotSummary<'_>) -> Result<SnapshotMeta, StoreError> {
        self.flush()?;
        let finished = summary.finished_at;
        let scope = Scope::new(&summary.accounts, &summary.regions, &summary.services);
        if self.db.dialect() == Dialect::Postgres {
            // Writers on several replicas serialise here, not for the whole scan.
            self.db
                .batch("LOCK TABLE snapshots IN SHARE ROW EXCLUSIVE MODE")
                .map_err(q("lock snapshots"))?;
        }
        let (prev_seq, prev_hash) = chain::head(self.db)?;
        let seq = prev_seq + 1;
        chain::advance_versions(self.db, seq, &scope)?;
        let (resource_count, resources_sha256) = chain::membership_digest(self.db, seq, &scope)?;

        self.record_history(summary.findings, &scope, finished)?;
        let findings_text: Vec<String> = summary
            .findings
            .iter()
            .map(|f| serde_json::to_string(f).unwrap_or_default())
            .collect();
        let coverage_text = serde_json::to_string(&summary.coverage).unwrap_or_default();
        let drift_text: Vec<String> = summary
            .drift
            .iter()
            .map(|(_, _, _, body)| serde_json::to_string(body).unwrap_or_default())
            .collect();
        let manifest = chain::Manifest {
            format: 1,
            id: self.id.to_string(),
            seq,
            started_at: ts(self.started_at),
            finished_at: ts(finished),
            accounts: summary.accounts.iter().map(ToString::to_string).collect(),
            regions: summary.regions.iter().map(ToString::to_string).collect(),
            services: summary.services.clone(),
            resource_count,
            resources_sha256,
            coverage_sha256: crate::sha256_hex(coverage_text.as_bytes()),
            findings_sha256: chain::lines_digest(&findings_text),
            drift_sha256: chain::lines_digest(&drift_text),
            baseline: summary.baseline.0.clone(),
            baseline_version: summary.baseline.1.clone(),
            prev_manifest_sha256: prev_hash,
        };
        let (manifest_text, manifest_hash) = manifest.seal();
        self.db
            .exec(
                "INSERT INTO snapshots (id, seq, started_at, finished_at, accounts, regions, services, coverage, \
                 resource_count, manifest, manifest_hash, prev_manifest_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
                    Val::Int(i64::try_from(summary.findings.len()).unwrap_or(i64::MAX)),
                ],
            )
            .map_err(q("write evaluation"))?;
        for (i, (f, text)) in summary.findings.iter().zip(&findings_text).enumerate() {
            self.db
                .exec(
                    "INSERT INTO findings (snapshot_id, seq, rule_id, arn, status, severity, body) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        self.id.as_str().into(),
                        Val::Int(i64::try_from(i).unwrap_or(i64::MAX)),
                        f.rule_id.as_str().into(),
                        f.resource.arn.as_str().into(),
                        f.status.as_str().into(),
                        f.severity.as_str().into(),
                        text.clone().into(),
                    ],
                )
                .map_err(q("write finding"))?;
        }
        for f in summary.findings.iter() {
            if let Some(waiver) = &f.waiver {
                self.db
                    .exec(
                        "INSERT INTO waiver_history (snapshot_id, rule_id, arn, waiver) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (snapshot_id, rule_id, arn) DO NOTHING",
                        &[
                            self.id.as_str().into(),
                            f.rule_id.as_str().into(),
                            f.resource.arn.as_str().into(),
                            serde_json::to_string(waiver).unwrap_or_default().into(),
                        ],
                    )
                    .map_err(q("write waiver history"))?;
            }
        }
        for (i, ((event, rule, arn, _), text)) in summary.drift.iter().zip(&drift_text).enumerate()
        {
            self.db
                .exec(
                    "INSERT INTO drift_events (snapshot_id, seq, event, rule_id, arn, body) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        self.id.as_str().into(),
                        Val::Int(i64::try_from(i).unwrap_or(i64::MAX)),
                        event.clone().into(),
                        rule.clone().into(),
                        arn.clone().into(),
                        text.clone().into(),
                    ],
                )
                .map_err(q("write drift event"))?;
        }
        self.db.batch("COMMIT").map_err(q("commit snapshot"))?;
        self.open = false;
        Ok(SnapshotMeta {
            id: self.id.clone(),
            started_at: self.started_at,
            finished_at: finished,
            accounts: summary.accounts,
            regions: summary.regions,
            services: summary.services,
            coverage: summary.coverage,
            resource_count: u64::try_from(resource_count).unwrap_or_default(),
        })
    }

    /// Updates `finding_status` and `failure_episodes`, and fills each finding's `first_seen`.
    fn record_history(
        &mut self,
        findings: &mut [Finding],
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now_text = ts(now);
        let id = self.id.to_string();
        let mut seen = std::collections::BTreeSet::new();
        for f in findings.iter_mut() {
            let key = (f.rule_id.to_string(), f.resource.arn.to_string());
            seen.insert(key.clone());
            let prev = self
                .db
                .query(
                    "SELECT status, since FROM finding_status WHERE rule_id = $1 AND arn = $2",
                    &[key.0.clone().into(), key.1.clone().into()],
                )
                .map_err(q("read finding status"))?;
            let prev = prev
                .first()
                .map(|r| (r[0].text().to_owned(), r[1].text().to_owned()));
            let status = f.status.as_str();
            let since = match &prev {
                Some((s, since)) if s == status => since.clone(),
                _ => now_text.clone(),
            };
            f.first_seen = Some(
                DateTime::parse_from_rfc3339(&since)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(now),
            );
            self.db
                .exec(
                    "INSERT INTO finding_status (rule_id, arn, account, region, service, status, since, since_snapshot, \
                     last_seen, last_snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (rule_id, arn) DO UPDATE SET status = excluded.status, since = excluded.since, \
                     since_snapshot = CASE WHEN finding_status.status = excluded.status \
                                           THEN finding_status.since_snapshot ELSE excluded.since_snapshot END, \
                     last_seen = excluded.last_seen, last_snapshot = excluded.last_snapshot",
                    &[
                        key.0.clone().into(),
                        key.1.clone().into(),
                        f.resource.account.as_str().into(),
                        f.resource.region.as_str().into(),
                        f.resource.kind.service().into(),
                        status.into(),
                        since.clone().into(),
                        id.clone().into(),
                        now_text.clone().into(),
                        id.clone().into(),
                    ],
                )
                .map_err(q("write finding status"))?;
            let was_failing = prev
                .as_ref()
                .is_some_and(|(s, _)| s == Status::Fail.as_str());
            let failing = f.status == Status::Fail;
            if failing && !was_failing {
                self.db
                    .exec(
                        "INSERT INTO failure_episodes (rule_id, arn, opened_at, opened_snapshot, last_seen) \
                         VALUES ($1, $2, $3, $4, $3)",
                        &[key.0.clone().into(), key.1.clone().into(), now_text.clone().into(), id.clone().into()],
                    )
                    .map_err(q("open failure episode"))?;
            } else if failing {
                self.db
                    .exec(
                        "UPDATE failure_episodes SET last_seen = $3 WHERE rule_id = $1 AND arn = $2 AND resolved_at IS NULL",
                        &[key.0.clone().into(), key.1.clone().into(), now_text.clone().into()],
                    )
                    .map_err(q("extend failure episode"))?;
            } else if was_failing {
                self.resolve(&key.0, &key.1, &now_text, &id)?;
            }
        }
        // Findings that were in scope before and are gone now: their resource was deleted.
        let (pred, params) = scope.predicate(1);
        let rows = self
            .db
            .query(
                &format!("SELECT rule_id, arn, status FROM finding_status WHERE {pred}"),
                &params,
            )
            .map_err(q("read finding status"))?;
        for r in rows {
            let key = (r[0].text().to_owned(), r[1].text().to_owned());
            if seen.contains(&key) {
                continue;
            }
            if r[2].text() == Status::Fail.as_str() {
                self.resolve(&key.0, &key.1, &now_text, &id)?;
            }
            self.db
                .exec(
                    "DELETE FROM finding_status WHERE rule_id = $1 AND arn = $2",
                    &[key.0.into(), key.1.into()],
                )
                .map_err(q("forget finding status"))?;
        }
        Ok(())
    }

    fn resolve(&mut self, rule: &str, arn: &str, now: &str, id: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                "UPDATE failure_episodes SET resolved_at = $3, resolved_snapshot = $4 \
                 WHERE rule_id = $1 AND arn = $2 AND resolved_at IS NULL",
                &[rule.into(), arn.into(), now.into(), id.into()],
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

/// JSON text for a JSON column; the values stored always serialise.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
