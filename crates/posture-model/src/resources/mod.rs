//! One typed struct per AWS resource kind, and the [`Resource`] envelope that carries
//! identity (ARN, account, region, tags) around them.
//!
//! Settings with no ARN of their own get an ARN of the usual shape, documented on each
//! [`ResourceKind`] variant, so that findings, waivers and drift can name them.

mod acm;
mod backup;
mod cloudtrail;
mod cloudwatch;
#[cfg(test)]
mod compat;
mod detect;
mod ec2;
mod efs;
mod elb;
mod iam;
mod kms;
mod rds;
mod s3;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use acm::*;
pub use backup::*;
pub use cloudtrail::*;
pub use cloudwatch::*;
pub use detect::*;
pub use ec2::*;
pub use efs::*;
pub use elb::*;
pub use iam::*;
pub use kms::*;
pub use rds::*;
pub use s3::*;

use crate::{AccountId, Arn, Observed, Region};

/// Tags as key → value, sorted by key.
pub type Tags = BTreeMap<String, String>;

/// One collected resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Identity: the ARN.
    pub arn: Arn,
    /// The account the resource lives in.
    pub account: AccountId,
    /// The region, or `global` for account-wide resources.
    pub region: Region,
    /// Tags; `Unavailable` when the tag lookup failed (rules scoped by tags then report `Error`).
    pub tags: Observed<Tags>,
    /// The typed configuration.
    pub body: ResourceBody,
}

impl Resource {
    /// The resource kind, derived from the body.
    pub fn kind(&self) -> ResourceKind {
        self.body.kind()
    }

    /// The collected tags, or an empty map when they were absent or unavailable.
    pub fn tags_or_empty(&self) -> Tags {
        match &self.tags {
            Observed::Collected(t) => t.clone(),
            _ => Tags::new(),
        }
    }
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) => $name:literal ),+ $(,)?) => {
        /// The configuration of one resource, by kind.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[allow(
            clippy::large_enum_variant,
            reason = "bodies are built once and moved whole; boxing each would add an allocation per resource"
        )]
        #[serde(tag = "kind", content = "config")]
        pub enum ResourceBody {
            $( $(#[$doc])* #[serde(rename = $name)] $variant($ty), )+
        }

        /// The kinds of resource Posture collects. The string form (`aws_s3_bucket`) is
        /// stable: it appears in JSON, the store and the baseline.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ResourceKind {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )+
        }

        impl ResourceBody {
            /// The kind of this body.
            pub fn kind(&self) -> ResourceKind {
                match self {
                    $( ResourceBody::$variant(_) => ResourceKind::$variant, )+
                }
            }
        }

        impl ResourceKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ResourceKind] = &[ $( ResourceKind::$variant, )+ ];

            /// The stable string form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ResourceKind::$variant => $name, )+
                }
            }
        }

        impl std::str::FromStr for ResourceKind {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $( $name => Ok(ResourceKind::$variant), )+
                    other => Err(format!("unknown resource kind {other:?}")),
                }
            }
        }
    };
}

kinds! {
    /// The account itself, ARN `arn:aws:iam::ACCOUNT:root`; subject of account-wide rules.
    Account(AccountInfo) => "aws_account",
    /// One scanned region of an account, ARN `arn:aws:ec2:REGION:ACCOUNT:region/REGION`;
    /// subject of region-wide rules (e.g. "a trail logs this region").
    Region(RegionInfo) => "aws_region",
    /// An S3 bucket, ARN `arn:aws:s3:::NAME`.
    S3Bucket(S3Bucket) => "aws_s3_bucket",
    /// The account-level S3 Block Public Access setting,
    /// ARN `arn:aws:s3::ACCOUNT:account-public-access-block`.
    S3AccountPublicAccessBlock(S3AccountPublicAccessBlock) => "aws_s3_account_public_access_block",
    /// An S3 access point, ARN `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`.
    S3AccessPoint(S3AccessPoint) => "aws_s3_access_point",
    /// An RDS DB instance.
    RdsInstance(RdsInstance) => "aws_rds_db_instance",
    /// An RDS/Aurora DB cluster.
    RdsCluster(RdsCluster) => "aws_rds_db_cluster",
    /// An RDS DB or cluster snapshot.
    RdsSnapshot(RdsSnapshot) => "aws_rds_db_snapshot",
    /// An RDS DB parameter group (of instances).
    RdsParameterGroup(RdsParameterGroup) => "aws_rds_db_parameter_group",
    /// An RDS DB cluster parameter group (of Aurora and Multi-AZ DB clusters), ARN
    /// `arn:aws:rds:REGION:ACCOUNT:cluster-pg:NAME`.
    RdsClusterParameterGroup(RdsParameterGroup) => "aws_rds_db_cluster_parameter_group",
    /// An IAM user.
    IamUser(IamUser) => "aws_iam_user",
    /// An IAM group.
    IamGroup(IamGroup) => "aws_iam_group",
    /// An IAM role.
    IamRole(IamRole) => "aws_iam_role",
    /// A managed IAM policy (customer-managed, or AWS-managed and attached).
    IamPolicy(IamPolicy) => "aws_iam_policy",
    /// The account password policy, ARN `arn:aws:iam::ACCOUNT:account-password-policy`.
    IamPasswordPolicy(IamPasswordPolicy) => "aws_iam_password_policy",
    /// The IAM account summary, ARN `arn:aws:iam::ACCOUNT:account-summary`.
    IamAccountSummary(IamAccountSummary) => "aws_iam_account_summary",
    /// The IAM credential report, ARN `arn:aws:iam::ACCOUNT:credential-report`.
    IamCredentialReport(IamCredentialReport) => "aws_iam_credential_report",
    /// A server certificate stored in IAM, ARN
    /// `arn:aws:iam::ACCOUNT:server-certificate/PATH/NAME`.
    IamServerCertificate(IamServerCertificate) => "aws_iam_server_certificate",
    /// A VPC.
    Vpc(Vpc) => "aws_ec2_vpc",
    /// A subnet.
    Subnet(Subnet) => "aws_ec2_subnet",
    /// A route table.
    RouteTable(RouteTable) => "aws_ec2_route_table",
    /// A security group.
    SecurityGroup(SecurityGroup) => "aws_ec2_security_group",
    /// A network ACL.
    NetworkAcl(NetworkAcl) => "aws_ec2_network_acl",
    /// A VPC flow log.
    FlowLog(FlowLog) => "aws_ec2_flow_log",
    /// An EBS volume.
    Volume(Volume) => "aws_ec2_volume",
    /// An EBS snapshot owned by the account.
    EbsSnapshot(EbsSnapshot) => "aws_ec2_snapshot",
    /// An EC2 instance.
    Instance(Instance) => "aws_ec2_instance",
    /// The region's EBS encryption-by-default setting,
    /// ARN `arn:aws:ec2:REGION:ACCOUNT:ebs-encryption-by-default`.
    EbsEncryptionByDefault(EbsEncryptionByDefault) => "aws_ec2_ebs_encryption_by_default",
    /// The region's EBS snapshot Block Public Access setting,
    /// ARN `arn:aws:ec2:REGION:ACCOUNT:snapshot-block-public-access`.
    EbsSnapshotBlockPublicAccess(EbsSnapshotBlockPublicAccess) => "aws_ec2_snapshot_block_public_access",
    /// An EC2 launch template.
    LaunchTemplate(LaunchTemplate) => "aws_ec2_launch_template",
    /// The region's instance metadata defaults,
    /// ARN `arn:aws:ec2:REGION:ACCOUNT:instance-metadata-defaults`.
    InstanceMetadataDefaults(InstanceMetadataDefaults) => "aws_ec2_instance_metadata_defaults",
    /// An AMI owned by the account.
    Image(Image) => "aws_ec2_image",
    /// An internet gateway.
    InternetGateway(InternetGateway) => "aws_ec2_internet_gateway",
    /// A VPC endpoint.
    VpcEndpoint(VpcEndpoint) => "aws_ec2_vpc_endpoint",
    /// A Site-to-Site VPN connection.
    VpnConnection(VpnConnection) => "aws_ec2_vpn_connection",
    /// An RDS event subscription.
    RdsEventSubscription(RdsEventSubscription) => "aws_rds_event_subscription",
    /// A KMS key.
    KmsKey(KmsKey) => "aws_kms_key",
    /// A CloudTrail trail.
    Trail(Trail) => "aws_cloudtrail_trail",
    /// A CloudWatch Logs log group, with its metric filters.
    LogGroup(LogGroup) => "aws_logs_log_group",
    /// A CloudWatch metric alarm.
    MetricAlarm(MetricAlarm) => "aws_cloudwatch_alarm",
    /// A region's SNS subscriptions summarised by topic,
    /// ARN `arn:aws:sns:REGION:ACCOUNT:subscriptions/summary`.
    SnsSubscriptions(SnsSubscriptions) => "aws_sns_subscriptions",
    /// A GuardDuty detector.
    GuardDutyDetector(GuardDutyDetector) => "aws_guardduty_detector",
    /// An AWS Config configuration recorder.
    ConfigRecorder(ConfigRecorder) => "aws_config_recorder",
    /// A Secrets Manager secret.
    Secret(Secret) => "aws_secretsmanager_secret",
    /// An IAM Access Analyzer analyzer.
    AccessAnalyzer(AccessAnalyzer) => "aws_accessanalyzer_analyzer",
    /// The region's Security Hub subscription, ARN `arn:aws:securityhub:REGION:ACCOUNT:hub/default`.
    SecurityHub(SecurityHub) => "aws_securityhub_hub",
    /// An EC2 Auto Scaling launch configuration.
    LaunchConfiguration(LaunchConfiguration) => "aws_autoscaling_launch_configuration",
    /// What Systems Manager knows of the region's instances,
    /// ARN `arn:aws:ssm:REGION:ACCOUNT:managed-instance-inventory`.
    SsmFleet(SsmFleet) => "aws_ssm_fleet",
    /// Amazon Macie in a region, ARN `arn:aws:macie2:REGION:ACCOUNT:session`.
    MacieSession(MacieSession) => "aws_macie_session",
    /// An EFS file system.
    EfsFileSystem(EfsFileSystem) => "aws_efs_file_system",
    /// An AWS Backup plan.
    BackupPlan(BackupPlan) => "aws_backup_plan",
    /// An AWS Backup vault.
    BackupVault(BackupVault) => "aws_backup_vault",
    /// An AWS Backup recovery point.
    BackupRecoveryPoint(BackupRecoveryPoint) => "aws_backup_recovery_point",
    /// An Elastic Load Balancing load balancer of any type (Classic, Application, Network,
    /// Gateway) with its listeners, ARN
    /// `arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/NAME` for Classic ones.
    LoadBalancer(LoadBalancer) => "aws_elb_load_balancer",
    /// An ACM certificate.
    AcmCertificate(AcmCertificate) => "aws_acm_certificate",
}

impl ResourceKind {
    /// The service whose collector produces this kind; `None` for the account and region
    /// subjects every scan produces.
    pub fn collected_by(self) -> Option<crate::Service> {
        self.service().parse().ok()
    }

    /// The service whose collector produces this kind (`s3`, `iam`, ...); `posture` for the
    /// account and region subjects every scan produces.
    pub fn service(self) -> &'static str {
        match self {
            ResourceKind::Account | ResourceKind::Region => "posture",
            ResourceKind::S3Bucket
            | ResourceKind::S3AccountPublicAccessBlock
            | ResourceKind::S3AccessPoint => "s3",
            ResourceKind::RdsInstance
            | ResourceKind::RdsCluster
            | ResourceKind::RdsSnapshot
            | ResourceKind::RdsParameterGroup
            | ResourceKind::RdsClusterParameterGroup
            | ResourceKind::RdsEventSubscription => "rds",
            ResourceKind::IamUser
            | ResourceKind::IamGroup
            | ResourceKind::IamRole
            | ResourceKind::IamPolicy
            | ResourceKind::IamPasswordPolicy
            | ResourceKind::IamAccountSummary
            | ResourceKind::IamCredentialReport
            | ResourceKind::IamServerCertificate => "iam",
            ResourceKind::Vpc
            | ResourceKind::Subnet
            | ResourceKind::RouteTable
            | ResourceKind::SecurityGroup
            | ResourceKind::NetworkAcl
            | ResourceKind::FlowLog
            | ResourceKind::Volume
            | ResourceKind::EbsSnapshot
            | ResourceKind::Instance
            | ResourceKind::EbsEncryptionByDefault
            | ResourceKind::EbsSnapshotBlockPublicAccess
            | ResourceKind::LaunchTemplate
            | ResourceKind::InstanceMetadataDefaults
            | ResourceKind::Image
            | ResourceKind::InternetGateway
            | ResourceKind::VpcEndpoint
            | ResourceKind::VpnConnection => "ec2",
            ResourceKind::KmsKey => "kms",
            ResourceKind::Trail => "cloudtrail",
            ResourceKind::LogGroup | ResourceKind::MetricAlarm | ResourceKind::SnsSubscriptions => {
                "cloudwatch"
            }
            ResourceKind::GuardDutyDetector => "guardduty",
            ResourceKind::ConfigRecorder => "config",
            ResourceKind::Secret => "secretsmanager",
            ResourceKind::AccessAnalyzer => "accessanalyzer",
            ResourceKind::SecurityHub => "securityhub",
            ResourceKind::LaunchConfiguration => "autoscaling",
            ResourceKind::SsmFleet => "ssm",
            ResourceKind::MacieSession => "macie",
            ResourceKind::EfsFileSystem => "efs",
            ResourceKind::BackupPlan
            | ResourceKind::BackupVault
            | ResourceKind::BackupRecoveryPoint => "backup",
            ResourceKind::LoadBalancer => "elb",
            ResourceKind::AcmCertificate => "acm",
        }
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The account: who was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The account id.
    pub account_id: AccountId,
    /// The ARN of the identity that scanned it (from `sts:GetCallerIdentity`).
    pub scanned_as: String,
}

/// One scanned region of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionInfo {
    /// The region name.
    pub name: Region,
}

/// Builds the documented ARN of a region subject.
pub fn region_arn(account: &AccountId, region: &Region) -> Arn {
    Arn::from_parts(
        "ec2",
        region.as_str(),
        account.as_str(),
        &format!("region/{region}"),
    )
}

/// Builds the ARN of an account subject (`arn:aws:iam::ACCOUNT:root`).
pub fn account_arn(account: &AccountId) -> Arn {
    Arn::from_parts("iam", "", account.as_str(), "root")
}
