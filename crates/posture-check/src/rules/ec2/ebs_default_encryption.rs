//! `ebs_default_encryption`: EBS encryption by default is turned on in every region.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct EbsDefaultEncryption;

static META: RuleMeta = RuleMeta {
    id: "ebs_default_encryption",
    title: "EBS encryption by default is enabled in the region",
    severity: Severity::High,
    subject: ResourceKind::EbsEncryptionByDefault,
    rationale: "Without encryption by default, a volume or snapshot copy created without an explicit \
                encryption flag is stored unencrypted; volumes holding ePHI must be encrypted at rest \
                (164.312(a)(2)(iv)), and the region default removes the chance of forgetting.",
    remediation: "Enable EBS encryption by default in the region (EnableEbsEncryptionByDefault), \
                  optionally with a customer-managed KMS key (ModifyEbsDefaultKmsKeyId).",
    api_calls: &["ec2:GetEbsEncryptionByDefault"],
    params: &[],
};

impl Rule for EbsDefaultEncryption {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EbsEncryptionByDefault(setting) = &subject.body else {
            return Outcome::not_applicable("not an EBS encryption-by-default setting");
        };
        match try_observed!(setting.enabled, "EBS encryption by default") {
            Some(true) => Outcome::pass(format!(
                "EBS encryption by default is enabled in {}",
                subject.region
            ))
            .with("enabled", true),
            Some(false) => Outcome::fail(format!(
                "EBS encryption by default is disabled in {}",
                subject.region
            ))
            .with("enabled", false),
            None => Outcome::fail(format!(
                "EBS encryption by default is not configured in {}",
                subject.region
            ))
            .with("enabled", "absent"),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(
                &EbsDefaultEncryption,
                &ebs_default_resource(Observed::Collected(true)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["enabled"], serde_json::json!(true));
    }

    #[test]
    fn fail_when_disabled() {
        let o = expect(
            run(
                &EbsDefaultEncryption,
                &ebs_default_resource(Observed::Collected(false)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["enabled"], serde_json::json!(false));
        assert!(o.reason.contains("us-east-1"), "{}", o.reason);
    }

    #[test]
    fn error_when_lookup_denied() {
        let o = expect(
            run(
                &EbsDefaultEncryption,
                &ebs_default_resource(denied("ec2:GetEbsEncryptionByDefault")),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("ec2:GetEbsEncryptionByDefault"),
            "{}",
            o.reason
        );
        assert!(o.evidence.contains_key("unavailable"));
    }
}
