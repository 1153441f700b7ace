//! The hash chain: manifests, resource version intervals, verification, pruning, and the
//! upgrade of schema-1 stores.

use std::collections::BTreeMap;

use posture_model::{AccountId, Region};
use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

use crate::db::{Db, Dialect, Val};
use crate::{Store, StoreError, q, sha256_hex};

/// What a snapshot covered: rows outside it are neither confirmed nor retired by it.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    accounts: Vec<String>,
    regions: Vec<String>,
    services: Vec<String>,
}

impl Scope {
    pub fn new(accounts: &[AccountId], regions: &[Region], services: &[String]) -> Self {
        let mut regions: Vec<String> = regions.iter().map(ToString::to_string).collect();
        regions.push(Region::global().to_string());
        let mut services = services.to_vec();
        // The account and region subjects belong to every scan.
        services.push("posture".to_owned());
        Self {
            accounts: accounts.iter().map(ToString::to_string).collect(),
            regions,
            services,
        }
    }

    pub(crate) fn from_json(
        accounts: &str,
        regions: &str,
        services: &str,
    ) -> Result<Self, StoreError> {
        let parse = |t: &str| {
            serde_json::from_str::<Vec<String>>(t).map_err(crate::corrupt("snapshot scope"))
        };
        let accounts: Vec<AccountId> = parse(accounts)?
            .into_iter()
            .filter_map(|a| AccountId::new(a).ok())
            .collect();
        let regions: Vec<Region> = parse(regions)?
            .into_iter()
            .filter_map(|r| Region::new(r).ok())
            .collect();
        Ok(Scope::new(&accounts, &regions, &parse(services)?))
    }

    /// Whether a row of `account`, `region` and `service` is within the scope.
    pub fn contains(&self, account: &str, region: &str, service: &str) -> bool {
        self.accounts.iter().any(|a| a == account)
            && self.regions.iter().any(|r| r == region)
            && self.services.iter().any(|s| s == service)
    }

    /// An SQL predicate over `account`, `region`, `service` columns with parameters
    /// numbered from `first`.
    pub fn predicate(&self, first: usize) -> (String, Vec<Val>) {
        let mut params = Vec::new();
        let mut list = |values: &[String]| {
            let marks: Vec<String> = values
                .iter()
                .map(|v| {
                    params.push(Val::Text(v.clone()));
                    format!("${}", first + params.len() - 1)
                })
                .collect();
            if marks.is_empty() {
                "NULL".to_owned()
            } else {
                marks.join(", ")
            }
        };
        let a = list(&self.accounts);
        let r = list(&self.regions);
        let s = list(&self.services);
        (
            format!("account IN ({a}) AND region IN ({r}) AND service IN ({s})"),
            params,
        )
    }
}

/// A snapshot's manifest: everything needed to re-derive its hash from the stored data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Manifest {
    pub format: u32,
    pub id: String,
    pub seq: i64,
    pub started_at: String,
    pub finished_at: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub services: Vec<String>,
    pub resource_count: i64,
    pub resources_sha256: String,
    pub coverage_sha256: String,
    pub findings_sha256: String,
    pub drift_sha256: String,
    pub baseline: String,
    pub baseline_version: String,
    pub prev_manifest_sha256: Option<String>,
}

impl Manifest {
    /// The manifest's canonical text and its SHA-256.
    pub fn seal(&self) -> (String, String) {
        let text = serde_json::to_string(self).unwrap_or_default();
        let hash = sha256_hex(text.as_bytes());
        (text, hash)
    }
}

/// SHA-256 over newline-terminated lines.
pub(crate) fn lines_digest(lines: &[String]) -> String {
    let mut all = String::new();
    for l in lines {
        all.push_str(l);
        all.push('\n');
    }
    sha256_hex(all.as_bytes())
}

/// The newest snapshot's sequence number and manifest hash, or the pruning checkpoint's
/// when every snapshot was pruned, or (0, None) for an empty store.
pub(crate) fn head(db: &mut dyn Db) -> Result<(i64, Option<String>), StoreError> {
    let rows = db
        .query("SELECT seq, manifest_hash FROM snapshots WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1", &[])
        .map_err(q("read chain head"))?;
    if let Some(r) = rows.first() {
        return Ok((r[0].int(), r[1].opt_text().map(str::to_owned)));
    }
    let rows = db
        .query("SELECT pruned_through_seq, manifest_hash FROM chain_checkpoints ORDER BY pruned_through_seq DESC LIMIT 1", &[])
        .map_err(q("read chain checkpoint"))?;
    Ok(rows.first().map_or((0, None), |r| {
        (r[0].int(), r[1].opt_text().map(str::to_owned))
    }))
}

/// Whether the scan staged what it could not read (`staged_unread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnreadRows {
    /// A scan: `staged_unread` holds the (account, region, kind) it could not read.
    Staged,
    /// The schema-1 upgrade, which replays stored snapshots: everything was read.
    None,
}

/// Moves the version intervals forward to snapshot `seq` from `staged_resources`: rows in
/// scope that are gone or changed are closed at `seq - 1`; new and changed ones open at `seq`.
/// A row that was not seen because its (account, region, kind) could not be read stays
/// open: the snapshot keeps the last version that was read.
pub(crate) fn advance_versions(
    db: &mut dyn Db,
    seq: i64,
    scope: &Scope,
    unread: UnreadRows,
) -> Result<(), StoreError> {
    let (pred, mut params) = scope.predicate(2);
    params.insert(0, Val::Int(seq - 1));
    let keep_unread = match unread {
        UnreadRows::Staged => {
            " AND (EXISTS (SELECT 1 FROM staged_resources s WHERE s.kind = resource_versions.kind \
               AND s.arn = resource_versions.arn AND s.account = resource_versions.account) \
             OR NOT EXISTS (SELECT 1 FROM staged_unread u WHERE u.account = resource_versions.account \
               AND u.region = resource_versions.region AND u.kind = resource_versions.kind))"
        }
        UnreadRows::None => "",
    };
    db.exec(
        &format!(
            "UPDATE resource_versions SET valid_to = $1 WHERE valid_to IS NULL AND {pred} AND NOT EXISTS \
             (SELECT 1 FROM staged_resources s WHERE s.kind = resource_versions.kind \
              AND s.arn = resource_versions.arn AND s.account = resource_versions.account \
              AND s.hash = resource_versions.hash){keep_unread}"
        ),
        &params,
    )
    .map_err(q("close changed resource versions"))?;
    db.exec(
        "INSERT INTO resource_versions (kind, arn, account, region, service, hash, valid_from, valid_to) \
         SELECT s.kind, s.arn, s.account, s.region, s.service, s.hash, $1, NULL FROM staged_resources s \
         WHERE NOT EXISTS (SELECT 1 FROM resource_versions rv WHERE rv.valid_to IS NULL \
                           AND rv.kind = s.kind AND rv.arn = s.arn AND rv.account = s.account)",
        &[Val::Int(seq)],
    )
    .map_err(q("open resource versions"))?;
    db.exec("DELETE FROM staged_resources", &[])
        .map_err(q("clear staging table"))?;
    Ok(())
}

/// `ORDER BY` over text columns in byte order, whatever the database's collation: SQLite
/// compares text bytewise (BINARY) by default; PostgreSQL's "C" collation is bytewise.
/// Digests depend on the order, so it must not depend on the backend.
pub(crate) fn bytewise(db: &dyn Db, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| match db.dialect() {
            Dialect::Sqlite => (*c).to_owned(),
            Dialect::Postgres => format!("{c} COLLATE \"C\""),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// SHA-256 over newline-terminated lines fed one at a time: the digest [`lines_digest`]
/// gives for the same lines, without holding them.
#[derive(Debug, Clone, Default)]
pub(crate) struct LinesDigest {
    hasher: Sha256,
    count: i64,
}

impl LinesDigest {
    pub(crate) fn push(&mut self, line: &str) {
        self.hasher.update(line.as_bytes());
        self.hasher.update(b"\n");
        self.count += 1;
    }

    pub(crate) fn count(&self) -> i64 {
        self.count
    }

    pub(crate) fn hex(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The digest of the first column of `sql`'s rows (one parameter: a snapshot id), streamed.
fn rows_digest(db: &mut dyn Db, sql: &str, id: &str) -> Result<LinesDigest, crate::db::DbError> {
    let mut digest = LinesDigest::default();
    db.query_each(sql, &[id.into()], &mut |r| {
        digest.push(r[0].text());
        Ok(())
    })?;
    Ok(digest)
}

/// Count and digest of snapshot `seq`'s membership: `kind TAB arn TAB body-hash` lines in
/// byte order, streamed from the database (sorted there, never held in memory).
pub(crate) fn membership_digest(
    db: &mut dyn Db,
    seq: i64,
    scope: &Scope,
) -> Result<(i64, String), StoreError> {
    let (pred, mut params) = scope.predicate(2);
    params.insert(0, Val::Int(seq));
    // The account breaks ties: an AWS managed policy has the same ARN in every account.
    let order = bytewise(db, &["kind", "arn", "account"]);
    let mut digest = LinesDigest::default();
    db.query_each(
        &format!(
            "SELECT kind, arn, hash FROM resource_versions \
             WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to >= $1) AND {pred} \
             ORDER BY {order}"
        ),
        &params,
        &mut |r| {
            digest.push(&format!(
                "{}\t{}\t{}",
                r[0].text(),
                r[1].text(),
                r[2].text()
            ));
            Ok(())
        },
    )
    .map_err(q("read snapshot membership"))?;
    Ok((digest.count(), digest.hex()))
}

/// The manifest format this build writes. Format 1 hashed the coverage statement as one
/// JSON document in the snapshot header; format 2 (schema 4) hashes the coverage rows, see
/// [`coverage_digest`]; format 3 (schema 7) hashes findings and coverage read from their
/// versions (`versions::findings_digest`, `versions::coverage_digest`).
pub(crate) const MANIFEST_FORMAT: u32 = 3;

/// The coverage digest of manifest format 2: SHA-256 over newline-terminated lines, first
/// the header's summary (`header`: counts and API calls, as stored), then one
/// `account TAB region TAB service TAB resources TAB complete` line per collection, then
/// each failed call's JSON, both in their canonical order. Streamed from the database.
pub(crate) fn coverage_digest(
    db: &mut dyn Db,
    header: &str,
    id: &str,
) -> Result<String, StoreError> {
    let mut digest = LinesDigest::default();
    digest.push(header);
    let collections = "SELECT account, region, service, resources, complete FROM collections \
             WHERE snapshot_id = $1 ORDER BY seq";
    let gaps = "SELECT body FROM gaps WHERE snapshot_id = $1 ORDER BY seq";
    let params: Vec<Val> = vec![id.into()];
    db.query_each(collections, &params, &mut |r| {
        digest.push(&collection_line(&r));
        Ok(())
    })
    .map_err(q("read collection records"))?;
    db.query_each(gaps, &params, &mut |r| {
        digest.push(r[0].text());
        Ok(())
    })
    .map_err(q("read failed calls"))?;
    Ok(digest.hex())
}

/// A collection record's line in the coverage digest (formats 2 and 3), from a row of
/// (account, region, service, resources, complete).
pub(crate) fn collection_line(r: &[Val]) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        r[0].text(),
        r[1].text(),
        r[2].text(),
        r[3].int(),
        r[4].int()
    )
}

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyProblem {
    /// The snapshot concerned, when one is.
    pub snapshot: Option<String>,
    /// The resource concerned, when one is.
    pub resource: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The result of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Snapshots checked.
    pub snapshots: usize,
    /// Distinct resource bodies checked.
    pub bodies: usize,
    /// The newest manifest hash: record it somewhere else to anchor the chain.
    pub head: Option<String>,
    /// Problems, empty when the history is intact.
    pub problems: Vec<VerifyProblem>,
}

/// What `prune` removed.
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// Snapshots removed.
    pub snapshots: usize,
    /// Resource version rows removed.
    pub versions: u64,
    /// Bodies no longer referenced and removed.
    pub bodies: u64,
}

type SnapshotRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    bool,
);

impl Store {
    /// Re-derives every snapshot's manifest from the stored data and checks the chain.
    pub fn verify(&mut self) -> Result<VerifyReport, StoreError> {
        let db = self.db.as_mut();
        let mut problems = Vec::new();

        // Bodies: the content must still hash to its key.
        let mut altered: BTreeMap<String, String> = BTreeMap::new();
        // Streamed: a store of years holds millions of bodies.
        let mut bodies = 0usize;
        db.query_each("SELECT hash, body FROM bodies", &[], &mut |r| {
            bodies += 1;
            let actual = sha256_hex(r[1].text().as_bytes());
            if actual != r[0].text() {
                altered.insert(r[0].text().to_owned(), actual);
            }
            Ok(())
        })
        .map_err(q("read bodies"))?;
        for (hash, actual) in &altered {
            let users = db
                .query(
                    "SELECT DISTINCT kind, arn FROM resource_versions WHERE hash = $1",
                    &[hash.as_str().into()],
                )
                .map_err(q("find altered resource"))?;
            for u in users {
                problems.push(VerifyProblem {
                    snapshot: None,
                    resource: Some(u[1].text().to_owned()),
                    message: format!(
                        "the stored body of {} ({}) was altered: it is filed under {hash} but hashes to {actual}",
                        u[1].text(),
                        u[0].text()
                    ),
                });
            }
        }
        let missing = db
            .query(
                "SELECT DISTINCT arn FROM resource_versions rv WHERE NOT EXISTS (SELECT 1 FROM bodies b WHERE b.hash = rv.hash)",
                &[],
            )
            .map_err(q("find missing bodies"))?;
        for m in missing {
            problems.push(VerifyProblem {
                snapshot: None,
                resource: Some(m[0].text().to_owned()),
                message: format!("the stored body of {} was removed", m[0].text()),
            });
        }

        // Finding bodies (schema 5 on): the content must still hash to its key.
        let mut altered_findings: Vec<(String, String)> = Vec::new();
        db.query_each("SELECT hash, body FROM finding_bodies", &[], &mut |r| {
            let actual = sha256_hex(r[1].text().as_bytes());
            if actual != r[0].text() {
                altered_findings.push((r[0].text().to_owned(), actual));
            }
            Ok(())
        })
        .map_err(q("read finding bodies"))?;
        for (hash, actual) in altered_findings {
            let users = db
                .query(
                    "SELECT DISTINCT rule_id, arn FROM finding_versions WHERE body_hash = $1",
                    &[hash.as_str().into()],
                )
                .map_err(q("find altered finding"))?;
            for u in users {
                problems.push(VerifyProblem {
                    snapshot: None,
                    resource: Some(u[1].text().to_owned()),
                    message: format!(
                        "the stored finding of rule {} on {} was altered: it is filed under {hash} but hashes to {actual}",
                        u[0].text(),
                        u[1].text()
                    ),
                });
            }
        }
        let missing = db
            .query(
                "SELECT DISTINCT rule_id, arn FROM finding_versions v WHERE NOT EXISTS \
                 (SELECT 1 FROM finding_bodies b WHERE b.hash = v.body_hash)",
                &[],
            )
            .map_err(q("find missing finding bodies"))?;
        for m in missing {
            problems.push(VerifyProblem {
                snapshot: None,
                resource: Some(m[1].text().to_owned()),
                message: format!(
                    "the stored finding of rule {} on {} was removed",
                    m[0].text(),
                    m[1].text()
                ),
            });
        }

        // Snapshots, oldest first.
        let rows = db
            .query(
                "SELECT id, seq, accounts, regions, services, coverage, manifest, manifest_hash, prev_manifest_hash, \
                 coverage_rows, intervals FROM snapshots ORDER BY seq",
                &[],
            )
            .map_err(q("read snapshots"))?;
        let snapshots: Vec<SnapshotRow> = rows
            .into_iter()
            .map(|r| {
                (
                    r[0].text().to_owned(),
                    r[1].int(),
                    r[2].text().to_owned(),
                    r[3].text().to_owned(),
                    r[4].text().to_owned(),
                    r[5].text().to_owned(),
                    r[6].text().to_owned(),
                    r[7].opt_text().map(str::to_owned),
                    r[8].opt_text().map(str::to_owned),
                    r[9].int() != 0,
                    r[10].int() != 0,
                )
            })
            .collect();
        let checkpoint = db
            .query("SELECT pruned_through_seq, manifest_hash FROM chain_checkpoints ORDER BY pruned_through_seq DESC LIMIT 1", &[])
            .map_err(q("read chain checkpoint"))?
            .first()
            .map(|r| (r[0].int(), r[1].text().to_owned()));
        let (mut expected_seq, mut expected_prev) = match &checkpoint {
            Some((seq, hash)) => (seq + 1, Some(hash.clone())),
            None => (1, None),
        };
        let mut head = None;
        for (
            id,
            seq,
            accounts,
            regions,
            services,
            coverage,
            manifest_text,
            manifest_hash,
            prev,
            coverage_rows,
            intervals,
        ) in &snapshots
        {
            let mut problem = |message: String| {
                problems.push(VerifyProblem {
                    snapshot: Some(id.clone()),
                    resource: None,
                    message,
                });
            };
            if *seq != expected_seq {
                problem(format!(
                    "snapshot sequence jumps from {} to {seq}: {} snapshot(s) before {id} were removed",
                    expected_seq - 1,
                    seq - expected_seq
                ));
            } else if prev != &expected_prev {
                problem(format!(
                    "the link to the previous snapshot does not match: the snapshot before {id} was altered or removed"
                ));
            }
            let Ok(manifest) = serde_json::from_str::<Manifest>(manifest_text) else {
                problem("the manifest is not readable".to_owned());
                expected_seq = seq + 1;
                expected_prev = manifest_hash.clone();
                continue;
            };
            if manifest.seal().1 != manifest_hash.clone().unwrap_or_default() {
                problem(
                    "the manifest was altered (it no longer hashes to its recorded hash)"
                        .to_owned(),
                );
            }
            if manifest.prev_manifest_sha256 != *prev || manifest.seq != *seq || manifest.id != *id
            {
                problem("the snapshot header no longer matches its manifest".to_owned());
            }
            let scope = Scope::from_json(accounts, regions, services)?;
            let (count, digest) = membership_digest(db, *seq, &scope)?;
            if digest != manifest.resources_sha256 {
                problem(format!(
                    "the resource membership was altered: {count} resources now, {} when recorded",
                    manifest.resource_count
                ));
            }
            // The manifest (hashed, chained) says how the coverage was recorded; the header's
            // flag must agree with it.
            // Format 3 reads findings and coverage from their versions, the header's
            // `intervals` flag must agree; format 2 from the snapshot's rows; format 1 hashed
            // the whole statement in the header.
            let rows = manifest.format >= 2;
            let versioned = manifest.format >= 3;
            let coverage_sha256 = if versioned {
                crate::versions::coverage_digest(db, coverage, *seq)?
            } else if rows {
                coverage_digest(db, coverage, id)?
            } else {
                sha256_hex(coverage.as_bytes())
            };
            if coverage_sha256 != manifest.coverage_sha256 || rows != *coverage_rows {
                problem("the coverage statement was altered".to_owned());
            }
            let (count, findings_sha256) = if versioned {
                crate::versions::findings_digest(db, *seq)?
            } else {
                let findings = rows_digest(
                    db,
                    &format!(
                        "SELECT {} FROM {} WHERE f.snapshot_id = $1 ORDER BY f.seq",
                        crate::read::FINDING_BODY,
                        crate::read::FINDINGS
                    ),
                    id,
                )
                .map_err(q("read findings"))?;
                (findings.count(), findings.hex())
            };
            if findings_sha256 != manifest.findings_sha256 || versioned != *intervals {
                problem(format!(
                    "the evaluation was altered: its {count} findings no longer match the manifest"
                ));
            }
            let drift = rows_digest(
                db,
                "SELECT body FROM drift_events WHERE snapshot_id = $1 ORDER BY seq",
                id,
            )
            .map_err(q("read drift"))?;
            if drift.hex() != manifest.drift_sha256 {
                problem("the drift events were altered".to_owned());
            }
            expected_seq = seq + 1;
            expected_prev = manifest_hash.clone();
            head = manifest_hash.clone();
        }
        Ok(VerifyReport {
            snapshots: snapshots.len(),
            bodies,
            head,
            problems,
        })
    }

    /// Removes snapshots that started before `before`, always keeping the newest one, and
    /// records a checkpoint so the remaining chain still verifies.
    pub fn prune(
        &mut self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<PruneReport, StoreError> {
        let db = self.db.as_mut();
        db.batch("BEGIN").map_err(q("begin prune"))?;
        let result = prune_in(db, before);
        match &result {
            Ok(_) => db.batch("COMMIT").map_err(q("commit prune"))?,
            Err(_) => {
                if let Err(e) = db.batch("ROLLBACK") {
                    eprintln!("posture-store: rollback of a failed prune failed: {e}");
                }
            }
        }
        result
    }
}

fn prune_in(
    db: &mut dyn Db,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<PruneReport, StoreError> {
    let cutoff = crate::write::ts(before);
    // Alerts go with the retention, delivered or not (one that old is past sending).
    crate::outbox::prune_outbox(db, before.timestamp_millis())?;
    let rows = db
        .query(
            "SELECT id, seq, manifest_hash FROM snapshots WHERE started_at < $1 \
             AND seq < (SELECT MAX(seq) FROM snapshots) ORDER BY seq",
            &[cutoff.into()],
        )
        .map_err(q("find snapshots to prune"))?;
    let Some(last) = rows.last() else {
        return Ok(PruneReport {
            snapshots: 0,
            versions: 0,
            bodies: 0,
        });
    };
    let (last_seq, last_hash) = (last[1].int(), last[2].text().to_owned());
    for r in &rows {
        let id = Val::Text(r[0].text().to_owned());
        for table in [
            "findings",
            "drift_events",
            "evaluations",
            "waiver_history",
            "collections",
            "gaps",
        ] {
            db.exec(
                &format!("DELETE FROM {table} WHERE snapshot_id = $1"),
                std::slice::from_ref(&id),
            )
            .map_err(q("prune snapshot data"))?;
        }
        db.exec("DELETE FROM snapshots WHERE id = $1", &[id])
            .map_err(q("prune snapshot"))?;
    }
    let versions = db
        .exec(
            "DELETE FROM resource_versions WHERE valid_to IS NOT NULL AND valid_to <= $1",
            &[Val::Int(last_seq)],
        )
        .map_err(q("prune resource versions"))?;
    for table in ["finding_versions", "collection_versions", "gap_versions"] {
        db.exec(
            &format!("DELETE FROM {table} WHERE valid_to IS NOT NULL AND valid_to <= $1"),
            &[Val::Int(last_seq)],
        )
        .map_err(q("prune versions"))?;
    }
    db.exec(
        "DELETE FROM snapshot_accounts WHERE seq <= $1",
        &[Val::Int(last_seq)],
    )
    .map_err(q("prune snapshot accounts"))?;
    let bodies = db
        .exec("DELETE FROM bodies WHERE NOT EXISTS (SELECT 1 FROM resource_versions rv WHERE rv.hash = bodies.hash)", &[])
        .map_err(q("prune bodies"))?;
    db.exec(
        "DELETE FROM finding_bodies WHERE NOT EXISTS \
         (SELECT 1 FROM findings f WHERE f.body_hash = finding_bodies.hash) AND NOT EXISTS \
         (SELECT 1 FROM finding_versions v WHERE v.body_hash = finding_bodies.hash)",
        &[],
    )
    .map_err(q("prune finding bodies"))?;
    db.exec(
        "INSERT INTO chain_checkpoints (pruned_through_seq, manifest_hash, pruned_at, snapshots_pruned) VALUES ($1, $2, $3, $4)",
        &[
            Val::Int(last_seq),
            last_hash.into(),
            crate::write::ts(chrono::Utc::now()).into(),
            Val::Int(i64::try_from(rows.len()).unwrap_or(i64::MAX)),
        ],
    )
    .map_err(q("record chain checkpoint"))?;
    Ok(PruneReport {
        snapshots: rows.len(),
        versions,
        bodies,
    })
}

/// Upgrades schema-1 data (per-snapshot membership, no chain) to version intervals and a
/// hash chain, in snapshot order; then drops the old membership table.
pub(crate) fn backfill_v1(db: &mut dyn Db) -> Result<(), StoreError> {
    let snaps = db
        .query("SELECT id, started_at, finished_at, accounts, regions, coverage FROM snapshots ORDER BY started_at, id", &[])
        .map_err(q("read schema-1 snapshots"))?;
    let all_services: Vec<String> = ["s3", "rds", "iam", "ec2", "kms", "cloudtrail"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let services_json = serde_json::to_string(&all_services).unwrap_or_default();
    db.batch(
        "CREATE TEMP TABLE IF NOT EXISTS staged_resources (
            kind TEXT NOT NULL, arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
            service TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (kind, account, arn))",
    )
    .map_err(q("create staging table"))?;
    let mut prev: Option<String> = None;
    for (i, s) in snaps.iter().enumerate() {
        let seq = i64::try_from(i + 1).unwrap_or(i64::MAX);
        let id = s[0].text().to_owned();
        let members = db
            .query("SELECT kind, arn, account, region, hash FROM snapshot_resources WHERE snapshot_id = $1", &[id.as_str().into()])
            .map_err(q("read schema-1 membership"))?;
        for m in &members {
            let service = m[0]
                .text()
                .parse::<posture_model::ResourceKind>()
                .map(|k| k.service())
                .unwrap_or("posture");
            db.exec(
                "INSERT INTO staged_resources (kind, arn, account, region, service, hash) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (kind, account, arn) DO UPDATE SET hash = excluded.hash",
                &[m[0].clone(), m[1].clone(), m[2].clone(), m[3].clone(), service.into(), m[4].clone()],
            )
            .map_err(q("stage schema-1 membership"))?;
        }
        let scope = Scope::from_json(s[3].text(), s[4].text(), &services_json)?;
        advance_versions(db, seq, &scope, UnreadRows::None)?;
        let (count, resources_sha256) = membership_digest(db, seq, &scope)?;
        let findings: Vec<String> = db
            .query(
                "SELECT body FROM findings WHERE snapshot_id = $1 ORDER BY seq",
                &[id.as_str().into()],
            )
            .map_err(q("read schema-1 findings"))?
            .into_iter()
            .map(|r| r[0].text().to_owned())
            .collect();
        let manifest = Manifest {
            format: 1,
            id: id.clone(),
            seq,
            started_at: s[1].text().to_owned(),
            finished_at: s[2].text().to_owned(),
            accounts: serde_json::from_str(s[3].text()).unwrap_or_default(),
            regions: serde_json::from_str(s[4].text()).unwrap_or_default(),
            services: all_services.clone(),
            resource_count: count,
            resources_sha256,
            coverage_sha256: sha256_hex(s[5].text().as_bytes()),
            findings_sha256: lines_digest(&findings),
            drift_sha256: lines_digest(&[]),
            baseline: "unknown (recorded before schema 2)".to_owned(),
            baseline_version: String::new(),
            prev_manifest_sha256: prev.clone(),
        };
        let (text, hash) = manifest.seal();
        db.exec(
            "UPDATE snapshots SET seq = $1, services = $2, manifest = $3, manifest_hash = $4, prev_manifest_hash = $5, \
             resource_count = $6 WHERE id = $7",
            &[
                Val::Int(seq),
                services_json.clone().into(),
                text.into(),
                hash.clone().into(),
                prev.clone().into(),
                Val::Int(count),
                id.into(),
            ],
        )
        .map_err(q("link schema-1 snapshot"))?;
        prev = Some(hash);
    }
    db.batch("DROP TABLE snapshot_resources")
        .map_err(q("drop schema-1 membership"))?;
    Ok(())
}
