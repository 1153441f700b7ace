//! CloudTrail in one region. `DescribeTrails` also lists shadow copies of multi-region and
//! organization trails homed elsewhere; each trail is kept once: in its home region when
//! that region is scanned, otherwise in the first scanned region.

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::types::{AdvancedFieldSelector, EventSelector};
use posture_model::resources::{
    AdvancedEventSelector, BasicEventSelector, FieldOperators, FieldSelector, Trail,
    TrailSelectors, TrailStatus,
};
use posture_model::{Arn, Observed, Region, ResourceBody};

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
            .map(|o| selectors(&o));
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

/// A `GetEventSelectors` answer in model types.
fn selectors(o: &GetEventSelectorsOutput) -> TrailSelectors {
    TrailSelectors {
        basic: o.event_selectors().iter().map(basic_selector).collect(),
        advanced: o
            .advanced_event_selectors()
            .iter()
            .map(|s| AdvancedEventSelector {
                name: s.name().map(str::to_owned),
                fields: s.field_selectors().iter().map(field_selector).collect(),
            })
            .collect(),
    }
}

fn basic_selector(s: &EventSelector) -> BasicEventSelector {
    BasicEventSelector {
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
        // The answer was read: an empty (or omitted) list excludes no source.
        exclude_management_event_sources: Observed::Collected(
            s.exclude_management_event_sources().to_vec(),
        ),
    }
}

fn field_selector(f: &AdvancedFieldSelector) -> FieldSelector {
    FieldSelector {
        field: f.field().to_owned(),
        equals: f.equals().to_vec(),
        others: Observed::Collected(FieldOperators {
            starts_with: f.starts_with().to_vec(),
            ends_with: f.ends_with().to_vec(),
            not_equals: f.not_equals().to_vec(),
            not_starts_with: f.not_starts_with().to_vec(),
            not_ends_with: f.not_ends_with().to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::{
        AdvancedEventSelector as SdkAdvanced, DataResource, ReadWriteType,
    };

    fn field(name: &str) -> aws_sdk_cloudtrail::types::builders::AdvancedFieldSelectorBuilder {
        AdvancedFieldSelector::builder().field(name)
    }

    /// AWS's documented example: log S3 data events except on the trail's own bucket, and
    /// management events except KMS's, through every operator.
    #[test]
    fn every_field_operator_and_basic_exclusion_is_recorded() {
        let out = GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .read_write_type(ReadWriteType::All)
                    .include_management_events(true)
                    .exclude_management_event_sources("kms.amazonaws.com")
                    .exclude_management_event_sources("rdsdata.amazonaws.com")
                    .data_resources(
                        DataResource::builder()
                            .r#type("AWS::S3::Object")
                            .values("arn:aws:s3")
                            .build(),
                    )
                    .build(),
            )
            .advanced_event_selectors(
                SdkAdvanced::builder()
                    .name("s3-but-trail-bucket")
                    .field_selectors(field("eventCategory").equals("Data").build().unwrap())
                    .field_selectors(
                        field("resources.ARN")
                            .starts_with("arn:aws:s3:::phi-")
                            .ends_with("/records/")
                            .not_equals("arn:aws:s3:::phi-x/a")
                            .not_starts_with("arn:aws:s3:::trail-logs/")
                            .not_ends_with(".tmp")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let s = selectors(&out);

        let basic = &s.basic[0];
        assert_eq!(basic.read_write_type, "All");
        assert!(basic.include_management_events);
        assert_eq!(
            basic.data_resources,
            vec![("AWS::S3::Object".to_owned(), vec!["arn:aws:s3".to_owned()])]
        );
        assert_eq!(
            basic.exclude_management_event_sources,
            Observed::Collected(vec![
                "kms.amazonaws.com".to_owned(),
                "rdsdata.amazonaws.com".to_owned()
            ])
        );

        let a = &s.advanced[0];
        assert_eq!(a.name.as_deref(), Some("s3-but-trail-bucket"));
        let fields: Vec<&FieldSelector> = a.fields.iter().collect();
        assert_eq!(fields[0].field, "eventCategory");
        assert_eq!(fields[0].equals, vec!["Data".to_owned()]);
        // Equals only: the other operators were read, and are empty.
        assert_eq!(
            fields[0].others,
            Observed::Collected(FieldOperators::default())
        );
        assert_eq!(fields[1].field, "resources.ARN");
        assert!(fields[1].equals.is_empty());
        assert_eq!(
            fields[1].others,
            Observed::Collected(FieldOperators {
                starts_with: vec!["arn:aws:s3:::phi-".into()],
                ends_with: vec!["/records/".into()],
                not_equals: vec!["arn:aws:s3:::phi-x/a".into()],
                not_starts_with: vec!["arn:aws:s3:::trail-logs/".into()],
                not_ends_with: vec![".tmp".into()],
            })
        );
    }

    /// A basic selector without `ExcludeManagementEventSources` excludes nothing: AWS
    /// omits the empty list, and the answer was read.
    #[test]
    fn a_basic_selector_without_exclusions_records_none() {
        let out = GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .read_write_type(ReadWriteType::ReadOnly)
                    .include_management_events(true)
                    .build(),
            )
            .build();
        let s = selectors(&out);
        assert_eq!(s.basic[0].read_write_type, "ReadOnly");
        assert_eq!(
            s.basic[0].exclude_management_event_sources,
            Observed::Collected(vec![])
        );
        assert!(s.advanced.is_empty());
    }
}
