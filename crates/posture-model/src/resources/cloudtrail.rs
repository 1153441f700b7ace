//! CloudTrail trails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// A CloudTrail trail. A multi-region or organization trail is collected once (from its
/// home region when that region is scanned) and applies to every region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    /// Trail name.
    pub name: String,
    /// Home region.
    pub home_region: String,
    /// Logs every region.
    pub is_multi_region: bool,
    /// Organization trail.
    pub is_organization_trail: bool,
    /// Log file integrity validation.
    pub log_file_validation_enabled: bool,
    /// KMS key for SSE-KMS of the log files.
    pub kms_key_id: Option<String>,
    /// Destination bucket.
    pub s3_bucket_name: Option<String>,
    /// CloudWatch Logs log group.
    pub cloudwatch_logs_log_group_arn: Option<String>,
    /// `GetTrailStatus`.
    pub status: Observed<TrailStatus>,
    /// `GetEventSelectors`.
    pub selectors: Observed<TrailSelectors>,
    /// The Insights types enabled (`GetInsightSelectors`: `ApiCallRateInsight`,
    /// `ApiErrorRateInsight`); `Absent` when Insights is not enabled
    /// (`InsightNotEnabledException`).
    #[serde(default = "Observed::not_recorded")]
    pub insight_selectors: Observed<Vec<String>>,
}

/// Whether a trail is logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailStatus {
    /// Currently logging.
    pub is_logging: bool,
    /// Last delivery error, if any.
    pub latest_delivery_error: Option<String>,
    /// Last delivery to S3.
    pub latest_delivery_time: Option<DateTime<Utc>>,
}

/// A trail's event selectors, in either the basic or the advanced form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailSelectors {
    /// Basic selectors.
    pub basic: Vec<BasicEventSelector>,
    /// Advanced selectors, as field → values (`eventCategory`, `readOnly`, ...).
    pub advanced: Vec<AdvancedEventSelector>,
}

/// A basic event selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicEventSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    /// Whether management events are included.
    pub include_management_events: bool,
    /// Data resources as (type, values).
    pub data_resources: Vec<(String, Vec<String>)>,
}

/// An advanced event selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    /// Name.
    pub name: Option<String>,
    /// Field selectors as (field, equals values).
    pub fields: Vec<(String, Vec<String>)>,
}

impl TrailSelectors {
    /// Whether the selectors record both read and write management events.
    pub fn records_all_management_events(&self) -> bool {
        if self.basic.is_empty() && self.advanced.is_empty() {
            // CloudTrail's default for a trail with no selectors: all management events.
            return true;
        }
        let basic = self
            .basic
            .iter()
            .any(|s| s.include_management_events && s.read_write_type == "All");
        let advanced = self.advanced.iter().any(|s| {
            let is_mgmt = s
                .fields
                .iter()
                .any(|(f, v)| f == "eventCategory" && v.iter().any(|x| x == "Management"));
            let read_only_limited = s.fields.iter().any(|(f, _)| f == "readOnly");
            is_mgmt && !read_only_limited
        });
        basic || advanced
    }
}
