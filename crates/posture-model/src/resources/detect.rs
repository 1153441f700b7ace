//! Detection and secrets: GuardDuty detectors, AWS Config recorders and Secrets Manager
//! secrets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// A GuardDuty detector (at most one per account and region), from `ListDetectors` and
/// `GetDetector`, with its administrator account and its open high-severity findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyDetector {
    /// Detector id.
    pub detector_id: String,
    /// `GetDetector`.
    pub details: Observed<GuardDutyDetectorDetails>,
    /// The delegated administrator (`GetAdministratorAccount`): `Absent` when the detector
    /// is managed in this account alone.
    pub administrator: Observed<GuardDutyAdministrator>,
    /// Unarchived findings with severity of at least 7 (`ListFindings` + `GetFindings`).
    pub high_severity_findings: Observed<GuardDutyFindingSample>,
}

/// What `GetDetector` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardDutyDetectorDetails {
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// How often findings are published (`FIFTEEN_MINUTES`, `ONE_HOUR`, `SIX_HOURS`).
    pub finding_publishing_frequency: Option<String>,
    /// Protection plans by feature name (`S3_DATA_EVENTS`, `RDS_LOGIN_EVENTS`, ...) → status
    /// (`ENABLED` / `DISABLED`), from `Features`.
    pub features: BTreeMap<String, String>,
    /// Last update of the detector.
    pub updated_at: Option<String>,
}

impl GuardDutyDetectorDetails {
    /// The detector is enabled.
    pub fn is_enabled(&self) -> bool {
        self.status.eq_ignore_ascii_case("ENABLED")
    }

    /// A protection plan is enabled.
    pub fn feature_enabled(&self, name: &str) -> bool {
        self.features
            .get(name)
            .is_some_and(|s| s.eq_ignore_ascii_case("ENABLED"))
    }
}

/// The administrator account that manages a member's detector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardDutyAdministrator {
    /// Administrator account id.
    pub account_id: String,
    /// Membership status (`Enabled`, `Invited`, ...).
    pub relationship_status: Option<String>,
}

/// Open high-severity findings: how many and the first few, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyFindingSample {
    /// Number of matching findings listed.
    pub count: u64,
    /// Listing stopped at [`GuardDutyFindingSample::MAX_LISTED`]: there are at least
    /// `count`.
    pub count_capped: bool,
    /// Details of up to [`GuardDutyFindingSample::SAMPLE`] of them, highest severity first.
    pub sample: Vec<GuardDutyFinding>,
}

impl GuardDutyFindingSample {
    /// How many findings are described in detail.
    pub const SAMPLE: usize = 10;
    /// How many finding ids are listed at most (20 pages of 50).
    pub const MAX_LISTED: u64 = 1000;
}

/// One GuardDuty finding, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardDutyFinding {
    /// Finding id.
    pub id: String,
    /// Finding type (`UnauthorizedAccess:EC2/SSHBruteForce`, ...).
    pub finding_type: String,
    /// Severity, 1.0 to 10.0 (high is 7.0 and above).
    pub severity: f64,
    /// Title.
    pub title: Option<String>,
    /// The kind of affected resource (`Instance`, `S3Bucket`, `AccessKey`, ...).
    pub resource_type: Option<String>,
    /// Last update.
    pub updated_at: Option<String>,
}

/// An AWS Config configuration recorder, from `DescribeConfigurationRecorders` and
/// `DescribeConfigurationRecorderStatus`, with the region's delivery channel status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigRecorder {
    /// Recorder name.
    pub name: String,
    /// The IAM role the recorder uses.
    pub role_arn: Option<String>,
    /// Records every supported resource type (`recordingGroup.allSupported`).
    pub all_supported: bool,
    /// Records global resource types (IAM) in this region.
    pub include_global_resource_types: bool,
    /// `ALL_SUPPORTED_RESOURCE_TYPES`, `INCLUSION_BY_RESOURCE_TYPES` or
    /// `EXCLUSION_BY_RESOURCE_TYPES`, when the recorder states a strategy.
    pub recording_strategy: Option<String>,
    /// Resource types excluded by an exclusion strategy.
    pub excluded_resource_types: Vec<String>,
    /// The service that owns a service-linked recorder, if any.
    pub service_principal: Option<String>,
    /// `DescribeConfigurationRecorderStatus` for this recorder.
    pub status: Observed<ConfigRecorderStatus>,
    /// `DescribeDeliveryChannelStatus` for the region's delivery channels.
    pub delivery_channels: Observed<Vec<ConfigDeliveryChannelStatus>>,
}

/// Whether a recorder is recording and how its last recording went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRecorderStatus {
    /// Currently recording.
    pub recording: bool,
    /// `Pending`, `Success` or `Failure`.
    pub last_status: Option<String>,
    /// Error code of the last failure.
    pub last_error_code: Option<String>,
    /// Error message of the last failure.
    pub last_error_message: Option<String>,
}

/// The last delivery of a delivery channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigDeliveryChannelStatus {
    /// Channel name.
    pub name: String,
    /// Last configuration-history delivery: `Success`, `Failure` or `Not_Applicable`.
    pub history_last_status: Option<String>,
    /// Last snapshot delivery.
    pub snapshot_last_status: Option<String>,
    /// Last error code of either.
    pub last_error_code: Option<String>,
}

/// A Secrets Manager secret, entirely from `ListSecrets` (its entries carry rotation,
/// encryption and dates, so no `DescribeSecret` per secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// Secret name.
    pub name: String,
    /// The KMS key id, ARN or alias; `None` means the AWS-managed `aws/secretsmanager` key.
    pub kms_key_id: Option<String>,
    /// Automatic rotation is configured.
    pub rotation_enabled: bool,
    /// Rotation interval in days, when given as a day count.
    pub rotation_days: Option<i64>,
    /// Rotation schedule expression (`rate(...)` / `cron(...)`), when given as one.
    pub rotation_schedule: Option<String>,
    /// Last successful rotation.
    pub last_rotated: Option<DateTime<Utc>>,
    /// Next scheduled rotation.
    pub next_rotation: Option<DateTime<Utc>>,
    /// Last change of the secret value or metadata.
    pub last_changed: Option<DateTime<Utc>>,
    /// Creation.
    pub created: Option<DateTime<Utc>>,
    /// Scheduled deletion, if the secret is being deleted.
    pub deleted: Option<DateTime<Utc>>,
    /// The service that manages the secret (`rds`, `appflow`, ...), if any.
    pub owning_service: Option<String>,
}

/// An IAM Access Analyzer analyzer (`ListAnalyzers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessAnalyzer {
    /// Analyzer name.
    pub name: String,
    /// `ACCOUNT`, `ORGANIZATION`, or an unused-access type.
    pub analyzer_type: String,
    /// `ACTIVE`, `CREATING`, `DISABLED` or `FAILED`.
    pub status: String,
}

/// The region's Security Hub subscription (`DescribeHub`) and its enabled standards
/// (`GetEnabledStandards`). Absent from a snapshot when Security Hub is not enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityHub {
    /// When the account subscribed.
    pub subscribed_at: Option<String>,
    /// New controls of enabled standards are enabled automatically.
    pub auto_enable_controls: Option<bool>,
    /// The standards subscriptions.
    pub standards: Observed<Vec<SecurityHubStandard>>,
}

/// One enabled Security Hub standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityHubStandard {
    /// Standard ARN (`arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0`,
    /// `arn:aws:securityhub:REGION::standards/aws-foundational-security-best-practices/v/1.0.0`,
    /// ...).
    pub standards_arn: String,
    /// `PENDING`, `READY`, `FAILED`, `DELETING` or `INCOMPLETE`.
    pub status: String,
}

/// An EC2 Auto Scaling launch configuration (`DescribeLaunchConfigurations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchConfiguration {
    /// Name.
    pub name: String,
    /// AMI.
    pub image_id: Option<String>,
    /// Instance type.
    pub instance_type: Option<String>,
    /// Whether instances get a public IPv4 address; `None` follows the subnet's setting.
    pub associate_public_ip_address: Option<bool>,
    /// IMDS `HttpTokens` (`required` / `optional`), when set.
    pub http_tokens: Option<String>,
    /// Created.
    pub created: Option<DateTime<Utc>>,
    /// The Auto Scaling groups that launch from it (`DescribeAutoScalingGroups`), with their
    /// subnets: where `associate_public_ip_address` is unset, those subnets decide.
    #[serde(default = "Observed::not_recorded")]
    pub used_by: Observed<Vec<AutoScalingGroupRef>>,
}

/// An Auto Scaling group, as a launch configuration's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoScalingGroupRef {
    /// Group name.
    pub name: String,
    /// Subnet ids (`VPCZoneIdentifier`).
    pub subnets: Vec<String>,
}

/// What Systems Manager knows of the region's instances: which are managed
/// (`DescribeInstanceInformation`) and their compliance (`ListResourceComplianceSummaries`).
/// ARN `arn:aws:ssm:REGION:ACCOUNT:managed-instance-inventory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsmFleet {
    /// Managed instances by instance id.
    pub managed: Observed<BTreeMap<String, SsmManagedInstance>>,
    /// Compliance by instance id, then compliance type (`Patch`, `Association`, ...).
    pub compliance: Observed<BTreeMap<String, BTreeMap<String, SsmCompliance>>>,
}

/// One managed instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsmManagedInstance {
    /// `Online`, `ConnectionLost` or `Inactive`.
    pub ping_status: Option<String>,
    /// SSM Agent version.
    pub agent_version: Option<String>,
    /// `Linux`, `Windows`, `MacOS`.
    pub platform_type: Option<String>,
    /// Last time the agent checked in.
    pub last_ping: Option<DateTime<Utc>>,
}

/// One compliance summary of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsmCompliance {
    /// `COMPLIANT` or `NON_COMPLIANT`.
    pub status: String,
    /// Highest severity among non-compliant items (`CRITICAL`, `HIGH`, ...).
    pub overall_severity: Option<String>,
    /// Number of non-compliant items.
    pub non_compliant_count: i32,
    /// When the compliance was last recorded.
    pub execution_time: Option<DateTime<Utc>>,
}

/// Amazon Macie in one region (`GetMacieSession`), with automated sensitive data discovery
/// (`GetAutomatedDiscoveryConfiguration`) and classification jobs (`ListClassificationJobs`).
/// ARN `arn:aws:macie2:REGION:ACCOUNT:session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MacieSession {
    /// `ENABLED`, `PAUSED`, or `DISABLED` when Macie is not enabled in the region.
    pub status: String,
    /// Automated sensitive data discovery: `ENABLED` or `DISABLED` (`Absent` when Macie is
    /// off and the configuration was not read).
    pub automated_discovery: Observed<String>,
    /// Sensitive data discovery jobs (`Absent` when Macie is off).
    pub classification_jobs: Observed<Vec<MacieJob>>,
}

/// One Macie classification job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacieJob {
    /// Job id.
    pub job_id: String,
    /// Name.
    pub name: Option<String>,
    /// `ONE_TIME` or `SCHEDULED`.
    pub job_type: Option<String>,
    /// `RUNNING`, `PAUSED`, `CANCELLED`, `COMPLETE`, `IDLE` or `USER_PAUSED`.
    pub status: Option<String>,
}
