//! An index over one snapshot's resources, built once per evaluation so rules can look up
//! related resources (a bucket's account setting, a VPC's flow logs) without scanning the
//! whole estate each time.
//!
//! An index covers either the whole snapshot ([`SnapshotIndex::new`]) or one account
//! ([`SnapshotIndex::for_account`]): a scan evaluates an organization one account at a time
//! so that memory follows the largest account, not the estate. Rules join within an account
//! almost always; the few lookups that reach into another account (an organization trail's
//! log group in the management account, an organization Access Analyzer) are recorded as
//! [`Want`]s when that account's data is not loaded. The evaluator then reports the account
//! as incomplete, the caller loads what was wanted and evaluates the account again, so the
//! result is exactly that of evaluating the whole snapshot at once.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use posture_model::{AccountId, Coverage, Gap, Region, Resource, ResourceKind};

use crate::evaluate::Foreign;

type ScopeKey = (ResourceKind, AccountId, Region);

/// Data of another account that a rule looked up while an account was evaluated on its
/// own: the caller loads it and evaluates again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Want {
    /// Every resource of a kind, in every account.
    Kind(ResourceKind),
    /// Every resource of a kind in one account, in any region.
    Account(ResourceKind, AccountId),
    /// Resources of a kind in one account and region.
    Scope(ResourceKind, AccountId, Region),
    /// What one account's scan covered: its collections and failed list calls.
    Coverage(AccountId),
}

impl Want {
    /// The kind of resource wanted; `None` for [`Want::Coverage`].
    pub fn kind(&self) -> Option<ResourceKind> {
        match self {
            Want::Kind(k) | Want::Account(k, _) | Want::Scope(k, _, _) => Some(*k),
            Want::Coverage(_) => None,
        }
    }

    /// Whether `resource` is part of what is wanted.
    pub fn covers(&self, resource: &Resource) -> bool {
        match self {
            Want::Kind(k) => resource.kind() == *k,
            Want::Account(k, a) => resource.kind() == *k && &resource.account == a,
            Want::Scope(k, a, r) => {
                resource.kind() == *k && &resource.account == a && &resource.region == r
            }
            Want::Coverage(_) => false,
        }
    }
}

/// What one account's scan covered: the (region, service) collections that ran there and
/// the list calls that failed (gaps with no resource; gaps about one resource are carried
/// by the resource itself, as `Observed::Unavailable`). An account is evaluated with its
/// own; another account's is loaded when a rule looks there ([`Want::Coverage`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountCoverage {
    /// The account.
    pub account: AccountId,
    /// (region, service) of each collection that ran.
    pub collected: Vec<(Region, String)>,
    /// Failed list calls.
    pub gaps: Vec<Gap>,
}

/// Whether a snapshot records which collections ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collections {
    /// It does (every scan): a collection that is not recorded did not run, so finding
    /// nothing there proves nothing.
    Recorded,
    /// It records none (fixtures and benchmarks evaluate bare resources): everything counts
    /// as collected.
    Unrecorded,
}

/// A new id for an index or a [`Foreign`], unique in the process.
pub(crate) fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Failed list calls grouped by account, each account's sorted and without duplicates.
fn group_gaps<'a>(gaps: impl IntoIterator<Item = &'a Gap>) -> HashMap<AccountId, Vec<&'a Gap>> {
    let mut out: HashMap<AccountId, Vec<&'a Gap>> = HashMap::new();
    for g in gaps.into_iter().filter(|g| g.resource.is_none()) {
        out.entry(g.account.clone()).or_default().push(g);
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup();
    }
    out
}

/// Resources grouped by kind, by (kind, account) and by (kind, account, region): rules look
/// up related resources within an account, so a lookup costs the same whether the snapshot
/// holds one account or thousands.
#[derive(Debug)]
pub struct SnapshotIndex<'a> {
    /// Unique in the process (see [`SnapshotIndex::id`]).
    id: u64,
    /// The resources of other accounts loaded, with the id of the [`Foreign`] holding them.
    foreign: Option<(u64, &'a [Resource])>,
    by_kind: HashMap<ResourceKind, Vec<&'a Resource>>,
    by_account: HashMap<(ResourceKind, AccountId), Vec<&'a Resource>>,
    by_scope: HashMap<ScopeKey, Vec<&'a Resource>>,
    /// On a one-account index, the groups of the `Foreign`'s resources: `by_account` and
    /// `by_scope` hold the local account's only, other accounts' are looked up here, their
    /// resources in `foreign_refs` (every group's, one after the other: `Groups::ranges`).
    groups: Option<&'a Groups>,
    foreign_refs: Vec<&'a Resource>,
    /// Whether collections are recorded; when they are, `collected` holds every account's
    /// (whole snapshot), or the local account's and those of other accounts loaded.
    collections: Collections,
    collected: HashSet<(&'a AccountId, &'a Region, &'a str)>,
    /// (account, service) of every collection in `collected`, whatever its region.
    collected_somewhere: HashSet<(&'a AccountId, &'a str)>,
    /// Failed list calls by account, like `collected`.
    gaps: HashMap<AccountId, Vec<&'a Gap>>,
    /// The account being evaluated; `None` when the index holds the whole snapshot.
    local: Option<AccountId>,
    /// Data of other accounts that is loaded.
    loaded: HashSet<Want>,
    /// Data of other accounts that rules looked up and that is not loaded.
    wanted: RefCell<BTreeSet<Want>>,
    /// The services whose data rules looked up (kinds read, collections asked about), so
    /// that rule tests can check a rule declares every input it reads.
    #[cfg(test)]
    reads: RefCell<BTreeSet<String>>,
}

/// Resources grouped as [`SnapshotIndex`] groups them, by position in a slice: what a
/// [`Foreign`] keeps of what it holds, so that an account's index looks other accounts'
/// resources up in these groups instead of indexing all of them again.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    by_kind: HashMap<ResourceKind, Vec<usize>>,
    /// Group ids (positions in `members`).
    by_account: HashMap<(ResourceKind, AccountId), usize>,
    by_scope: HashMap<ScopeKey, usize>,
    /// The positions of each group's resources, in order.
    members: Vec<Vec<usize>>,
    /// Where each group's resources are in `members` flattened (as a one-account index
    /// holds them: see `SnapshotIndex::foreign_refs`).
    ranges: Vec<std::ops::Range<usize>>,
}

impl Groups {
    /// Groups `resources[start..]`.
    pub(crate) fn add(&mut self, start: usize, resources: &[Resource]) {
        for (p, r) in resources.iter().enumerate().skip(start) {
            self.by_kind.entry(r.kind()).or_default().push(p);
            let next = self.members.len();
            let id = *self
                .by_account
                .entry((r.kind(), r.account.clone()))
                .or_insert(next);
            if id == next {
                self.members.push(Vec::new());
            }
            self.members[id].push(p);
            let next = self.members.len();
            let id = *self
                .by_scope
                .entry((r.kind(), r.account.clone(), r.region.clone()))
                .or_insert(next);
            if id == next {
                self.members.push(Vec::new());
            }
            self.members[id].push(p);
        }
        let mut start = 0;
        self.ranges = self
            .members
            .iter()
            .map(|m| {
                let range = start..start + m.len();
                start = range.end;
                range
            })
            .collect();
    }
}

impl<'a> SnapshotIndex<'a> {
    /// Indexes a whole snapshot: `resources` is everything, `coverage` what was collected.
    pub fn new(resources: &'a [Resource], coverage: &'a Coverage) -> Self {
        let collections = if coverage.collected.is_empty() {
            Collections::Unrecorded
        } else {
            Collections::Recorded
        };
        let mut index = Self::empty(collections, None);
        index.collected = coverage
            .collected
            .iter()
            .map(|c| (&c.account, &c.region, c.service.as_str()))
            .collect();
        index.collected_somewhere = index.collected.iter().map(|&(a, _, s)| (a, s)).collect();
        index.gaps = group_gaps(&coverage.failed);
        for r in resources {
            index.add(r);
        }
        index
    }

    /// Indexes one account: `resources` are the account's own (its subjects), `coverage`
    /// what its scan covered, and `foreign` the data of other accounts loaded for earlier
    /// [`Want`]s. Foreign data of `account` itself is ignored (its own is all here).
    pub fn for_account(
        account: &AccountId,
        resources: &'a [Resource],
        coverage: &'a AccountCoverage,
        foreign: &'a Foreign,
        collections: Collections,
    ) -> Self {
        let mut index = Self::empty(collections, Some(account.clone()));
        for r in resources.iter().filter(|r| &r.account == account) {
            index.add(r);
        }
        // Other accounts' resources: all of them by kind (`everywhere`); by account and by
        // scope, looked up in the `Foreign`'s groups when asked for. Indexing each of them
        // again for every account made an account's evaluation grow with everything loaded
        // before it.
        let held = foreign.resources();
        let groups = foreign.groups();
        for (kind, positions) in &groups.by_kind {
            index.by_kind.entry(*kind).or_default().extend(
                positions
                    .iter()
                    .map(|&p| &held[p])
                    .filter(|r| &r.account != account),
            );
        }
        index.groups = Some(groups);
        index.foreign_refs = groups.members.iter().flatten().map(|&p| &held[p]).collect();
        let others = foreign.coverage().iter().filter(|c| &c.account != account);
        for c in std::iter::once(coverage).chain(others.clone()) {
            index.collected.extend(
                c.collected
                    .iter()
                    .map(|(region, service)| (&c.account, region, service.as_str())),
            );
        }
        index.collected_somewhere = index.collected.iter().map(|&(a, _, s)| (a, s)).collect();
        index.gaps = group_gaps(
            std::iter::once(coverage)
                .chain(others)
                .flat_map(|c| c.gaps.iter().filter(|g| g.account == c.account)),
        );
        index.loaded = foreign.loaded().iter().cloned().collect();
        index.foreign = Some((foreign.id(), foreign.resources()));
        index
    }

    fn empty(collections: Collections, local: Option<AccountId>) -> Self {
        Self {
            id: next_id(),
            foreign: None,
            by_kind: HashMap::new(),
            by_account: HashMap::new(),
            by_scope: HashMap::new(),
            groups: None,
            foreign_refs: Vec::new(),
            collections,
            collected: HashSet::new(),
            collected_somewhere: HashSet::new(),
            gaps: HashMap::new(),
            local,
            loaded: HashSet::new(),
            wanted: RefCell::new(BTreeSet::new()),
            #[cfg(test)]
            reads: RefCell::new(BTreeSet::new()),
        }
    }

    fn add(&mut self, r: &'a Resource) {
        self.by_kind.entry(r.kind()).or_default().push(r);
        self.by_account
            .entry((r.kind(), r.account.clone()))
            .or_default()
            .push(r);
        self.by_scope
            .entry((r.kind(), r.account.clone(), r.region.clone()))
            .or_default()
            .push(r);
    }

    /// An id no other index of the process has: what a rule derives from the resources of
    /// one index (and caches) is keyed on it, since another index may hold other resources
    /// at the same addresses.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The resources of other accounts a one-account index was built with, and the id of
    /// the [`Foreign`] that holds them (see [`Foreign::id`]); `None` for a whole snapshot.
    pub fn foreign(&self) -> Option<(u64, &'a [Resource])> {
        self.foreign
    }

    /// The account this index evaluates, when it covers one account.
    pub fn local_account(&self) -> Option<&AccountId> {
        self.local.as_ref()
    }

    /// The resources of `kind` to evaluate: every one for a whole-snapshot index, the
    /// account's own for a one-account index.
    pub fn subjects(&self, kind: ResourceKind) -> &[&'a Resource] {
        let found = match &self.local {
            None => self.by_kind.get(&kind),
            Some(account) => self.by_account.get(&(kind, account.clone())),
        };
        found.map(Vec::as_slice).unwrap_or_default()
    }

    /// Every resource of `kind` in every account. On a one-account index this wants the
    /// kind from every account; use it only where a rule must look across accounts.
    pub fn everywhere(&self, kind: ResourceKind) -> &[&'a Resource] {
        self.read(kind.service());
        self.note(|| Want::Kind(kind), |_| false);
        self.by_kind
            .get(&kind)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every resource of `kind` in `account`, in any region.
    pub fn in_account(&self, kind: ResourceKind, account: &AccountId) -> &[&'a Resource] {
        self.read(kind.service());
        self.foreign_lookup(kind, account, None);
        let key = (kind, account.clone());
        match self.by_account.get(&key) {
            Some(found) => found,
            None => self.group(account, |g| g.by_account.get(&key)),
        }
    }

    /// Resources of `kind` in the account and region given as text (as parsed from an ARN);
    /// none when the text names no valid account or region.
    pub fn in_scope_named(
        &self,
        kind: ResourceKind,
        account: &str,
        region: &str,
    ) -> &[&'a Resource] {
        self.read(kind.service());
        let (Ok(account), Ok(region)) = (AccountId::new(account), Region::new(region)) else {
            return &[];
        };
        self.foreign_lookup(kind, &account, Some(&region));
        self.of_scope(kind, &account, &region)
    }

    /// Resources of `kind` in one account and region.
    pub fn in_scope(
        &self,
        kind: ResourceKind,
        account: &AccountId,
        region: &Region,
    ) -> impl Iterator<Item = &'a Resource> + '_ {
        self.read(kind.service());
        self.foreign_lookup(kind, account, Some(region));
        self.of_scope(kind, account, region).iter().copied()
    }

    /// The resources of `kind` in one account and region, wherever they are held.
    fn of_scope(
        &self,
        kind: ResourceKind,
        account: &AccountId,
        region: &Region,
    ) -> &[&'a Resource] {
        let key = (kind, account.clone(), region.clone());
        match self.by_scope.get(&key) {
            Some(found) => found,
            None => self.group(account, |g| g.by_scope.get(&key)),
        }
    }

    /// The resources of the `Foreign`'s group `id` finds; none for the local account (its
    /// own are all in the index's maps) or a whole-snapshot index.
    fn group(
        &self,
        account: &AccountId,
        id: impl FnOnce(&Groups) -> Option<&usize>,
    ) -> &[&'a Resource] {
        let Some(groups) = self.groups else {
            return &[];
        };
        if self.local.as_ref() == Some(account) {
            return &[];
        }
        let Some(&id) = id(groups) else {
            return &[];
        };
        groups
            .ranges
            .get(id)
            .and_then(|range| self.foreign_refs.get(range.clone()))
            .unwrap_or_default()
    }

    /// Notes that a rule read `service`'s data (in tests only: see `testing::run`).
    #[cfg_attr(not(test), inline(always))]
    fn read(&self, service: &str) {
        #[cfg(test)]
        self.reads.borrow_mut().insert(service.to_owned());
        #[cfg(not(test))]
        let _ = service;
    }

    /// The services whose data was looked up through this index.
    #[cfg(test)]
    pub(crate) fn reads(&self) -> BTreeSet<String> {
        self.reads.borrow().clone()
    }

    /// Notes a lookup into another account whose data is not loaded.
    fn foreign_lookup(&self, kind: ResourceKind, account: &AccountId, region: Option<&Region>) {
        self.note(
            || match region {
                Some(r) => Want::Scope(kind, account.clone(), r.clone()),
                None => Want::Account(kind, account.clone()),
            },
            |local| local == account,
        );
    }

    /// Records `want()` unless the index covers the whole snapshot, the lookup is `local`,
    /// or the data is loaded (by this want or a wider one).
    fn note(&self, want: impl FnOnce() -> Want, is_local: impl FnOnce(&AccountId) -> bool) {
        let Some(local) = &self.local else {
            return;
        };
        if is_local(local) {
            return;
        }
        let want = want();
        let loaded = |w: &Want| self.loaded.contains(w);
        let covered = match &want {
            Want::Kind(_) | Want::Coverage(_) => loaded(&want),
            Want::Account(k, _) => loaded(&want) || loaded(&Want::Kind(*k)),
            Want::Scope(k, a, _) => {
                loaded(&want) || loaded(&Want::Account(*k, a.clone())) || loaded(&Want::Kind(*k))
            }
        };
        if !covered {
            self.wanted.borrow_mut().insert(want);
        }
    }

    /// Data of other accounts that rules looked up and that is not loaded: when not empty,
    /// results computed with this index may be wrong and must be computed again with it.
    pub fn wanted(&self) -> Vec<Want> {
        self.wanted.borrow().iter().cloned().collect()
    }

    /// Whether `service`'s collector ran in `account` and `region` (a service left out of
    /// `scan.services` did not: finding nothing there proves nothing). On a one-account
    /// index, another account's collections are wanted until they are loaded.
    pub fn was_collected(&self, account: &AccountId, region: &Region, service: &str) -> bool {
        self.read(service);
        if self.collections == Collections::Unrecorded {
            return true;
        }
        self.note(|| Want::Coverage(account.clone()), |local| local == account);
        self.collected.contains(&(account, region, service))
    }

    /// Whether `service`'s collector ran in `account` in some region (or `global`).
    pub fn collected_somewhere(&self, account: &AccountId, service: &str) -> bool {
        if self.collections == Collections::Unrecorded {
            return true;
        }
        self.note(|| Want::Coverage(account.clone()), |local| local == account);
        self.collected_somewhere.contains(&(account, service))
    }

    /// Failed list calls (gaps with no resource) in `account`, sorted. On a one-account
    /// index, another account's are wanted until they are loaded.
    pub fn list_gaps_in(&self, account: &AccountId) -> &[&'a Gap] {
        self.note(|| Want::Coverage(account.clone()), |local| local == account);
        self.gaps
            .get(account)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Failed list calls of the accounts evaluated (every account, or the local one), by
    /// account.
    pub fn list_gaps(&self) -> Box<dyn Iterator<Item = &'a Gap> + '_> {
        match &self.local {
            Some(account) => Box::new(
                self.gaps
                    .get(account)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .copied(),
            ),
            None => {
                let mut accounts: Vec<&AccountId> = self.gaps.keys().collect();
                accounts.sort();
                Box::new(
                    accounts
                        .into_iter()
                        .flat_map(|a| self.gaps[a].iter().copied()),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use posture_model::synthetic;

    fn account(n: u64) -> AccountId {
        AccountId::new(format!("{:012}", 100_000_000_000 + n)).expect("valid")
    }

    #[test]
    fn a_one_account_index_evaluates_only_its_account_and_wants_what_it_lacks() {
        let regions = [Region::new("us-east-1").expect("valid")];
        let a: Vec<Resource> = (0..8)
            .map(|i| synthetic::resource(&account(1), &regions, i, 0))
            .collect();
        let b: Vec<Resource> = (0..8)
            .map(|i| synthetic::resource(&account(2), &regions, i, 0))
            .collect();
        let kind = a[0].kind();
        let gap = |n: u64| Gap {
            account: account(n),
            region: regions[0].clone(),
            service: "ec2".into(),
            operation: "ec2:DescribeFlowLogs".into(),
            resource: None,
            kind: posture_model::UnavailableKind::Denied,
            code: None,
            message: "denied".into(),
        };
        let coverage_of = |n: u64| AccountCoverage {
            account: account(n),
            collected: vec![(regions[0].clone(), "ec2".to_owned())],
            gaps: vec![gap(n)],
        };
        let own = coverage_of(1);
        let own_gaps = [gap(1)];
        let nothing = Foreign::default();
        let a1 = account(1);
        let index = SnapshotIndex::for_account(&a1, &a, &own, &nothing, Collections::Recorded);
        assert!(index.subjects(kind).iter().all(|r| r.account == account(1)));
        assert!(!index.subjects(kind).is_empty());
        // Local lookups want nothing.
        assert!(!index.in_account(kind, &account(1)).is_empty());
        assert_eq!(index.list_gaps_in(&account(1)), &[&own_gaps[0]]);
        assert!(index.wanted().is_empty());
        assert!(index.was_collected(&account(1), &regions[0], "ec2"));
        assert!(!index.was_collected(&account(1), &regions[0], "rds"));
        assert!(index.wanted().is_empty());
        // Another account's coverage is wanted, not read as "nothing failed" or "not
        // collected".
        assert!(index.list_gaps_in(&account(2)).is_empty());
        assert!(!index.was_collected(&account(2), &regions[0], "ec2"));
        assert_eq!(index.wanted(), vec![Want::Coverage(account(2))]);
        let index = SnapshotIndex::for_account(&a1, &a, &own, &nothing, Collections::Recorded);
        // A lookup into another account finds nothing yet and is wanted.
        assert!(
            index
                .in_scope(kind, &account(2), &regions[0])
                .next()
                .is_none()
        );
        assert!(
            index
                .everywhere(kind)
                .iter()
                .all(|r| r.account == account(1))
        );
        assert_eq!(
            index.wanted(),
            vec![
                Want::Kind(kind),
                Want::Scope(kind, account(2), regions[0].clone())
            ]
        );

        // Loaded, the same lookups find the other account's resources and want nothing;
        // the other account's resources are not subjects.
        let want = Want::Kind(kind);
        let mut foreign = Foreign::default();
        foreign.add(
            want.clone(),
            crate::Loaded::Resources(
                b.iter()
                    .chain(&a)
                    .filter(|r| want.covers(r))
                    .cloned()
                    .collect(),
            ),
        );
        foreign.add(
            Want::Coverage(account(2)),
            crate::Loaded::Coverage(coverage_of(2)),
        );
        let index = SnapshotIndex::for_account(&a1, &a, &own, &foreign, Collections::Recorded);
        assert_eq!(index.list_gaps_in(&account(2)).len(), 1);
        assert!(index.was_collected(&account(2), &regions[0], "ec2"));
        assert_eq!(
            index.list_gaps().count(),
            1,
            "the account's own failed calls are evaluated, not those loaded"
        );
        assert!(
            index
                .in_scope(kind, &account(2), &regions[0])
                .next()
                .is_some()
        );
        assert_eq!(
            index.everywhere(kind).len(),
            a.iter().chain(&b).filter(|r| r.kind() == kind).count(),
            "each resource once, though the account's own were loaded twice"
        );
        assert!(index.subjects(kind).iter().all(|r| r.account == account(1)));
        assert!(index.wanted().is_empty());
    }

    #[test]
    fn a_whole_snapshot_index_wants_nothing() {
        let regions = [Region::new("us-east-1").expect("valid")];
        let all: Vec<Resource> = (0..8)
            .map(|i| synthetic::resource(&account(i % 2), &regions, i, 0))
            .collect();
        let coverage = Coverage::default();
        let index = SnapshotIndex::new(&all, &coverage);
        let kind = all[0].kind();
        let _ = index.everywhere(kind);
        let _ = index.in_account(kind, &account(1));
        assert!(index.wanted().is_empty());
        assert_eq!(index.subjects(kind), index.everywhere(kind));
    }
}
