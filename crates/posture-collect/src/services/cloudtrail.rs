//! CloudTrail in one region. `DescribeTrails` also lists shadow copies of multi-region and
//! organization trails homed elsewhere; each trail is kept once: in its home region when
//! that region is scanned, otherwise in the first scanned region.

use posture_model::resources::{
    AdvancedEventSelector, BasicEventSelector, Trail, TrailSelectors, TrailStatus,
};
use posture_model::{Arn, Region, ResourceBody};

use super::{Ctx, Sink, time};
use crate::CollectError;

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "cloudtrail");
    let ct = ctx.clients.cloudtrail(region.as_str());
    let out = ct
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await;
    let Some(out) = sink.list("cloudtrail:DescribeTrails", out) else {
        return sink.finish().await;
    };
    let first_region = ctx.regions.first();
    for t in out.trail_list() {
        let home = t.home_region().unwrap_or(region.as_str());
        let home_scanned = ctx.regions.iter().any(|r| r.as_str() == home);
        let keep = home == region.as_str() || (!home_scanned && first_region == Some(region));
        if !keep {
            continue;
        }
        let name = t.name().unwrap_or_default().to_owned();
        let Some(arn) = t.trail_arn().and_then(|a| Arn::new(a).ok()) else {
            continue;
        };
        let status = sink
            .observe(
                "cloudtrail:GetTrailStatus",
                &arn,
                ct.get_trail_status().name(arn.as_str()).send().await,
                &[],
            )
            .map(|o| TrailStatus {
                is_logging: o.is_logging().unwrap_or(false),
                latest_delivery_error: o
                    .latest_delivery_error()
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
                latest_delivery_time: time(o.latest_delivery_time()),
            });
        let selectors = sink
            .observe(
                "cloudtrail:GetEventSelectors",
                &arn,
                ct.get_event_selectors()
                    .trail_name(arn.as_str())
                    .send()
                    .await,
                &[],
            )
            .map(|o| TrailSelectors {
                basic: o
                    .event_selectors()
                    .iter()
                    .map(|s| BasicEventSelector {
                        read_write_type: s
                            .read_write_type()
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or("All".into()),
                        include_management_events: s.include_management_events().unwrap_or(true),
                        data_resources: s
                            .data_resources()
                            .iter()
                            .map(|d| {
                                (
                                    d.r#type().unwrap_or_default().to_owned(),
                                    d.values().to_vec(),
                                )
                            })
                            .collect(),
                    })
                    .collect(),
                advanced: o
                    .advanced_event_selectors()
                    .iter()
                    .map(|s| AdvancedEventSelector {
                        name: s.name().map(str::to_owned),
                        fields: s
                            .field_selectors()
                            .iter()
                            .map(|f| (f.field().to_owned(), f.equals().to_vec()))
                            .collect(),
                    })
                    .collect(),
            });
        let insight_selectors = sink
            .observe(
                "cloudtrail:GetInsightSelectors",
                &arn,
                ct.get_insight_selectors()
                    .trail_name(arn.as_str())
                    .send()
                    .await,
                &["InsightNotEnabledException"],
            )
            .map(|o| {
                o.insight_selectors()
                    .iter()
                    .filter_map(|s| s.insight_type().map(|t| t.as_str().to_owned()))
                    .collect::<Vec<_>>()
            });
        let tags = sink
            .observe(
                "cloudtrail:ListTags",
                &arn,
                ct.list_tags().resource_id_list(arn.as_str()).send().await,
                &[],
            )
            .map(|o| {
                o.resource_tag_list()
                    .iter()
                    .flat_map(|r| r.tags_list())
                    .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                    .collect()
            });
        let body = Trail {
            name,
            home_region: home.to_owned(),
            is_multi_region: t.is_multi_region_trail().unwrap_or(false),
            is_organization_trail: t.is_organization_trail().unwrap_or(false),
            log_file_validation_enabled: t.log_file_validation_enabled().unwrap_or(false),
            kms_key_id: t.kms_key_id().map(str::to_owned),
            s3_bucket_name: t.s3_bucket_name().map(str::to_owned),
            cloudwatch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn().map(str::to_owned),
            status,
            selectors,
            insight_selectors,
        };
        sink.emit(arn, tags, ResourceBody::Trail(body)).await?;
    }
    sink.finish().await
}
