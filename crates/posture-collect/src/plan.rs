//! The scan plan (which regions and services) and the driver that runs every collector
//! concurrently and streams what they find.

use futures::StreamExt;
use futures::future::join_all;
use posture_model::resources::{AccountInfo, RegionInfo, account_arn, region_arn};
use posture_model::{
    AccountId, CollectionRecord, Gap, Observed, Region, Resource, ResourceBody, UnavailableKind,
};
use tokio::sync::mpsc;

use crate::Clients;
use crate::services;

pub use posture_model::Service;

/// Which accounts to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// The account the credentials belong to.
    Caller,
    /// These accounts (the caller's directly, the others through the role).
    List(Vec<AccountId>),
    /// Every active account of the AWS Organization (from the management account or a
    /// delegated administrator).
    Organization,
}

/// The read-only role Posture assumes in member accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleOptions {
    /// Role name, the same in every member account.
    pub name: String,
    /// External id the role's trust policy requires, if any.
    pub external_id: Option<String>,
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Which accounts.
    pub accounts: AccountSource,
    /// Only these accounts (empty: no restriction).
    pub include_accounts: Vec<AccountId>,
    /// Never these accounts.
    pub exclude_accounts: Vec<AccountId>,
    /// The role to assume in accounts other than the caller's.
    pub role: Option<RoleOptions>,
    /// Regions to scan where enabled; empty: every region enabled in each account.
    pub regions: Vec<Region>,
    /// Never these regions.
    pub exclude_regions: Vec<Region>,
    /// Services to collect.
    pub services: Vec<Service>,
    /// Accounts scanned at the same time.
    pub max_parallel_accounts: usize,
}

impl ScanPlan {
    /// A plan for the caller's account in `regions`.
    pub fn single(regions: Vec<Region>, services: Vec<Service>) -> Self {
        Self {
            accounts: AccountSource::Caller,
            include_accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            role: None,
            regions,
            exclude_regions: Vec::new(),
            services,
            max_parallel_accounts: 4,
        }
    }
}

/// What a scan covered.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// Accounts collected, sorted.
    pub accounts: Vec<AccountId>,
    /// Accounts that could not be entered, with the reason.
    pub unreachable: Vec<(AccountId, String)>,
    /// Every region scanned in some account, sorted.
    pub regions: Vec<Region>,
}

pub use posture_model::ACCOUNT_UNREACHABLE_OPERATION;

/// Something the collectors found, streamed to the caller as it happens.
#[derive(Debug)]
pub enum Event {
    /// A resource.
    Resource(Box<Resource>),
    /// A call that failed.
    Gap(Gap),
    /// One (account, region, service) collection finished.
    Collected(CollectionRecord),
}

/// The scan could not start or was abandoned.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// `sts:GetCallerIdentity` failed, so there is no account to scan.
    #[error(
        "could not identify the AWS account (sts:GetCallerIdentity): {0}; check the credentials, profile and endpoint"
    )]
    Identity(String),
    /// The accounts of the organization could not be listed.
    #[error(
        "could not list the organization's accounts (organizations:ListAccounts): {0}; scan from the management account or a delegated administrator, or list the accounts in accounts.ids"
    )]
    Discovery(String),
    /// The receiver of the events went away (the scan was interrupted).
    #[error("the scan was cancelled")]
    Cancelled,
}

/// Resolves the accounts of `plan`, then collects each (up to `max_parallel_accounts` at a
/// time; services and regions concurrently within one), streaming what it finds to `tx`.
/// An account that cannot be entered is reported as a gap and the others complete.
pub async fn collect(
    clients: &Clients,
    plan: &ScanPlan,
    tx: mpsc::Sender<Event>,
) -> Result<ScanOutcome, CollectError> {
    let (caller, caller_arn) = identify(clients).await?;
    let accounts = resolve_accounts(clients, plan, &caller).await?;
    let results: Vec<Result<AccountResult, CollectError>> = futures::stream::iter(accounts)
        .map(|account| collect_account(clients, plan, &caller, &caller_arn, account, &tx))
        .buffer_unordered(plan.max_parallel_accounts.max(1))
        .collect()
        .await;
    let mut outcome = ScanOutcome::default();
    let mut regions = std::collections::BTreeSet::new();
    for r in results {
        match r? {
            AccountResult::Scanned(account, scanned) => {
                regions.extend(scanned);
                outcome.accounts.push(account);
            }
            AccountResult::Unreachable(account, why) => outcome.unreachable.push((account, why)),
        }
    }
    outcome.accounts.sort();
    outcome.unreachable.sort();
    outcome.regions = regions.into_iter().collect();
    Ok(outcome)
}

async fn unreachable(
    tx: &mpsc::Sender<Event>,
    account: AccountId,
    why: String,
    kind: UnavailableKind,
) -> Result<AccountResult, CollectError> {
    tracing::warn!(%account, reason = %why, "account skipped");
    let gap = Gap {
        account: account.clone(),
        region: Region::global(),
        service: "sts".to_owned(),
        operation: ACCOUNT_UNREACHABLE_OPERATION.to_owned(),
        resource: None,
        kind,
        code: None,
        message: why.clone(),
    };
    tx.send(Event::Gap(gap))
        .await
        .map_err(|_| CollectError::Cancelled)?;
    Ok(AccountResult::Unreachable(account, why))
}

enum AccountResult {
    Scanned(AccountId, Vec<Region>),
    Unreachable(AccountId, String),
}

async fn identify(clients: &Clients) -> Result<(AccountId, String), CollectError> {
    let identity = clients
        .sts(&clients.home_region())
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            let err = crate::classify::classify(&e);
            let at = clients
                .endpoint_url()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default();
            if err.message.contains("loading credentials") {
                CollectError::Identity(format!(
                    "no AWS credentials could be loaded (environment, shared profile, SSO, container or instance role){at}"
                ))
            } else {
                CollectError::Identity(format!("{}{at}", err.message))
            }
        })?;
    let account = identity
        .account()
        .and_then(|a| AccountId::new(a).ok())
        .ok_or_else(|| {
            CollectError::Identity("the answer carried no valid account id".to_owned())
        })?;
    Ok((account, identity.arn().unwrap_or_default().to_owned()))
}

/// The accounts `plan` names, after include and exclude, sorted: the caller's own
/// (`sts:GetCallerIdentity`), the listed ones, or the organization's active accounts
/// (`organizations:ListAccounts`). What a scan of `plan` would cover, for a scheduler that
/// hands accounts out in batches.
pub async fn plan_accounts(
    clients: &Clients,
    plan: &ScanPlan,
) -> Result<Vec<AccountId>, CollectError> {
    let (caller, _) = identify(clients).await?;
    resolve_accounts(clients, plan, &caller).await
}

async fn resolve_accounts(
    clients: &Clients,
    plan: &ScanPlan,
    caller: &AccountId,
) -> Result<Vec<AccountId>, CollectError> {
    let mut accounts = match &plan.accounts {
        AccountSource::Caller => vec![caller.clone()],
        AccountSource::List(ids) => ids.clone(),
        AccountSource::Organization => {
            let org = clients.organizations(&clients.home_region());
            let mut found = Vec::new();
            let mut pages = org.list_accounts().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page
                    .map_err(|e| CollectError::Discovery(crate::classify::classify(&e).message))?;
                for a in page.accounts() {
                    #[allow(
                        deprecated,
                        reason = "`status` is what every Organizations endpoint still returns"
                    )]
                    let active = a.status().is_none_or(|s| s.as_str() == "ACTIVE");
                    if let (true, Some(id)) =
                        (active, a.id().and_then(|id| AccountId::new(id).ok()))
                    {
                        found.push(id);
                    }
                }
            }
            found
        }
    };
    accounts.sort();
    accounts.dedup();
    accounts.retain(|a| {
        (plan.include_accounts.is_empty() || plan.include_accounts.contains(a))
            && !plan.exclude_accounts.contains(a)
    });
    Ok(accounts)
}

async fn collect_account(
    base: &Clients,
    plan: &ScanPlan,
    caller: &AccountId,
    caller_arn: &str,
    account: AccountId,
    tx: &mpsc::Sender<Event>,
) -> Result<AccountResult, CollectError> {
    let (clients, scanned_as) = if &account == caller {
        (base.for_account(account.as_str()), caller_arn.to_owned())
    } else {
        let Some(role) = &plan.role else {
            return unreachable(tx, account.clone(),
                format!("account {account} is not the caller's and no role is configured (set accounts.role_name)"),
                UnavailableKind::NotCollected,
            )
            .await;
        };
        match base
            .assume_role(account.as_str(), &role.name, role.external_id.as_deref())
            .await
        {
            Ok(c) => (
                c,
                format!("arn:aws:sts::{account}:assumed-role/{}/posture", role.name),
            ),
            Err(e) => return unreachable(tx, account.clone(), e.to_string(), e.kind).await,
        }
    };

    // The regions enabled in this account (opt-in regions may be off), within the plan.
    let home = clients.home_region();
    let enabled = clients
        .ec2(&home)
        .describe_regions()
        .all_regions(false)
        .send()
        .await;
    let mut regions: Vec<Region> = match enabled {
        Ok(out) => {
            let enabled: Vec<Region> = out
                .regions()
                .iter()
                .filter_map(|r| r.region_name().and_then(|n| Region::new(n).ok()))
                .collect();
            if plan.regions.is_empty() {
                enabled
            } else {
                for r in plan.regions.iter().filter(|r| !enabled.contains(r)) {
                    tracing::warn!(%account, region = %r, "region not enabled in the account; skipped");
                }
                plan.regions
                    .iter()
                    .filter(|r| enabled.contains(r))
                    .cloned()
                    .collect()
            }
        }
        Err(e) => {
            let err = crate::classify::classify(&e);
            if plan.regions.is_empty() {
                return unreachable(
                    tx,
                    account.clone(),
                    format!(
                        "cannot list the account's enabled regions (ec2:DescribeRegions): {}",
                        err.message
                    ),
                    err.kind,
                )
                .await;
            }
            tracing::warn!(%account, error = %err.message, "cannot list enabled regions; scanning the configured ones");
            plan.regions.clone()
        }
    };
    regions.retain(|r| !plan.exclude_regions.contains(r));
    regions.sort();

    let send = |r: Resource| {
        let tx = tx.clone();
        async move {
            tx.send(Event::Resource(Box::new(r)))
                .await
                .map_err(|_| CollectError::Cancelled)
        }
    };
    send(Resource {
        arn: account_arn(&account),
        account: account.clone(),
        region: Region::global(),
        tags: Observed::Absent,
        body: ResourceBody::Account(AccountInfo {
            account_id: account.clone(),
            scanned_as,
        }),
    })
    .await?;
    for region in &regions {
        send(Resource {
            arn: region_arn(&account, region),
            account: account.clone(),
            region: region.clone(),
            tags: Observed::Absent,
            body: ResourceBody::Region(RegionInfo {
                name: region.clone(),
            }),
        })
        .await?;
    }

    let ctx = services::Ctx {
        clients: &clients,
        account: &account,
        regions: &regions,
        tx,
    };
    let mut jobs = Vec::new();
    for service in &plan.services {
        match service {
            Service::Iam => jobs.push(Box::pin(services::iam::collect(&ctx)) as services::Job<'_>),
            Service::S3 => jobs.push(Box::pin(services::s3::collect(&ctx))),
            Service::Ec2 => {
                jobs.extend(
                    regions
                        .iter()
                        .map(|r| Box::pin(services::ec2::collect(&ctx, r)) as services::Job<'_>),
                );
            }
            Service::Rds => {
                jobs.extend(
                    regions
                        .iter()
                        .map(|r| Box::pin(services::rds::collect(&ctx, r)) as services::Job<'_>),
                );
            }
            Service::Kms => {
                jobs.extend(
                    regions
                        .iter()
                        .map(|r| Box::pin(services::kms::collect(&ctx, r)) as services::Job<'_>),
                );
            }
            Service::CloudTrail => {
                jobs.extend(regions.iter().map(|r| {
                    Box::pin(services::cloudtrail::collect(&ctx, r)) as services::Job<'_>
                }));
            }
            Service::Efs => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::efs::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::Backup => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::backup::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::CloudWatch => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::cloudwatch::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::Elb => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::elb::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::Acm => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::acm::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::GuardDuty => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::guardduty::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::Config => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::config::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::SecretsManager => jobs.extend(regions.iter().map(|r| {
                Box::pin(services::secretsmanager::collect(&ctx, r)) as services::Job<'_>
            })),
            Service::AccessAnalyzer => jobs.extend(regions.iter().map(|r| {
                Box::pin(services::accessanalyzer::collect(&ctx, r)) as services::Job<'_>
            })),
            Service::SecurityHub => {
                jobs.extend(regions.iter().map(|r| {
                    Box::pin(services::securityhub::collect(&ctx, r)) as services::Job<'_>
                }))
            }
            Service::AutoScaling => {
                jobs.extend(regions.iter().map(|r| {
                    Box::pin(services::autoscaling::collect(&ctx, r)) as services::Job<'_>
                }))
            }
            Service::Ssm => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::ssm::collect(&ctx, r)) as services::Job<'_>),
            ),
            Service::Macie => jobs.extend(
                regions
                    .iter()
                    .map(|r| Box::pin(services::macie::collect(&ctx, r)) as services::Job<'_>),
            ),
        }
    }
    for result in join_all(jobs).await {
        result?;
    }
    Ok(AccountResult::Scanned(account, regions))
}
