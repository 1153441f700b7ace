//! `ec2_instance_in_backup_plan`: an AWS Backup plan assigns the EC2 instance.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::membership;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceInBackupPlan;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_in_backup_plan",
    title: "EC2 instance is protected by an AWS Backup plan",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "An instance no backup plan covers cannot be restored with its volumes after \
                loss or corruption, so ePHI it processes or stores may be unrecoverable \
                (164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), \
                164.312(a)(2)(ii)).",
    remediation: "Assign the instance to a backup plan: AWS Backup console > Backup plans > \
                  plan > Assign resources (by instance ARN, resource type EC2, or a tag), or \
                  CreateBackupSelection.",
    api_calls: &[
        "ec2:DescribeInstances",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:GetBackupSelection",
    ],
    params: &[],
};

impl Rule for Ec2InstanceInBackupPlan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        if matches!(
            instance.state.as_deref(),
            Some("terminated" | "shutting-down")
        ) {
            return Outcome::not_applicable("the instance is terminated or shutting down")
                .with("state", &instance.state);
        }
        membership::outcome(membership::membership(ctx, subject), "EC2 instance")
            .with("state", &instance.state)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::rules::ec2::fixtures::{instance, instance_resource};
    use crate::testing::*;

    #[test]
    fn pass_when_assigned_by_tag() {
        let mut sel = selection(&[]);
        sel.list_of_tags = vec![posture_model::resources::TagCondition {
            condition_type: "STRINGEQUALS".into(),
            key: "backup".into(),
            value: "daily".into(),
        }];
        let mut subject = instance_resource(instance());
        subject.tags =
            posture_model::Observed::Collected([("backup".to_owned(), "daily".to_owned())].into());
        let o = expect(
            run(
                &Ec2InstanceInBackupPlan,
                &subject,
                &[plan_resource(plan("p", vec![sel]))],
            ),
            Status::Pass,
        );
        assert!(
            o.evidence["matched_by"]
                .as_str()
                .unwrap()
                .contains("ListOfTags")
        );
    }

    #[test]
    fn fail_when_excluded() {
        let mut sel = selection(&["*"]);
        sel.not_resources = vec!["arn:aws:ec2:*:*:instance/*".into()];
        let o = expect(
            run(
                &Ec2InstanceInBackupPlan,
                &instance_resource(instance()),
                &[plan_resource(plan("p", vec![sel]))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["backup_plan"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_selection_detail_unreadable() {
        let mut p = plan("p", vec![selection(&["*"])]);
        if let posture_model::Observed::Collected(e) = &mut p.selections {
            e[0].detail = denied("backup:GetBackupSelection");
        }
        let o = expect(
            run(
                &Ec2InstanceInBackupPlan,
                &instance_resource(instance()),
                &[plan_resource(p)],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("backup:GetBackupSelection"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("terminated".into());
        let o = expect(
            run(&Ec2InstanceInBackupPlan, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "terminated");
    }
}
