//! `cloudtrail_kms_encryption`: the trail encrypts its log files with SSE-KMS.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailKmsEncryption;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_kms_encryption",
    title: "CloudTrail trail encrypts log files with a KMS key",
    severity: Severity::High,
    subject: ResourceKind::Trail,
    rationale: "CloudTrail logs describe access to ePHI resources and can contain identifiers \
                and request parameters; SSE-KMS makes reading them require a separate key \
                permission that is itself logged, protecting the audit trail \
                (164.312(a)(2)(iv), 164.312(b)).",
    remediation: "Set a customer-managed KMS key on the trail (CloudTrail console > trail > \
                  General details > Log file SSE-KMS encryption, or UpdateTrail with KmsKeyId) \
                  whose key policy allows cloudtrail.amazonaws.com to encrypt.",
    api_calls: &["cloudtrail:DescribeTrails"],
    params: &[],
};

impl Rule for CloudtrailKmsEncryption {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Trail(trail) = &subject.body else {
            return Outcome::not_applicable("not a CloudTrail trail");
        };
        let outcome = match &trail.kms_key_id {
            // A blank key id names no key: the logs are not encrypted with one.
            Some(key) if !key.trim().is_empty() => Outcome::pass(format!(
                "trail {} encrypts log files with KMS key {key}",
                trail.name
            )),
            _ => Outcome::fail(format!(
                "trail {} does not encrypt log files with a KMS key (SSE-S3 only)",
                trail.name
            )),
        };
        outcome
            .with("trail", &trail.name)
            .with("kms_key_id", &trail.kms_key_id)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_kms_key() {
        let o = expect(
            run(
                &CloudtrailKmsEncryption,
                &trail_resource(trail("main")),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.starts_with("trail main encrypts"), "{}", o.reason);
        assert_eq!(
            o.evidence["kms_key_id"],
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd"
        );
    }

    #[test]
    fn fail_without_kms_key() {
        let mut t = trail("main");
        t.kms_key_id = None;
        let o = expect(
            run(&CloudtrailKmsEncryption, &trail_resource(t), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["kms_key_id"], serde_json::Value::Null);
        assert!(o.reason.contains("SSE-S3 only"), "{}", o.reason);
        assert_evidence(&o, "trail", serde_json::json!("main"));
    }

    #[test]
    fn fail_when_the_key_id_is_blank() {
        for blank in ["", "  "] {
            let mut t = trail("main");
            t.kms_key_id = Some(blank.to_owned());
            let o = expect(
                run(&CloudtrailKmsEncryption, &trail_resource(t), &[]),
                Status::Fail,
            );
            assert_eq!(o.evidence["kms_key_id"], blank);
            assert!(o.reason.contains("SSE-S3 only"), "{}", o.reason);
        }
    }

    #[test]
    fn error_when_describe_trails_failed() {
        // The trail itself is visible but DescribeTrails failed in its region: the
        // evaluator turns the subject's result into Error.
        let f = finding_with_describe_gap(
            &CloudtrailKmsEncryption,
            &[trail_resource(trail("main"))],
            "us-east-1",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("cloudtrail:DescribeTrails"),
            "{}",
            f.reason
        );
    }
}
