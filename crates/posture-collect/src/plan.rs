//! The scan plan (which regions and services) and the driver that runs every collector
//! concurrently and streams what they find.

use std::fmt;
use std::str::FromStr;

use futures::future::join_all;
use posture_model::resources::{AccountInfo, RegionInfo, account_arn, region_arn};
use posture_model::{AccountId, CollectionRecord, Gap, Observed, Region, Resource, ResourceBody};
use tokio::sync::mpsc;

use crate::Clients;
use crate::services;

/// A service Posture collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Amazon S3 (and the S3 Control account setting).
    S3,
    /// Amazon RDS.
    Rds,
    /// AWS IAM.
    Iam,
    /// Amazon EC2, VPC and EBS.
    Ec2,
    /// AWS KMS.
    Kms,
    /// AWS CloudTrail.
    CloudTrail,
}

impl Service {
    /// Every service, in collection order.
    pub const ALL: [Service; 6] = [
        Service::Iam,
        Service::S3,
        Service::Ec2,
        Service::Rds,
        Service::Kms,
        Service::CloudTrail,
    ];

    /// The lowercase service name (`s3`, `cloudtrail`, ...), as in IAM action prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::Rds => "rds",
            Service::Iam => "iam",
            Service::Ec2 => "ec2",
            Service::Kms => "kms",
            Service::CloudTrail => "cloudtrail",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown service {s:?}: expected one of s3, rds, iam, ec2, kms, cloudtrail")
            })
    }
}

/// What to collect in the account the credentials belong to.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Regions to scan (S3 buckets in other regions are skipped).
    pub regions: Vec<Region>,
    /// Services to collect.
    pub services: Vec<Service>,
}

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
    /// The receiver of the events went away (the scan was interrupted).
    #[error("the scan was cancelled")]
    Cancelled,
}

/// Identifies the account, then runs every (service, region) collector of `plan`
/// concurrently, sending what they find to `tx`. Returns the account scanned.
pub async fn collect(
    clients: &Clients,
    plan: &ScanPlan,
    tx: mpsc::Sender<Event>,
) -> Result<AccountId, CollectError> {
    let sts = clients.sts(&clients.home_region());
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| CollectError::Identity(crate::classify::classify(&e).message))?;
    let account = identity
        .account()
        .and_then(|a| AccountId::new(a).ok())
        .ok_or_else(|| {
            CollectError::Identity("the answer carried no valid account id".to_owned())
        })?;
    let caller = identity.arn().unwrap_or_default().to_owned();

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
            scanned_as: caller,
        }),
    })
    .await?;
    for region in &plan.regions {
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
        clients,
        account: &account,
        plan,
        tx: &tx,
    };
    let mut jobs = Vec::new();
    for service in &plan.services {
        match service {
            Service::Iam => jobs.push(Box::pin(services::iam::collect(&ctx)) as services::Job<'_>),
            Service::S3 => jobs.push(Box::pin(services::s3::collect(&ctx))),
            Service::Ec2 => {
                jobs.extend(
                    plan.regions
                        .iter()
                        .map(|r| Box::pin(services::ec2::collect(&ctx, r)) as services::Job<'_>),
                );
            }
            Service::Rds => {
                jobs.extend(
                    plan.regions
                        .iter()
                        .map(|r| Box::pin(services::rds::collect(&ctx, r)) as services::Job<'_>),
                );
            }
            Service::Kms => {
                jobs.extend(
                    plan.regions
                        .iter()
                        .map(|r| Box::pin(services::kms::collect(&ctx, r)) as services::Job<'_>),
                );
            }
            Service::CloudTrail => {
                jobs.extend(plan.regions.iter().map(|r| {
                    Box::pin(services::cloudtrail::collect(&ctx, r)) as services::Job<'_>
                }));
            }
        }
    }
    for result in join_all(jobs).await {
        result?;
    }
    Ok(account)
}
