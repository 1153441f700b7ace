//! After collection: the snapshot is evaluated one account at a time from the resources
//! and coverage records staged in the store, compared with the previous snapshot one
//! account at a time, and its findings and drift stream into the store. Memory follows the
//! largest account (plus the few resources and coverage records of other accounts that
//! rules look up, such as an organization trail's log group), not the estate.
//!
//! Runs on the store's thread: it reads and writes through the open [`SnapshotWriter`].
//! Pure of AWS: `benches/pipeline.rs` measures it over a large synthetic organization
//! without building the SDK.

mod alerts;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use posture_check::{
    AccountCoverage, Baseline, Collections, Evaluator, ExpiredWaiver, Foreign, Loaded, Settings,
    StaleWaiver, Want,
};
use posture_drift as drift;
use posture_model::alert::{AlertKind, RouteFilter};
use posture_model::{
    AccountId, AccountScan, Finding, Gap, Region, Service, Severity, SnapshotMeta, Status, Unread,
    unread_evidence,
};
use posture_store::{DriftEvent, SnapshotWriter, Store, StoreError, for_each_page};
use serde::Serialize;

/// What the evaluation needs besides the staged resources and coverage records.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// Baseline, waivers, attestations, PHI scope and time.
    pub settings: Settings<'a>,
    /// The accounts scanned (entered).
    pub accounts: &'a [AccountId],
    /// The regions scanned.
    pub regions: &'a [Region],
    /// The services collected.
    pub services: &'a [String],
    /// The services the user left out of the scan (`scan.services`): the rules that read
    /// them are omitted, and their earlier findings are neither resolved nor forgotten.
    pub excluded: &'a [String],
    /// When collection finished: the time the finding history records.
    pub finished_at: DateTime<Utc>,
    /// The alert routes: the alerts composed for them are written to the outbox in the
    /// snapshot's transaction (empty: no alerts).
    pub alert_routes: &'a [RouteFilter],
    /// Set to stop between accounts (Ctrl-C, SIGTERM): [`evaluate`] then returns
    /// [`Error::Cancelled`] and the caller drops the writer, which rolls the snapshot back.
    pub cancel: Option<&'a AtomicBool>,
}

/// Why the evaluation stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// [`Job::cancel`] was set.
    #[error("the evaluation was cancelled")]
    Cancelled,
}

/// What changed since each account's previous scan, in counts: the changes themselves
/// stream into the store as drift events (a first scan after a baseline change or of a
/// newly collected service can change something on every resource) and are read back a page
/// at a time. Each account is compared with its own previous complete scan (the newest
/// snapshot that entered it), so scans of different account sets neither hide nor invent
/// drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The newest of the previous scans compared with (each account is compared with its
    /// own).
    pub since: String,
    /// Accounts compared with a previous scan (an account scanned for the first time has
    /// no drift).
    pub accounts: usize,
    /// Resources added, removed or modified.
    pub resources: usize,
    /// Finding transitions by kind, except "still failing" (a state, not a change; stored
    /// as no event).
    pub transitions: BTreeMap<drift::Transition, usize>,
    /// Findings that failed before and still fail.
    pub still_failing: usize,
}

impl Drift {
    /// How many finding transitions of kind `t` there were.
    pub fn count(&self, t: drift::Transition) -> usize {
        if t == drift::Transition::StillFailing {
            return self.still_failing;
        }
        self.transitions.get(&t).copied().unwrap_or(0)
    }
}

/// The drift events stored with the snapshot: every resource change and every finding
/// transition except "still failing".
fn events(
    resources: &[drift::ResourceChange],
    findings: &[drift::FindingTransition],
) -> Vec<DriftEvent> {
    let mut out = Vec::new();
    for c in resources {
        let event = match c.change {
            drift::Change::Added => "resource_added",
            drift::Change::Removed => "resource_removed",
            drift::Change::Modified => "resource_modified",
        };
        out.push((
            event.to_owned(),
            None,
            c.arn.clone(),
            serde_json::to_value(c).unwrap_or_default(),
        ));
    }
    for t in findings {
        out.push((
            t.transition.as_str().to_owned(),
            Some(t.rule_id.to_string()),
            t.resource.arn.to_string(),
            serde_json::to_value(t).unwrap_or_default(),
        ));
    }
    out
}

/// The result of the evaluation, without the findings (they are in the store).
#[derive(Debug)]
pub struct Evaluated {
    /// Findings per status.
    pub counts: BTreeMap<&'static str, usize>,
    /// The highest severity among failing findings.
    pub worst_failure: Option<Severity>,
    /// Drift against each account's previous scan, when any account had one (counts; the
    /// events are in the store).
    pub drift: Option<Drift>,
    /// Live waivers that matched no failing or undecided finding.
    pub stale_waivers: Vec<StaleWaiver>,
    /// Waivers past their expiry.
    pub expired_waivers: Vec<ExpiredWaiver>,
    /// Accounts evaluated.
    pub accounts: usize,
    /// Resources of other accounts loaded for cross-account lookups.
    pub foreign_resources: usize,
    /// The alerts written to the outbox: route, kind, items counted.
    pub alerts: Vec<(String, AlertKind, usize)>,
}

/// Evaluates the staged snapshot account by account and streams findings and drift into
/// `writer`; `progress` is told (accounts done, accounts in all) after each account.
pub fn evaluate(
    writer: &mut SnapshotWriter<'_>,
    job: &Job<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Evaluated, Error> {
    // Which collections ran and which list calls failed is read per account, like the
    // resources.
    let collections = if writer.has_staged_collections()? {
        Collections::Recorded
    } else {
        Collections::Unrecorded
    };
    // Every account with resources, every account with a failed list call (one that could
    // not be entered has only that), and every account scanned.
    let mut accounts: BTreeSet<AccountId> = writer.staged_accounts()?.into_iter().collect();
    accounts.extend(writer.staged_gap_accounts()?);
    accounts.extend(job.accounts.iter().cloned());
    let total = accounts.len();

    let mut drift: Option<Drift> = None;
    let current = drift::Scope::new(job.accounts, job.regions, job.services);

    let mut evaluator = Evaluator::new(job.settings).excluding(job.excluded.iter().cloned());
    // Rules omitted because they read a left-out service: their findings are not reported,
    // so their earlier ones are out of the comparison, not resolved.
    let omitted = omitted_rules(job.settings.baseline, job.excluded);
    writer.omit_rules(omitted.iter().cloned());
    let mut foreign = Foreign::default();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut worst_failure = None;
    let mut composer =
        alerts::Composer::new(job.alert_routes, writer.id().to_string(), job.finished_at);
    for (done, account) in accounts.iter().enumerate() {
        if job.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled);
        }
        let own = writer.staged_resources(None, Some(account), None)?;
        let coverage = coverage_of(writer, account)?;
        // What this scan could not read in the account, computed once: the store keeps
        // those resources and their findings' history open, drift neither removes nor
        // resolves them, and their previous findings are carried forward as `error`.
        let unread = Unread::of_account(&AccountScan {
            regions: job.regions,
            services: job.services,
            collected: &coverage.collected,
            gaps: &coverage.gaps,
        });
        writer.put_unread(account, &unread, job.regions)?;
        let mut findings =
            evaluator.evaluate_account(&own, &coverage, collections, &mut foreign, |want| {
                load(writer, want)
            })?;
        // The account's own previous complete scan, and what both it and this scan covered
        // there.
        // Another writer of the same account (PostgreSQL) finishes first.
        writer.claim_account(account)?;
        let previous = writer.last_scan_of(account)?;
        let scope = previous.as_ref().map(|prev| {
            drift::Scope::new(std::slice::from_ref(account), &prev.regions, &prev.services)
                .intersect(&current)
                .without_rules(omitted.iter().cloned())
        });
        let previous_findings = match &previous {
            Some(prev)
                if !unread.is_empty() || scope.as_ref().is_some_and(|s| s.has_account(account)) =>
            {
                writer.snapshot_findings(&prev.id, account)?
            }
            _ => Vec::new(),
        };
        carry_unread(&mut findings, &previous_findings, &unread);
        writer.put_findings(&mut findings, job.finished_at)?;
        for f in &findings {
            *counts.entry(f.status.as_str()).or_default() += 1;
            if f.status == Status::Fail {
                worst_failure = worst_failure.max(Some(f.severity));
            }
        }
        let compared =
            matches!((&previous, &scope), (Some(_), Some(scope)) if scope.has_account(account));
        if !compared && !composer.is_empty() {
            composer.account(&alerts::AccountNews {
                account,
                previous: previous.as_ref().map(|p| (p.id.as_str(), p.finished_at)),
                findings: &findings,
                previous_findings: &[],
                transitions: &[],
                changes: &[],
                resources: &own,
            });
        }
        if let (Some(prev), Some(scope)) = (&previous, scope)
            && scope.has_account(account)
        {
            let drift = drift.get_or_insert_with(|| Drift {
                since: prev.id.to_string(),
                accounts: 0,
                resources: 0,
                transitions: BTreeMap::new(),
                still_failing: 0,
            });
            if prev.id.as_str() > drift.since.as_str() {
                drift.since = prev.id.to_string();
            }
            drift.accounts += 1;
            let scope = scope.with_unread(account.clone(), unread);
            let before = writer.snapshot_resources(&prev.id, account)?;
            let resources = drift::diff_resources(&before, &own, &scope);
            drop(before);
            let mut transitions =
                drift::diff_findings(&previous_findings, &findings, &scope, job.finished_at);
            composer.account(&alerts::AccountNews {
                account,
                previous: Some((prev.id.as_str(), prev.finished_at)),
                findings: &findings,
                previous_findings: &previous_findings,
                transitions: &transitions,
                changes: &resources,
                resources: &own,
            });
            drop(previous_findings);
            let still = transitions
                .iter()
                .filter(|t| t.transition == drift::Transition::StillFailing)
                .count();
            transitions.retain(|t| t.transition != drift::Transition::StillFailing);
            writer.put_drift(events(&resources, &transitions))?;
            drift.still_failing += still;
            drift.resources += resources.len();
            for t in &transitions {
                *drift.transitions.entry(t.transition).or_default() += 1;
            }
        }
        progress(done + 1, total);
    }
    let (stale_waivers, expired_waivers) = evaluator.finish();
    let mut written = Vec::new();
    for alert in composer.finish(&expired_waivers) {
        let body = serde_json::to_string(&alert).unwrap_or_default();
        writer.put_alert(&alert.route, alert.kind.as_str(), &body)?;
        written.push((alert.route, alert.kind, alert.total));
    }
    Ok(Evaluated {
        alerts: written,
        counts,
        worst_failure,
        drift,
        stale_waivers,
        expired_waivers,
        accounts: total,
        foreign_resources: foreign.len(),
    })
}

/// The rules of `baseline` a scan omits because they read a service in `excluded`.
pub fn omitted_rules(baseline: &Baseline, excluded: &[String]) -> BTreeSet<String> {
    baseline
        .rules
        .iter()
        .map(|r| r.rule.meta())
        .filter(|m| {
            m.input_services()
                .iter()
                .any(|s| excluded.iter().any(|e| e == s))
        })
        .map(|m| m.id.to_owned())
        .collect()
}

/// The services a snapshot did not scan (every [`Service`] not in its list).
pub fn excluded_services(snapshot_services: &[String]) -> Vec<String> {
    Service::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .filter(|s| !snapshot_services.contains(s))
        .collect()
}

/// The drift scope between two stored snapshots, as the scan of `to` computed it: what
/// both covered, less what `to` could not read in each account (from its stored coverage
/// record, with the same [`Unread`] the scan used) and the rules either left out. `posture
/// diff` reads it, so that it agrees with the drift the scan recorded.
pub fn stored_scope(
    store: &mut Store,
    from: &SnapshotMeta,
    to: &SnapshotMeta,
    baseline: &Baseline,
) -> Result<drift::Scope, StoreError> {
    let mut collected: BTreeMap<AccountId, Vec<(Region, String)>> = BTreeMap::new();
    for_each_page(
        |after| store.collections_page(&to.id, after, 1000),
        |c| {
            collected
                .entry(c.account)
                .or_default()
                .push((c.region, c.service));
            Ok(())
        },
    )?;
    let mut gaps: BTreeMap<AccountId, Vec<Gap>> = BTreeMap::new();
    for_each_page(
        |after| store.gaps_page(&to.id, after, 1000),
        |g| {
            if g.resource.is_none() {
                gaps.entry(g.account.clone()).or_default().push(g);
            }
            Ok(())
        },
    )?;
    let mut excluded = excluded_services(&from.services);
    excluded.extend(excluded_services(&to.services));
    let mut scope = drift::Scope::new(&from.accounts, &from.regions, &from.services)
        .intersect(&drift::Scope::new(&to.accounts, &to.regions, &to.services))
        .without_rules(omitted_rules(baseline, &excluded));
    for account in &to.accounts {
        let unread = Unread::of_account(&AccountScan {
            regions: &to.regions,
            services: &to.services,
            collected: collected.get(account).map_or(&[], Vec::as_slice),
            gaps: gaps.get(account).map_or(&[], Vec::as_slice),
        });
        scope = scope.with_unread(account.clone(), unread);
    }
    Ok(scope)
}

/// Carries the previous findings of resources this scan could not read into `findings` as
/// `error`, so that they stay in the history (never resolved, never removed) and drift
/// reports them as `new_error`. A finding the evaluation gave again (a resource read in part)
/// is left as it is. Keeps the evaluator's order: (rule, region, ARN) within the account.
fn carry_unread(findings: &mut Vec<Finding>, previous: &[Finding], unread: &Unread) {
    if unread.is_empty() {
        return;
    }
    let given: BTreeSet<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.resource.arn.as_str()))
        .collect();
    let mut carried = Vec::new();
    for old in previous {
        let r = &old.resource;
        let Some(why) = unread.cause(&r.region, r.kind) else {
            continue;
        };
        if given.contains(&(old.rule_id.as_str(), r.arn.as_str())) {
            continue;
        }
        let mut f = old.clone();
        f.status = Status::Error;
        f.waiver = None;
        f.first_seen = None;
        f.reason = format!(
            "not re-verified: {} failed in {}/{} ({}), so the last result ({}) is not current",
            why.operation,
            r.account,
            r.region,
            why.code.as_deref().unwrap_or(why.kind.as_str()),
            old.status.as_str()
        );
        f.evidence = [
            ("unread".to_owned(), unread_evidence(why)),
            (
                "last_status".to_owned(),
                serde_json::Value::from(old.status.as_str()),
            ),
        ]
        .into_iter()
        .collect();
        carried.push(f);
    }
    if carried.is_empty() {
        return;
    }
    findings.extend(carried);
    findings.sort_by(|a, b| {
        (&a.rule_id, &a.resource.region, &a.resource.arn).cmp(&(
            &b.rule_id,
            &b.resource.region,
            &b.resource.arn,
        ))
    });
}

/// The staged data a cross-account lookup wants.
fn load(writer: &mut SnapshotWriter<'_>, want: &Want) -> Result<Loaded, StoreError> {
    Ok(match want {
        Want::Kind(kind) => {
            Loaded::Resources(writer.staged_resources(Some(kind.as_str()), None, None)?)
        }
        Want::Account(kind, account) => {
            Loaded::Resources(writer.staged_resources(Some(kind.as_str()), Some(account), None)?)
        }
        Want::Scope(kind, account, region) => Loaded::Resources(writer.staged_resources(
            Some(kind.as_str()),
            Some(account),
            Some(region),
        )?),
        Want::Coverage(account) => Loaded::Coverage(coverage_of(writer, account)?),
    })
}

/// What the scan of `account` covered, from the staged coverage record.
fn coverage_of(
    writer: &mut SnapshotWriter<'_>,
    account: &AccountId,
) -> Result<AccountCoverage, StoreError> {
    Ok(AccountCoverage {
        account: account.clone(),
        collected: writer.staged_collections(account)?,
        gaps: writer.staged_list_gaps(account)?,
    })
}

/// The process's peak resident memory, from /proc (Linux).
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use posture_model::{
        AccountId, Arn, Evidence, Gap, Region, ResourceKind, ResourceRef, RuleId, Severity, Status,
        UnavailableKind,
    };

    use super::*;

    fn finding(rule: &str, id: &str, status: Status) -> Finding {
        Finding {
            rule_id: RuleId::new(rule).unwrap(),
            title: rule.into(),
            status,
            severity: Severity::High,
            resource: ResourceRef {
                arn: Arn::new(format!("arn:aws:rds:us-east-1:111122223333:db:{id}")).unwrap(),
                kind: ResourceKind::RdsInstance,
                account: AccountId::new("111122223333").unwrap(),
                region: Region::new("us-east-1").unwrap(),
                tags: Default::default(),
            },
            phi: true,
            citations: vec![],
            evidence: Evidence::new(),
            reason: "before".into(),
            waiver: None,
            first_seen: None,
        }
    }

    fn instances_unread() -> Unread {
        let region = Region::new("us-east-1").unwrap();
        let gap = Gap {
            account: AccountId::new("111122223333").unwrap(),
            region: region.clone(),
            service: "rds".into(),
            operation: "rds:DescribeDBInstances".into(),
            resource: None,
            kind: UnavailableKind::Throttled,
            code: Some("Throttling".into()),
            message: "rate exceeded".into(),
        };
        Unread::of_account(&AccountScan {
            regions: std::slice::from_ref(&region),
            services: &["rds".to_owned()],
            collected: &[(region.clone(), "rds".to_owned())],
            gaps: &[gap],
        })
    }

    /// A listing that failed part-way: what was evaluated again stays as evaluated, only
    /// the previous findings without a new one are carried, as `error`, in the evaluator's
    /// order, with the failed call and the last status as evidence.
    #[test]
    fn only_findings_not_given_again_are_carried_as_error_in_order() {
        let previous = vec![
            finding("rds_a", "read", Status::Fail),
            finding("rds_a", "unread", Status::Fail),
            finding("rds_b", "unread", Status::Pass),
        ];
        let mut findings = vec![
            finding("rds_a", "read", Status::Pass),
            finding("rds_c", "read", Status::Fail),
        ];
        carry_unread(&mut findings, &previous, &instances_unread());
        let got: Vec<(&str, &str, Status)> = findings
            .iter()
            .map(|f| {
                (
                    f.rule_id.as_str(),
                    f.resource.arn.as_str().rsplit(':').next().unwrap(),
                    f.status,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("rds_a", "read", Status::Pass),
                ("rds_a", "unread", Status::Error),
                ("rds_b", "unread", Status::Error),
                ("rds_c", "read", Status::Fail),
            ]
        );
        let carried = &findings[1];
        assert_eq!(carried.evidence["last_status"], "fail");
        assert_eq!(
            carried.evidence["unread"]["operation"],
            "rds:DescribeDBInstances"
        );
        assert_eq!(carried.evidence["unread"]["failure"], "throttled");
        assert!(carried.phi, "PHI scope is kept");
        assert!(
            carried.reason.contains("rds:DescribeDBInstances failed")
                && carried.reason.contains("(fail)"),
            "{}",
            carried.reason
        );
        assert_eq!(findings[2].evidence["last_status"], "pass");
    }

    #[test]
    fn nothing_is_carried_when_everything_was_read() {
        let previous = vec![finding("rds_a", "gone", Status::Fail)];
        let mut findings = vec![];
        carry_unread(&mut findings, &previous, &Unread::none());
        assert!(
            findings.is_empty(),
            "a deleted resource's finding is not carried"
        );
    }
}
