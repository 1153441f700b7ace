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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailSelectors {
    /// Basic selectors.
    pub basic: Vec<BasicEventSelector>,
    /// Advanced selectors, as field → values (`eventCategory`, `readOnly`, ...).
    pub advanced: Vec<AdvancedEventSelector>,
}

/// A basic event selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasicEventSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    /// Whether management events are included.
    pub include_management_events: bool,
    /// Data resources as (type, values).
    pub data_resources: Vec<(String, Vec<String>)>,
    /// `ExcludeManagementEventSources`: the event sources (`kms.amazonaws.com`,
    /// `rdsdata.amazonaws.com`) whose management events the selector does not log; empty
    /// when it excludes none. Not recorded in bodies stored before it was collected.
    #[serde(default = "Observed::not_recorded")]
    pub exclude_management_event_sources: Observed<Vec<String>>,
}

/// An advanced event selector: its field selectors all hold (AND) for an event it logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    /// Name.
    pub name: Option<String>,
    /// Field selectors (`eventCategory`, `readOnly`, `resources.ARN`, ...).
    pub fields: FieldSelectors,
}

/// The field selectors of an advanced event selector.
///
/// Collected whole as [`FieldSelector`]s, or, as collectors before operators were recorded
/// built them (and as their stored bodies hold them), as `(field, Equals values)` pairs
/// whose other operators are not recorded: `FromIterator<(String, Vec<String>)>` builds
/// that form, so such a collector keeps compiling and its answer keeps loading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldSelectors(pub Vec<FieldSelector>);

impl FieldSelectors {
    /// The field selectors, in the order AWS returned them.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldSelector> {
        self.0.iter()
    }
}

impl FromIterator<FieldSelector> for FieldSelectors {
    fn from_iter<I: IntoIterator<Item = FieldSelector>>(iter: I) -> Self {
        FieldSelectors(iter.into_iter().collect())
    }
}

impl FromIterator<(String, Vec<String>)> for FieldSelectors {
    /// `(field, Equals values)` pairs: the other operators are not recorded.
    fn from_iter<I: IntoIterator<Item = (String, Vec<String>)>>(iter: I) -> Self {
        FieldSelectors(
            iter.into_iter()
                .map(|(field, equals)| FieldSelector {
                    field,
                    equals,
                    others: Observed::not_recorded(),
                })
                .collect(),
        )
    }
}

/// One field selector: which values of one field of the event record it admits.
///
/// Stored as an object with every operator, or, when only `Equals` was recorded, as the
/// `[field, equals]` pair earlier versions wrote (so their bodies load, and hash, as before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredFieldSelector", into = "StoredFieldSelector")]
pub struct FieldSelector {
    /// The field (`eventCategory`, `eventSource`, `readOnly`, `resources.type`,
    /// `resources.ARN`, `eventName`, ...).
    pub field: String,
    /// `Equals` values.
    pub equals: Vec<String>,
    /// The other operators; not recorded by collectors that kept only `Equals` (then
    /// stored as the pair form).
    pub others: Observed<FieldOperators>,
}

/// The operators of a field selector other than `Equals`, as AWS returns them (each empty
/// when not used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOperators {
    /// `StartsWith` values.
    #[serde(default)]
    pub starts_with: Vec<String>,
    /// `EndsWith` values.
    #[serde(default)]
    pub ends_with: Vec<String>,
    /// `NotEquals` values.
    #[serde(default)]
    pub not_equals: Vec<String>,
    /// `NotStartsWith` values.
    #[serde(default)]
    pub not_starts_with: Vec<String>,
    /// `NotEndsWith` values.
    #[serde(default)]
    pub not_ends_with: Vec<String>,
}

/// The stored forms of a [`FieldSelector`]. The pair comes first: an object never reads
/// as a pair, but a pair would read as an object with defaults.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StoredFieldSelector {
    /// `[field, equals]`: only `Equals` recorded.
    EqualsOnly(String, Vec<String>),
    /// Every operator.
    Whole {
        field: String,
        #[serde(default)]
        equals: Vec<String>,
        #[serde(flatten)]
        others: FieldOperators,
    },
}

impl From<StoredFieldSelector> for FieldSelector {
    fn from(s: StoredFieldSelector) -> Self {
        match s {
            StoredFieldSelector::EqualsOnly(field, equals) => FieldSelector {
                field,
                equals,
                others: Observed::not_recorded(),
            },
            StoredFieldSelector::Whole {
                field,
                equals,
                others,
            } => FieldSelector {
                field,
                equals,
                others: Observed::Collected(others),
            },
        }
    }
}

impl From<FieldSelector> for StoredFieldSelector {
    fn from(s: FieldSelector) -> Self {
        match s.others {
            Observed::Collected(others) => StoredFieldSelector::Whole {
                field: s.field,
                equals: s.equals,
                others,
            },
            // Only `Equals` is known: the pair form says exactly that.
            Observed::Absent | Observed::Unavailable(_) => {
                StoredFieldSelector::EqualsOnly(s.field, s.equals)
            }
        }
    }
}
