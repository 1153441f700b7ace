//! `rds_snapshot_encrypted`: every RDS DB and cluster snapshot is encrypted.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsSnapshotEncrypted;

static META: RuleMeta = RuleMeta {
    id: "rds_snapshot_encrypted",
    title: "RDS snapshot is encrypted",
    severity: Severity::High,
    subject: ResourceKind::RdsSnapshot,
    rationale: "A snapshot is a full copy of the database and its ePHI; an unencrypted one can be \
                copied, shared or restored without any key policy standing in the way. ePHI at \
                rest must be encrypted (164.312(a)(2)(iv)).",
    remediation: "Copy the snapshot with a KMS key (CopyDBSnapshot or CopyDBClusterSnapshot with \
                  --kms-key-id), delete the unencrypted original, and encrypt the source instance \
                  or cluster so that future snapshots are encrypted.",
    api_calls: &["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"],
    params: &[],
};

impl Rule for RdsSnapshotEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsSnapshot(snap) = &subject.body else {
            return Outcome::not_applicable("not an RDS snapshot");
        };
        let outcome = if snap.encrypted {
            Outcome::pass("the snapshot is encrypted")
        } else {
            Outcome::fail("the snapshot is not encrypted")
        };
        outcome
            .with("encrypted", snap.encrypted)
            .with("of", snap.of)
            .with("source", &snap.source)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::RdsSnapshotOf;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_encrypted() {
        let mut s = snapshot("snap1");
        s.encrypted = true;
        let o = expect(
            run(&RdsSnapshotEncrypted, &snapshot_resource(s), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["encrypted"], true);
    }

    #[test]
    fn fail_when_unencrypted_cluster_snapshot() {
        let mut s = snapshot("csnap1");
        s.of = RdsSnapshotOf::Cluster;
        s.source = Some("aurora".into());
        let o = expect(
            run(&RdsSnapshotEncrypted, &snapshot_resource(s), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["encrypted"], false);
        assert_eq!(o.evidence["of"], "cluster");
        assert_eq!(o.evidence["source"], "aurora");
    }

    #[test]
    fn error_when_snapshot_list_failed() {
        for op in ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"] {
            let f = finding_with_list_gap(
                &RdsSnapshotEncrypted,
                snapshot_resource(snapshot("snap1")),
                op,
            );
            assert_eq!(f.status, Status::Error, "{op}");
            assert!(
                f.reason.contains(&format!("{op} failed in")),
                "{}",
                f.reason
            );
            assert_eq!(f.evidence["gap"]["operation"], op);
        }
    }
}
