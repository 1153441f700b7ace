//! AWS Backup rules, and the backup-plan membership rules of the resources AWS Backup
//! protects (EBS volumes, EC2 instances, RDS instances and clusters; EFS shares
//! [`membership`]).

use crate::Rule;

mod backup_plan_min_frequency_retention;
mod backup_recovery_point_encrypted;
mod backup_recovery_point_manual_deletion_disabled;
mod backup_recovery_point_min_retention;
mod backup_vault_encrypted;
mod ebs_volume_in_backup_plan;
mod ec2_instance_in_backup_plan;
pub(crate) mod membership;
mod rds_cluster_in_backup_plan;
mod rds_instance_in_backup_plan;

/// The AWS Backup rules.
pub const RULES: &[&dyn Rule] = &[
    &backup_plan_min_frequency_retention::BackupPlanMinFrequencyRetention,
    &backup_recovery_point_encrypted::BackupRecoveryPointEncrypted,
    &backup_recovery_point_manual_deletion_disabled::BackupRecoveryPointManualDeletionDisabled,
    &backup_recovery_point_min_retention::BackupRecoveryPointMinRetention,
    &backup_vault_encrypted::BackupVaultEncrypted,
    &ebs_volume_in_backup_plan::EbsVolumeInBackupPlan,
    &ec2_instance_in_backup_plan::Ec2InstanceInBackupPlan,
    &rds_cluster_in_backup_plan::RdsClusterInBackupPlan,
    &rds_instance_in_backup_plan::RdsInstanceInBackupPlan,
];

/// Who manages a KMS key, as far as the snapshot's KMS keys tell.
pub(crate) fn key_manager<'a>(
    ctx: &'a crate::Ctx<'_>,
    subject: &posture_model::Resource,
    key: &str,
) -> Option<&'a str> {
    use posture_model::{Observed, ResourceBody, ResourceKind};
    ctx.resources(ResourceKind::KmsKey, &subject.account, &subject.region)
        .find_map(|r| match &r.body {
            ResourceBody::KmsKey(k)
                if r.arn.as_str() == key
                    || k.key_id == key
                    || k.aliases
                        .iter()
                        .any(|a| a == key || key.ends_with(&format!(":{a}"))) =>
            {
                match &k.metadata {
                    Observed::Collected(m) => Some(m.key_manager.as_str()),
                    _ => None,
                }
            }
            _ => None,
        })
}

/// Fixtures shared by the Backup rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::*;
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{region, resource};

    /// A daily rule keeping recovery points 35 days.
    pub(crate) fn daily_rule() -> BackupRule {
        BackupRule {
            rule_name: "daily".into(),
            target_vault: Some("phi-vault".into()),
            schedule_expression: Some("cron(0 5 ? * * *)".into()),
            schedule_timezone: Some("Etc/UTC".into()),
            delete_after_days: Some(35),
            move_to_cold_storage_after_days: None,
            enable_continuous_backup: false,
        }
    }

    /// A selection of `resources` ARN patterns.
    pub(crate) fn selection(resources: &[&str]) -> BackupSelection {
        BackupSelection {
            resources: resources.iter().map(|s| (*s).to_owned()).collect(),
            ..BackupSelection::default()
        }
    }

    /// A plan with the daily rule and the given selections.
    pub(crate) fn plan(name: &str, selections: Vec<BackupSelection>) -> BackupPlan {
        BackupPlan {
            plan_id: format!("{name}-id"),
            name: Some(name.into()),
            version_id: Some("v1".into()),
            rules: Observed::Collected(vec![daily_rule()]),
            selections: Observed::Collected(
                selections
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| BackupSelectionEntry {
                        selection_id: format!("sel-{i}"),
                        selection_name: Some(format!("{name}-sel-{i}")),
                        detail: Observed::Collected(s),
                    })
                    .collect(),
            ),
            resource_type_opt_in: Observed::Collected(
                ["EBS", "EC2", "RDS", "Aurora", "EFS"]
                    .into_iter()
                    .map(|t| (t.to_owned(), true))
                    .collect(),
            ),
        }
    }

    /// A plan resource in the fixture region.
    pub(crate) fn plan_resource(p: BackupPlan) -> Resource {
        resource(
            &format!(
                "arn:aws:backup:us-east-1:111122223333:backup-plan:{}",
                p.plan_id
            ),
            region(),
            ResourceBody::BackupPlan(p),
        )
    }

    /// An encrypted vault without an access policy.
    pub(crate) fn vault(name: &str) -> BackupVault {
        BackupVault {
            name: name.into(),
            encryption_key_arn: Some(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            locked: Some(false),
            number_of_recovery_points: Some(0),
            creation_date: None,
            access_policy: Observed::Absent,
        }
    }

    /// A vault resource in the fixture region.
    pub(crate) fn vault_resource(v: BackupVault) -> Resource {
        resource(
            &format!(
                "arn:aws:backup:us-east-1:111122223333:backup-vault:{}",
                v.name
            ),
            region(),
            ResourceBody::BackupVault(v),
        )
    }

    /// An encrypted, completed recovery point kept 35 days.
    pub(crate) fn recovery_point() -> BackupRecoveryPoint {
        BackupRecoveryPoint {
            vault_name: "phi-vault".into(),
            resource_arn: Some(
                "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-1".into(),
            ),
            resource_type: Some("EFS".into()),
            status: Some("COMPLETED".into()),
            is_encrypted: true,
            encryption_key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
            creation_date: Some(crate::testing::days_ago(1)),
            delete_after_days: Some(35),
            move_to_cold_storage_after_days: None,
            delete_at: Some(crate::testing::days_ago(1) + chrono::Duration::days(35)),
        }
    }

    /// A recovery point resource in the fixture region.
    pub(crate) fn recovery_point_resource(p: BackupRecoveryPoint) -> Resource {
        resource(
            "arn:aws:backup:us-east-1:111122223333:recovery-point:rp-1",
            region(),
            ResourceBody::BackupRecoveryPoint(p),
        )
    }
}
