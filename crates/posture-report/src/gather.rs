//! The first pass: everything the report opens with, in counts. Bounded by the baseline
//! (rules, citations), the period (one small record per snapshot) and the coverage matrix
//! (regions × services); findings are counted by grouped queries, never held.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use posture_model::{AccountId, SnapshotId, SnapshotMeta, Status};
use posture_store::{FindingFilter, Store, for_each_page};

use crate::model::{
    ChainResult, CitationNode, CoverageCell, CoverageHead, Head, PeriodSnapshot, RuleGroup,
    RuleNode, SnapshotRef, StandardSummary, StatusCounts, TrendPoint,
};
use crate::{PAGE, ReportError, Request, Snapshot};

/// The four standards of the Security Rule the baseline cites, with their titles.
pub(crate) const STANDARDS: [(&str, &str); 4] = [
    ("164.308", "Administrative safeguards"),
    ("164.310", "Physical safeguards"),
    ("164.312", "Technical safeguards"),
    (
        "164.316",
        "Policies and procedures and documentation requirements",
    ),
];

/// The standard a citation belongs to: `164.312(a)(2)(iv)` → `164.312`.
pub(crate) fn standard_of(citation: &str) -> &str {
    citation.split('(').next().unwrap_or(citation)
}

/// The snapshot a report is about, with its position in the history.
pub(crate) struct Selected {
    pub seq: i64,
    pub meta: SnapshotMeta,
}

pub(crate) fn select(store: &mut Store, which: &crate::Snapshot) -> Result<Selected, ReportError> {
    match which {
        Snapshot::Latest => {
            let (seq, meta) = store
                .snapshots_page(None, 1)?
                .into_iter()
                .next()
                .ok_or(ReportError::Empty)?;
            Ok(Selected { seq, meta })
        }
        Snapshot::Id(id) => {
            // Fails with "no such snapshot" before any paging.
            let wanted = store.snapshot(id)?;
            let mut before = None;
            loop {
                let page = store.snapshots_page(before, PAGE)?;
                let Some((last, _)) = page.last() else {
                    return Err(ReportError::Store(
                        posture_store::StoreError::NoSuchSnapshot(id.clone()),
                    ));
                };
                before = Some(*last);
                if let Some((seq, _)) = page.into_iter().find(|(_, m)| m.id == wanted.id) {
                    return Ok(Selected { seq, meta: wanted });
                }
            }
        }
    }
}

/// Findings per rule of one snapshot, within `accounts`.
fn rule_counts(
    store: &mut Store,
    id: &SnapshotId,
    accounts: &[AccountId],
) -> Result<BTreeMap<String, StatusCounts>, ReportError> {
    let mut out: BTreeMap<String, StatusCounts> = BTreeMap::new();
    for c in store.finding_counts(id, accounts)? {
        out.entry(c.rule_id).or_default().add(c.status, c.count);
    }
    Ok(out)
}

/// The accounts whose findings are read: those asked for, else every account of the
/// snapshot (`None` in a filter: no condition).
pub(crate) fn account_filters(accounts: &[AccountId]) -> Vec<Option<AccountId>> {
    if accounts.is_empty() {
        vec![None]
    } else {
        accounts.iter().cloned().map(Some).collect()
    }
}

pub(crate) fn head(store: &mut Store, request: &Request<'_>) -> Result<Head, ReportError> {
    let Selected { seq, meta } = select(store, &request.snapshot)?;
    for account in request.accounts {
        if !meta.accounts.contains(account) {
            return Err(ReportError::NoSuchAccount {
                account: account.to_string(),
                snapshot: meta.id.to_string(),
                accounts: meta
                    .accounts
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let baseline = request.baseline;
    let since = request
        .since
        .unwrap_or(meta.started_at - Duration::days(30));

    // Which standards each rule (or manual control) gives evidence for.
    let mut rule_standards: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut rule_citations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in &baseline.citations {
        let standard = standard_of(&entry.citation.id).to_owned();
        for rule in entry.rules.iter().chain(&entry.manual) {
            rule_standards
                .entry(rule.clone())
                .or_default()
                .insert(standard.clone());
            rule_citations
                .entry(rule.clone())
                .or_default()
                .push(entry.citation.id.clone());
        }
    }
    let mut standard_ids: Vec<(String, String)> = STANDARDS
        .iter()
        .map(|(id, title)| ((*id).to_owned(), (*title).to_owned()))
        .collect();
    for entry in &baseline.citations {
        let s = standard_of(&entry.citation.id);
        if !standard_ids.iter().any(|(id, _)| id == s) {
            standard_ids.push((s.to_owned(), String::new()));
        }
    }

    // The period, newest first as the store pages it, then turned around.
    let mut period = Vec::new();
    let mut trends: BTreeMap<String, Vec<TrendPoint>> = BTreeMap::new();
    let mut before = Some(seq + 1);
    'pages: loop {
        let page = store.snapshots_page(before, PAGE)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        before = Some(*last);
        for (s, m) in page {
            if s != seq && m.started_at < since {
                break 'pages;
            }
            let counts = rule_counts(store, &m.id, request.accounts)?;
            let mut total = StatusCounts::default();
            let mut per_standard: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for (rule, c) in &counts {
                total.merge(c);
                for standard in rule_standards.get(rule).into_iter().flatten() {
                    let e = per_standard.entry(standard).or_default();
                    e.0 += c.pass;
                    e.1 += c.fail;
                }
            }
            for (id, _) in &standard_ids {
                let (pass, fail) = per_standard.get(id.as_str()).copied().unwrap_or_default();
                trends.entry(id.clone()).or_default().push(TrendPoint {
                    snapshot_id: m.id.to_string(),
                    started_at: m.started_at.to_rfc3339(),
                    pass,
                    fail,
                });
            }
            period.push(PeriodSnapshot {
                snapshot_id: m.id.to_string(),
                started_at: m.started_at.to_rfc3339(),
                hash: store.manifest_hash(&m.id)?,
                counts: total,
            });
        }
    }
    period.reverse();
    for t in trends.values_mut() {
        t.reverse();
    }

    let counts = rule_counts(store, &meta.id, request.accounts)?;
    let mut totals = StatusCounts::default();
    for c in counts.values() {
        totals.merge(c);
    }
    let attestation = attestation_states(store, &meta.id, request.accounts)?;

    // The citation tree. A rule without findings whose collections the scan left out was
    // not checked at all: `not_scanned`, which leaves its citations partly unverified
    // (a rule without findings whose collections ran simply had nothing to check).
    let scanned: BTreeSet<&str> = meta.services.iter().map(String::as_str).collect();
    let automated = |rule: &str| -> RuleNode {
        let c = counts.get(rule).copied().unwrap_or_default();
        let mut status = rule_status(&c);
        let unscanned = request.baseline.rule(rule).is_some_and(|r| {
            r.rule
                .meta()
                .input_services()
                .iter()
                .any(|s| !scanned.contains(s))
        });
        if status == "no_findings" && unscanned {
            status = "not_scanned";
        }
        RuleNode {
            rule_id: rule.to_owned(),
            title: request
                .baseline
                .rule(rule)
                .map(|r| r.rule)
                .map(|r| r.meta().title.to_owned())
                .unwrap_or_default(),
            kind: "automated",
            status,
            counts: c,
        }
    };
    let manual = |id: &str| -> RuleNode {
        RuleNode {
            rule_id: id.to_owned(),
            title: baseline
                .manual_control(id)
                .map(|m| m.title.clone())
                .unwrap_or_default(),
            kind: "manual",
            status: attestation.get(id).copied().unwrap_or("no_findings"),
            counts: counts.get(id).copied().unwrap_or_default(),
        }
    };
    let citations: Vec<CitationNode> = baseline
        .citations
        .iter()
        .map(|entry| {
            let rules: Vec<RuleNode> = entry
                .rules
                .iter()
                .map(|r| automated(r))
                .chain(entry.manual.iter().map(|m| manual(m)))
                .collect();
            CitationNode {
                id: entry.citation.id.clone(),
                title: entry.citation.title.clone(),
                standard: standard_of(&entry.citation.id).to_owned(),
                status: worst(rules.iter().map(|r| r.status)),
                rules,
            }
        })
        .collect();

    let standards = standard_ids
        .into_iter()
        .map(|(id, title)| {
            let mut c = StatusCounts::default();
            for (rule, standards) in &rule_standards {
                if standards.contains(&id)
                    && let Some(rc) = counts.get(rule)
                {
                    c.merge(rc);
                }
            }
            let mine: Vec<&CitationNode> = citations.iter().filter(|n| n.standard == id).collect();
            StandardSummary {
                counts: c,
                controls: mine.len(),
                controls_failing: mine.iter().filter(|n| n.status == "fail").count(),
                controls_unverified: mine
                    .iter()
                    .filter(|n| matches!(n.status, "error" | "missing" | "expired" | "not_scanned"))
                    .count(),
                trend: trends.remove(&id).unwrap_or_default(),
                id,
                title,
            }
        })
        .collect();

    let rules = counts
        .iter()
        .filter(|(_, c)| c.fail > 0)
        .map(|(rule, c)| {
            let meta = request
                .baseline
                .rule(rule)
                .map(|r| r.rule)
                .map(|r| r.meta());
            let control = baseline.manual_control(rule);
            RuleGroup {
                rule_id: rule.clone(),
                title: meta
                    .map(|m| m.title.to_owned())
                    .or_else(|| control.map(|m| m.title.clone()))
                    .unwrap_or_default(),
                severity: meta
                    .map(|m| m.severity)
                    .or_else(|| control.map(|m| m.severity))
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                failing: c.fail,
                kind: meta
                    .map(|m| m.subject.as_str().to_owned())
                    .unwrap_or_default(),
                citations: rule_citations.get(rule).cloned().unwrap_or_default(),
            }
        })
        .collect();

    let coverage = coverage(store, &meta, request.accounts)?;
    let report = store.verify()?;
    let chain = ChainResult {
        intact: report.problems.is_empty(),
        snapshots: report.snapshots,
        bodies: report.bodies,
        head: report.head.clone(),
        problems: report
            .problems
            .iter()
            .map(|p| {
                let place = match (&p.snapshot, &p.resource) {
                    (Some(s), _) => format!("snapshot {s}"),
                    (None, Some(r)) => format!("resource {r}"),
                    (None, None) => "store".to_owned(),
                };
                format!("{place}: {}", p.message)
            })
            .collect(),
    };

    Ok(Head {
        baseline: baseline.name.clone(),
        baseline_version: baseline.version.clone(),
        as_of: request.as_of.to_rfc3339(),
        snapshot: SnapshotRef {
            snapshot_id: meta.id.to_string(),
            started_at: meta.started_at.to_rfc3339(),
            finished_at: meta.finished_at.to_rfc3339(),
            hash: store.manifest_hash(&meta.id)?,
            accounts: meta.accounts.iter().map(|a| a.to_string()).collect(),
            regions: meta.regions.iter().map(|r| r.to_string()).collect(),
            services: meta.services.clone(),
            resource_count: meta.resource_count,
        },
        account_filter: request.accounts.iter().map(|a| a.to_string()).collect(),
        since: since.to_rfc3339(),
        period,
        totals,
        standards,
        citations,
        rules,
        coverage,
        chain,
    })
}

/// A rule's status from its counts: the worst it gave any resource.
fn rule_status(c: &StatusCounts) -> &'static str {
    if c.fail > 0 {
        "fail"
    } else if c.error > 0 {
        "error"
    } else if c.waived > 0 {
        "waived"
    } else if c.pass > 0 {
        "pass"
    } else if c.not_applicable > 0 {
        "not_applicable"
    } else {
        "no_findings"
    }
}

/// Statuses of the citation tree, worst first.
const RANK: [&str; 10] = [
    "fail",
    "error",
    "missing",
    "expired",
    "not_scanned",
    "waived",
    "pass",
    "attested",
    "not_applicable",
    "no_findings",
];

fn worst<'a>(statuses: impl Iterator<Item = &'a str>) -> &'static str {
    let rank = |s: &str| RANK.iter().position(|r| *r == s).unwrap_or(RANK.len());
    statuses
        .map(rank)
        .min()
        .and_then(|i| RANK.get(i).copied())
        .unwrap_or("no_findings")
}

/// Per manual control, the worst attestation state over the accounts (`missing`,
/// `expired`, `attested`): one finding per control and account, read a page at a time.
fn attestation_states(
    store: &mut Store,
    id: &SnapshotId,
    accounts: &[AccountId],
) -> Result<BTreeMap<String, &'static str>, ReportError> {
    let mut out: BTreeMap<String, &'static str> = BTreeMap::new();
    for account in account_filters(accounts) {
        let filter = FindingFilter {
            statuses: vec![Status::Manual],
            account,
            ..FindingFilter::default()
        };
        let mut after = None;
        loop {
            let page = store.findings_page_filtered(id, &filter, after, PAGE)?;
            for (_, f) in &page.findings {
                let state = match f.evidence.get("attestation_state").and_then(|v| v.as_str()) {
                    Some("attested") => "attested",
                    Some("expired") => "expired",
                    _ => "missing",
                };
                let e = out.entry(f.rule_id.to_string()).or_insert(state);
                *e = worst([*e, state].into_iter());
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(out)
}

fn coverage(
    store: &mut Store,
    meta: &SnapshotMeta,
    accounts: &[AccountId],
) -> Result<CoverageHead, ReportError> {
    let keep = |a: &AccountId| accounts.is_empty() || accounts.contains(a);
    let mut cells: BTreeMap<(String, String), CoverageCell> = BTreeMap::new();
    for_each_page(
        |after| store.collections_page(&meta.id, after, PAGE),
        |c| {
            if keep(&c.account) {
                let cell = cells
                    .entry((c.region.to_string(), c.service.clone()))
                    .or_insert_with(|| CoverageCell {
                        region: c.region.to_string(),
                        service: c.service.clone(),
                        accounts: 0,
                        complete: 0,
                        resources: 0,
                    });
                cell.accounts += 1;
                cell.complete += u64::from(c.complete);
                cell.resources += c.resources;
            }
            Ok(())
        },
    )?;
    let mut failed_calls = 0;
    for_each_page(
        |after| store.gaps_page(&meta.id, after, PAGE),
        |g| {
            failed_calls += u64::from(keep(&g.account));
            Ok(())
        },
    )?;
    Ok(CoverageHead {
        accounts: meta
            .accounts
            .iter()
            .filter(|a| keep(a))
            .map(|a| a.to_string())
            .collect(),
        regions: meta.regions.iter().map(|r| r.to_string()).collect(),
        services: meta.services.clone(),
        collected: cells.into_values().collect(),
        failed_calls,
    })
}
