//! `ebs_snapshot_block_public_access`: the region's EBS snapshot Block Public Access setting
//! blocks all public sharing.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct EbsSnapshotBlockPublicAccess;

static META: RuleMeta = RuleMeta {
    id: "ebs_snapshot_block_public_access",
    title: "EBS snapshot Block Public Access blocks all public sharing in the region",
    severity: Severity::High,
    subject: ResourceKind::EbsSnapshotBlockPublicAccess,
    rationale: "A single public EBS snapshot hands a full copy of a disk holding ePHI to anyone \
                with an AWS account. Block Public Access in block-all-sharing mode stops every \
                snapshot in the region from being public, including ones shared before it was \
                turned on (access control, 164.312(a)(1)).",
    remediation: "Enable EBS snapshot Block Public Access in block-all-sharing mode \
                  (EnableSnapshotBlockPublicAccess --state block-all-sharing) in every region.",
    api_calls: &["ec2:GetSnapshotBlockPublicAccessState"],
    params: &[],
};

impl Rule for EbsSnapshotBlockPublicAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EbsSnapshotBlockPublicAccess(setting) = &subject.body else {
            return Outcome::not_applicable("not an EBS snapshot Block Public Access setting");
        };
        let state = try_observed!(setting.state, "EBS snapshot Block Public Access state");
        match state.map(String::as_str) {
            Some("block-all-sharing") => Outcome::pass(format!(
                "snapshot public sharing is blocked in {}",
                subject.region
            ))
            .with("state", "block-all-sharing"),
            Some("block-new-sharing") => Outcome::fail(format!(
                "only new public sharing is blocked in {}: snapshots shared before stay public",
                subject.region
            ))
            .with("state", "block-new-sharing"),
            Some(other) => Outcome::fail(format!(
                "snapshot Block Public Access is {other:?} in {}",
                subject.region
            ))
            .with("state", other),
            None => Outcome::fail(format!(
                "snapshot Block Public Access is not configured in {}",
                subject.region
            ))
            .with("state", "absent"),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::EbsSnapshotBlockPublicAccess as Setting;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::testing::*;

    fn setting(state: Observed<String>) -> Resource {
        resource(
            "arn:aws:ec2:us-east-1:111122223333:snapshot-block-public-access",
            region(),
            ResourceBody::EbsSnapshotBlockPublicAccess(Setting { state }),
        )
    }

    #[test]
    fn pass_when_blocking_all_sharing() {
        let o = run(
            &EbsSnapshotBlockPublicAccess,
            &setting(Observed::Collected("block-all-sharing".into())),
            &[],
        );
        let o = expect(o, Status::Pass);
        assert_evidence(&o, "state", serde_json::json!("block-all-sharing"));
    }

    #[test]
    fn fail_when_unblocked_or_only_new_sharing_blocked() {
        for state in ["unblocked", "block-new-sharing"] {
            let o = run(
                &EbsSnapshotBlockPublicAccess,
                &setting(Observed::Collected(state.into())),
                &[],
            );
            let o = expect(o, Status::Fail);
            assert_eq!(o.evidence["state"], serde_json::json!(state));
        }
    }

    #[test]
    fn error_when_the_endpoint_does_not_implement_it() {
        let o = run(
            &EbsSnapshotBlockPublicAccess,
            &setting(denied("ec2:GetSnapshotBlockPublicAccessState")),
            &[],
        );
        let o = expect(o, Status::Error);
        assert!(
            o.reason.contains("ec2:GetSnapshotBlockPublicAccessState"),
            "{}",
            o.reason
        );
    }
}
