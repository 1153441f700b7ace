//! `log_group_kms_encrypted`: the log group's data is encrypted with a KMS key the account
//! controls.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct LogGroupKmsEncrypted;

static META: RuleMeta = RuleMeta {
    id: "log_group_kms_encrypted",
    title: "CloudWatch Logs log group is encrypted with a KMS key",
    severity: Severity::Medium,
    subject: ResourceKind::LogGroup,
    rationale: "Application and audit logs often carry ePHI; encrypting a log group with a KMS \
                key the account controls puts reading it under a key policy, records every \
                decryption in CloudTrail and lets access be cut off by disabling the key \
                (164.308(a)(1)(ii)(B), 164.308(a)(4)(ii)(A), 164.312(a)(2)(iv), \
                164.312(e)(2)(ii)).",
    remediation: "Allow the CloudWatch Logs service principal (logs.REGION.amazonaws.com) to use \
                  a customer-managed KMS key in its key policy, then associate the key with the \
                  log group: CloudWatch console > Log group > Actions > Edit KMS key, or \
                  AssociateKmsKey --log-group-name NAME --kms-key-id KEY_ARN.",
    api_calls: &["logs:DescribeLogGroups"],
    params: &[],
};

impl Rule for LogGroupKmsEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LogGroup(group) = &subject.body else {
            return Outcome::not_applicable("not a CloudWatch Logs log group");
        };
        let outcome = match &group.kms_key_id {
            // A blank key id names no key.
            Some(key) if !key.trim().is_empty() => {
                Outcome::pass(format!("the log group is encrypted with KMS key {key}"))
            }
            _ => Outcome::fail(
                "the log group has no KMS key: only CloudWatch Logs' own encryption protects it",
            ),
        };
        outcome
            .with("log_group", &group.name)
            .with("kms_key_id", &group.kms_key_id)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::cloudwatch::fixtures::group_resource;
    use crate::testing::*;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd";

    #[test]
    fn pass_with_a_kms_key() {
        let o = expect(
            run(
                &LogGroupKmsEncrypted,
                &group_resource("app", Some(KEY), None),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["kms_key_id"], KEY);
        assert!(o.reason.contains(KEY), "{}", o.reason);
    }

    #[test]
    fn fail_without_a_kms_key() {
        let o = expect(
            run(
                &LogGroupKmsEncrypted,
                &group_resource("app", None, None),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["kms_key_id"], serde_json::Value::Null);
        assert_eq!(o.evidence["log_group"], "app");
    }

    #[test]
    fn fail_when_the_key_id_is_blank() {
        let o = expect(
            run(
                &LogGroupKmsEncrypted,
                &group_resource("app", Some(""), None),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["kms_key_id"], "");
        assert!(o.reason.contains("no KMS key"), "{}", o.reason);
    }

    #[test]
    fn error_when_log_groups_could_not_be_listed() {
        let f = crate::rules::cloudwatch::fixtures::finding_with_list_gap(
            &LogGroupKmsEncrypted,
            &[group_resource("app", None, None)],
            "logs:DescribeLogGroups",
            "arn:aws:logs:us-east-1:111122223333:log-group:app",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("logs:DescribeLogGroups"), "{}", f.reason);
    }
}
