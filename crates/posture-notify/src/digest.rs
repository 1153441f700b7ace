//! The daily digest of failures past their remediation deadline.
//!
//! Each severity may have a deadline (`critical = "3d"`): a finding failing longer than its
//! severity's deadline since it began failing (the failure episode's start, `first_seen`)
//! is overdue. Once a day, from the configured hour (UTC), one digest per route that asks
//! for it goes to the outbox, keyed by the day, so replicas and restarts write it once. It
//! reads each account's last scan a page at a time and keeps the worst items in full
//! ([`Builder`]); an item names its owner where one of the owner tags does.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use posture_model::alert::{
    AlertItem, AlertKind, Builder, MAX_VALUE_CHARS, More, RouteFilter, cut, display_name,
};
use posture_model::{Finding, Severity, Status};
use posture_store::{FindingFilter, Store, StoreError};

/// When and for whom the digest is written.
#[derive(Debug, Clone)]
pub struct DigestSettings {
    /// Deadlines by severity; severities without one are never overdue.
    pub deadlines: BTreeMap<Severity, Duration>,
    /// The hour of the day (UTC) from which the day's digest is written.
    pub hour: u32,
    /// Tag keys that name an owner, in order of preference.
    pub owner_tags: Vec<String>,
    /// The routes that want the digest, with their filters.
    pub routes: Vec<RouteFilter>,
}

fn key(day: &str, route: &str) -> String {
    format!("digest/{day}/{route}")
}

/// The remediation deadline of `finding`, when it is failing and its severity has one.
pub fn due(finding: &Finding, deadlines: &BTreeMap<Severity, Duration>) -> Option<DateTime<Utc>> {
    if finding.status != Status::Fail {
        return None;
    }
    let since = finding.first_seen?;
    let deadline = deadlines.get(&finding.severity)?;
    Some(since + chrono::Duration::from_std(*deadline).ok()?)
}

/// Writes today's digest for each route in `routes` that wants one and has none yet, when
/// `now` is past the digest hour. Returns how many digests were written (a route with
/// nothing overdue gets none).
pub fn write_due(
    store: &mut Store,
    settings: &DigestSettings,
    routes: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if now.hour() < settings.hour || settings.deadlines.is_empty() {
        return Ok(0);
    }
    let day = now.date_naive().to_string();
    let mut wanted = Vec::new();
    for filter in &settings.routes {
        if routes.contains(&filter.name)
            && filter.notices.overdue_digest
            && !store.alert_exists(&key(&day, &filter.name))?
        {
            wanted.push(filter);
        }
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let mut builders: Vec<Builder> = wanted.iter().map(|_| Builder::default()).collect();
    let filter = FindingFilter {
        statuses: vec![Status::Fail],
        ..FindingFilter::default()
    };
    for account in store.scanned_accounts()? {
        let Some(last) = store.last_scan_of(&account, None)? else {
            continue;
        };
        let filter = FindingFilter {
            account: Some(account.clone()),
            ..filter.clone()
        };
        let mut after = None;
        loop {
            let page = store.findings_page_filtered(&last.id, &filter, after, 1000)?;
            for (_, f) in &page.findings {
                let Some(due) = due(f, &settings.deadlines) else {
                    continue;
                };
                if due >= now {
                    continue;
                }
                for (route, builder) in wanted.iter().zip(builders.iter_mut()) {
                    if route.admits(f.rule_id.as_str(), f.severity, &f.resource, f.phi) {
                        builder.add(item(f, due, &settings.owner_tags, last.id.as_str()));
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let mut written = 0;
    for (route, builder) in wanted.iter().zip(builders) {
        if builder.is_empty() {
            continue;
        }
        let alert = builder.finish(
            AlertKind::OverdueDigest,
            &route.name,
            None,
            now,
            More {
                command: String::new(),
                api: "/api/v1/findings?status=fail".into(),
            },
        );
        let body = serde_json::to_string(&alert).unwrap_or_default();
        if store.enqueue_alert(
            &key(&day, &route.name),
            &route.name,
            AlertKind::OverdueDigest.as_str(),
            &body,
        )? {
            written += 1;
        }
    }
    Ok(written)
}

fn item(f: &Finding, due: DateTime<Utc>, owner_tags: &[String], snapshot: &str) -> AlertItem {
    let owner = owner_tags
        .iter()
        .find_map(|k| f.resource.tags.get(k).filter(|v| !v.is_empty()).cloned());
    let name = display_name(f.resource.arn.as_str(), &f.resource.tags);
    AlertItem {
        transition: "overdue".into(),
        rule_id: f.rule_id.clone(),
        title: f.title.clone(),
        severity: f.severity,
        resource: f.resource.clone(),
        name,
        phi: f.phi,
        citations: f.citations.clone(),
        reason: cut(&f.reason, MAX_VALUE_CHARS),
        evidence: Default::default(),
        changes: Vec::new(),
        more_changes: 0,
        failing_since: f.first_seen,
        due: Some(due),
        owner,
        more: More {
            command: String::new(),
            api: format!(
                "/api/v1/findings?snapshot={snapshot}&rule={}&account={}&region={}",
                f.rule_id, f.resource.account, f.resource.region
            ),
        },
    }
}
