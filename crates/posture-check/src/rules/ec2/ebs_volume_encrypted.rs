//! `ebs_volume_encrypted`: every EBS volume is encrypted.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EbsVolumeEncrypted;

static META: RuleMeta = RuleMeta {
    id: "ebs_volume_encrypted",
    title: "EBS volume is encrypted",
    severity: Severity::High,
    subject: ResourceKind::Volume,
    rationale: "An unencrypted EBS volume stores its data, and the snapshots taken of it, in the \
                clear; ePHI on instance disks must be encrypted at rest (164.312(a)(2)(iv)).",
    remediation: "Snapshot the volume, copy the snapshot with encryption enabled (CopySnapshot \
                  --encrypted, ideally with a customer-managed KMS key), create a new volume from \
                  it and swap it in; enable EBS encryption by default so new volumes are encrypted.",
    api_calls: &["ec2:DescribeVolumes"],
    params: &[],
};

impl Rule for EbsVolumeEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Volume(volume) = &subject.body else {
            return Outcome::not_applicable("not an EBS volume");
        };
        if volume.encrypted {
            Outcome::pass(format!("volume {} is encrypted", volume.volume_id))
                .with("encrypted", true)
                .with("kms_key_id", &volume.kms_key_id)
        } else {
            Outcome::fail(format!("volume {} is not encrypted", volume.volume_id))
                .with("encrypted", false)
                .with("state", &volume.state)
                .with("attached_to", &volume.attached_to)
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_encrypted() {
        let o = expect(
            run(&EbsVolumeEncrypted, &volume_resource(true), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["encrypted"], serde_json::json!(true));
        assert!(o.evidence["kms_key_id"].is_string());
    }

    #[test]
    fn fail_when_unencrypted() {
        let o = expect(
            run(&EbsVolumeEncrypted, &volume_resource(false), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["encrypted"], serde_json::json!(false));
        assert!(o.reason.contains("vol-1"), "{}", o.reason);
    }

    /// The volume has no `Observed` input; what it needs is the volume list, and a failed
    /// `ec2:DescribeVolumes` makes the result in that region `Error`.
    #[test]
    fn error_when_volumes_could_not_be_listed() {
        let subject = volume_resource(false);
        let f = evaluate_with_gap(
            "ebs_volume_encrypted",
            std::slice::from_ref(&subject),
            "ec2:DescribeVolumes",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeVolumes"), "{}", f.reason);
    }
}
