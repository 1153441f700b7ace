//! CloudWatch in one region: log groups with their metric filters, metric alarms, and the
//! SNS subscriptions of the region summarised by topic.
//!
//! Four paginated list calls per region and nothing per resource: `DescribeLogGroups`,
//! `DescribeMetricFilters` (region-wide, not per group), `DescribeAlarms` (metric alarms)
//! and `ListSubscriptions` (region-wide, not per topic). No rule reads these resources'
//! tags, so they are not collected (`Absent`).

use std::collections::{BTreeMap, BTreeSet};

use posture_model::resources::{
    LogGroup, MetricAlarm, MetricFilter, MetricName, SnsSubscriptions, TopicSubscriptions,
};
use posture_model::{Arn, Observed, Region, ResourceBody, Unavailable};

use super::{Ctx, Sink, arn, tags_not_read};
use crate::CollectError;

/// `SubscriptionArn` of a subscription that has not been confirmed yet.
const PENDING: &str = "PendingConfirmation";

pub(crate) async fn collect(ctx: &Ctx<'_>, region: &Region) -> Result<(), CollectError> {
    let mut sink = Sink::new(ctx, region.clone(), "cloudwatch");
    collect_logs(ctx, region, &mut sink).await?;
    let topics = collect_alarms(ctx, region, &mut sink).await?;
    collect_subscriptions(ctx, region, &mut sink, topics).await?;
    sink.finish().await
}

/// Metric filters of the whole region by log group name, or why they are unknown.
async fn metric_filters(
    logs: &aws_sdk_cloudwatchlogs::Client,
    sink: &mut Sink<'_>,
) -> Result<BTreeMap<String, Vec<MetricFilter>>, Unavailable> {
    let mut by_group: BTreeMap<String, Vec<MetricFilter>> = BTreeMap::new();
    let mut pages = logs.describe_metric_filters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                let err = crate::classify::classify(&e);
                sink.list::<(), _>("logs:DescribeMetricFilters", Err(e));
                return Err(err.unavailable("logs:DescribeMetricFilters"));
            }
        };
        for f in page.metric_filters() {
            let Some(group) = f.log_group_name() else {
                continue;
            };
            let mut metrics: Vec<MetricName> = f
                .metric_transformations()
                .iter()
                .map(|t| MetricName {
                    namespace: t.metric_namespace().to_owned(),
                    name: t.metric_name().to_owned(),
                })
                .collect();
            metrics.sort();
            by_group
                .entry(group.to_owned())
                .or_default()
                .push(MetricFilter {
                    name: f.filter_name().unwrap_or_default().to_owned(),
                    pattern: f.filter_pattern().unwrap_or_default().to_owned(),
                    metrics,
                });
        }
    }
    for filters in by_group.values_mut() {
        filters.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(by_group)
}

async fn collect_logs(
    ctx: &Ctx<'_>,
    region: &Region,
    sink: &mut Sink<'_>,
) -> Result<(), CollectError> {
    let logs = ctx.clients.logs(region.as_str());
    let filters = metric_filters(&logs, sink).await;
    let mut pages = logs.describe_log_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("logs:DescribeLogGroups", page) else {
            break;
        };
        for g in page.log_groups() {
            let Some(name) = g.log_group_name() else {
                continue;
            };
            let group_arn = g
                .log_group_arn()
                .map(str::to_owned)
                .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_owned()));
            let resource_arn = arn(
                group_arn.as_deref(),
                "logs",
                region.as_str(),
                ctx.account.as_str(),
                &format!("log-group:{name}"),
            );
            let metric_filters = match &filters {
                Ok(by_group) => {
                    Observed::Collected(by_group.get(name).cloned().unwrap_or_default())
                }
                Err(why) => Observed::Unavailable(why.clone()),
            };
            let body = LogGroup {
                name: name.to_owned(),
                kms_key_id: g.kms_key_id().map(str::to_owned),
                retention_in_days: g.retention_in_days(),
                creation_time: g
                    .creation_time()
                    .and_then(chrono::DateTime::from_timestamp_millis),
                metric_filters,
            };
            sink.emit(
                resource_arn,
                tags_not_read("logs:ListTagsForResource"),
                ResourceBody::LogGroup(body),
            )
            .await?;
        }
    }
    Ok(())
}

/// Emits the region's metric alarms; returns the SNS topics they notify.
async fn collect_alarms(
    ctx: &Ctx<'_>,
    region: &Region,
    sink: &mut Sink<'_>,
) -> Result<BTreeSet<String>, CollectError> {
    let mut topics = BTreeSet::new();
    let cw = ctx.clients.cloudwatch(region.as_str());
    let mut pages = cw.describe_alarms().into_paginator().send();
    while let Some(page) = pages.next().await {
        let Some(page) = sink.list("cloudwatch:DescribeAlarms", page) else {
            break;
        };
        for a in page.metric_alarms() {
            let Some(name) = a.alarm_name() else {
                continue;
            };
            let mut metrics = Vec::new();
            if let (Some(namespace), Some(metric)) = (a.namespace(), a.metric_name()) {
                metrics.push(MetricName {
                    namespace: namespace.to_owned(),
                    name: metric.to_owned(),
                });
            }
            for q in a.metrics() {
                if let Some(m) = q.metric_stat().and_then(|s| s.metric())
                    && let (Some(namespace), Some(metric)) = (m.namespace(), m.metric_name())
                {
                    metrics.push(MetricName {
                        namespace: namespace.to_owned(),
                        name: metric.to_owned(),
                    });
                }
            }
            metrics.sort();
            metrics.dedup();
            let body = MetricAlarm {
                name: name.to_owned(),
                metrics,
                actions_enabled: a.actions_enabled().unwrap_or(true),
                alarm_actions: a.alarm_actions().to_vec(),
                ok_actions: a.ok_actions().to_vec(),
                insufficient_data_actions: a.insufficient_data_actions().to_vec(),
            };
            topics.extend(
                body.alarm_actions
                    .iter()
                    .chain(&body.ok_actions)
                    .chain(&body.insufficient_data_actions)
                    .filter(|a| a.split(':').nth(2) == Some("sns"))
                    .cloned(),
            );
            let alarm_arn = arn(
                a.alarm_arn(),
                "cloudwatch",
                region.as_str(),
                ctx.account.as_str(),
                &format!("alarm:{name}"),
            );
            sink.emit(
                alarm_arn,
                tags_not_read("cloudwatch:ListTagsForResource"),
                ResourceBody::MetricAlarm(body),
            )
            .await?;
        }
    }
    Ok(topics)
}

/// The subscriptions of the topics the region's alarms notify, from
/// `ListSubscriptionsByTopic`: the topic owner sees every subscription, including those a
/// central security account made (`ListSubscriptions` lists only the caller's own).
async fn collect_subscriptions(
    ctx: &Ctx<'_>,
    region: &Region,
    sink: &mut Sink<'_>,
    alarm_topics: BTreeSet<String>,
) -> Result<(), CollectError> {
    let sns = ctx.clients.sns(region.as_str());
    let mut topics: BTreeMap<String, TopicSubscriptions> = BTreeMap::new();
    for topic in alarm_topics {
        let entry = topics.entry(topic.clone()).or_default();
        let mut pages = sns
            .list_subscriptions_by_topic()
            .topic_arn(&topic)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                // A deleted topic notifies nobody.
                Err(e) if crate::classify::classify(&e).is(&["NotFound"]) => break,
                Err(e) => {
                    // A partial list could hide a topic's confirmed subscription: emit
                    // nothing, so the rules report the gap instead of a failure.
                    sink.list::<(), _>("sns:ListSubscriptionsByTopic", Err(e));
                    return Ok(());
                }
            };
            for s in page.subscriptions() {
                match s.subscription_arn() {
                    Some(a) if a != PENDING && a.starts_with("arn:") => {
                        entry.confirmed += 1;
                        if let Some(p) = s.protocol() {
                            entry.protocols.push(p.to_owned());
                        }
                    }
                    // `PendingConfirmation` (or, on some answers, `Deleted` / nothing).
                    _ => entry.pending += 1,
                }
            }
        }
    }
    for t in topics.values_mut() {
        t.protocols.sort();
        t.protocols.dedup();
    }
    let summary_arn = Arn::from_parts(
        "sns",
        region.as_str(),
        ctx.account.as_str(),
        "subscriptions/summary",
    );
    sink.emit(
        summary_arn,
        Observed::Absent,
        ResourceBody::SnsSubscriptions(SnsSubscriptions { topics }),
    )
    .await
}
