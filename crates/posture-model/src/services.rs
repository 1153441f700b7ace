//! Which collection makes which API call: the table that turns a rule's declared
//! `api_calls` (`logs:DescribeLogGroups`) into the collections (`cloudwatch`) whose coverage
//! records say whether its inputs were read, and which collections are account-wide.
//!
//! Collection names are those of `scan.services` and of [`crate::CollectionRecord::service`];
//! the prefix of an API call is the IAM service prefix, which differs for a few services
//! (`elasticloadbalancing` is collected by `elb`, `logs` and `sns` by `cloudwatch`).

/// A service Posture collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Amazon S3 (and the S3 Control account setting).
    S3,
    /// Amazon RDS.
    Rds,
    /// AWS IAM.
    Iam,
    /// Amazon EC2, VPC and EBS.
    Ec2,
    /// AWS KMS.
    Kms,
    /// AWS CloudTrail.
    CloudTrail,
    /// Amazon EFS.
    Efs,
    /// AWS Backup.
    Backup,
    /// Amazon CloudWatch: log groups, metric filters, alarms and the SNS topics they notify.
    CloudWatch,
    /// Elastic Load Balancing (Classic, Application and Network Load Balancers).
    Elb,
    /// AWS Certificate Manager.
    Acm,
    /// Amazon GuardDuty.
    GuardDuty,
    /// AWS Config.
    Config,
    /// AWS Secrets Manager.
    SecretsManager,
    /// IAM Access Analyzer.
    AccessAnalyzer,
    /// AWS Security Hub.
    SecurityHub,
    /// EC2 Auto Scaling launch configurations.
    AutoScaling,
    /// AWS Systems Manager (managed instances and their compliance).
    Ssm,
    /// Amazon Macie (sensitive data discovery over S3).
    Macie,
}

impl Service {
    /// Every service, in collection order.
    pub const ALL: [Service; 19] = [
        Service::Iam,
        Service::S3,
        Service::Ec2,
        Service::Rds,
        Service::Kms,
        Service::CloudTrail,
        Service::Efs,
        Service::Backup,
        Service::CloudWatch,
        Service::Elb,
        Service::Acm,
        Service::GuardDuty,
        Service::Config,
        Service::SecretsManager,
        Service::AccessAnalyzer,
        Service::SecurityHub,
        Service::AutoScaling,
        Service::Ssm,
        Service::Macie,
    ];

    /// The lowercase service name (`s3`, `cloudtrail`, `elb`, ...) used in configuration,
    /// coverage records and [`ResourceKind::service`](crate::ResourceKind::service).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::Rds => "rds",
            Service::Iam => "iam",
            Service::Ec2 => "ec2",
            Service::Kms => "kms",
            Service::CloudTrail => "cloudtrail",
            Service::Efs => "efs",
            Service::Backup => "backup",
            Service::CloudWatch => "cloudwatch",
            Service::Elb => "elb",
            Service::Acm => "acm",
            Service::GuardDuty => "guardduty",
            Service::Config => "config",
            Service::SecretsManager => "secretsmanager",
            Service::AccessAnalyzer => "accessanalyzer",
            Service::SecurityHub => "securityhub",
            Service::AutoScaling => "autoscaling",
            Service::Ssm => "ssm",
            Service::Macie => "macie",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Service::ALL.iter().map(|svc| svc.as_str()).collect();
                format!(
                    "unknown service {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// The collection whose collector makes `api_call` (`service:Operation`); `None` when no
/// collector makes calls of that prefix. Read from [`crate::catalog`].
pub fn collection_of(api_call: &str) -> Option<&'static str> {
    crate::catalog::service_of(api_call).map(Service::as_str)
}

/// Whether `collection` runs once per account, recorded in the pseudo-region `global`
/// (IAM, and S3, whose buckets are listed once and then read in their own regions), rather
/// than once per region. Read from [`crate::catalog`].
pub fn is_account_wide(collection: &str) -> bool {
    collection
        .parse::<Service>()
        .is_ok_and(|s| crate::catalog::collector(s).account_wide)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_map_to_the_collection_that_makes_the_call() {
        assert_eq!(collection_of("logs:DescribeLogGroups"), Some("cloudwatch"));
        assert_eq!(
            collection_of("sns:ListSubscriptionsByTopic"),
            Some("cloudwatch")
        );
        assert_eq!(collection_of("s3control:GetPublicAccessBlock"), Some("s3"));
        assert_eq!(
            collection_of("elasticloadbalancing:DescribeRules"),
            Some("elb")
        );
        assert_eq!(collection_of("macie2:GetMacieSession"), Some("macie"));
        assert_eq!(
            collection_of("access-analyzer:ListAnalyzers"),
            Some("accessanalyzer")
        );
        assert_eq!(
            collection_of("elasticfilesystem:DescribeFileSystems"),
            Some("efs")
        );
        assert_eq!(collection_of("sts:GetCallerIdentity"), None);
        assert!(is_account_wide("iam") && is_account_wide("s3"));
        assert!(!is_account_wide("cloudtrail"));
    }
}
