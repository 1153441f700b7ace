//! AWS Backup: plans and vaults that pass and fail the Backup rules, and the backup-plan
//! membership expectations of every EBS volume, EC2 instance and RDS instance and cluster
//! the earlier seeds (and moto) created.
//!
//! moto 5.2.5 serves backup plans and vaults (with Vault Lock) but not backup selections
//! (ListBackupSelections answers HTTP 500), vault access policies or recovery points (HTTP
//! 404). So in us-east-1, where the plans are, no resource can be shown to be in a plan
//! and membership is `error` (never `pass`); us-west-2 has no plan, so membership is
//! `fail` there. Run this after every seed that creates volumes, instances or databases.

use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput, Lifecycle};

use super::{Keys, PRIMARY, REGIONS, SECONDARY, Seed, Step};
use crate::Status::{Error, Fail, NotApplicable, Pass};

const PLAN: &str = "backup_plan_min_frequency_retention";
const VAULT_ENC: &str = "backup_vault_encrypted";
const NO_DELETE: &str = "backup_recovery_point_manual_deletion_disabled";
const POINT_ENC: &str = "backup_recovery_point_encrypted";
const POINT_RETENTION: &str = "backup_recovery_point_min_retention";
const VOLUME: &str = "ebs_volume_in_backup_plan";
const INSTANCE: &str = "ec2_instance_in_backup_plan";
const DB: &str = "rds_instance_in_backup_plan";
const CLUSTER: &str = "rds_cluster_in_backup_plan";

const NO_SELECTIONS: &str = "moto does not implement ListBackupSelections (HTTP 500)";
const NO_VAULT_POLICY: &str = "moto does not implement GetBackupVaultAccessPolicy (HTTP 404)";
const NO_POINTS: &str = "moto does not implement ListRecoveryPointsByBackupVault (HTTP 404)";

pub(crate) async fn seed(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    seed_plans(s).await?;
    seed_vaults(s, keys).await?;
    for region in REGIONS {
        membership(s, region).await?;
    }
    Ok(())
}

async fn seed_plans(s: &mut Seed) -> anyhow::Result<()> {
    let backup = aws_sdk_backup::Client::new(&s.config(PRIMARY));
    for (name, cron, days, status, why) in [
        (
            "phi-plan-daily-35d",
            "cron(0 5 ? * * *)",
            35,
            Pass,
            "daily, recovery points kept 35 days",
        ),
        (
            "phi-plan-weekly-7d",
            "cron(0 5 ? * SUN *)",
            7,
            Fail,
            "weekly (168 hours between backups) and kept only 7 days",
        ),
    ] {
        let rule = BackupRuleInput::builder()
            .rule_name("main")
            .target_backup_vault_name("phi-vault-cmk")
            .schedule_expression(cron)
            .lifecycle(Lifecycle::builder().delete_after_days(days).build())
            .build()?;
        let out = backup
            .create_backup_plan()
            .backup_plan(
                BackupPlanInput::builder()
                    .backup_plan_name(name)
                    .rules(rule)
                    .build()?,
            )
            .send()
            .await
            .step(format!("backup CreateBackupPlan {name}"))?;
        let a = out.backup_plan_arn().map(str::to_owned).unwrap_or_default();
        s.expect(PLAN, &a, status, format!("{name}: {why}"));
        s.exp.expect_gap(
            "backup:ListBackupSelections",
            Some(PRIMARY),
            Some(a.clone()),
            format!("{name}: {NO_SELECTIONS}"),
        );
    }
    // Read once in a region with plans; moto does not implement it.
    s.exp.expect_gap(
        "backup:DescribeRegionSettings",
        Some(PRIMARY),
        None,
        "moto answers DescribeRegionSettings with an HTML 404 (not implemented)",
    );
    Ok(())
}

async fn seed_vaults(s: &mut Seed, keys: &Keys) -> anyhow::Result<()> {
    // us-east-1: a vault with a KMS key and no lock; us-west-2: a locked vault for which
    // moto reports no key. One vault per region: each records one list-level gap for its
    // recovery points.
    for (region, name, key, lock) in [
        (PRIMARY, "phi-vault-cmk", Some(keys.primary.clone()), false),
        (SECONDARY, "phi-vault-west-locked", None, true),
    ] {
        let backup = aws_sdk_backup::Client::new(&s.config(region));
        let out = backup
            .create_backup_vault()
            .backup_vault_name(name)
            .set_encryption_key_arn(key.clone())
            .send()
            .await
            .step(format!("backup CreateBackupVault {name}"))?;
        if lock {
            backup
                .put_backup_vault_lock_configuration()
                .backup_vault_name(name)
                .min_retention_days(35)
                .send()
                .await
                .step(format!("backup PutBackupVaultLockConfiguration {name}"))?;
        }
        let a = out
            .backup_vault_arn()
            .map(str::to_owned)
            .unwrap_or_default();
        match key {
            Some(_) => s.expect(
                VAULT_ENC,
                &a,
                Pass,
                format!("{name}: encrypted with a KMS key"),
            ),
            None => s.expect(
                VAULT_ENC,
                &a,
                Fail,
                format!(
                    "{name}: created without EncryptionKeyArn, and moto then reports none \
                     (AWS would use aws/backup)"
                ),
            ),
        }
        if lock {
            s.expect(
                NO_DELETE,
                &a,
                Pass,
                format!("{name}: Vault Lock is in effect"),
            );
        } else {
            s.expect(
                NO_DELETE,
                &a,
                Error,
                format!(
                    "{name}: not locked, and its access policy cannot be read: {NO_VAULT_POLICY}"
                ),
            );
        }
        s.exp.expect_gap(
            "backup:GetBackupVaultAccessPolicy",
            Some(region),
            Some(a.clone()),
            format!("{name}: {NO_VAULT_POLICY}"),
        );
        s.exp.expect_gap(
            "backup:ListRecoveryPointsByBackupVault",
            Some(region),
            None,
            format!("{name}: {NO_POINTS}"),
        );
        let region_arn = format!("arn:aws:ec2:{region}:{}:region/{region}", s.account);
        for rule in [POINT_ENC, POINT_RETENTION] {
            s.expect(
                rule,
                &region_arn,
                Error,
                format!("{region}: the recovery points of {name} cannot be listed: {NO_POINTS}"),
            );
        }
    }
    Ok(())
}

/// Expects the membership rules on every volume, instance, DB instance and cluster in
/// `region`, as moto reports them now.
async fn membership(s: &mut Seed, region: &str) -> anyhow::Result<()> {
    let (status, why) = if region == PRIMARY {
        (
            Error,
            format!("the region's backup plans' selections cannot be read: {NO_SELECTIONS}"),
        )
    } else {
        (Fail, "no backup plan exists in the region".to_owned())
    };
    let account = s.account.clone();
    let ec2 = aws_sdk_ec2::Client::new(&s.config(region));
    let volumes = ec2
        .describe_volumes()
        .send()
        .await
        .step(format!("ec2 DescribeVolumes {region}"))?;
    for v in volumes.volumes() {
        let id = v.volume_id().unwrap_or_default();
        let a = format!("arn:aws:ec2:{region}:{account}:volume/{id}");
        s.expect(VOLUME, &a, status, format!("volume {id}: {why}"));
    }
    let reservations = ec2
        .describe_instances()
        .send()
        .await
        .step(format!("ec2 DescribeInstances {region}"))?;
    for i in reservations
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
    {
        let id = i.instance_id().unwrap_or_default();
        let a = format!("arn:aws:ec2:{region}:{account}:instance/{id}");
        let state = i
            .state()
            .and_then(|st| st.name())
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        if matches!(state.as_str(), "terminated" | "shutting-down") {
            s.expect(
                INSTANCE,
                &a,
                NotApplicable,
                format!("instance {id} is {state}"),
            );
        } else {
            s.expect(INSTANCE, &a, status, format!("instance {id}: {why}"));
        }
    }
    let rds = aws_sdk_rds::Client::new(&s.config(region));
    let dbs = rds
        .describe_db_instances()
        .send()
        .await
        .step(format!("rds DescribeDBInstances {region}"))?;
    for db in dbs.db_instances() {
        let id = db.db_instance_identifier().unwrap_or_default();
        let a = db
            .db_instance_arn()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("arn:aws:rds:{region}:{account}:db:{id}"));
        match db.db_cluster_identifier() {
            Some(c) => s.expect(
                DB,
                &a,
                NotApplicable,
                format!("{id}: a member of {c}, backed up with the cluster"),
            ),
            None => s.expect(DB, &a, status, format!("{id}: {why}")),
        }
    }
    let clusters = rds
        .describe_db_clusters()
        .send()
        .await
        .step(format!("rds DescribeDBClusters {region}"))?;
    for c in clusters.db_clusters() {
        let id = c.db_cluster_identifier().unwrap_or_default();
        let a = c
            .db_cluster_arn()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("arn:aws:rds:{region}:{account}:cluster:{id}"));
        s.expect(CLUSTER, &a, status, format!("{id}: {why}"));
    }
    Ok(())
}
