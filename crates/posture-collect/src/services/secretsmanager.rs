//! Secrets Manager secrets in one region. `ListSecrets` entries carry rotation, encryption,
//! dates and tags, so one paginated call per region is the whole collection (no
//! `DescribeSecret` per secret). Secret values are never read.

use posture_model::resources::Secret;
use posture_model::{Observed, Region, ResourceBody, Tags};

use super::{Ctx, Sink, arn, time};
use crate::CollectError;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "secretsmanager");
    let sm = ctx.clients.secretsmanager(region.as_str());
    let mut pages = sm
        .list_secrets()
        .include_planned_deletion(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("secretsmanager:ListSecrets", page) else {
            break;
        };
        for entry in page.secret_list() {
            let Some(name) = entry.name() else { continue };
            let rules = entry.rotation_rules();
            let tags: Tags = entry
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
                .collect();
            let secret = Secret {
                name: name.to_owned(),
                kms_key_id: entry.kms_key_id().map(str::to_owned),
                rotation_enabled: entry.rotation_enabled().unwrap_or(false),
                rotation_days: rules.and_then(|r| r.automatically_after_days()),
                rotation_schedule: rules
                    .and_then(|r| r.schedule_expression())
                    .map(str::to_owned),
                last_rotated: time(entry.last_rotated_date()),
                next_rotation: time(entry.next_rotation_date()),
                last_changed: time(entry.last_changed_date()),
                created: time(entry.created_date()),
                deleted: time(entry.deleted_date()),
                owning_service: entry.owning_service().map(str::to_owned),
            };
            let arn = arn(
                entry.arn(),
                "secretsmanager",
                region.as_str(),
                ctx.account.as_str(),
                &format!("secret:{name}"),
            );
            sink.emit(arn, Observed::Collected(tags), ResourceBody::Secret(secret))
                .await?;
        }
    }
    sink.finish().await
}
