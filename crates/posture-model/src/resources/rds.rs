//! RDS instances, clusters, snapshots and parameter groups.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Observed;

/// An RDS DB instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsInstance {
    /// `DBInstanceIdentifier`.
    pub identifier: String,
    /// Engine, e.g. `postgres`, `mysql`, `aurora-postgresql`.
    pub engine: String,
    /// Engine version.
    pub engine_version: Option<String>,
    /// Instance class.
    pub instance_class: Option<String>,
    /// The cluster this instance belongs to (Aurora), if any.
    pub cluster_identifier: Option<String>,
    /// Storage encrypted at rest.
    pub storage_encrypted: bool,
    /// KMS key of the storage encryption.
    pub kms_key_id: Option<String>,
    /// Reachable from the internet when in a public subnet.
    pub publicly_accessible: bool,
    /// Automated backup retention in days (0 = off).
    pub backup_retention_period: i32,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Multi-AZ deployment.
    pub multi_az: bool,
    /// Automatic minor version upgrades.
    pub auto_minor_version_upgrade: bool,
    /// IAM database authentication.
    pub iam_database_authentication_enabled: bool,
    /// Log types exported to CloudWatch Logs.
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// Names of the DB parameter groups applied.
    pub parameter_groups: Vec<String>,
    /// The DB subnet group name.
    pub db_subnet_group: Option<String>,
    /// The VPC.
    pub vpc_id: Option<String>,
    /// Enhanced monitoring interval in seconds (0 = off).
    pub monitoring_interval: Option<i32>,
    /// The CA certificate identifier.
    pub ca_certificate_identifier: Option<String>,
    /// When the instance was created.
    pub created_at: Option<DateTime<Utc>>,
    /// The subnets of its DB subnet group (`DBSubnetGroup.Subnets`); empty when the
    /// instance has no subnet group (not in a VPC).
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// Expiry of the instance's server certificate (`CertificateDetails.ValidTill`).
    #[serde(default)]
    pub server_certificate_valid_till: Option<DateTime<Utc>>,
    /// The CA named by `ca_certificate_identifier`, from `DescribeCertificates`; `Absent`
    /// when the instance names no CA or the region's list does not include it.
    #[serde(default = "Observed::not_recorded")]
    pub ca_certificate: Observed<RdsCaCertificate>,
}

/// An RDS certificate authority (`DescribeCertificates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdsCaCertificate {
    /// Identifier, e.g. `rds-ca-rsa2048-g1`.
    pub identifier: String,
    /// Type, e.g. `CA`.
    pub certificate_type: Option<String>,
    /// Valid from.
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until.
    pub valid_till: Option<DateTime<Utc>>,
}

/// An RDS event notification subscription (`DescribeEventSubscriptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdsEventSubscription {
    /// `CustSubscriptionId`.
    pub name: String,
    /// `Enabled`.
    pub enabled: bool,
    /// `Status` (`active`, `no-permission`, `topic-not-exist`, ...).
    pub status: Option<String>,
    /// The SNS topic notified.
    pub sns_topic_arn: Option<String>,
    /// Source type (`db-instance`, `db-cluster`, ...); `None` = all sources.
    pub source_type: Option<String>,
    /// Source identifiers; empty = every source of the type.
    pub source_ids: Vec<String>,
    /// Event categories; empty = every category.
    pub event_categories: Vec<String>,
}

/// An RDS or Aurora DB cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsCluster {
    /// `DBClusterIdentifier`.
    pub identifier: String,
    /// Engine.
    pub engine: String,
    /// Storage encrypted at rest.
    pub storage_encrypted: bool,
    /// KMS key.
    pub kms_key_id: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Automated backup retention in days.
    pub backup_retention_period: i32,
    /// Multi-AZ.
    pub multi_az: bool,
    /// IAM database authentication.
    pub iam_database_authentication_enabled: bool,
    /// Log types exported to CloudWatch Logs.
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// The cluster parameter group.
    pub parameter_group: Option<String>,
    /// Member instance identifiers.
    pub members: Vec<String>,
}

/// Whether a snapshot is of an instance or a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RdsSnapshotOf {
    /// A DB instance snapshot.
    Instance,
    /// A DB cluster snapshot.
    Cluster,
}

/// An RDS DB or cluster snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsSnapshot {
    /// Snapshot identifier.
    pub identifier: String,
    /// Instance or cluster snapshot.
    pub of: RdsSnapshotOf,
    /// The source instance or cluster.
    pub source: Option<String>,
    /// `manual` or `automated`.
    pub snapshot_type: Option<String>,
    /// Encrypted.
    pub encrypted: bool,
    /// The accounts allowed to restore it (`all` = public), from the `restore` attribute.
    pub restore_accounts: Observed<Vec<String>>,
}

/// An RDS DB parameter group and the parameters it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsParameterGroup {
    /// Group name.
    pub name: String,
    /// Family, e.g. `postgres16`.
    pub family: Option<String>,
    /// Parameters by name; the value is `None` when AWS reports the parameter without a value.
    /// Only the parameters Posture's rules read are kept.
    pub parameters: Observed<BTreeMap<String, Option<String>>>,
}

/// Parameter names that rules read; the collector keeps only these.
pub const RDS_TRACKED_PARAMETERS: &[&str] = &["rds.force_ssl", "require_secure_transport"];
