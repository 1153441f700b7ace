//! `ec2_instance_ebs_optimized`: instances are EBS-optimized (dedicated EBS bandwidth).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceEbsOptimized;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_ebs_optimized",
    title: "EC2 instance is EBS-optimized",
    severity: Severity::Low,
    subject: ResourceKind::Instance,
    rationale: "Dedicated EBS bandwidth keeps storage I/O of systems holding ePHI from competing \
                with network traffic, supporting their availability and the timely backups and \
                restores the contingency plan relies on (164.308(a)(7)(i), \
                164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), 164.312(a)(2)(ii)).",
    remediation: "Stop the instance and enable it (aws ec2 modify-instance-attribute \
                  --instance-id ID --ebs-optimized), or move to a current-generation instance \
                  type, which is EBS-optimized by default; set EbsOptimized=true in launch \
                  templates.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[],
};

impl Rule for Ec2InstanceEbsOptimized {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        let id = &instance.instance_id;
        let state = instance.state.as_deref();
        if is_gone(state) {
            return Outcome::not_applicable(format!(
                "instance {id} is {}",
                state.unwrap_or_default()
            ))
            .with("state", state);
        }
        let outcome = match instance.ebs_optimized {
            Some(true) => Outcome::pass(format!("instance {id} is EBS-optimized")),
            Some(false) => Outcome::fail(format!("instance {id} is not EBS-optimized")),
            None => Outcome::error(format!(
                "instance {id} reports no EbsOptimized attribute, so it is unknown"
            )),
        };
        outcome.with("ebs_optimized", instance.ebs_optimized)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn with(value: Option<bool>) -> Resource {
        let mut i = instance();
        i.ebs_optimized = value;
        instance_resource(i)
    }

    #[test]
    fn pass_when_optimized() {
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &with(Some(true)), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["ebs_optimized"], true);
    }

    #[test]
    fn fail_when_not() {
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &with(Some(false)), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["ebs_optimized"], false);
    }

    #[test]
    fn error_when_unknown() {
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &with(None), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("unknown"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_when_terminated_or_other_kind() {
        let mut i = instance();
        i.state = Some("shutting-down".into());
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "shutting-down");
        expect(
            run(&Ec2InstanceEbsOptimized, &other_kind(), &[]),
            Status::NotApplicable,
        );
    }
}
