//! The infrastructure-as-code provenance rules (`*_iac_provenance`, PHI resources only) on
//! every S3 bucket, EBS volume, RDS instance and cluster and EFS file system, as moto
//! reports them once every other seed has run.
//!
//! The S3 seed tags `phi-good-encrypted` `phi=true` with a Pulumi stack tag (`pulumi:stack`,
//! one of the rule's default provenance keys): pass, naming the stack. It tags
//! `phi-good-west` `phi=true` only: fail, a PHI bucket made by hand. The EFS seed tags one
//! file system `phi=true` without a stack: fail. Every other resource carries no tag of the
//! default PHI scope (`phi`, `data-classification`; the seeds' `data-class` is not one), so
//! the rules do not apply to it. moto cannot set `aws:cloudformation:*` tags (AWS reserves
//! the prefix to CloudFormation); the unit tests cover them.

use std::collections::BTreeMap;

use super::{PRIMARY, REGIONS, Seed, Step};
use crate::Status::{Fail, NotApplicable, Pass};

const S3: &str = "s3_bucket_iac_provenance";
const VOLUME: &str = "ebs_volume_iac_provenance";
const DB: &str = "rds_instance_iac_provenance";
const CLUSTER: &str = "rds_cluster_iac_provenance";
const EFS: &str = "efs_iac_provenance";

/// The provenance tag keys the rule accepts by default that the seeds use.
const STACK_KEYS: [&str; 3] = [
    "aws:cloudformation:stack-name",
    "aws:cloudformation:stack-id",
    "pulumi:stack",
];

/// Whether the default PHI scope holds a resource with `tags`.
fn is_phi(tags: &BTreeMap<String, String>) -> bool {
    tags.iter().any(|(k, v)| {
        let v = v.to_ascii_lowercase();
        (k == "phi" && matches!(v.as_str(), "true" | "yes" | "1"))
            || (k == "data-classification" && matches!(v.as_str(), "phi" | "ephi"))
    })
}

fn expect(s: &mut Seed, rule: &str, arn: &str, what: &str, tags: &BTreeMap<String, String>) {
    if !is_phi(tags) {
        s.expect(
            rule,
            arn,
            NotApplicable,
            format!("{what}: not tagged as holding PHI"),
        );
    } else if let Some(key) = STACK_KEYS.iter().find(|k| tags.contains_key(**k)) {
        s.expect(
            rule,
            arn,
            Pass,
            format!("{what}: PHI, made by a stack ({key} = {})", tags[*key]),
        );
    } else {
        s.expect(
            rule,
            arn,
            Fail,
            format!("{what}: PHI without a provenance tag: made by hand"),
        );
    }
}

pub(crate) async fn seed(s: &mut Seed) -> anyhow::Result<()> {
    let account = s.account.clone();
    let s3 = aws_sdk_s3::Client::new(&s.config(PRIMARY));
    let buckets = s3
        .list_buckets()
        .send()
        .await
        .step("s3 ListBuckets".to_owned())?;
    for b in buckets.buckets() {
        let name = b.name().unwrap_or_default().to_owned();
        // No tag set is an error answer (NoSuchTagSet): no tags.
        let tags: BTreeMap<String, String> =
            match s3.get_bucket_tagging().bucket(&name).send().await {
                Ok(out) => out
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                Err(_) => BTreeMap::new(),
            };
        expect(
            s,
            S3,
            &format!("arn:aws:s3:::{name}"),
            &format!("bucket {name}"),
            &tags,
        );
    }
    for region in REGIONS {
        let config = s.config(region);
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let volumes = ec2
            .describe_volumes()
            .send()
            .await
            .step(format!("ec2 DescribeVolumes {region}"))?;
        for v in volumes.volumes() {
            let id = v.volume_id().unwrap_or_default();
            let tags = v
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let arn = format!("arn:aws:ec2:{region}:{account}:volume/{id}");
            expect(s, VOLUME, &arn, &format!("volume {id}"), &tags);
        }
        let rds = aws_sdk_rds::Client::new(&config);
        let rds_tags = |list: &[aws_sdk_rds::types::Tag]| -> BTreeMap<String, String> {
            list.iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        };
        let dbs = rds
            .describe_db_instances()
            .send()
            .await
            .step(format!("rds DescribeDBInstances {region}"))?;
        for db in dbs.db_instances() {
            let id = db.db_instance_identifier().unwrap_or_default();
            let arn = db
                .db_instance_arn()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("arn:aws:rds:{region}:{account}:db:{id}"));
            let tags = rds_tags(db.tag_list());
            expect(s, DB, &arn, &format!("DB instance {id}"), &tags);
        }
        let clusters = rds
            .describe_db_clusters()
            .send()
            .await
            .step(format!("rds DescribeDBClusters {region}"))?;
        for c in clusters.db_clusters() {
            let id = c.db_cluster_identifier().unwrap_or_default();
            let arn = c
                .db_cluster_arn()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("arn:aws:rds:{region}:{account}:cluster:{id}"));
            let tags = rds_tags(c.tag_list());
            expect(s, CLUSTER, &arn, &format!("DB cluster {id}"), &tags);
        }
        let efs = aws_sdk_efs::Client::new(&config);
        let systems = efs
            .describe_file_systems()
            .send()
            .await
            .step(format!("efs DescribeFileSystems {region}"))?;
        for fs in systems.file_systems() {
            let id = fs.file_system_id();
            let arn = fs.file_system_arn().map(str::to_owned).unwrap_or_else(|| {
                format!("arn:aws:elasticfilesystem:{region}:{account}:file-system/{id}")
            });
            let tags = fs
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            expect(s, EFS, &arn, &format!("file system {id}"), &tags);
        }
    }
    Ok(())
}
