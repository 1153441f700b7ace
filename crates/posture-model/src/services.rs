//! Which collection makes which API call: the table that turns a rule's declared
//! `api_calls` (`logs:DescribeLogGroups`) into the collections (`cloudwatch`) whose coverage
//! records say whether its inputs were read, and which collections are account-wide.
//!
//! Collection names are those of `scan.services` and of [`crate::CollectionRecord::service`];
//! the prefix of an API call is the IAM service prefix, which differs for a few services
//! (`elasticloadbalancing` is collected by `elb`, `logs` and `sns` by `cloudwatch`).

/// The collection whose collector makes `api_call` (`service:Operation`); `None` when no
/// collector makes calls of that prefix.
pub fn collection_of(api_call: &str) -> Option<&'static str> {
    let prefix = api_call.split_once(':').map_or(api_call, |(p, _)| p);
    Some(match prefix {
        "access-analyzer" => "accessanalyzer",
        "acm" => "acm",
        "autoscaling" => "autoscaling",
        "backup" => "backup",
        "cloudtrail" => "cloudtrail",
        "cloudwatch" | "logs" | "sns" => "cloudwatch",
        "config" => "config",
        "ec2" => "ec2",
        "elasticfilesystem" => "efs",
        "elasticloadbalancing" => "elb",
        "guardduty" => "guardduty",
        "iam" => "iam",
        "kms" => "kms",
        "macie2" => "macie",
        "rds" => "rds",
        "s3" | "s3control" => "s3",
        "secretsmanager" => "secretsmanager",
        "securityhub" => "securityhub",
        "ssm" => "ssm",
        _ => return None,
    })
}

/// Whether `collection` runs once per account, recorded in the pseudo-region `global`
/// (IAM, and S3, whose buckets are listed once and then read in their own regions), rather
/// than once per region.
pub fn is_account_wide(collection: &str) -> bool {
    matches!(collection, "iam" | "s3")
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
