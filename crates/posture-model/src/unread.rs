//! What a scan could not read: the (region, resource kind) pairs of one account whose
//! resources a snapshot does not know, because the list call that enumerates them failed
//! (denied, throttled out, not implemented, unreachable), the collection did not run, or
//! the account could not be entered.
//!
//! One scope, computed once from the coverage record, that every place deciding "is it
//! gone?" reads: the store does not retire the resources or forget the findings inside it,
//! drift reports neither `removed` nor `resolved` inside it, and the pipeline carries a
//! finding of an unread resource forward as `error` (`new_error`, never `resolved`). A
//! service the user left out of the scan is not unread: it is outside the scan's scope
//! altogether.
//!
//! Invariants: pure; a failed list call whose operation [`crate::catalog`] does not know
//! to list a kind makes every kind of its service unread in that region (the safe side: a removal is
//! reported one scan late, never a fix that nobody saw).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    ACCOUNT_UNREACHABLE_OPERATION, Gap, Region, ResourceKind, Unavailable, UnavailableKind,
};

/// The kinds a failed list call hides: the table's, or every kind of its service.
/// A call the table knows hides exactly the kinds it lists (none for a call that reads a
/// setting or enriches listed resources, such as `rds:DescribeCertificates`); a call it
/// does not know hides every kind of its service.
fn hidden_by(gap: &Gap) -> Vec<ResourceKind> {
    match crate::catalog::call_named(&gap.operation) {
        Some(call) => call.lists.to_vec(),
        None => kinds_of(&gap.service),
    }
}

fn kinds_of(service: &str) -> Vec<ResourceKind> {
    ResourceKind::ALL
        .iter()
        .copied()
        .filter(|k| k.service() == service)
        .collect()
}

/// The unread part of one account in one scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unread {
    /// Why the whole account is unread (its role could not be assumed), if it is.
    whole: Option<Unavailable>,
    /// (region, kind) → why. Regions are explicit: a failed global listing (S3's
    /// `ListBuckets`) is expanded to every scanned region and `global`.
    parts: BTreeMap<(Region, ResourceKind), Unavailable>,
}

/// What the scan of one account set out to read and what it recorded.
#[derive(Debug, Clone, Copy)]
pub struct AccountScan<'a> {
    /// The scanned regions (without `global`, which every scan includes).
    pub regions: &'a [Region],
    /// The services the scan collected (the user's selection).
    pub services: &'a [String],
    /// The (region, service) of each collection that ran in the account.
    pub collected: &'a [(Region, String)],
    /// The account's failed calls; calls about one resource (`resource: Some`) are ignored.
    pub gaps: &'a [Gap],
}

impl Unread {
    /// Nothing unread.
    pub fn none() -> Self {
        Self::default()
    }

    /// Computes the unread scope of one account from its coverage record.
    pub fn of_account(scan: &AccountScan<'_>) -> Self {
        let mut out = Unread::none();
        let mut all_regions: Vec<Region> = scan.regions.to_vec();
        all_regions.push(Region::global());
        let list_gaps = scan.gaps.iter().filter(|g| g.resource.is_none());
        for gap in list_gaps.clone() {
            if gap.operation == ACCOUNT_UNREACHABLE_OPERATION {
                out.whole = Some(cause(gap));
                return out;
            }
        }
        for service in scan.services {
            let ran = |r: &Region| {
                scan.collected
                    .iter()
                    .any(|(region, s)| s == service && region == r)
            };
            let regions: Vec<&Region> = if ran(&Region::global()) {
                // Collected once for the account (IAM, the S3 listing): read everywhere.
                Vec::new()
            } else if scan.collected.iter().any(|(_, s)| s == service) {
                scan.regions.iter().filter(|r| !ran(r)).collect()
            } else {
                // No collection of the service ran anywhere in the account.
                all_regions.iter().collect()
            };
            for region in regions {
                for kind in kinds_of(service) {
                    out.parts
                        .entry((region.clone(), kind))
                        .or_insert_with(|| Unavailable {
                            kind: UnavailableKind::NotCollected,
                            operation: format!("{service}:*"),
                            code: None,
                            message: format!("no {service} collection ran in {region}"),
                        });
                }
            }
        }
        for gap in list_gaps {
            let regions: Vec<Region> = if gap.region.is_global() {
                all_regions.clone()
            } else {
                vec![gap.region.clone()]
            };
            for kind in hidden_by(gap) {
                for region in &regions {
                    out.parts
                        .entry((region.clone(), kind))
                        .or_insert_with(|| cause(gap));
                }
            }
        }
        out
    }

    /// Why resources of `kind` in `region` were not read, or `None` when they were.
    pub fn cause(&self, region: &Region, kind: ResourceKind) -> Option<&Unavailable> {
        if kind.service() == "posture" {
            // The account and region subjects are the scan's own.
            return None;
        }
        self.whole
            .as_ref()
            .or_else(|| self.parts.get(&(region.clone(), kind)))
    }

    /// Whether resources of `kind` in `region` were not read.
    pub fn contains(&self, region: &Region, kind: ResourceKind) -> bool {
        self.cause(region, kind).is_some()
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.whole.is_none() && self.parts.is_empty()
    }

    /// Every unread (region, kind), with the whole-account case expanded over `regions`
    /// and `global`; for staging in a table that SQL can join on.
    pub fn pairs(&self, regions: &[Region]) -> Vec<(Region, ResourceKind)> {
        if self.whole.is_some() {
            let mut all: Vec<Region> = regions.to_vec();
            all.push(Region::global());
            return all
                .into_iter()
                .flat_map(|r| {
                    ResourceKind::ALL
                        .iter()
                        .filter(|k| k.service() != "posture")
                        .map(move |k| (r.clone(), *k))
                })
                .collect();
        }
        self.parts.keys().cloned().collect()
    }
}

fn cause(gap: &Gap) -> Unavailable {
    Unavailable {
        kind: gap.kind,
        operation: gap.operation.clone(),
        code: gap.code.clone(),
        message: gap.message.clone(),
    }
}

/// An unread cause as evidence: `{"operation", "failure", "code", "message"}`.
pub fn unread_evidence(why: &Unavailable) -> serde_json::Value {
    #[derive(Serialize)]
    struct E<'a> {
        operation: &'a str,
        failure: UnavailableKind,
        code: &'a Option<String>,
        message: &'a str,
    }
    serde_json::to_value(E {
        operation: &why.operation,
        failure: why.kind,
        code: &why.code,
        message: &why.message,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountId;

    fn acct() -> AccountId {
        AccountId::new("111122223333").unwrap()
    }
    fn r(name: &str) -> Region {
        Region::new(name).unwrap()
    }
    fn gap(region: &str, service: &str, op: &str) -> Gap {
        Gap {
            account: acct(),
            region: r(region),
            service: service.into(),
            operation: op.into(),
            resource: None,
            kind: UnavailableKind::Denied,
            code: Some("AccessDenied".into()),
            message: "not authorized".into(),
        }
    }

    fn services() -> Vec<String> {
        ["iam", "s3", "rds", "ec2"].map(String::from).to_vec()
    }

    /// The unread scope of a scan of IAM, S3, RDS and EC2 in `regions`.
    fn of(regions: &[Region], collected: &[(Region, String)], gaps: &[Gap]) -> Unread {
        Unread::of_account(&AccountScan {
            regions,
            services: &services(),
            collected,
            gaps,
        })
    }

    fn full_collection(regions: &[Region]) -> Vec<(Region, String)> {
        let mut c = vec![
            (Region::global(), "iam".to_owned()),
            (Region::global(), "s3".to_owned()),
        ];
        for region in regions {
            c.push((region.clone(), "rds".into()));
            c.push((region.clone(), "ec2".into()));
        }
        c
    }

    #[test]
    fn a_denied_list_call_hides_only_its_kinds_in_its_region() {
        let regions = [r("us-east-1"), r("eu-west-1")];
        let gaps = [gap("us-east-1", "rds", "rds:DescribeDBInstances")];
        let collected = full_collection(&regions);
        let u = of(&regions, &collected, &gaps);
        let why = u.cause(&r("us-east-1"), ResourceKind::RdsInstance).unwrap();
        assert_eq!(why.operation, "rds:DescribeDBInstances");
        assert_eq!(why.kind, UnavailableKind::Denied);
        assert!(!u.contains(&r("us-east-1"), ResourceKind::RdsCluster));
        assert!(!u.contains(&r("eu-west-1"), ResourceKind::RdsInstance));
        assert!(!u.contains(&r("us-east-1"), ResourceKind::Volume));
        assert_eq!(
            u.pairs(&regions),
            vec![(r("us-east-1"), ResourceKind::RdsInstance)]
        );
    }

    #[test]
    fn an_unknown_list_operation_hides_its_whole_service_there() {
        let regions = [r("us-east-1")];
        let gaps = [gap("us-east-1", "rds", "rds:DescribeSomethingNew")];
        let collected = full_collection(&regions);
        let u = of(&regions, &collected, &gaps);
        for kind in kinds_of("rds") {
            assert!(u.contains(&r("us-east-1"), kind), "{kind}");
        }
        assert!(!u.contains(&r("us-east-1"), ResourceKind::Instance));
    }

    /// Regression (found by running the demo twice into one store): moto does not
    /// implement `rds:DescribeCertificates`; its failure, a list-level gap that lists no
    /// kind, froze every RDS kind, so the first run's deleted snapshots were carried as
    /// `error` instead of removed.
    #[test]
    fn a_failed_call_that_lists_nothing_hides_nothing() {
        let regions = [r("us-east-1")];
        let gaps = [
            gap("us-east-1", "rds", "rds:DescribeCertificates"),
            gap("us-east-1", "rds", "rds:DescribeDBParameters"),
        ];
        let collected = full_collection(&regions);
        let u = of(&regions, &collected, &gaps);
        assert!(u.is_empty(), "{u:?}");
    }

    #[test]
    fn a_failed_global_listing_hides_buckets_in_every_region() {
        let regions = [r("us-east-1"), r("eu-west-1")];
        let gaps = [gap("global", "s3", "s3:ListBuckets")];
        let collected = full_collection(&regions);
        let u = of(&regions, &collected, &gaps);
        for region in [r("us-east-1"), r("eu-west-1"), Region::global()] {
            assert!(u.contains(&region, ResourceKind::S3Bucket));
        }
        assert!(!u.contains(&r("us-east-1"), ResourceKind::S3AccessPoint));
    }

    #[test]
    fn a_collection_that_did_not_run_is_unread_and_one_that_ran_globally_is_read() {
        let regions = [r("us-east-1"), r("eu-west-1")];
        // EC2 ran only in us-east-1; RDS nowhere; IAM and S3 globally.
        let collected = vec![
            (Region::global(), "iam".to_owned()),
            (Region::global(), "s3".to_owned()),
            (r("us-east-1"), "ec2".to_owned()),
        ];
        let u = of(&regions, &collected, &[]);
        assert!(!u.contains(&r("us-east-1"), ResourceKind::Volume));
        let why = u.cause(&r("eu-west-1"), ResourceKind::Volume).unwrap();
        assert_eq!(why.kind, UnavailableKind::NotCollected);
        assert!(u.contains(&r("us-east-1"), ResourceKind::RdsInstance));
        assert!(u.contains(&Region::global(), ResourceKind::RdsInstance));
        assert!(!u.contains(&Region::global(), ResourceKind::IamRole));
        assert!(!u.contains(&r("eu-west-1"), ResourceKind::S3Bucket));
    }

    #[test]
    fn an_account_that_could_not_be_entered_is_unread_whole_but_keeps_its_subjects() {
        let regions = [r("us-east-1")];
        let gaps = [gap("global", "sts", ACCOUNT_UNREACHABLE_OPERATION)];
        let u = of(&regions, &[], &gaps);
        assert!(u.contains(&r("us-east-1"), ResourceKind::Volume));
        assert!(u.contains(&Region::global(), ResourceKind::IamRole));
        assert!(!u.contains(&r("us-east-1"), ResourceKind::Region));
        let pairs = u.pairs(&regions);
        assert!(pairs.contains(&(Region::global(), ResourceKind::IamUser)));
        assert!(!pairs.iter().any(|(_, k)| *k == ResourceKind::Account));
    }

    #[test]
    fn a_per_resource_failure_hides_nothing() {
        let regions = [r("us-east-1")];
        let mut g = gap("global", "s3", "s3:GetBucketEncryption");
        g.resource = Some(crate::Arn::new("arn:aws:s3:::b").unwrap());
        let collected = full_collection(&regions);
        let u = of(&regions, &collected, &[g]);
        assert!(u.is_empty());
    }
}
