//! `ec2_instance_profile_attached`: every instance that runs has an IAM instance profile,
//! so software on it gets short-lived role credentials instead of long-lived access keys.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceProfileAttached;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_profile_attached",
    title: "EC2 instance has an IAM instance profile",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "Without an instance profile, software that reads ePHI from S3, RDS or KMS needs \
                long-lived access keys stored on the host, where they leak with any disk image, \
                backup or compromise and cannot be tied to the instance's role; an instance \
                profile gives it rotating credentials scoped to a reviewed role \
                (164.308(a)(4)(ii)(B), 164.312(a)(1)).",
    remediation: "Create a role with the permissions the workload needs, wrap it in an instance \
                  profile and associate it (AssociateIamInstanceProfile); then remove any access \
                  keys stored on the instance and deactivate them.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[],
};

impl Rule for Ec2InstanceProfileAttached {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        let state = instance.state.as_deref();
        if is_gone(state) {
            return Outcome::not_applicable(format!(
                "the instance is {}",
                state.unwrap_or_default()
            ))
            .with("state", state);
        }
        let outcome = match &instance.iam_instance_profile {
            Some(profile) => {
                Outcome::pass(format!("the instance uses the instance profile {profile}"))
            }
            None => Outcome::fail("the instance has no IAM instance profile"),
        };
        outcome
            .with("iam_instance_profile", &instance.iam_instance_profile)
            .with("state", state)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn pass_with_a_profile() {
        let mut i = instance();
        i.iam_instance_profile = Some("arn:aws:iam::111122223333:instance-profile/phi-app".into());
        let o = expect(
            run(&Ec2InstanceProfileAttached, &instance_resource(i), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("phi-app"), "{}", o.reason);
    }

    #[test]
    fn fail_without_a_profile() {
        let o = expect(
            run(
                &Ec2InstanceProfileAttached,
                &instance_resource(instance()),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["iam_instance_profile"], serde_json::Value::Null);
    }

    #[test]
    fn stopped_instances_still_count() {
        let mut i = instance();
        i.state = Some("stopped".into());
        let o = expect(
            run(&Ec2InstanceProfileAttached, &instance_resource(i), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "state", json!("stopped"));
        assert_evidence(&o, "iam_instance_profile", json!(null));
    }

    #[test]
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("terminated".into());
        let o = expect(
            run(&Ec2InstanceProfileAttached, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "state", json!("terminated"));
    }

    #[test]
    fn error_when_instances_could_not_be_listed() {
        let subject = instance_resource(instance());
        let f = evaluate_with_gap(
            "ec2_instance_profile_attached",
            std::slice::from_ref(&subject),
            "ec2:DescribeInstances",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeInstances failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeInstances");
    }
}
