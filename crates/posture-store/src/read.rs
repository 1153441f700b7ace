//! Reading the history back.

use chrono::{DateTime, Utc};
use posture_model::{
    AccountId, CollectionRecord, Coverage, CoverageSummary, Finding, Gap, Region, Resource, RuleId,
    Severity, SnapshotId, SnapshotMeta, Status,
};
use serde::Serialize;

use crate::chain::Scope;
use crate::db::{Db, Val};
use crate::{Store, StoreError, corrupt, q};

/// A stored drift event.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRecord {
    /// The snapshot whose scan saw it.
    pub snapshot_id: String,
    /// The event kind.
    pub event: String,
    /// The rule, for finding transitions.
    pub rule_id: Option<String>,
    /// The resource.
    pub arn: String,
    /// The event as recorded.
    pub body: serde_json::Value,
}

/// Which drift events to read: resource changes, or finding transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftPart {
    /// `resource_added`, `resource_removed`, `resource_modified`.
    Resources,
    /// Finding transitions (`new_failure`, `resolved`, …), which name their rule.
    Findings,
}

/// A period during which a rule failed on a resource.
#[derive(Debug, Clone, Serialize)]
pub struct FailureEpisode {
    /// Rule.
    pub rule_id: String,
    /// Resource.
    pub arn: String,
    /// First seen failing.
    pub first_seen: String,
    /// Last seen failing.
    pub last_seen: String,
    /// When it was seen resolved, if it was.
    pub resolved_at: Option<String>,
    /// The account of the resource (an AWS managed policy has one ARN in every account;
    /// empty for an episode that ended before schema 7 whose finding was forgotten).
    pub account: String,
}

/// Findings with their bodies: stored once per content from schema 5 (`finding_bodies`),
/// inline in `findings.body` before.
pub(crate) const FINDINGS: &str = "findings f LEFT JOIN finding_bodies fb ON fb.hash = f.body_hash";
/// A finding's body, from either place.
pub(crate) const FINDING_BODY: &str = "COALESCE(fb.body, f.body)";

const META_COLUMNS: &str = "id, started_at, finished_at, accounts, regions, coverage, resource_count, services, \
     coverage_rows";

/// A snapshot's coverage as its header holds it: the summary (schema 4 on), or the whole
/// statement (snapshots written before).
fn decode_coverage(text: &str, rows: bool) -> Result<CoverageSummary, StoreError> {
    if rows {
        serde_json::from_str(text).map_err(corrupt("snapshot coverage"))
    } else {
        let whole: Coverage = serde_json::from_str(text).map_err(corrupt("snapshot coverage"))?;
        Ok(whole.summary())
    }
}

fn decode_meta(r: &[Val]) -> Result<SnapshotMeta, StoreError> {
    let time = |v: &Val| -> Result<DateTime<Utc>, StoreError> {
        DateTime::parse_from_rfc3339(v.text())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StoreError::Corrupt {
                what: "snapshot time",
                message: e.to_string(),
            })
    };
    Ok(SnapshotMeta {
        id: SnapshotId::new(r[0].text()).map_err(|e| StoreError::Corrupt {
            what: "snapshot id",
            message: e.to_string(),
        })?,
        started_at: time(&r[1])?,
        finished_at: time(&r[2])?,
        accounts: serde_json::from_str(r[3].text()).map_err(corrupt("snapshot accounts"))?,
        regions: serde_json::from_str(r[4].text()).map_err(corrupt("snapshot regions"))?,
        coverage: decode_coverage(r[5].text(), r[8].int() != 0)?,
        resource_count: u64::try_from(r[6].int()).unwrap_or_default(),
        services: serde_json::from_str(r[7].opt_text().unwrap_or("[]"))
            .map_err(corrupt("snapshot services"))?,
    })
}

impl Store {
    /// Every committed snapshot, oldest first.
    pub fn snapshots(&mut self) -> Result<Vec<SnapshotMeta>, StoreError> {
        let rows = self
            .db
            .query(
                &format!("SELECT {META_COLUMNS} FROM snapshots ORDER BY seq"),
                &[],
            )
            .map_err(q("list snapshots"))?;
        rows.iter().map(|r| decode_meta(r)).collect()
    }

    /// Up to `limit` committed snapshots before position `before` (`None`: from the newest),
    /// newest first, each with its position: the history read a page at a time (an hourly
    /// scan for six years is 52,000 snapshots).
    pub fn snapshots_page(
        &mut self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, SnapshotMeta)>, StoreError> {
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT seq, {META_COLUMNS} FROM snapshots WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
                ),
                &[
                    Val::Int(before.unwrap_or(i64::MAX)),
                    Val::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .map_err(q("list snapshots"))?;
        rows.iter()
            .map(|r| Ok((r[0].int(), decode_meta(&r[1..])?)))
            .collect()
    }

    /// One snapshot.
    pub fn snapshot(&mut self, id: &str) -> Result<SnapshotMeta, StoreError> {
        let rows = self
            .db
            .query(
                &format!("SELECT {META_COLUMNS} FROM snapshots WHERE id = $1"),
                &[id.into()],
            )
            .map_err(q("read snapshot"))?;
        rows.first()
            .map(|r| decode_meta(r))
            .unwrap_or_else(|| Err(StoreError::NoSuchSnapshot(id.to_owned())))
    }

    /// The newest committed snapshot.
    pub fn latest_snapshot(&mut self) -> Result<Option<SnapshotMeta>, StoreError> {
        let rows = self
            .db
            .query(
                &format!("SELECT {META_COLUMNS} FROM snapshots ORDER BY seq DESC LIMIT 1"),
                &[],
            )
            .map_err(q("read latest snapshot"))?;
        rows.first().map(|r| decode_meta(r)).transpose()
    }

    /// The newest snapshot that started at or before `at`.
    pub fn snapshot_at(&mut self, at: DateTime<Utc>) -> Result<Option<SnapshotMeta>, StoreError> {
        let rows = self
            .db
            .query(
                &format!("SELECT {META_COLUMNS} FROM snapshots WHERE started_at <= $1 ORDER BY seq DESC LIMIT 1"),
                &[crate::write::ts(at).into()],
            )
            .map_err(q("find snapshot by time"))?;
        rows.first().map(|r| decode_meta(r)).transpose()
    }

    /// The resources of a snapshot, sorted by (kind, ARN).
    pub fn resources(&mut self, id: &SnapshotId) -> Result<Vec<Resource>, StoreError> {
        resources_in(self.db.as_mut(), id, None)
    }

    /// The findings of a snapshot, in the checker's order.
    pub fn findings(&mut self, id: &SnapshotId) -> Result<Vec<Finding>, StoreError> {
        findings_in(self.db.as_mut(), id, None)
    }

    /// Up to `limit` findings of a snapshot after `after` (`None`: from the first), in the
    /// checker's order (account, rule, region, ARN), each with its cursor: a large
    /// evaluation is read a page at a time, each page a range of an index.
    pub fn findings_page(
        &mut self,
        id: &SnapshotId,
        after: Option<FindingCursor>,
        limit: usize,
    ) -> Result<Vec<(FindingCursor, Finding)>, StoreError> {
        Ok(self
            .findings_page_filtered(id, &FindingFilter::default(), after, limit)?
            .findings)
    }

    /// The findings of a snapshot that match `filter`, among the next `limit` rows after
    /// `after` (`None`: from the first), in the checker's order, each with its cursor.
    /// Snapshots written from schema 7 on filter in SQL (every row read matches); earlier
    /// ones filter status, severity and rule in SQL and account and region as rows are read,
    /// so a page may hold fewer findings than `limit` and still not be the last: continue
    /// from [`FindingsPage::next`] while it is `Some`.
    pub fn findings_page_filtered(
        &mut self,
        id: &SnapshotId,
        filter: &FindingFilter,
        after: Option<FindingCursor>,
        limit: usize,
    ) -> Result<FindingsPage, StoreError> {
        let layout = layout_of(self.db.as_mut(), id)?;
        if limit == 0 {
            return Ok(FindingsPage {
                findings: Vec::new(),
                next: after,
            });
        }
        let sql_limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if !layout.intervals {
            let after = match after {
                Some(FindingCursor::Seq(s)) => s,
                _ => -1,
            };
            let mut params: Vec<Val> =
                vec![id.as_str().into(), Val::Int(after), Val::Int(sql_limit)];
            let conditions = filter.sql("f", &mut params, false);
            let rows = self
                .db
                .query(
                    &format!(
                        "SELECT f.seq, {FINDING_BODY} FROM {FINDINGS} \
                         WHERE f.snapshot_id = $1 AND f.seq > $2{conditions} ORDER BY f.seq LIMIT $3"
                    ),
                    &params,
                )
                .map_err(q("read findings"))?;
            let next = (rows.len() == limit)
                .then(|| rows.last().map(|r| FindingCursor::Seq(r[0].int())))
                .flatten();
            let mut findings = Vec::with_capacity(rows.len());
            for r in &rows {
                let finding: Finding =
                    serde_json::from_str(r[1].text()).map_err(corrupt("finding"))?;
                // Rows before schema 7 may lack the account, and never had the region.
                if filter.matches(&finding) {
                    findings.push((FindingCursor::Seq(r[0].int()), finding));
                }
            }
            return Ok(FindingsPage { findings, next });
        }
        let db = self.db.as_mut();
        let mut params: Vec<Val> = vec![Val::Int(layout.seq), Val::Int(sql_limit)];
        let order = crate::versions::findings_order(db, "v");
        // Keyset paging: the accounts from the cursor's on (a seek in the index, which
        // leads with the account), then the rows after the cursor's key. Each page costs
        // its rows plus at most one account's, whatever page of the snapshot it is.
        let (accounts, from) = match after {
            Some(FindingCursor::Key(key)) => {
                params.extend(key.into_iter().map(Val::Text));
                (
                    match db.dialect() {
                        crate::db::Dialect::Sqlite => " AND sa.account >= $3",
                        crate::db::Dialect::Postgres => " AND sa.account COLLATE \"C\" >= $3",
                    },
                    format!(" AND ({order}) > ($3, $4, $5, $6)"),
                )
            }
            _ => ("", String::new()),
        };
        let conditions = filter.sql("v", &mut params, true);
        let rows = db
            .query(
                &format!(
                    "SELECT v.account, v.rule_id, v.region, v.arn, fb.body FROM finding_versions v \
                     JOIN finding_bodies fb ON fb.hash = v.body_hash \
                     WHERE v.valid_from <= $1 AND (v.valid_to IS NULL OR v.valid_to >= $1) \
                     AND v.account IN (SELECT sa.account FROM snapshot_accounts sa WHERE sa.seq = $1{accounts}){from}{conditions} \
                     ORDER BY {order} LIMIT $2"
                ),
                &params,
            )
            .map_err(q("read findings"))?;
        let findings = rows
            .iter()
            .map(|r| {
                let key = (0..4).map(|i| r[i].text().to_owned()).collect();
                Ok((
                    FindingCursor::Key(key),
                    serde_json::from_str(r[4].text()).map_err(corrupt("finding"))?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let next = (findings.len() == limit)
            .then(|| findings.last().map(|(c, _)| c.clone()))
            .flatten();
        Ok(FindingsPage { findings, next })
    }

    /// The newest snapshot that entered `account` (assumed its role and collected), before
    /// snapshot `before` when given: the snapshot a scan of that account compares with.
    pub fn last_scan_of(
        &mut self,
        account: &AccountId,
        before: Option<i64>,
    ) -> Result<Option<SnapshotMeta>, StoreError> {
        last_scan_of(self.db.as_mut(), account, before)
    }

    /// Up to `limit` collection records of a snapshot after position `after` (`None`: from
    /// the first), sorted by (account, region, service), each with its position.
    pub fn collections_page(
        &mut self,
        id: &SnapshotId,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, CollectionRecord)>, StoreError> {
        if let Some(whole) = self.header_coverage(id)? {
            return Ok(legacy_page(whole.collected, after, limit));
        }
        let layout = layout_of(self.db.as_mut(), id)?;
        let rows = if layout.intervals {
            let order = format!(
                "{}, v.resources, v.complete",
                crate::chain::bytewise(self.db.as_ref(), &["v.region", "v.service"])
            );
            per_account_page(
                self.db.as_mut(),
                layout.seq,
                &format!(
                    "SELECT v.account, v.region, v.service, v.resources, v.complete \
                     FROM collection_versions v WHERE v.account = $2 AND v.valid_from <= $1 \
                     AND (v.valid_to IS NULL OR v.valid_to >= $1) ORDER BY {order} LIMIT $3 OFFSET $4"
                ),
                after,
                limit,
            )
            .map_err(q("read collection records"))?
        } else {
            self.db
                .query(
                    "SELECT seq, account, region, service, resources, complete FROM collections \
                     WHERE snapshot_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &page_params(id, after, limit),
                )
                .map_err(q("read collection records"))?
        };
        rows.iter()
            .map(|r| {
                let bad = |e: posture_model::IdError| StoreError::Corrupt {
                    what: "collection record",
                    message: e.to_string(),
                };
                Ok((
                    r[0].int(),
                    CollectionRecord {
                        account: AccountId::new(r[1].text()).map_err(bad)?,
                        region: posture_model::Region::new(r[2].text()).map_err(bad)?,
                        service: r[3].text().to_owned(),
                        resources: u64::try_from(r[4].int()).unwrap_or_default(),
                        complete: r[5].int() != 0,
                    },
                ))
            })
            .collect()
    }

    /// Up to `limit` failed calls of a snapshot after position `after` (`None`: from the
    /// first), sorted by (account, region, service, operation, resource), each with its
    /// position.
    pub fn gaps_page(
        &mut self,
        id: &SnapshotId,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, Gap)>, StoreError> {
        if let Some(whole) = self.header_coverage(id)? {
            return Ok(legacy_page(whole.failed, after, limit));
        }
        let layout = layout_of(self.db.as_mut(), id)?;
        let rows = if layout.intervals {
            let order = crate::versions::gaps_order(self.db.as_ref());
            per_account_page(
                self.db.as_mut(),
                layout.seq,
                &format!(
                    "SELECT v.body FROM gap_versions v WHERE v.account = $2 AND v.valid_from <= $1 \
                     AND (v.valid_to IS NULL OR v.valid_to >= $1) ORDER BY {order} LIMIT $3 OFFSET $4"
                ),
                after,
                limit,
            )
            .map_err(q("read failed calls"))?
        } else {
            self.db
                .query(
                    "SELECT seq, body FROM gaps WHERE snapshot_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &page_params(id, after, limit),
                )
                .map_err(q("read failed calls"))?
        };
        rows.iter()
            .map(|r| {
                Ok((
                    r[0].int(),
                    serde_json::from_str(r[1].text()).map_err(corrupt("failed call"))?,
                ))
            })
            .collect()
    }

    /// The whole coverage statement of a snapshot written before schema 4, which kept it in
    /// the header; `None` for later snapshots, whose records are rows.
    fn header_coverage(&mut self, id: &SnapshotId) -> Result<Option<Coverage>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT coverage, coverage_rows FROM snapshots WHERE id = $1",
                &[id.as_str().into()],
            )
            .map_err(q("read snapshot coverage"))?;
        let Some(r) = rows.first() else {
            return Err(StoreError::NoSuchSnapshot(id.to_string()));
        };
        if r[1].int() != 0 {
            return Ok(None);
        }
        serde_json::from_str(r[0].text())
            .map(Some)
            .map_err(corrupt("snapshot coverage"))
    }

    /// Up to `limit` drift events of one part recorded with snapshot `id` after position
    /// `after` (`None`: from the first), in recorded order (account by account), each with
    /// its position.
    pub fn drift_page(
        &mut self,
        id: &SnapshotId,
        part: DriftPart,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, DriftRecord)>, StoreError> {
        let which = match part {
            DriftPart::Resources => "rule_id IS NULL",
            DriftPart::Findings => "rule_id IS NOT NULL",
        };
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT seq, event, rule_id, arn, body FROM drift_events \
                     WHERE snapshot_id = $1 AND seq > $2 AND {which} ORDER BY seq LIMIT $3"
                ),
                &page_params(id, after, limit),
            )
            .map_err(q("read drift events"))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r[0].int(),
                    DriftRecord {
                        snapshot_id: id.to_string(),
                        event: r[1].text().to_owned(),
                        rule_id: r[2].opt_text().map(str::to_owned),
                        arn: r[3].text().to_owned(),
                        body: serde_json::from_str(r[4].text()).map_err(corrupt("drift event"))?,
                    },
                ))
            })
            .collect()
    }

    /// The drift events recorded with snapshots after `since` (exclusive) up to and
    /// including `until`, oldest first.
    pub fn drift_between(
        &mut self,
        since: &SnapshotId,
        until: &SnapshotId,
    ) -> Result<Vec<DriftRecord>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT d.snapshot_id, d.event, d.rule_id, d.arn, d.body FROM drift_events d \
                 JOIN snapshots s ON s.id = d.snapshot_id \
                 WHERE s.seq > (SELECT seq FROM snapshots WHERE id = $1) \
                   AND s.seq <= (SELECT seq FROM snapshots WHERE id = $2) \
                 ORDER BY s.seq, d.seq",
                &[since.as_str().into(), until.as_str().into()],
            )
            .map_err(q("read drift events"))?;
        rows.iter()
            .map(|r| {
                Ok(DriftRecord {
                    snapshot_id: r[0].text().to_owned(),
                    event: r[1].text().to_owned(),
                    rule_id: r[2].opt_text().map(str::to_owned),
                    arn: r[3].text().to_owned(),
                    body: serde_json::from_str(r[4].text()).map_err(corrupt("drift event"))?,
                })
            })
            .collect()
    }

    /// Failure episodes of one rule on one resource, oldest first.
    pub fn failure_episodes(
        &mut self,
        rule_id: &str,
        arn: &str,
    ) -> Result<Vec<FailureEpisode>, StoreError> {
        let rows = self
            .db
            .query(
                // While a failure goes on, it was last seen failing by its account's last scan
                // (an unchanged scan writes nothing per finding); `last_seen` is recorded when
                // it stops failing.
                "SELECT e.rule_id, e.arn, e.opened_at, CASE WHEN e.resolved_at IS NULL AND EXISTS \
                 (SELECT 1 FROM finding_versions v WHERE v.rule_id = e.rule_id AND v.arn = e.arn \
                   AND v.account = e.account AND v.valid_to IS NULL AND v.status = 'fail') \
                 THEN COALESCE((SELECT MAX(sa.finished_at) FROM snapshot_accounts sa \
                   WHERE sa.account = e.account), e.last_seen) \
                 ELSE e.last_seen END, e.resolved_at, e.account FROM failure_episodes e \
                 WHERE e.rule_id = $1 AND e.arn = $2 ORDER BY e.opened_at, e.account",
                &[rule_id.into(), arn.into()],
            )
            .map_err(q("read failure episodes"))?;
        Ok(rows
            .iter()
            .map(|r| FailureEpisode {
                rule_id: r[0].text().to_owned(),
                arn: r[1].text().to_owned(),
                first_seen: r[2].text().to_owned(),
                last_seen: r[3].text().to_owned(),
                resolved_at: r[4].opt_text().map(str::to_owned),
                account: r[5].text().to_owned(),
            })
            .collect())
    }

    /// Runs a counting query directly (tests and benchmarks use it to inspect the store).
    #[doc(hidden)]
    pub fn count_raw(&mut self, sql: &str) -> Result<i64, StoreError> {
        let rows = self.db.query(sql, &[]).map_err(q("raw query"))?;
        Ok(rows.first().and_then(|r| r.first()).map_or(0, Val::int))
    }

    /// Runs a statement directly (tests use it to simulate tampering).
    #[doc(hidden)]
    pub fn execute_raw(&mut self, sql: &str) -> Result<(), StoreError> {
        self.db.batch(sql).map_err(q("raw statement"))
    }
}

/// Reads every page of a paged read, in order: `read(after)` returns the `(position, item)`
/// pairs after position `after` (`None`: from the first), empty at the end, as
/// [`Store::findings_page`], [`Store::collections_page`], [`Store::gaps_page`] and
/// [`Store::drift_page`] do; `each` gets every item.
pub fn for_each_page<C: Clone, T, E>(
    mut read: impl FnMut(Option<C>) -> Result<Vec<(C, T)>, E>,
    mut each: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let mut after = None;
    loop {
        let page = read(after)?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        for (_, item) in page {
            each(item)?;
        }
    }
}

/// Where a finding page ends: a position in a snapshot written before schema 7, the key
/// (account, rule, region, ARN) of the last finding after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingCursor {
    /// A row of `findings` (snapshots written before schema 7).
    Seq(i64),
    /// The last finding's account, rule, region and ARN.
    Key(Vec<String>),
}

/// Which findings of a snapshot to read: a finding matches when it matches every field
/// given (an empty list or `None` matches anything; within a list, any value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Statuses to keep.
    pub statuses: Vec<Status>,
    /// Severities to keep.
    pub severities: Vec<Severity>,
    /// Only this rule.
    pub rule: Option<RuleId>,
    /// Only this account.
    pub account: Option<AccountId>,
    /// Only this region (`global` for global resources).
    pub region: Option<Region>,
}

impl FindingFilter {
    /// Whether `finding` matches.
    pub fn matches(&self, finding: &Finding) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&finding.status))
            && (self.severities.is_empty() || self.severities.contains(&finding.severity))
            && self.rule.as_ref().is_none_or(|r| *r == finding.rule_id)
            && self
                .account
                .as_ref()
                .is_none_or(|a| *a == finding.resource.account)
            && self
                .region
                .as_ref()
                .is_none_or(|r| *r == finding.resource.region)
    }

    /// SQL conditions (each led by ` AND `) on the columns of `alias` (`status`,
    /// `severity`, `rule_id`, and with `location` `account` and `region`), their values
    /// appended to `params` and numbered after those already there.
    fn sql(&self, alias: &str, params: &mut Vec<Val>, location: bool) -> String {
        let mut out = String::new();
        let mut any_of = |column: &str, values: Vec<&str>, params: &mut Vec<Val>| {
            if values.is_empty() {
                return;
            }
            let marks: Vec<String> = values
                .into_iter()
                .map(|v| {
                    params.push(v.into());
                    format!("${}", params.len())
                })
                .collect();
            out.push_str(&format!(" AND {alias}.{column} IN ({})", marks.join(", ")));
        };
        any_of(
            "status",
            self.statuses.iter().map(|s| s.as_str()).collect(),
            params,
        );
        any_of(
            "severity",
            self.severities.iter().map(|s| s.as_str()).collect(),
            params,
        );
        any_of(
            "rule_id",
            self.rule.iter().map(RuleId::as_str).collect(),
            params,
        );
        if location {
            any_of(
                "account",
                self.account.iter().map(AccountId::as_str).collect(),
                params,
            );
            any_of(
                "region",
                self.region.iter().map(Region::as_str).collect(),
                params,
            );
        }
        out
    }
}

/// A page of a filtered findings read ([`Store::findings_page_filtered`]).
#[derive(Debug, Clone)]
pub struct FindingsPage {
    /// The matching findings, each with its cursor.
    pub findings: Vec<(FindingCursor, Finding)>,
    /// Where the next read continues (the last row read, matching or not); `None` when the
    /// snapshot has no more rows.
    pub next: Option<FindingCursor>,
}

/// How a snapshot's findings and coverage are stored.
struct Layout {
    seq: i64,
    /// In versions (schema 7), not in rows of its own.
    intervals: bool,
}

fn layout_of(db: &mut dyn Db, id: &SnapshotId) -> Result<Layout, StoreError> {
    let rows = db
        .query(
            "SELECT seq, intervals FROM snapshots WHERE id = $1",
            &[id.as_str().into()],
        )
        .map_err(q("read snapshot"))?;
    let Some(r) = rows.first() else {
        return Err(StoreError::NoSuchSnapshot(id.to_string()));
    };
    Ok(Layout {
        seq: r[0].int(),
        intervals: r[1].int() != 0,
    })
}

/// A page of a snapshot's coverage rows (schema 7), read one account at a time in the
/// canonical order (accounts bytewise, then `sql`'s order within one account). `sql` takes
/// `$1` the snapshot's seq, `$2` an account, `$3` a limit and `$4` an offset, and its rows
/// get their cursor prepended: the account's place in the snapshot times 2^32 plus the row's
/// place in the account, so a page costs its rows and the snapshot's account list, never
/// the rows before it (an organization's coverage record is hundreds of thousands of rows).
fn per_account_page(
    db: &mut dyn Db,
    seq: i64,
    sql: &str,
    after: Option<i64>,
    limit: usize,
) -> Result<Vec<Vec<Val>>, crate::db::DbError> {
    const SHIFT: i64 = 1 << 32;
    let order = crate::chain::bytewise(db, &["account"]);
    let accounts: Vec<String> = db
        .query(
            &format!("SELECT account FROM snapshot_accounts WHERE seq = $1 ORDER BY {order}"),
            &[Val::Int(seq)],
        )?
        .into_iter()
        .map(|r| r[0].text().to_owned())
        .collect();
    let (mut index, mut offset) = match after {
        Some(c) => (c / SHIFT, c % SHIFT + 1),
        None => (0, 0),
    };
    let mut out: Vec<Vec<Val>> = Vec::new();
    while out.len() < limit {
        let Some(account) = usize::try_from(index).ok().and_then(|i| accounts.get(i)) else {
            break;
        };
        let want = limit - out.len();
        let rows = db.query(
            sql,
            &[
                Val::Int(seq),
                account.as_str().into(),
                Val::Int(i64::try_from(want).unwrap_or(i64::MAX)),
                Val::Int(offset),
            ],
        )?;
        let got = rows.len();
        for (i, mut r) in rows.into_iter().enumerate() {
            r.insert(0, Val::Int(index * SHIFT + offset + i as i64));
            out.push(r);
        }
        if got < want {
            index += 1;
            offset = 0;
        } else {
            offset += got as i64;
        }
    }
    Ok(out)
}

pub(crate) fn last_scan_of(
    db: &mut dyn Db,
    account: &AccountId,
    before: Option<i64>,
) -> Result<Option<SnapshotMeta>, StoreError> {
    let rows = db
        .query(
            &format!(
                "SELECT {META_COLUMNS} FROM snapshots WHERE seq = (SELECT MAX(sa.seq) FROM snapshot_accounts sa \
                 WHERE sa.account = $1 AND sa.entered = 1 AND sa.seq < $2)"
            ),
            &[account.as_str().into(), Val::Int(before.unwrap_or(i64::MAX))],
        )
        .map_err(q("read the last scan of an account"))?;
    rows.first().map(|r| decode_meta(r)).transpose()
}

fn page_params(id: &SnapshotId, after: Option<i64>, limit: usize) -> [Val; 3] {
    [
        id.as_str().into(),
        Val::Int(after.unwrap_or(-1)),
        Val::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
    ]
}

/// A page of records that were held whole (a header written before schema 4), numbered by
/// position.
fn legacy_page<T>(all: Vec<T>, after: Option<i64>, limit: usize) -> Vec<(i64, T)> {
    let skip = usize::try_from(after.map_or(0, |a| a + 1)).unwrap_or(0);
    all.into_iter()
        .enumerate()
        .skip(skip)
        .take(limit)
        .map(|(i, t)| (i64::try_from(i).unwrap_or(i64::MAX), t))
        .collect()
}

/// The resources of snapshot `id` (in `account` only, when given), sorted by (kind, ARN).
pub(crate) fn resources_in(
    db: &mut dyn Db,
    id: &SnapshotId,
    account: Option<&AccountId>,
) -> Result<Vec<Resource>, StoreError> {
    let rows = db
        .query(
            "SELECT seq, accounts, regions, services FROM snapshots WHERE id = $1",
            &[id.as_str().into()],
        )
        .map_err(q("read snapshot"))?;
    let Some(r) = rows.first() else {
        return Err(StoreError::NoSuchSnapshot(id.to_string()));
    };
    let seq = r[0].int();
    let scope = Scope::from_json(r[1].text(), r[2].text(), r[3].text())?;
    let (pred, mut params) = scope.predicate(2);
    params.insert(0, Val::Int(seq));
    let mut pred = pred
        .replace("account IN", "rv.account IN")
        .replace("region IN", "rv.region IN")
        .replace("service IN", "rv.service IN");
    if let Some(account) = account {
        params.push(account.as_str().into());
        pred = format!("{pred} AND rv.account = ${}", params.len());
    }
    let order = crate::chain::bytewise(db, &["rv.kind", "rv.arn"]);
    query_json(
        db,
        &format!(
            "SELECT b.body FROM resource_versions rv JOIN bodies b ON b.hash = rv.hash \
             WHERE rv.valid_from <= $1 AND (rv.valid_to IS NULL OR rv.valid_to >= $1) AND {pred} \
             ORDER BY {order}"
        ),
        &params,
        "resource",
    )
}

/// Runs a query whose first column is JSON and decodes each row as it streams past.
pub(crate) fn query_json<T: serde::de::DeserializeOwned>(
    db: &mut dyn Db,
    sql: &str,
    params: &[Val],
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut bad = None;
    db.query_each(sql, params, &mut |r| {
        match serde_json::from_str(r[0].text()) {
            Ok(value) => out.push(value),
            Err(e) => {
                bad.get_or_insert(e);
            }
        }
        Ok(())
    })
    .map_err(|source| StoreError::Query {
        operation: what,
        source,
    })?;
    match bad {
        Some(e) => Err(corrupt(what)(e)),
        None => Ok(out),
    }
}

/// The findings of snapshot `id` (in `account` only, when given), in the checker's order.
pub(crate) fn findings_in(
    db: &mut dyn Db,
    id: &SnapshotId,
    account: Option<&AccountId>,
) -> Result<Vec<Finding>, StoreError> {
    let layout = layout_of(db, id)?;
    if layout.intervals {
        let mut params: Vec<Val> = vec![Val::Int(layout.seq)];
        let mut filter = String::new();
        if let Some(account) = account {
            params.push(account.as_str().into());
            filter = " AND v.account = $2".to_owned();
        }
        let order = crate::versions::findings_order(db, "v");
        return query_json(
            db,
            &format!(
                "SELECT fb.body FROM finding_versions v JOIN finding_bodies fb ON fb.hash = v.body_hash \
                 WHERE {}{filter} ORDER BY {order}",
                crate::versions::valid_at("v")
            ),
            &params,
            "finding",
        );
    }
    let mut params: Vec<Val> = vec![id.as_str().into()];
    let mut filter = String::new();
    if let Some(account) = account {
        params.push(account.as_str().into());
        filter = " AND f.account = $2".to_owned();
    }
    query_json(
        db,
        &format!(
            "SELECT {FINDING_BODY} FROM {FINDINGS} WHERE f.snapshot_id = $1{filter} ORDER BY f.seq"
        ),
        &params,
        "finding",
    )
}
