//! The daemon's recent scans, in memory and bounded: what `GET /api/v1/scans` shows and
//! what a second request for the same accounts joins.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use posture_model::AccountId;

/// Why a scan ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The schedule.
    Schedule,
    /// A request to the API.
    Api,
}

impl Trigger {
    /// `schedule` or `api`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Api => "api",
        }
    }
}

/// Where a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for the scan before it.
    Queued,
    /// Running.
    Running,
    /// Every account is scanned (by this replica or, for accounts another replica held,
    /// by that one).
    Succeeded,
    /// Failed; the error says why. A scheduled scan is retried with backoff.
    Failed,
    /// Stopped by shutdown; nothing partial was stored.
    Cancelled,
}

impl State {
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    fn active(self) -> bool {
        matches!(self, State::Queued | State::Running)
    }
}

/// How far a running scan got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanProgress {
    /// `collecting`, `evaluating`, `committing` or `waiting` (for another replica).
    pub phase: String,
    /// (account, region, service) collections finished in the current batch.
    pub collections: u64,
    /// Resources collected in the current batch.
    pub resources: u64,
    /// Failed calls in the current batch.
    pub failed_calls: u64,
    /// Accounts done (stored) so far.
    pub accounts_done: usize,
    /// Accounts in all.
    pub accounts_total: usize,
}

/// One scan as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRecord {
    /// Its id.
    pub id: String,
    /// Why it ran.
    pub trigger: Trigger,
    /// The accounts asked for; `None`: the configured set.
    pub accounts: Option<Vec<AccountId>>,
    /// Where it is.
    pub state: State,
    /// When it was asked for (a scheduled scan: its cycle's start).
    pub submitted_at: DateTime<Utc>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Progress.
    pub progress: ScanProgress,
    /// Snapshots stored (one per batch of accounts).
    pub snapshots: Vec<String>,
    /// Findings by status, over its snapshots.
    pub summary: BTreeMap<String, usize>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The registry.
#[derive(Debug)]
pub(crate) struct Scans {
    records: VecDeque<ScanRecord>,
    next: u64,
    cap: usize,
    prefix: String,
}

/// Most scans queued at once.
pub(crate) const MAX_QUEUED: usize = 16;

impl Scans {
    pub(crate) fn new(cap: usize, prefix: String) -> Self {
        Self {
            records: VecDeque::new(),
            next: 1,
            cap: cap.max(MAX_QUEUED + 2),
            prefix,
        }
    }

    /// A new record, newest first.
    pub(crate) fn add(
        &mut self,
        trigger: Trigger,
        accounts: Option<Vec<AccountId>>,
        state: State,
        at: DateTime<Utc>,
    ) -> String {
        let id = format!("{}-{}", self.prefix, self.next);
        self.next += 1;
        self.records.push_front(ScanRecord {
            id: id.clone(),
            trigger,
            accounts,
            state,
            submitted_at: at,
            started_at: (state == State::Running).then_some(at),
            finished_at: None,
            progress: ScanProgress::default(),
            snapshots: Vec::new(),
            summary: BTreeMap::new(),
            error: None,
        });
        // Forget the oldest finished scans past the cap; active ones stay.
        while self.records.len() > self.cap {
            match self.records.iter().rposition(|r| !r.state.active()) {
                Some(i) => {
                    self.records.remove(i);
                }
                None => break,
            }
        }
        id
    }

    /// An active scan of exactly these accounts.
    pub(crate) fn active_with(&self, accounts: &Option<Vec<AccountId>>) -> Option<&ScanRecord> {
        self.records
            .iter()
            .find(|r| r.state.active() && &r.accounts == accounts)
    }

    pub(crate) fn queued(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.state == State::Queued)
            .count()
    }

    /// The oldest queued scan.
    pub(crate) fn next_queued(&self) -> Option<ScanRecord> {
        self.records
            .iter()
            .rev()
            .find(|r| r.state == State::Queued)
            .cloned()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&ScanRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    pub(crate) fn all(&self) -> Vec<ScanRecord> {
        self.records.iter().cloned().collect()
    }

    pub(crate) fn update(&mut self, id: &str, f: impl FnOnce(&mut ScanRecord)) {
        if let Some(r) = self.records.iter_mut().find(|r| r.id == id) {
            f(r);
        }
    }

    /// Marks every queued scan cancelled (shutdown).
    pub(crate) fn cancel_queued(&mut self, at: DateTime<Utc>) {
        for r in self.records.iter_mut().filter(|r| r.state == State::Queued) {
            r.state = State::Cancelled;
            r.finished_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn the_registry_joins_active_scans_and_forgets_only_finished_ones() {
        let mut s = Scans::new(0, "r".into());
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let a = Some(vec![AccountId::new("111111111111").unwrap()]);
        let first = s.add(Trigger::Api, a.clone(), State::Queued, at);
        assert_eq!(s.active_with(&a).unwrap().id, first);
        assert!(s.active_with(&None).is_none());
        s.update(&first, |r| r.state = State::Succeeded);
        assert!(s.active_with(&a).is_none(), "a finished scan is not joined");
        // Past the cap, the oldest finished records go; queued ones stay.
        let queued = s.add(Trigger::Api, None, State::Queued, at);
        for _ in 0..40 {
            let id = s.add(Trigger::Schedule, None, State::Running, at);
            s.update(&id, |r| r.state = State::Failed);
        }
        assert_eq!(s.all().len(), MAX_QUEUED + 2);
        assert!(s.get(&first).is_none());
        assert_eq!(s.next_queued().unwrap().id, queued);
        s.cancel_queued(at);
        assert_eq!(s.get(&queued).unwrap().state, State::Cancelled);
        assert_eq!(s.queued(), 0);
    }
}
