//! Findings and the coverage record as intervals (schema 7): a finding's state, a
//! collection record and a failed call are stored once per change, valid from one snapshot
//! `seq` to another (`valid_to` NULL while current), like resources. A snapshot's findings
//! and coverage are the versions valid at its `seq` in the accounts it evaluated
//! (`snapshot_accounts`): a scan that evaluates an account confirms or closes every open
//! version there and touches no other account, so scans of different account sets neither
//! hide nor rewrite each other's history.
//!
//! Digests (manifest format 3) are computed from these rows in a canonical, bytewise order,
//! so `verify` recomputes them from the stored rows whatever order the scan wrote them in.

use posture_model::Finding;

use crate::chain::{LinesDigest, Scope, bytewise};
use crate::db::{Db, Val};
use crate::{StoreError, q};

/// The rows valid at snapshot `$1` in the accounts it evaluated (`alias` is the versions
/// table's alias).
pub(crate) fn valid_at(alias: &str) -> String {
    format!(
        "{alias}.valid_from <= $1 AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= $1) \
         AND {alias}.account IN (SELECT sa.account FROM snapshot_accounts sa WHERE sa.seq = $1)"
    )
}

/// Records the accounts snapshot `seq` evaluated: every account scanned (`entered`), and
/// every account with staged resources, findings, collection records or failed calls (an
/// account whose role could not be assumed has only failed calls and error findings).
/// Called before the staged resources are moved into place.
pub(crate) fn record_accounts(
    db: &mut dyn Db,
    seq: i64,
    entered: &[String],
    finished_at: &str,
) -> Result<(), StoreError> {
    db.batch(
        "CREATE TEMP TABLE IF NOT EXISTS staged_accounts (account TEXT PRIMARY KEY, entered BIGINT NOT NULL);
         DELETE FROM staged_accounts;",
    )
    .map_err(q("stage accounts"))?;
    for chunk in entered.chunks(500) {
        let params: Vec<Val> = chunk.iter().map(|a| Val::Text(a.clone())).collect();
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("(${i}, 1)")).collect();
        db.exec(
            &format!(
                "INSERT INTO staged_accounts (account, entered) VALUES {} ON CONFLICT (account) DO NOTHING",
                marks.join(", ")
            ),
            &params,
        )
        .map_err(q("stage accounts"))?;
    }
    for table in [
        "staged_resources",
        "staged_findings",
        "staged_collections",
        "staged_gaps",
    ] {
        db.exec(
            &format!(
                "INSERT INTO staged_accounts (account, entered) SELECT DISTINCT account, 0 FROM {table} \
                 WHERE true ON CONFLICT (account) DO NOTHING"
            ),
            &[],
        )
        .map_err(q("stage accounts"))?;
    }
    db.exec(
        "INSERT INTO snapshot_accounts (seq, account, entered, finished_at) \
         SELECT $1, account, entered, $2 FROM staged_accounts",
        &[Val::Int(seq), finished_at.into()],
    )
    .map_err(q("record the accounts of the snapshot"))?;
    Ok(())
}

/// An open finding version that snapshot being committed did not report.
#[derive(Debug)]
pub(crate) struct Unreported {
    pub rule_id: String,
    pub arn: String,
    pub account: String,
    region: String,
    service: String,
    pub status: String,
    /// Its (account, region, kind) could not be read by the scan (`staged_unread`).
    unread: bool,
}

impl Unreported {
    /// Whether its resource is gone: in the scan's scope (its regions, services), readable,
    /// and not of a rule the scan left out. Only then does its failure episode end.
    pub(crate) fn in_scope(&self, scope: &Scope, omitted_rules: &[String]) -> bool {
        !self.unread
            && scope.contains(&self.account, &self.region, &self.service)
            && !omitted_rules.contains(&self.rule_id)
    }
}

/// The open finding versions in snapshot `seq`'s accounts that the snapshot did not report
/// (one pass over the accounts' open versions, each looked up in the staged findings by
/// key). They close at commit; [`Unreported::in_scope`] says which are gone.
pub(crate) fn unreported_findings(
    db: &mut dyn Db,
    seq: i64,
) -> Result<Vec<Unreported>, StoreError> {
    let mut out = Vec::new();
    db.query_each(
        "SELECT v.rule_id, v.arn, v.account, v.region, v.service, v.status, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM staged_unread u WHERE u.account = v.account \
           AND u.region = v.region AND u.kind = v.kind) THEN 1 ELSE 0 END AS BIGINT) \
         FROM finding_versions v \
         WHERE v.valid_to IS NULL AND v.account IN (SELECT sa.account FROM snapshot_accounts sa WHERE sa.seq = $1) \
         AND NOT EXISTS (SELECT 1 FROM staged_findings s WHERE s.rule_id = v.rule_id AND s.account = v.account \
           AND s.arn = v.arn)",
        &[Val::Int(seq)],
        &mut |r| {
            out.push(Unreported {
                rule_id: r[0].text().to_owned(),
                arn: r[1].text().to_owned(),
                account: r[2].text().to_owned(),
                region: r[3].text().to_owned(),
                service: r[4].text().to_owned(),
                status: r[5].text().to_owned(),
                unread: r[6].opt_int().unwrap_or(0) != 0,
            });
            Ok(())
        },
    )
    .map_err(q("find findings that are gone"))?;
    Ok(out)
}

/// Moves the finding versions forward to snapshot `seq`: the `unreported` versions and
/// those of findings that changed close at `seq - 1`, and the changed and new findings open
/// at `seq`. Unchanged findings (staged without a body) cost nothing: their versions go on.
pub(crate) fn advance_findings(
    db: &mut dyn Db,
    seq: i64,
    unreported: &[Unreported],
) -> Result<(), StoreError> {
    db.batch(
        "CREATE TEMP TABLE IF NOT EXISTS staged_closing (
            rule_id TEXT NOT NULL, account TEXT NOT NULL, arn TEXT NOT NULL,
            PRIMARY KEY (rule_id, account, arn));
         DELETE FROM staged_closing;",
    )
    .map_err(q("stage finding versions to close"))?;
    for chunk in unreported.chunks(300) {
        let mut params = Vec::with_capacity(chunk.len() * 3);
        let mut marks = Vec::with_capacity(chunk.len());
        for (i, u) in chunk.iter().enumerate() {
            params.extend([
                Val::Text(u.rule_id.clone()),
                Val::Text(u.account.clone()),
                Val::Text(u.arn.clone()),
            ]);
            marks.push(format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        db.exec(
            &format!(
                "INSERT INTO staged_closing (rule_id, account, arn) VALUES {} ON CONFLICT DO NOTHING",
                marks.join(", ")
            ),
            &params,
        )
        .map_err(q("stage finding versions to close"))?;
    }
    // Changed findings were staged with their body.
    db.exec(
        "INSERT INTO staged_closing (rule_id, account, arn) SELECT rule_id, account, arn FROM staged_findings \
         WHERE body <> '' ON CONFLICT DO NOTHING",
        &[],
    )
    .map_err(q("stage finding versions to close"))?;
    db.exec(
        "UPDATE finding_versions SET valid_to = $1 WHERE valid_to IS NULL AND EXISTS \
         (SELECT 1 FROM staged_closing c WHERE c.rule_id = finding_versions.rule_id \
           AND c.account = finding_versions.account AND c.arn = finding_versions.arn)",
        &[Val::Int(seq - 1)],
    )
    .map_err(q("close finding versions"))?;
    // Bodies first: a version names its body by hash. `WHERE true` lets SQLite parse the
    // upsert after a SELECT.
    db.exec(
        "INSERT INTO finding_bodies (hash, body) SELECT hash, body FROM staged_findings \
         WHERE body <> '' ON CONFLICT (hash) DO NOTHING",
        &[],
    )
    .map_err(q("write finding bodies"))?;
    db.exec(
        "INSERT INTO finding_versions (rule_id, arn, account, region, service, kind, status, severity, since, \
         body_hash, valid_from, valid_to) \
         SELECT s.rule_id, s.arn, s.account, s.region, s.service, s.kind, s.status, s.severity, s.since, s.hash, $1, NULL \
         FROM staged_findings s WHERE s.body <> '' AND NOT EXISTS (SELECT 1 FROM finding_versions v \
           WHERE v.valid_to IS NULL AND v.rule_id = s.rule_id AND v.account = s.account AND v.arn = s.arn)",
        &[Val::Int(seq)],
    )
    .map_err(q("open finding versions"))?;
    db.exec("DELETE FROM staged_closing", &[])
        .map_err(q("clear staging table"))?;
    Ok(())
}

/// Moves the collection records and failed calls forward to snapshot `seq`, the same way.
pub(crate) fn advance_coverage(db: &mut dyn Db, seq: i64) -> Result<(), StoreError> {
    let accounts = "account IN (SELECT sa.account FROM snapshot_accounts sa WHERE sa.seq = $1)";
    db.exec(
        &format!(
            "UPDATE collection_versions SET valid_to = $2 WHERE valid_to IS NULL AND {accounts} \
             AND NOT EXISTS (SELECT 1 FROM staged_collections s WHERE s.account = collection_versions.account \
               AND s.region = collection_versions.region AND s.service = collection_versions.service \
               AND s.resources = collection_versions.resources AND s.complete = collection_versions.complete)"
        ),
        &[Val::Int(seq), Val::Int(seq - 1)],
    )
    .map_err(q("close collection records"))?;
    db.exec(
        "INSERT INTO collection_versions (account, region, service, resources, complete, valid_from, valid_to) \
         SELECT DISTINCT s.account, s.region, s.service, s.resources, s.complete, CAST($1 AS BIGINT), CAST(NULL AS BIGINT) FROM staged_collections s \
         WHERE NOT EXISTS (SELECT 1 FROM collection_versions v WHERE v.valid_to IS NULL \
           AND v.account = s.account AND v.region = s.region AND v.service = s.service)",
        &[Val::Int(seq)],
    )
    .map_err(q("open collection records"))?;
    db.exec(
        &format!(
            "UPDATE gap_versions SET valid_to = $2 WHERE valid_to IS NULL AND {accounts} \
             AND NOT EXISTS (SELECT 1 FROM staged_gaps s WHERE s.account = gap_versions.account \
               AND s.region = gap_versions.region AND s.service = gap_versions.service \
               AND s.operation = gap_versions.operation \
               AND COALESCE(s.resource, '') = COALESCE(gap_versions.resource, '') AND s.body = gap_versions.body)"
        ),
        &[Val::Int(seq), Val::Int(seq - 1)],
    )
    .map_err(q("close failed calls"))?;
    db.exec(
        "INSERT INTO gap_versions (account, region, service, operation, resource, body, valid_from, valid_to) \
         SELECT DISTINCT s.account, s.region, s.service, s.operation, s.resource, s.body, CAST($1 AS BIGINT), CAST(NULL AS BIGINT) FROM staged_gaps s \
         WHERE NOT EXISTS (SELECT 1 FROM gap_versions v WHERE v.valid_to IS NULL AND v.account = s.account \
           AND v.region = s.region AND v.service = s.service AND v.operation = s.operation \
           AND COALESCE(v.resource, '') = COALESCE(s.resource, '') AND v.body = s.body)",
        &[Val::Int(seq)],
    )
    .map_err(q("open failed calls"))?;
    Ok(())
}

/// The canonical order of a snapshot's findings: (account, rule, region, ARN), bytewise.
pub(crate) fn findings_order(db: &dyn Db, alias: &str) -> String {
    bytewise(
        db,
        &[
            &format!("{alias}.account"),
            &format!("{alias}.rule_id"),
            &format!("{alias}.region"),
            &format!("{alias}.arn"),
        ],
    )
}

/// Count and digest of snapshot `seq`'s findings (manifest format 3): one
/// `account TAB rule TAB region TAB arn TAB status TAB severity TAB body-hash` line per
/// finding in canonical order. The bodies are checked against their hashes separately.
pub(crate) fn findings_digest(db: &mut dyn Db, seq: i64) -> Result<(i64, String), StoreError> {
    let order = findings_order(db, "v");
    let mut digest = LinesDigest::default();
    db.query_each(
        &format!(
            "SELECT v.account, v.rule_id, v.region, v.arn, v.status, v.severity, v.body_hash \
             FROM finding_versions v WHERE {} ORDER BY {order}",
            valid_at("v")
        ),
        &[Val::Int(seq)],
        &mut |r| {
            let cols: Vec<&str> = (0..7).map(|i| r[i].text()).collect();
            digest.push(&cols.join("\t"));
            Ok(())
        },
    )
    .map_err(q("read findings"))?;
    Ok((digest.count(), digest.hex()))
}

/// The coverage digest of manifest format 3: as format 2 (the header, then one line per
/// collection record, then each failed call's JSON, in canonical order), read from the
/// versions valid at `seq`.
pub(crate) fn coverage_digest(
    db: &mut dyn Db,
    header: &str,
    seq: i64,
) -> Result<String, StoreError> {
    let mut digest = LinesDigest::default();
    digest.push(header);
    let order = format!(
        "{}, v.resources, v.complete",
        bytewise(db, &["v.account", "v.region", "v.service"])
    );
    db.query_each(
        &format!(
            "SELECT v.account, v.region, v.service, v.resources, v.complete FROM collection_versions v \
             WHERE {} ORDER BY {order}",
            valid_at("v")
        ),
        &[Val::Int(seq)],
        &mut |r| {
            digest.push(&crate::chain::collection_line(&r));
            Ok(())
        },
    )
    .map_err(q("read collection records"))?;
    let order = gaps_order(db);
    db.query_each(
        &format!(
            "SELECT v.body FROM gap_versions v WHERE {} ORDER BY {order}",
            valid_at("v")
        ),
        &[Val::Int(seq)],
        &mut |r| {
            digest.push(r[0].text());
            Ok(())
        },
    )
    .map_err(q("read failed calls"))?;
    Ok(digest.hex())
}

/// The canonical order of failed calls in `gap_versions v`.
pub(crate) fn gaps_order(db: &dyn Db) -> String {
    bytewise(
        db,
        &[
            "v.account",
            "v.region",
            "v.service",
            "v.operation",
            "COALESCE(v.resource, '')",
            "v.body",
        ],
    )
}

/// Seeds the schema-7 tables from a store of schema 6: `snapshot_accounts` for every
/// snapshot (its accounts, and the accounts of its findings), and an open finding version
/// for each account's newest findings, so the first scan after the upgrade keeps each
/// finding's first-seen time and reports only what changed. Old snapshots keep their rows
/// (`intervals` = 0).
pub(crate) fn backfill_v7(db: &mut dyn Db) -> Result<(), StoreError> {
    let snaps = db
        .query(
            "SELECT id, seq, accounts, finished_at FROM snapshots WHERE seq IS NOT NULL ORDER BY seq",
            &[],
        )
        .map_err(q("read snapshots"))?;
    for s in &snaps {
        let seq = s[1].int();
        let entered: Vec<String> = serde_json::from_str(s[2].text()).unwrap_or_default();
        let params: Vec<Val> = vec![s[0].clone(), Val::Int(seq), s[3].clone()];
        db.exec(
            "INSERT INTO snapshot_accounts (seq, account, entered, finished_at) \
             SELECT DISTINCT CAST($2 AS BIGINT), f.account, CAST(0 AS BIGINT), CAST($3 AS TEXT) FROM findings f WHERE f.snapshot_id = $1 AND f.account IS NOT NULL",
            &params,
        )
        .map_err(q("record the accounts of old snapshots"))?;
        for account in entered {
            db.exec(
                "INSERT INTO snapshot_accounts (seq, account, entered, finished_at) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (seq, account) DO UPDATE SET entered = 1",
                &[Val::Int(seq), account.into(), s[3].clone()],
            )
            .map_err(q("record the accounts of old snapshots"))?;
        }
    }
    // Each account's newest findings become its open versions.
    let latest = db
        .query(
            "SELECT account, MAX(seq) FROM snapshot_accounts GROUP BY account",
            &[],
        )
        .map_err(q("read the newest scan of each account"))?;
    for l in latest {
        let account = l[0].text().to_owned();
        let seq = l[1].int();
        let mut rows: Vec<(String, String)> = Vec::new();
        db.query_each(
            "SELECT COALESCE(fb.body, f.body), f.body_hash FROM findings f \
             LEFT JOIN finding_bodies fb ON fb.hash = f.body_hash \
             JOIN snapshots s ON s.id = f.snapshot_id WHERE s.seq = $1 AND f.account = $2 ORDER BY f.seq",
            &[Val::Int(seq), account.as_str().into()],
            &mut |r| {
                rows.push((
                    r[0].text().to_owned(),
                    r[1].opt_text().unwrap_or_default().to_owned(),
                ));
                Ok(())
            },
        )
        .map_err(q("read the newest findings"))?;
        let mut seen = std::collections::HashSet::new();
        for (body, hash) in rows.into_iter().rev() {
            let Ok(f) = serde_json::from_str::<Finding>(&body) else {
                continue; // unreadable: the next scan records the finding afresh
            };
            if !seen.insert((f.rule_id.to_string(), f.resource.arn.to_string())) {
                continue;
            }
            let hash = if hash.is_empty() {
                let h = crate::sha256_hex(body.as_bytes());
                db.exec(
                    "INSERT INTO finding_bodies (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
                    &[h.as_str().into(), body.as_str().into()],
                )
                .map_err(q("write finding bodies"))?;
                h
            } else {
                hash
            };
            let since = f
                .first_seen
                .map(crate::write::ts)
                .unwrap_or_else(|| crate::write::ts(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH));
            db.exec(
                "INSERT INTO finding_versions (rule_id, arn, account, region, service, kind, status, severity, since, \
                 body_hash, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)",
                &[
                    f.rule_id.as_str().into(),
                    f.resource.arn.as_str().into(),
                    account.as_str().into(),
                    f.resource.region.as_str().into(),
                    f.resource.kind.service().into(),
                    f.resource.kind.as_str().into(),
                    f.status.as_str().into(),
                    f.severity.as_str().into(),
                    since.into(),
                    hash.into(),
                    Val::Int(seq),
                ],
            )
            .map_err(q("seed finding versions"))?;
        }
    }
    db.batch("DROP TABLE finding_status")
        .map_err(q("drop finding_status"))?;
    Ok(())
}
