//! The one table of collectors: for each [`Service`], the IAM prefixes of its calls, whether
//! it runs once per account, and every API call it makes with the IAM action that grants it
//! and the resource kinds it lists. Planning (`scan.services`), coverage (which collection a
//! failed call belongs to, which kinds a failed list call hides: [`crate::Unread`]), the
//! rules' declared calls (`RuleMeta::api_calls` must name calls of this table, checked by a
//! test in `posture-check`) and the least-privilege policy (`deploy/iam`, checked against a
//! real scan by the end-to-end suite) all read it. Operation names are checked against the
//! SDK crates' own operation modules by a test in `posture-collect`.
//!
//! Adding a service is a row here, its collector, and its rules.

use crate::{ResourceKind, Service};

/// One API call a collector makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// `prefix:Operation`, as the SDK names the operation and as coverage records and
    /// rules write it (`s3:GetBucketEncryption`).
    pub operation: &'static str,
    /// The IAM action that grants it (`s3:GetEncryptionConfiguration`); usually the same.
    pub iam_action: &'static str,
    /// The kinds whose every resource this call enumerates: its failure hides them.
    pub lists: &'static [ResourceKind],
}

/// One collector: a service and the calls it makes.
#[derive(Debug, Clone, Copy)]
pub struct Collector {
    /// The service (`scan.services` name).
    pub service: Service,
    /// The IAM prefixes of its calls (`elasticloadbalancing` for `elb`).
    pub prefixes: &'static [&'static str],
    /// Whether it runs once per account (recorded in the pseudo-region `global`) rather
    /// than once per region.
    pub account_wide: bool,
    /// Every call it makes.
    pub calls: &'static [Call],
}

const fn call(operation: &'static str) -> Call {
    Call {
        operation,
        iam_action: operation,
        lists: &[],
    }
}

const fn list(operation: &'static str, lists: &'static [ResourceKind]) -> Call {
    Call {
        operation,
        iam_action: operation,
        lists,
    }
}

const fn granted_by(operation: &'static str, iam_action: &'static str) -> Call {
    Call {
        operation,
        iam_action,
        lists: &[],
    }
}

use ResourceKind as K;

/// Every collector, in collection order.
pub const COLLECTORS: &[Collector] = &[
    Collector {
        service: Service::Iam,
        prefixes: &["iam"],
        account_wide: true,
        calls: &[
            call("iam:GenerateCredentialReport"),
            list(
                "iam:GetAccountAuthorizationDetails",
                &[K::IamUser, K::IamGroup, K::IamRole, K::IamPolicy],
            ),
            call("iam:GetAccountPasswordPolicy"),
            call("iam:GetAccountSummary"),
            call("iam:GetCredentialReport"),
            list("iam:ListServerCertificates", &[K::IamServerCertificate]),
            call("iam:ListVirtualMFADevices"),
        ],
    },
    Collector {
        service: Service::S3,
        prefixes: &["s3", "s3control"],
        account_wide: true,
        calls: &[
            Call {
                operation: "s3:ListBuckets",
                iam_action: "s3:ListAllMyBuckets",
                lists: &[K::S3Bucket],
            },
            call("s3:GetBucketAcl"),
            granted_by("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
            granted_by(
                "s3:GetBucketLifecycleConfiguration",
                "s3:GetLifecycleConfiguration",
            ),
            call("s3:GetBucketLocation"),
            call("s3:GetBucketLogging"),
            granted_by(
                "s3:GetBucketNotificationConfiguration",
                "s3:GetBucketNotification",
            ),
            call("s3:GetBucketOwnershipControls"),
            call("s3:GetBucketPolicy"),
            granted_by("s3:GetBucketReplication", "s3:GetReplicationConfiguration"),
            call("s3:GetBucketTagging"),
            call("s3:GetBucketVersioning"),
            granted_by(
                "s3:GetObjectLockConfiguration",
                "s3:GetBucketObjectLockConfiguration",
            ),
            granted_by("s3:GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
            granted_by("s3control:GetAccessPoint", "s3:GetAccessPoint"),
            granted_by(
                "s3control:GetPublicAccessBlock",
                "s3:GetAccountPublicAccessBlock",
            ),
            Call {
                operation: "s3control:ListAccessPoints",
                iam_action: "s3:ListAccessPoints",
                lists: &[K::S3AccessPoint],
            },
        ],
    },
    Collector {
        service: Service::Ec2,
        prefixes: &["ec2"],
        account_wide: false,
        calls: &[
            list("ec2:DescribeFlowLogs", &[K::FlowLog]),
            list("ec2:DescribeImages", &[K::Image]),
            call("ec2:DescribeInstanceAttribute"),
            call("ec2:DescribeInstanceTypes"),
            list("ec2:DescribeInstances", &[K::Instance]),
            list("ec2:DescribeInternetGateways", &[K::InternetGateway]),
            call("ec2:DescribeLaunchTemplateVersions"),
            list("ec2:DescribeLaunchTemplates", &[K::LaunchTemplate]),
            list("ec2:DescribeNetworkAcls", &[K::NetworkAcl]),
            list("ec2:DescribeRouteTables", &[K::RouteTable]),
            list("ec2:DescribeSecurityGroups", &[K::SecurityGroup]),
            call("ec2:DescribeSnapshotAttribute"),
            list("ec2:DescribeSnapshots", &[K::EbsSnapshot]),
            list("ec2:DescribeSubnets", &[K::Subnet]),
            list("ec2:DescribeVolumes", &[K::Volume]),
            list("ec2:DescribeVpcEndpoints", &[K::VpcEndpoint]),
            list("ec2:DescribeVpcs", &[K::Vpc]),
            list("ec2:DescribeVpnConnections", &[K::VpnConnection]),
            call("ec2:GetEbsEncryptionByDefault"),
            call("ec2:GetInstanceMetadataDefaults"),
            call("ec2:GetSnapshotBlockPublicAccessState"),
        ],
    },
    Collector {
        service: Service::Rds,
        prefixes: &["rds"],
        account_wide: false,
        calls: &[
            call("rds:DescribeCertificates"),
            list(
                "rds:DescribeDBClusterParameterGroups",
                &[K::RdsClusterParameterGroup],
            ),
            call("rds:DescribeDBClusterParameters"),
            call("rds:DescribeDBClusterSnapshotAttributes"),
            list("rds:DescribeDBClusterSnapshots", &[K::RdsSnapshot]),
            list("rds:DescribeDBClusters", &[K::RdsCluster]),
            list("rds:DescribeDBInstances", &[K::RdsInstance]),
            list("rds:DescribeDBParameterGroups", &[K::RdsParameterGroup]),
            call("rds:DescribeDBParameters"),
            call("rds:DescribeDBSnapshotAttributes"),
            list("rds:DescribeDBSnapshots", &[K::RdsSnapshot]),
            list("rds:DescribeEventSubscriptions", &[K::RdsEventSubscription]),
        ],
    },
    Collector {
        service: Service::Kms,
        prefixes: &["kms"],
        account_wide: false,
        calls: &[
            call("kms:DescribeKey"),
            call("kms:GetKeyPolicy"),
            call("kms:GetKeyRotationStatus"),
            // Aliases are a field of each key: a failed listing leaves them unknown.
            call("kms:ListAliases"),
            list("kms:ListKeys", &[K::KmsKey]),
            call("kms:ListResourceTags"),
        ],
    },
    Collector {
        service: Service::CloudTrail,
        prefixes: &["cloudtrail"],
        account_wide: false,
        calls: &[
            list("cloudtrail:DescribeTrails", &[K::Trail]),
            call("cloudtrail:GetEventSelectors"),
            call("cloudtrail:GetInsightSelectors"),
            call("cloudtrail:GetTrailStatus"),
            call("cloudtrail:ListTags"),
        ],
    },
    Collector {
        service: Service::Efs,
        prefixes: &["elasticfilesystem"],
        account_wide: false,
        calls: &[
            call("elasticfilesystem:DescribeBackupPolicy"),
            call("elasticfilesystem:DescribeFileSystemPolicy"),
            list("elasticfilesystem:DescribeFileSystems", &[K::EfsFileSystem]),
        ],
    },
    Collector {
        service: Service::Backup,
        prefixes: &["backup"],
        account_wide: false,
        calls: &[
            call("backup:DescribeRegionSettings"),
            call("backup:GetBackupPlan"),
            call("backup:GetBackupSelection"),
            call("backup:GetBackupVaultAccessPolicy"),
            list("backup:ListBackupPlans", &[K::BackupPlan]),
            call("backup:ListBackupSelections"),
            // Recovery points are listed per vault: no vault, no recovery point.
            list(
                "backup:ListBackupVaults",
                &[K::BackupVault, K::BackupRecoveryPoint],
            ),
            list(
                "backup:ListRecoveryPointsByBackupVault",
                &[K::BackupRecoveryPoint],
            ),
        ],
    },
    Collector {
        service: Service::CloudWatch,
        prefixes: &["cloudwatch", "logs", "sns"],
        account_wide: false,
        calls: &[
            // Subscriptions are read for the topics that alarms notify.
            list(
                "cloudwatch:DescribeAlarms",
                &[K::MetricAlarm, K::SnsSubscriptions],
            ),
            list("logs:DescribeLogGroups", &[K::LogGroup]),
            call("logs:DescribeMetricFilters"),
            call("sns:ListSubscriptionsByTopic"),
        ],
    },
    Collector {
        service: Service::Elb,
        prefixes: &["elasticloadbalancing"],
        account_wide: false,
        calls: &[
            call("elasticloadbalancing:DescribeListenerCertificates"),
            call("elasticloadbalancing:DescribeListeners"),
            call("elasticloadbalancing:DescribeLoadBalancerAttributes"),
            call("elasticloadbalancing:DescribeLoadBalancerPolicies"),
            list(
                "elasticloadbalancing:DescribeLoadBalancers",
                &[K::LoadBalancer],
            ),
            call("elasticloadbalancing:DescribeRules"),
            call("elasticloadbalancing:DescribeTags"),
        ],
    },
    Collector {
        service: Service::Acm,
        prefixes: &["acm"],
        account_wide: false,
        calls: &[
            call("acm:DescribeCertificate"),
            list("acm:ListCertificates", &[K::AcmCertificate]),
            call("acm:ListTagsForCertificate"),
        ],
    },
    Collector {
        service: Service::GuardDuty,
        prefixes: &["guardduty"],
        account_wide: false,
        calls: &[
            call("guardduty:GetAdministratorAccount"),
            call("guardduty:GetDetector"),
            call("guardduty:GetFindings"),
            list("guardduty:ListDetectors", &[K::GuardDutyDetector]),
            call("guardduty:ListFindings"),
        ],
    },
    Collector {
        service: Service::Config,
        prefixes: &["config"],
        account_wide: false,
        calls: &[
            call("config:DescribeConfigurationRecorderStatus"),
            call("config:DescribeConfigurationRecorders"),
            call("config:DescribeDeliveryChannelStatus"),
        ],
    },
    Collector {
        service: Service::SecretsManager,
        prefixes: &["secretsmanager"],
        account_wide: false,
        calls: &[list("secretsmanager:ListSecrets", &[K::Secret])],
    },
    Collector {
        service: Service::AccessAnalyzer,
        prefixes: &["access-analyzer"],
        account_wide: false,
        calls: &[list("access-analyzer:ListAnalyzers", &[K::AccessAnalyzer])],
    },
    Collector {
        service: Service::SecurityHub,
        prefixes: &["securityhub"],
        account_wide: false,
        calls: &[
            call("securityhub:DescribeHub"),
            call("securityhub:GetEnabledStandards"),
        ],
    },
    Collector {
        service: Service::AutoScaling,
        prefixes: &["autoscaling"],
        account_wide: false,
        calls: &[
            call("autoscaling:DescribeAutoScalingGroups"),
            list(
                "autoscaling:DescribeLaunchConfigurations",
                &[K::LaunchConfiguration],
            ),
        ],
    },
    Collector {
        service: Service::Ssm,
        prefixes: &["ssm"],
        account_wide: false,
        calls: &[
            call("ssm:DescribeInstanceInformation"),
            call("ssm:ListResourceComplianceSummaries"),
        ],
    },
    Collector {
        service: Service::Macie,
        prefixes: &["macie2"],
        account_wide: false,
        calls: &[
            call("macie2:GetAutomatedDiscoveryConfiguration"),
            call("macie2:GetMacieSession"),
            call("macie2:ListClassificationJobs"),
        ],
    },
];

/// Calls of the scan's planning in each member account: finding its enabled regions.
pub const MEMBER_PLANNING_CALLS: &[Call] = &[call("ec2:DescribeRegions")];

/// Calls the scan makes with the security account's own credentials: who it is, the
/// organization's accounts, and the role it assumes in each. `sts:GetCallerIdentity`
/// needs no permission (its action is empty).
pub const SCANNER_CALLS: &[Call] = &[
    granted_by("sts:GetCallerIdentity", ""),
    call("sts:AssumeRole"),
    call("organizations:ListAccounts"),
];

/// The collector of `service`.
pub fn collector(service: Service) -> &'static Collector {
    // Every Service has a row: checked by `every_service_has_one_collector`.
    COLLECTORS
        .iter()
        .find(|c| c.service == service)
        .unwrap_or(&COLLECTORS[0])
}

/// The call named `operation` (`service:Operation`), in any collector or the planning.
pub fn call_named(operation: &str) -> Option<&'static Call> {
    COLLECTORS
        .iter()
        .flat_map(|c| c.calls.iter())
        .chain(MEMBER_PLANNING_CALLS)
        .chain(SCANNER_CALLS)
        .find(|c| c.operation == operation)
}

/// The service whose collector makes calls with `api_call`'s IAM prefix.
pub fn service_of(api_call: &str) -> Option<Service> {
    let prefix = api_call.split_once(':').map_or(api_call, |(p, _)| p);
    COLLECTORS
        .iter()
        .find(|c| c.prefixes.contains(&prefix))
        .map(|c| c.service)
}

/// The kinds whose every resource the list call `operation` enumerates; `None` when the
/// table does not know the call, or it lists nothing.
pub fn kinds_listed_by(operation: &str) -> Option<&'static [ResourceKind]> {
    call_named(operation)
        .map(|c| c.lists)
        .filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_service_has_one_collector() {
        for service in Service::ALL {
            assert_eq!(
                COLLECTORS.iter().filter(|c| c.service == service).count(),
                1,
                "{service}"
            );
        }
        assert_eq!(COLLECTORS.len(), Service::ALL.len());
    }

    #[test]
    fn operations_and_prefixes_are_unique_and_well_formed() {
        let mut seen = BTreeSet::new();
        let mut prefixes = BTreeSet::new();
        for c in COLLECTORS {
            for p in c.prefixes {
                assert!(prefixes.insert(*p), "prefix {p} in two collectors");
            }
            for call in c.calls {
                assert!(seen.insert(call.operation), "{} twice", call.operation);
                let (prefix, op) = call.operation.split_once(':').unwrap();
                assert!(c.prefixes.contains(&prefix), "{}", call.operation);
                assert!(op.starts_with(char::is_uppercase), "{}", call.operation);
                assert!(
                    call.iam_action.contains(':') && !call.iam_action.contains('*'),
                    "{} is granted by one named action",
                    call.operation
                );
                // Read-only: no action that changes anything, except the report IAM
                // prepares for reading.
                let action = call.iam_action.split_once(':').unwrap().1;
                assert!(
                    ["Describe", "Get", "List"]
                        .iter()
                        .any(|v| action.starts_with(v))
                        || call.iam_action == "iam:GenerateCredentialReport",
                    "{} is not a read",
                    call.iam_action
                );
            }
        }
    }

    #[test]
    fn every_collected_kind_is_listed_by_some_call_or_is_a_setting() {
        // Kinds that are one setting per account or region (read with a Get call, not
        // listed) have no list call: their failure is a gap about that one resource.
        let settings = [
            K::Account,
            K::Region,
            K::S3AccountPublicAccessBlock,
            K::IamPasswordPolicy,
            K::IamAccountSummary,
            K::IamCredentialReport,
            K::EbsEncryptionByDefault,
            K::EbsSnapshotBlockPublicAccess,
            K::InstanceMetadataDefaults,
            K::ConfigRecorder,
            K::SecurityHub,
            K::SsmFleet,
            K::MacieSession,
        ];
        let listed: BTreeSet<ResourceKind> = COLLECTORS
            .iter()
            .flat_map(|c| c.calls.iter())
            .flat_map(|c| c.lists.iter().copied())
            .collect();
        for kind in ResourceKind::ALL {
            assert!(
                listed.contains(kind) || settings.contains(kind),
                "{kind} is neither listed by a call of the table nor a setting"
            );
            if let Some(service) = kind.collected_by() {
                for c in COLLECTORS.iter().filter(|c| c.service != service) {
                    assert!(
                        !c.calls.iter().any(|call| call.lists.contains(kind)),
                        "{kind} is listed by {}'s calls but collected by {service}",
                        c.service
                    );
                }
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            service_of("logs:DescribeLogGroups"),
            Some(Service::CloudWatch)
        );
        assert_eq!(
            service_of("s3control:GetPublicAccessBlock"),
            Some(Service::S3)
        );
        assert_eq!(service_of("sts:GetCallerIdentity"), None);
        assert_eq!(
            call_named("s3:GetBucketEncryption").map(|c| c.iam_action),
            Some("s3:GetEncryptionConfiguration")
        );
        assert_eq!(
            call_named("s3:ListBuckets").map(|c| c.iam_action),
            Some("s3:ListAllMyBuckets")
        );
        assert_eq!(
            kinds_listed_by("rds:DescribeDBInstances"),
            Some(&[K::RdsInstance][..])
        );
        assert_eq!(kinds_listed_by("rds:DescribeDBParameters"), None);
        assert!(collector(Service::S3).account_wide);
        assert!(!collector(Service::Ec2).account_wide);
    }
}
