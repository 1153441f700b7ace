//! `ebs_snapshot_not_public`: no EBS snapshot the account owns can be restored by anyone.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct EbsSnapshotNotPublic;

static META: RuleMeta = RuleMeta {
    id: "ebs_snapshot_not_public",
    title: "EBS snapshot is not public",
    severity: Severity::Critical,
    subject: ResourceKind::EbsSnapshot,
    rationale: "A snapshot whose createVolumePermission includes the group `all` can be restored into \
                a volume by any AWS account, exposing every byte of ePHI on the source disk to \
                unauthorised access (164.312(a)(1)).",
    remediation: "Remove public access (ModifySnapshotAttribute --attribute createVolumePermission \
                  --operation-type remove --group-names all), share only with named accounts, and \
                  enable block public access for EBS snapshots in the region.",
    api_calls: &["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
    params: &[],
};

impl Rule for EbsSnapshotNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EbsSnapshot(snapshot) = &subject.body else {
            return Outcome::not_applicable("not an EBS snapshot");
        };
        let permissions = try_observed!(
            snapshot.create_volume_permissions,
            "snapshot createVolumePermission"
        )
        .map(Vec::as_slice)
        .unwrap_or_default();
        if permissions.iter().any(|p| p == "all") {
            Outcome::fail(format!(
                "snapshot {} can be restored by any AWS account (createVolumePermission group all)",
                snapshot.snapshot_id
            ))
            .with("create_volume_permissions", permissions)
            .with("encrypted", snapshot.encrypted)
        } else if permissions.is_empty() {
            Outcome::pass(format!(
                "snapshot {} is not shared with anyone",
                snapshot.snapshot_id
            ))
            .with("create_volume_permissions", permissions)
        } else {
            Outcome::pass(format!(
                "snapshot {} is shared only with named accounts ({})",
                snapshot.snapshot_id,
                permissions.join(", ")
            ))
            .with("create_volume_permissions", permissions)
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
    fn pass_when_private() {
        let o = expect(
            run(
                &EbsSnapshotNotPublic,
                &snapshot_resource(snapshot(true)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["create_volume_permissions"],
            serde_json::json!([])
        );
    }

    #[test]
    fn pass_when_shared_with_named_account() {
        let mut s = snapshot(true);
        s.create_volume_permissions = Observed::Collected(vec!["444455556666".into()]);
        let o = expect(
            run(&EbsSnapshotNotPublic, &snapshot_resource(s), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("444455556666"), "{}", o.reason);
    }

    #[test]
    fn fail_when_public() {
        let mut s = snapshot(true);
        s.create_volume_permissions =
            Observed::Collected(vec!["444455556666".into(), "all".into()]);
        let o = expect(
            run(&EbsSnapshotNotPublic, &snapshot_resource(s), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["create_volume_permissions"],
            serde_json::json!(["444455556666", "all"])
        );
        assert!(o.reason.contains("snap-1"), "{}", o.reason);
    }

    #[test]
    fn error_when_attribute_denied() {
        let mut s = snapshot(true);
        s.create_volume_permissions = denied("ec2:DescribeSnapshotAttribute");
        let o = expect(
            run(&EbsSnapshotNotPublic, &snapshot_resource(s), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("ec2:DescribeSnapshotAttribute"),
            "{}",
            o.reason
        );
    }
}
