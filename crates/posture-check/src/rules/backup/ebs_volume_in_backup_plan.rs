//! `ebs_volume_in_backup_plan`: an AWS Backup plan protects the EBS volume, through a
//! selection that assigns the volume itself or an EC2 instance it is attached to.
//!
//! An EC2 instance backup in AWS Backup is an AMI with a snapshot of every EBS volume
//! attached to the instance, so a volume attached to an instance a plan assigns is backed
//! up with it. (AWS Config's `ebs-in-backup-plan` looks only at the volume itself; it would
//! flag such volumes.)

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::membership::{self, Membership};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EbsVolumeInBackupPlan;

static META: RuleMeta = RuleMeta {
    id: "ebs_volume_in_backup_plan",
    title: "EBS volume is protected by an AWS Backup plan",
    severity: Severity::Medium,
    subject: ResourceKind::Volume,
    rationale: "ePHI on a volume no backup plan covers has no retrievable exact copy after \
                deletion, corruption or ransomware, defeating the data backup and disaster \
                recovery plans (164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), \
                164.312(a)(2)(ii)).",
    remediation: "Assign the volume (or the EC2 instance it is attached to) to a backup plan: \
                  AWS Backup console > Backup plans > plan > Assign resources (by volume ARN, \
                  resource type EBS, or a tag such as backup=daily), or CreateBackupSelection.",
    api_calls: &[
        "ec2:DescribeVolumes",
        // The volume's instance, which a plan may assign instead of the volume.
        "ec2:DescribeInstances",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:GetBackupSelection",
    ],
    params: &[],
};

impl Rule for EbsVolumeInBackupPlan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Volume(volume) = &subject.body else {
            return Outcome::not_applicable("not an EBS volume");
        };
        let direct = membership::membership(ctx, subject);
        if let Membership::In(a) = direct {
            return membership::assigned(a, "EBS volume").with("via_instance", None::<&str>);
        }
        // Through an attached instance.
        let mut unknown = match &direct {
            Membership::Unknown {
                reason,
                unavailable,
            } => Some((reason.clone(), unavailable.clone())),
            _ => None,
        };
        for instance in ctx.resources(ResourceKind::Instance, &subject.account, &subject.region) {
            let ResourceBody::Instance(i) = &instance.body else {
                continue;
            };
            if !volume.attached_to.contains(&i.instance_id) {
                continue;
            }
            match membership::membership(ctx, instance) {
                Membership::In(a) => {
                    let id = i.instance_id.clone();
                    return membership::assigned(a, "EBS volume's instance")
                        .with("via_instance", id);
                }
                Membership::Unknown {
                    reason,
                    unavailable,
                } => {
                    unknown.get_or_insert((reason, unavailable));
                }
                // An instance backup in a region opted out of EC2 backs up none of its volumes.
                Membership::NotIn { .. } | Membership::OptedOut { .. } => {}
            }
        }
        let attached = volume.attached_to.clone();
        match unknown {
            Some((reason, unavailable)) => membership::unknown(reason, unavailable),
            // The direct answer was neither "in" nor "unknown", so it is "not in".
            None => membership::outcome(direct, "EBS volume"),
        }
        .with("attached_to", attached)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::rules::ec2::fixtures::{instance, instance_resource, volume_resource};
    use crate::testing::*;

    #[test]
    fn pass_when_a_selection_assigns_the_volume() {
        let p = plan_resource(plan(
            "daily",
            vec![selection(&["arn:aws:ec2:*:*:volume/*"])],
        ));
        let o = expect(
            run(&EbsVolumeInBackupPlan, &volume_resource(true), &[p]),
            Status::Pass,
        );
        assert_eq!(o.evidence["backup_plan"], "daily");
        assert_eq!(o.evidence["via_instance"], serde_json::Value::Null);
    }

    #[test]
    fn pass_through_the_attached_instance() {
        let p = plan_resource(plan(
            "ec2",
            vec![selection(&["arn:aws:ec2:*:*:instance/*"])],
        ));
        let o = expect(
            run(
                &EbsVolumeInBackupPlan,
                &volume_resource(true),
                &[p, instance_resource(instance())],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["via_instance"], "i-1");
    }

    #[test]
    fn fail_when_no_plan_or_no_selection_matches() {
        let o = expect(
            run(&EbsVolumeInBackupPlan, &volume_resource(true), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no AWS Backup plan"), "{}", o.reason);
        let p = plan_resource(plan("rds", vec![selection(&["arn:aws:rds:*:*:db:*"])]));
        let o = expect(
            run(
                &EbsVolumeInBackupPlan,
                &volume_resource(true),
                &[p, instance_resource(instance())],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["plans_checked"], serde_json::json!(["rds"]));
    }

    #[test]
    fn error_when_selections_unreadable() {
        let mut p = plan("daily", vec![]);
        p.selections = denied("backup:ListBackupSelections");
        let o = expect(
            run(
                &EbsVolumeInBackupPlan,
                &volume_resource(true),
                &[plan_resource(p)],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("backup:ListBackupSelections"),
            "{}",
            o.reason
        );
    }

    /// The rule reads the instance inventory to find the volume's instance: a failed
    /// `DescribeInstances` hides the instance a plan assigns, so the volume is `Error`, not
    /// "not in any plan" (regression: `ec2:DescribeInstances` was not in `api_calls`, so the
    /// volume failed).
    #[test]
    fn error_when_describe_instances_failed() {
        let p = plan_resource(plan(
            "ec2",
            vec![selection(&["arn:aws:ec2:*:*:instance/*"])],
        ));
        let v = volume_resource(true);
        let arn = v.arn.as_str().to_owned();
        let f = crate::rules::ec2::fixtures::evaluate_with_gap(
            "ebs_volume_in_backup_plan",
            &[v, p],
            "ec2:DescribeInstances",
            &arn,
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeInstances"), "{}", f.reason);
    }

    #[test]
    fn declares_every_call_it_reads() {
        for call in [
            "ec2:DescribeVolumes",
            "ec2:DescribeInstances",
            "backup:ListBackupPlans",
            "backup:ListBackupSelections",
            "backup:GetBackupSelection",
        ] {
            assert!(META.api_calls.contains(&call), "{call} is not declared");
        }
    }
}
