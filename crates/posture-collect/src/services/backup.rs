//! AWS Backup in one region: plans (`ListBackupPlans`, then per plan `GetBackupPlan` for its
//! rules and `ListBackupSelections` + `GetBackupSelection` for its resource assignments),
//! vaults (`ListBackupVaults`, which carries the encryption key, then per vault
//! `GetBackupVaultAccessPolicy`) and each vault's recovery points
//! (`ListRecoveryPointsByBackupVault`). The recovery points are listed even when the vault's
//! `NumberOfRecoveryPoints` is 0: that counter is maintained asynchronously, and a
//! recovery point missed because of it would silently escape its rules.

use futures::StreamExt;
use posture_model::resources::{
    BackupPlan, BackupRecoveryPoint, BackupRule, BackupSelection, BackupSelectionEntry,
    BackupVault, SelectionCondition, TagCondition,
};
use posture_model::{Arn, Observed, Region, ResourceBody};

use super::{Ctx, GapLog, Sink, arn, malformed, parse_policy, tags_not_read, time};
use crate::CollectError;

const CONCURRENCY: usize = 4;

/// `GetBackupVaultAccessPolicy` on a vault without a policy.
const NO_POLICY: &[&str] = &["ResourceNotFoundException"];

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "backup");
    let backup = ctx.clients.backup(region.as_str());
    let account = ctx.account.as_str();

    let mut plans = Vec::new();
    let mut pages = backup.list_backup_plans().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("backup:ListBackupPlans", page) else {
            break;
        };
        for p in page.backup_plans_list() {
            let Some(id) = p.backup_plan_id() else {
                continue;
            };
            let plan_arn = arn(
                p.backup_plan_arn(),
                "backup",
                region.as_str(),
                account,
                &format!("backup-plan:{id}"),
            );
            plans.push((
                plan_arn,
                BackupPlan {
                    plan_id: id.to_owned(),
                    name: p.backup_plan_name().map(str::to_owned),
                    version_id: p.version_id().map(str::to_owned),
                    rules: Observed::Absent,
                    selections: Observed::Absent,
                    resource_type_opt_in: Observed::Absent,
                },
            ));
        }
    }
    // Opt-in decides whether assignments take effect at all; read once, and only where
    // there are plans to assign anything.
    let opt_in = if plans.is_empty() {
        Observed::Absent
    } else {
        match backup.describe_region_settings().send().await {
            Ok(out) => Observed::Collected(
                out.resource_type_opt_in_preference()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
                    .unwrap_or_default(),
            ),
            Err(e) => {
                let err = crate::classify::classify(&e);
                let mut log = GapLog::default();
                log.gap("backup:DescribeRegionSettings", &err, None);
                sink.absorb(log);
                Observed::Unavailable(err.unavailable("backup:DescribeRegionSettings"))
            }
        }
    };
    for (_, plan) in &mut plans {
        plan.resource_type_opt_in = opt_in.clone();
    }
    let mut reads = futures::stream::iter(plans)
        .map(|(a, p)| {
            let backup = &backup;
            async move { read_plan(backup, a, p).await }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((a, plan, log)) = reads.next().await {
        sink.absorb(log);
        sink.emit(
            a,
            tags_not_read("backup:ListTags"),
            ResourceBody::BackupPlan(plan),
        )
        .await?;
    }
    drop(reads);

    let mut vaults = Vec::new();
    let mut pages = backup.list_backup_vaults().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("backup:ListBackupVaults", page) else {
            break;
        };
        for v in page.backup_vault_list() {
            let Some(name) = v.backup_vault_name() else {
                continue;
            };
            let vault_arn = arn(
                v.backup_vault_arn(),
                "backup",
                region.as_str(),
                account,
                &format!("backup-vault:{name}"),
            );
            vaults.push((
                vault_arn,
                BackupVault {
                    name: name.to_owned(),
                    encryption_key_arn: v.encryption_key_arn().map(str::to_owned),
                    locked: v.locked(),
                    number_of_recovery_points: Some(v.number_of_recovery_points()),
                    creation_date: time(v.creation_date()),
                    access_policy: Observed::Absent,
                },
            ));
        }
    }
    let mut reads = futures::stream::iter(vaults)
        .map(|(a, v)| {
            let backup = &backup;
            async move { read_vault(backup, a, v).await }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((a, vault, points, log)) = reads.next().await {
        sink.absorb(log);
        sink.emit(
            a,
            tags_not_read("backup:ListTags"),
            ResourceBody::BackupVault(vault),
        )
        .await?;
        for (point_arn, point) in points {
            sink.emit(
                point_arn,
                tags_not_read("backup:ListTags"),
                ResourceBody::BackupRecoveryPoint(point),
            )
            .await?;
        }
    }
    drop(reads);
    sink.finish().await
}

async fn read_plan(
    backup: &aws_sdk_backup::Client,
    plan_arn: Arn,
    mut plan: BackupPlan,
) -> (Arn, BackupPlan, GapLog) {
    let mut log = GapLog::default();
    plan.rules = match log.observe(
        "backup:GetBackupPlan",
        &plan_arn,
        backup
            .get_backup_plan()
            .backup_plan_id(&plan.plan_id)
            .send()
            .await,
        &[],
    ) {
        Observed::Collected(o) => match o.backup_plan() {
            Some(p) => Observed::Collected(p.rules().iter().map(rule).collect()),
            None => Observed::Unavailable(malformed(
                "backup:GetBackupPlan",
                "no backup plan in the answer".to_owned(),
            )),
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };

    // The selections are listed per plan: a failure is recorded against the plan, and the
    // membership rules report Error rather than "not selected".
    let mut listed = Vec::new();
    let mut failed = None;
    let mut pages = backup
        .list_backup_selections()
        .backup_plan_id(&plan.plan_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match log.observe("backup:ListBackupSelections", &plan_arn, page, &[]) {
            Observed::Collected(page) => {
                for s in page.backup_selections_list() {
                    if let Some(id) = s.selection_id() {
                        listed.push((id.to_owned(), s.selection_name().map(str::to_owned)));
                    }
                }
            }
            Observed::Absent => break,
            Observed::Unavailable(u) => {
                failed = Some(u);
                break;
            }
        }
    }
    plan.selections = match failed {
        Some(u) => Observed::Unavailable(u),
        None => {
            let mut entries = Vec::new();
            for (selection_id, selection_name) in listed {
                let detail = match log.observe(
                    "backup:GetBackupSelection",
                    &plan_arn,
                    backup
                        .get_backup_selection()
                        .backup_plan_id(&plan.plan_id)
                        .selection_id(&selection_id)
                        .send()
                        .await,
                    &[],
                ) {
                    Observed::Collected(o) => match o.backup_selection() {
                        Some(s) => Observed::Collected(selection(s)),
                        None => Observed::Unavailable(malformed(
                            "backup:GetBackupSelection",
                            "no backup selection in the answer".to_owned(),
                        )),
                    },
                    Observed::Absent => Observed::Absent,
                    Observed::Unavailable(u) => Observed::Unavailable(u),
                };
                entries.push(BackupSelectionEntry {
                    selection_id,
                    selection_name,
                    detail,
                });
            }
            Observed::Collected(entries)
        }
    };
    (plan_arn, plan, log)
}

fn rule(r: &aws_sdk_backup::types::BackupRule) -> BackupRule {
    BackupRule {
        rule_name: r.rule_name().to_owned(),
        target_vault: Some(r.target_backup_vault_name().to_owned()).filter(|v| !v.is_empty()),
        schedule_expression: r.schedule_expression().map(str::to_owned),
        schedule_timezone: r.schedule_expression_timezone().map(str::to_owned),
        delete_after_days: r.lifecycle().and_then(|l| l.delete_after_days()),
        move_to_cold_storage_after_days: r
            .lifecycle()
            .and_then(|l| l.move_to_cold_storage_after_days()),
        enable_continuous_backup: r.enable_continuous_backup().unwrap_or(false),
    }
}

fn selection(s: &aws_sdk_backup::types::BackupSelection) -> BackupSelection {
    let mut conditions = Vec::new();
    if let Some(c) = s.conditions() {
        for (operator, params) in [
            ("StringEquals", c.string_equals()),
            ("StringNotEquals", c.string_not_equals()),
            ("StringLike", c.string_like()),
            ("StringNotLike", c.string_not_like()),
        ] {
            for p in params {
                conditions.push(SelectionCondition {
                    operator: operator.to_owned(),
                    key: p.condition_key().unwrap_or_default().to_owned(),
                    value: p.condition_value().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    BackupSelection {
        resources: s.resources().to_vec(),
        not_resources: s.not_resources().to_vec(),
        list_of_tags: s
            .list_of_tags()
            .iter()
            .map(|t| TagCondition {
                condition_type: t.condition_type().as_str().to_owned(),
                key: t.condition_key().to_owned(),
                value: t.condition_value().to_owned(),
            })
            .collect(),
        conditions,
    }
}

async fn read_vault(
    backup: &aws_sdk_backup::Client,
    vault_arn: Arn,
    mut vault: BackupVault,
) -> (Arn, BackupVault, Vec<(Arn, BackupRecoveryPoint)>, GapLog) {
    let mut log = GapLog::default();
    vault.access_policy = match log.observe(
        "backup:GetBackupVaultAccessPolicy",
        &vault_arn,
        backup
            .get_backup_vault_access_policy()
            .backup_vault_name(&vault.name)
            .send()
            .await,
        NO_POLICY,
    ) {
        Observed::Collected(o) => match o.policy().map(parse_policy) {
            Some(Ok(v)) => Observed::Collected(v),
            Some(Err(e)) => {
                Observed::Unavailable(malformed("backup:GetBackupVaultAccessPolicy", e))
            }
            None => Observed::Absent,
        },
        Observed::Absent => Observed::Absent,
        Observed::Unavailable(u) => Observed::Unavailable(u),
    };

    let mut points = Vec::new();
    let mut pages = backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(&vault.name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = log.list("backup:ListRecoveryPointsByBackupVault", page) else {
            break;
        };
        for p in page.recovery_points() {
            let Some(point_arn) = p.recovery_point_arn().and_then(|a| Arn::new(a).ok()) else {
                continue;
            };
            points.push((
                point_arn,
                BackupRecoveryPoint {
                    vault_name: vault.name.clone(),
                    resource_arn: p.resource_arn().map(str::to_owned),
                    resource_type: p.resource_type().map(str::to_owned),
                    status: p.status().map(|s| s.as_str().to_owned()),
                    is_encrypted: p.is_encrypted(),
                    encryption_key_arn: p.encryption_key_arn().map(str::to_owned),
                    creation_date: time(p.creation_date()),
                    delete_after_days: p.lifecycle().and_then(|l| l.delete_after_days()),
                    move_to_cold_storage_after_days: p
                        .lifecycle()
                        .and_then(|l| l.move_to_cold_storage_after_days()),
                    delete_at: time(p.calculated_lifecycle().and_then(|c| c.delete_at())),
                },
            ));
        }
    }
    (vault_arn, vault, points, log)
}
