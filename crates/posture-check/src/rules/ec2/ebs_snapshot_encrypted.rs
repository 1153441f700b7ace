//! `ebs_snapshot_encrypted`: every EBS snapshot the account owns is encrypted.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EbsSnapshotEncrypted;

static META: RuleMeta = RuleMeta {
    id: "ebs_snapshot_encrypted",
    title: "EBS snapshot is encrypted",
    severity: Severity::High,
    subject: ResourceKind::EbsSnapshot,
    rationale: "A snapshot is a full copy of a volume's data; an unencrypted snapshot of a volume \
                holding ePHI keeps that ePHI unencrypted at rest (164.312(a)(2)(iv)) and anyone it \
                is shared with can read it.",
    remediation: "Copy the snapshot with encryption enabled (CopySnapshot --encrypted, ideally with a \
                  customer-managed KMS key), delete the unencrypted original, and encrypt the source \
                  volume so future snapshots are encrypted.",
    api_calls: &["ec2:DescribeSnapshots"],
    params: &[],
};

impl Rule for EbsSnapshotEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EbsSnapshot(snapshot) = &subject.body else {
            return Outcome::not_applicable("not an EBS snapshot");
        };
        if snapshot.encrypted {
            Outcome::pass(format!("snapshot {} is encrypted", snapshot.snapshot_id))
                .with("encrypted", true)
        } else {
            Outcome::fail(format!(
                "snapshot {} is not encrypted",
                snapshot.snapshot_id
            ))
            .with("encrypted", false)
            .with("volume_id", &snapshot.volume_id)
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
            run(
                &EbsSnapshotEncrypted,
                &snapshot_resource(snapshot(true)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["encrypted"], serde_json::json!(true));
    }

    #[test]
    fn fail_when_unencrypted() {
        let o = expect(
            run(
                &EbsSnapshotEncrypted,
                &snapshot_resource(snapshot(false)),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["encrypted"], serde_json::json!(false));
        assert_eq!(o.evidence["volume_id"], serde_json::json!("vol-1"));
    }

    /// The snapshot has no `Observed` input for this rule; what it needs is the snapshot
    /// list, and a failed `ec2:DescribeSnapshots` makes the result in that region `Error`.
    #[test]
    fn error_when_snapshots_could_not_be_listed() {
        let subject = snapshot_resource(snapshot(false));
        let f = evaluate_with_gap(
            "ebs_snapshot_encrypted",
            std::slice::from_ref(&subject),
            "ec2:DescribeSnapshots",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeSnapshots"), "{}", f.reason);
    }
}
