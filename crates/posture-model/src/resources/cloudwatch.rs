//! CloudWatch Logs log groups (with their metric filters), CloudWatch metric alarms, and a
//! per-region summary of the SNS subscriptions the alarms' topics have.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// A CloudWatch Logs log group, from `DescribeLogGroups`, with the metric filters defined on
/// it (from one region-wide, paginated `DescribeMetricFilters`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    /// Log group name.
    pub name: String,
    /// KMS key ARN the group's data is encrypted with; `None` for CloudWatch Logs' own
    /// encryption.
    pub kms_key_id: Option<String>,
    /// Retention in days; `None` means the events never expire.
    pub retention_in_days: Option<i32>,
    /// Created.
    pub creation_time: Option<DateTime<Utc>>,
    /// The metric filters on the group, sorted by name; `Unavailable` when the region's
    /// `DescribeMetricFilters` failed.
    pub metric_filters: Observed<Vec<MetricFilter>>,
}

/// A metric filter: a pattern over the group's events and the metrics it feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricFilter {
    /// Filter name.
    pub name: String,
    /// The filter pattern, as written.
    pub pattern: String,
    /// The metrics the filter publishes to.
    pub metrics: Vec<MetricName>,
}

/// A CloudWatch metric, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricName {
    /// Namespace (`CISBenchmark`, `CloudTrailMetrics`, ...).
    pub namespace: String,
    /// Metric name.
    pub name: String,
}

/// A CloudWatch metric alarm, from `DescribeAlarms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricAlarm {
    /// Alarm name.
    pub name: String,
    /// The metrics the alarm watches: its single metric, or the metrics of its metric-math
    /// queries.
    pub metrics: Vec<MetricName>,
    /// Whether actions run on state changes.
    pub actions_enabled: bool,
    /// Actions on entering `ALARM` (SNS topic ARNs, Auto Scaling policies, ...).
    pub alarm_actions: Vec<String>,
    /// Actions on entering `OK`.
    pub ok_actions: Vec<String>,
    /// Actions on entering `INSUFFICIENT_DATA`.
    pub insufficient_data_actions: Vec<String>,
}

/// The SNS subscriptions of the topics the region's alarms notify, summarised by topic
/// (`ListSubscriptionsByTopic` per topic: the topic owner sees every subscription, also those
/// other accounts made). ARN `arn:aws:sns:REGION:ACCOUNT:subscriptions/summary` (a `/`
/// cannot appear in a topic name, so it names no topic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnsSubscriptions {
    /// Topic ARN → its subscriptions, for every topic an alarm of the region notifies.
    pub topics: BTreeMap<String, TopicSubscriptions>,
}

/// How many subscriptions one topic has.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TopicSubscriptions {
    /// Confirmed subscriptions.
    pub confirmed: u32,
    /// Subscriptions awaiting confirmation (`SubscriptionArn` `PendingConfirmation`).
    pub pending: u32,
    /// Protocols of the confirmed subscriptions (`email`, `sqs`, `https`, ...), sorted.
    pub protocols: Vec<String>,
}

impl SnsSubscriptions {
    /// The subscriptions of `topic_arn`; an unlisted topic has none.
    pub fn of(&self, topic_arn: &str) -> TopicSubscriptions {
        self.topics.get(topic_arn).cloned().unwrap_or_default()
    }
}
