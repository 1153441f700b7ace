//! An index over one snapshot's resources, built once per evaluation so rules can look up
//! related resources (a bucket's account setting, a VPC's flow logs) without scanning the
//! whole estate each time.

use std::collections::HashMap;

use posture_model::{AccountId, Coverage, Gap, Region, Resource, ResourceKind};

type ScopeKey = (ResourceKind, AccountId, Region);

/// Resources grouped by kind, by (kind, account) and by (kind, account, region): rules look
/// up related resources within an account, so a lookup costs the same whether the snapshot
/// holds one account or thousands.
#[derive(Debug)]
pub struct SnapshotIndex<'a> {
    by_kind: HashMap<ResourceKind, Vec<&'a Resource>>,
    by_account: HashMap<(ResourceKind, AccountId), Vec<&'a Resource>>,
    by_scope: HashMap<ScopeKey, Vec<&'a Resource>>,
    list_gaps: Vec<Gap>,
    /// (account, region, service) of every collection that ran; `None` when the coverage
    /// carries no collection records at all (fixtures and benchmarks evaluate bare
    /// resources), in which case everything counts as collected.
    collected: Option<std::collections::HashSet<(AccountId, Region, String)>>,
}

impl<'a> SnapshotIndex<'a> {
    /// Indexes `resources`; `coverage` supplies the gaps.
    pub fn new(resources: &'a [Resource], coverage: &Coverage) -> Self {
        let mut by_kind: HashMap<ResourceKind, Vec<&'a Resource>> = HashMap::new();
        let mut by_account: HashMap<(ResourceKind, AccountId), Vec<&'a Resource>> = HashMap::new();
        let mut by_scope: HashMap<ScopeKey, Vec<&'a Resource>> = HashMap::new();
        for r in resources {
            by_kind.entry(r.kind()).or_default().push(r);
            by_account
                .entry((r.kind(), r.account.clone()))
                .or_default()
                .push(r);
            by_scope
                .entry((r.kind(), r.account.clone(), r.region.clone()))
                .or_default()
                .push(r);
        }
        let list_gaps = coverage
            .failed
            .iter()
            .filter(|g| g.resource.is_none())
            .cloned()
            .collect();
        let collected = (!coverage.collected.is_empty()).then(|| {
            coverage
                .collected
                .iter()
                .map(|c| (c.account.clone(), c.region.clone(), c.service.clone()))
                .collect()
        });
        Self {
            by_kind,
            by_account,
            by_scope,
            list_gaps,
            collected,
        }
    }

    /// Every resource of `kind`.
    pub fn of_kind(&self, kind: ResourceKind) -> &[&'a Resource] {
        self.by_kind
            .get(&kind)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every resource of `kind` in `account`, in any region.
    pub fn in_account(&self, kind: ResourceKind, account: &AccountId) -> &[&'a Resource] {
        self.by_account
            .get(&(kind, account.clone()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Resources of `kind` in the account and region given as text (as parsed from an ARN);
    /// none when the text names no valid account or region.
    pub fn in_scope_named(
        &self,
        kind: ResourceKind,
        account: &str,
        region: &str,
    ) -> &[&'a Resource] {
        let (Ok(account), Ok(region)) = (AccountId::new(account), Region::new(region)) else {
            return &[];
        };
        self.by_scope
            .get(&(kind, account, region))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Resources of `kind` in one account and region.
    pub fn in_scope(
        &self,
        kind: ResourceKind,
        account: &AccountId,
        region: &Region,
    ) -> impl Iterator<Item = &'a Resource> + '_ {
        self.by_scope
            .get(&(kind, account.clone(), region.clone()))
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
    }

    /// Whether `service`'s collector ran in `account` and `region` (a service left out of
    /// `scan.services` did not: finding nothing there proves nothing).
    pub fn was_collected(&self, account: &AccountId, region: &Region, service: &str) -> bool {
        self.collected
            .as_ref()
            .is_none_or(|set| set.contains(&(account.clone(), region.clone(), service.to_owned())))
    }

    /// Failed list calls (gaps with no resource).
    pub fn list_gaps(&self) -> &[Gap] {
        &self.list_gaps
    }
}
