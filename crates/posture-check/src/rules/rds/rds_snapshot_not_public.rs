//! `rds_snapshot_not_public`: no RDS DB or cluster snapshot can be restored by any AWS
//! account.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct RdsSnapshotNotPublic;

static META: RuleMeta = RuleMeta {
    id: "rds_snapshot_not_public",
    title: "RDS snapshot is not public",
    severity: Severity::Critical,
    subject: ResourceKind::RdsSnapshot,
    rationale: "A public snapshot (restore attribute `all`) can be copied and restored by anyone \
                with an AWS account, handing them the whole database and its ePHI; access to \
                ePHI must be limited to authorised persons (164.312(a)(1)).",
    remediation: "Remove `all` from the snapshot's restore attribute (ModifyDBSnapshotAttribute or \
                  ModifyDBClusterSnapshotAttribute with --values-to-remove all); share with named \
                  accounts only where needed.",
    api_calls: &[
        "rds:DescribeDBSnapshots",
        "rds:DescribeDBClusterSnapshots",
        "rds:DescribeDBSnapshotAttributes",
        "rds:DescribeDBClusterSnapshotAttributes",
    ],
    params: &[],
};

impl Rule for RdsSnapshotNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsSnapshot(snap) = &subject.body else {
            return Outcome::not_applicable("not an RDS snapshot");
        };
        let accounts: &[String] =
            try_observed!(snap.restore_accounts, "snapshot restore attribute")
                .map(Vec::as_slice)
                .unwrap_or_default();
        if accounts.iter().any(|a| a == "all") {
            Outcome::fail("the snapshot is public: its restore attribute includes `all`")
                .with("restore_accounts", accounts)
        } else if accounts.is_empty() {
            Outcome::pass("the snapshot is not shared with any other account")
                .with("restore_accounts", accounts)
        } else {
            Outcome::pass(format!(
                "the snapshot is shared only with {} named account(s), not publicly",
                accounts.len()
            ))
            .with("restore_accounts", accounts)
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_shared_with_named_accounts() {
        let mut s = snapshot("snap1");
        s.restore_accounts = Observed::Collected(vec!["444455556666".into()]);
        let o = expect(
            run(&RdsSnapshotNotPublic, &snapshot_resource(s), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["restore_accounts"],
            serde_json::json!(["444455556666"])
        );
    }

    #[test]
    fn pass_when_not_shared() {
        let o = expect(
            run(
                &RdsSnapshotNotPublic,
                &snapshot_resource(snapshot("s")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["restore_accounts"], serde_json::json!([]));
    }

    #[test]
    fn fail_when_public() {
        let mut s = snapshot("snap1");
        s.restore_accounts = Observed::Collected(vec!["444455556666".into(), "all".into()]);
        let o = expect(
            run(&RdsSnapshotNotPublic, &snapshot_resource(s), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["restore_accounts"],
            serde_json::json!(["444455556666", "all"])
        );
    }

    #[test]
    fn error_when_attributes_denied() {
        let mut s = snapshot("snap1");
        s.restore_accounts = denied("rds:DescribeDBSnapshotAttributes");
        let o = expect(
            run(&RdsSnapshotNotPublic, &snapshot_resource(s), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("rds:DescribeDBSnapshotAttributes"),
            "{}",
            o.reason
        );
    }
}
