//! `/api/v1/snapshots`, `/api/v1/findings` and `/api/v1/drift`: the history, read a page at
//! a time on the store's blocking threads. The JSON of a snapshot, a finding and a drift
//! event is exactly what `posture snapshots --format json` and `posture scan --format json`
//! write (the same model types through the same serde).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use posture_model::{
    AccountId, Finding, Region, RuleId, Severity, SnapshotId, SnapshotMeta, Status,
};
use posture_store::{DriftPart, FindingCursor, FindingFilter, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::cursor::{self, At, DriftCursor, FindingsCursor, SnapshotsCursor};
use crate::error::{ErrorBody, Failure};
use crate::pool::store_err;

/// Items per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit`.
pub const MAX_LIMIT: usize = 1000;
/// Findings rows read per request at most when filtering on what only the body holds
/// (`phi`): a request is bounded even when few findings match; its page is then short and
/// `next_cursor` says where to go on.
pub const MAX_ROWS_SCANNED: usize = 10_000;

const STATUSES: [Status; 6] = [
    Status::Pass,
    Status::Fail,
    Status::Error,
    Status::NotApplicable,
    Status::Waived,
    Status::Manual,
];

/// Paging of the snapshot list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SnapshotsQuery {
    /// Snapshots per page (1 to 1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of snapshots, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SnapshotsPage {
    /// Snapshot headers, as `posture snapshots --format json` writes them.
    #[schema(value_type = Vec<Object>)]
    snapshots: Vec<SnapshotMeta>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Snapshots, newest first.
#[utoipa::path(get, path = "/snapshots", tag = "history", security(("bearer" = [])),
    params(SnapshotsQuery),
    responses(
        (status = 200, description = "A page of snapshots", body = SnapshotsPage),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
    ))]
pub(crate) async fn list_snapshots(
    State(state): State<AppState>,
    query: Result<Query<SnapshotsQuery>, QueryRejection>,
) -> Result<Json<SnapshotsPage>, Failure> {
    let Query(query) = query.map_err(bad_query)?;
    let limit = limit(query.limit.as_deref())?;
    let before = query
        .cursor
        .as_deref()
        .map(cursor::decode::<SnapshotsCursor>)
        .transpose()?
        .map(|c| c.before);
    let page = state
        .pool
        .read(move |store| match store.snapshots_page(before, limit) {
            Ok(page) => Ok(page),
            // No store yet: no snapshot yet.
            Err(posture_store::StoreError::Missing { .. }) => Ok(Vec::new()),
            Err(e) => Err(store_err(e)),
        })
        .await?;
    let next_cursor = (page.len() == limit)
        .then(|| {
            page.last()
                .map(|(seq, _)| cursor::encode(&SnapshotsCursor { before: *seq }))
        })
        .flatten();
    Ok(Json(SnapshotsPage {
        snapshots: page.into_iter().map(|(_, meta)| meta).collect(),
        next_cursor,
    }))
}

/// One snapshot's header.
#[utoipa::path(get, path = "/snapshots/{id}", tag = "history", security(("bearer" = [])),
    params(("id" = String, Path, description = "Snapshot id")),
    responses(
        (status = 200, description = "The snapshot's header, as `posture snapshots --format json` writes it", body = Object),
        (status = 404, description = "No such snapshot", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
    ))]
pub(crate) async fn get_snapshot(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SnapshotMeta>, Failure> {
    let id = snapshot_id(&id)?;
    let meta = state
        .pool
        .read(move |store| store.snapshot(id.as_str()).map_err(store_err))
        .await?;
    Ok(Json(meta))
}

/// Which findings to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FindingsQuery {
    /// Snapshot id (default: the latest).
    snapshot: Option<String>,
    /// Status, or several separated by commas: pass, fail, error, not_applicable, waived, manual.
    status: Option<String>,
    /// Severity, or several separated by commas: info, low, medium, high, critical.
    severity: Option<String>,
    /// Rule id.
    rule: Option<String>,
    /// Account id (12 digits).
    account: Option<String>,
    /// Region (`global` for global resources).
    region: Option<String>,
    /// `true`: only resources tagged as holding PHI; `false`: only the others.
    #[param(value_type = Option<bool>)]
    phi: Option<String>,
    /// Findings per page (1 to 1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (it names its snapshot).
    cursor: Option<String>,
}

/// A finding as `posture scan --format json` writes it: the finding with its snapshot.
#[derive(Debug, Serialize)]
struct FindingJson {
    #[serde(flatten)]
    finding: Finding,
    snapshot_id: String,
}

/// A page of findings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingsPage {
    /// The snapshot they belong to.
    snapshot_id: String,
    /// Findings as `posture scan --format json` writes them, in the checker's order
    /// (account, rule, region, ARN).
    #[schema(value_type = Vec<Object>)]
    findings: Vec<FindingJson>,
    /// Pass as `cursor` for the next page; `null` on the last. A page may hold fewer
    /// findings than `limit` and not be the last (a bounded read of a sparse filter).
    next_cursor: Option<String>,
}

/// The findings of a snapshot (default: the latest), filtered and paged.
#[utoipa::path(get, path = "/findings", tag = "history", security(("bearer" = [])),
    params(FindingsQuery),
    responses(
        (status = 200, description = "A page of findings", body = FindingsPage),
        (status = 400, description = "Bad filter, limit or cursor (the error names it)", body = ErrorBody),
        (status = 404, description = "No such snapshot, or no snapshot yet", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
    ))]
pub(crate) async fn list_findings(
    State(state): State<AppState>,
    query: Result<Query<FindingsQuery>, QueryRejection>,
) -> Result<Json<FindingsPage>, Failure> {
    let Query(query) = query.map_err(bad_query)?;
    let filter = finding_filter(&query)?;
    let phi = match query.phi.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(Failure::bad_request(format!(
                "invalid phi {other:?}: expected true or false"
            )));
        }
    };
    let limit = limit(query.limit.as_deref())?;
    let from = query
        .cursor
        .as_deref()
        .map(cursor::decode::<FindingsCursor>)
        .transpose()?;
    let snapshot = pick_snapshot(
        query.snapshot.as_deref(),
        from.as_ref().map(|c| c.snapshot.as_str()),
    )?;
    let after = from.map(|c| FindingCursor::from(c.at));
    let (id, findings, next) = state
        .pool
        .read(move |store| {
            let id = resolve(store, snapshot)?;
            let (findings, next) = read_findings(store, &id, &filter, phi, after, limit)?;
            Ok((id, findings, next))
        })
        .await?;
    let next_cursor = next.map(|at| {
        cursor::encode(&FindingsCursor {
            snapshot: id.to_string(),
            at: At::from(at),
        })
    });
    Ok(Json(FindingsPage {
        findings: findings
            .into_iter()
            .map(|finding| FindingJson {
                finding,
                snapshot_id: id.to_string(),
            })
            .collect(),
        snapshot_id: id.to_string(),
        next_cursor,
    }))
}

/// Up to `limit` findings matching `filter` and `phi` after `after`, and where the next
/// page starts (`None`: the snapshot has no more). The store filters what its rows hold;
/// `phi` is only in the body, so its pages are read here until this one is full, the
/// snapshot ends, or [`MAX_ROWS_SCANNED`] rows were read (then the page is short and its
/// cursor says where the read stopped).
fn read_findings(
    store: &mut Store,
    id: &SnapshotId,
    filter: &FindingFilter,
    phi: Option<bool>,
    mut after: Option<FindingCursor>,
    limit: usize,
) -> Result<(Vec<Finding>, Option<FindingCursor>), Failure> {
    let mut out = Vec::new();
    let mut scanned = 0;
    loop {
        let want = limit - out.len();
        // Read what is wanted when every row read will match; in larger reads when some
        // may not (`phi`, or a snapshot before schema 7 that filters account and region as
        // it reads, which shows as a short page that is not the last).
        let sparse = phi.is_some() || scanned > 0;
        let read = if sparse { want.max(256) } else { want }.min(MAX_ROWS_SCANNED - scanned);
        let page = store
            .findings_page_filtered(id, filter, after, read)
            .map_err(store_err)?;
        scanned += read;
        for (at, finding) in page.findings {
            if phi.is_none_or(|phi| finding.phi == phi) {
                out.push(finding);
                if out.len() == limit {
                    // Rows read past this one are read again by the next page.
                    return Ok((out, Some(at)));
                }
            }
        }
        match page.next {
            None => return Ok((out, None)),
            Some(next) if scanned >= MAX_ROWS_SCANNED => return Ok((out, Some(next))),
            Some(next) => after = Some(next),
        }
    }
}

/// Which drift events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DriftQuery {
    /// Snapshot id (default: the latest).
    snapshot: Option<String>,
    /// `resources` (resources added, removed, modified) or `findings` (finding transitions).
    part: Option<String>,
    /// Events per page (1 to 1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (it names its snapshot and part).
    cursor: Option<String>,
}

/// A page of drift events.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DriftPage {
    /// The snapshot whose scan recorded them.
    snapshot_id: String,
    /// `resources` or `findings`.
    part: String,
    /// The events as recorded: the objects `posture scan --format json` lists under
    /// `drift.resources` and `drift.findings`.
    #[schema(value_type = Vec<Object>)]
    events: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// The drift a snapshot's scan recorded against each account's previous scan.
#[utoipa::path(get, path = "/drift", tag = "history", security(("bearer" = [])),
    params(DriftQuery),
    responses(
        (status = 200, description = "A page of drift events", body = DriftPage),
        (status = 400, description = "Bad part, limit or cursor", body = ErrorBody),
        (status = 404, description = "No such snapshot, or no snapshot yet", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
    ))]
pub(crate) async fn list_drift(
    State(state): State<AppState>,
    query: Result<Query<DriftQuery>, QueryRejection>,
) -> Result<Json<DriftPage>, Failure> {
    let Query(query) = query.map_err(bad_query)?;
    let from = query
        .cursor
        .as_deref()
        .map(cursor::decode::<DriftCursor>)
        .transpose()?;
    let part_name = match (
        query.part.as_deref(),
        from.as_ref().map(|c| c.part.as_str()),
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(Failure::bad_request(format!(
                "part {a:?} differs from the cursor's ({b:?}): drop one of them"
            )));
        }
        (Some(p), _) | (None, Some(p)) => p.to_owned(),
        (None, None) => {
            return Err(Failure::bad_request(
                "missing part: expected part=resources or part=findings",
            ));
        }
    };
    let part = match part_name.as_str() {
        "resources" => DriftPart::Resources,
        "findings" => DriftPart::Findings,
        other => {
            return Err(Failure::bad_request(format!(
                "invalid part {other:?}: expected resources or findings"
            )));
        }
    };
    let limit = limit(query.limit.as_deref())?;
    let snapshot = pick_snapshot(
        query.snapshot.as_deref(),
        from.as_ref().map(|c| c.snapshot.as_str()),
    )?;
    let after = from.map(|c| c.after);
    let (id, page) = state
        .pool
        .read(move |store| {
            let id = resolve(store, snapshot)?;
            let page = store
                .drift_page(&id, part, after, limit)
                .map_err(store_err)?;
            Ok((id, page))
        })
        .await?;
    let next_cursor = (page.len() == limit)
        .then(|| {
            page.last().map(|(seq, _)| {
                cursor::encode(&DriftCursor {
                    snapshot: id.to_string(),
                    part: part_name.clone(),
                    after: *seq,
                })
            })
        })
        .flatten();
    Ok(Json(DriftPage {
        snapshot_id: id.to_string(),
        part: part_name,
        events: page.into_iter().map(|(_, record)| record.body).collect(),
        next_cursor,
    }))
}

/// The snapshot asked for, checked: the query's, the cursor's (which must agree), or the
/// latest (`None`).
fn pick_snapshot(query: Option<&str>, cursor: Option<&str>) -> Result<Option<SnapshotId>, Failure> {
    match (query, cursor) {
        (Some(a), Some(b)) if a != b => Err(Failure::bad_request(format!(
            "snapshot {a:?} differs from the cursor's ({b:?}): drop one of them"
        ))),
        (Some(s), _) | (None, Some(s)) => snapshot_id(s).map(Some),
        (None, None) => Ok(None),
    }
}

/// The snapshot `id` names, checked to exist, or the latest.
fn resolve(store: &mut Store, id: Option<SnapshotId>) -> Result<SnapshotId, Failure> {
    match id {
        Some(id) => store.snapshot(id.as_str()).map(|m| m.id).map_err(store_err),
        None => store
            .latest_snapshot()
            .map_err(store_err)?
            .map(|m| m.id)
            .ok_or_else(|| {
                Failure::not_found(
                    "no snapshot yet: the first scan has not completed (POST /api/v1/scans starts one)",
                )
            }),
    }
}

fn snapshot_id(text: &str) -> Result<SnapshotId, Failure> {
    SnapshotId::new(text)
        .map_err(|e| Failure::bad_request(format!("invalid snapshot id {text:?}: {}", e.reason)))
}

fn limit(text: Option<&str>) -> Result<usize, Failure> {
    let Some(text) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(Failure::bad_request(format!(
            "invalid limit {text:?}: expected a number from 1 to {MAX_LIMIT}"
        ))),
    }
}

fn bad_query(rejection: QueryRejection) -> Failure {
    Failure::bad_request(format!("invalid query string: {}", rejection.body_text()))
}

/// The store filter of a findings query, each value checked.
fn finding_filter(query: &FindingsQuery) -> Result<FindingFilter, Failure> {
    let list = |text: &Option<String>| -> Vec<String> {
        text.iter()
            .flat_map(|t| t.split(','))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    let statuses = list(&query.status)
        .into_iter()
        .map(|v| {
            STATUSES
                .into_iter()
                .find(|s| s.as_str() == v)
                .ok_or_else(|| {
                    Failure::bad_request(format!(
                        "invalid status {v:?}: expected one of {}",
                        STATUSES.map(Status::as_str).join(", ")
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let severities = list(&query.severity)
        .into_iter()
        .map(|v| {
            Severity::ALL
                .into_iter()
                .find(|s| s.as_str() == v)
                .ok_or_else(|| {
                    Failure::bad_request(format!(
                        "invalid severity {v:?}: expected one of {}",
                        Severity::ALL.map(Severity::as_str).join(", ")
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let checked =
        |name: &str, text: &Option<String>, hint: &str| -> Result<Option<String>, Failure> {
            match text {
                Some(t) if t.is_empty() => Err(Failure::bad_request(format!(
                    "invalid {name}: empty ({hint})"
                ))),
                other => Ok(other.clone()),
            }
        };
    let rule = checked(
        "rule",
        &query.rule,
        "a rule id such as s3_bucket_versioning",
    )?
    .map(|r| {
        RuleId::new(&r)
            .map_err(|e| Failure::bad_request(format!("invalid rule {r:?}: {}", e.reason)))
    })
    .transpose()?;
    let account = checked("account", &query.account, "12 digits")?
        .map(|a| {
            AccountId::new(&a)
                .map_err(|e| Failure::bad_request(format!("invalid account {a:?}: {}", e.reason)))
        })
        .transpose()?;
    let region = checked("region", &query.region, "such as us-east-1 or global")?
        .map(|r| {
            Region::new(&r)
                .map_err(|e| Failure::bad_request(format!("invalid region {r:?}: {}", e.reason)))
        })
        .transpose()?;
    Ok(FindingFilter {
        statuses,
        severities,
        rule,
        account,
        region,
    })
}
