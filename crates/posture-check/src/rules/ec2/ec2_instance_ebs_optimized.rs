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
    api_calls: &["ec2:DescribeInstances", "ec2:DescribeInstanceTypes"],
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
        let ty = instance
            .instance_type
            .as_deref()
            .unwrap_or("of unknown type");
        let support = instance.ebs_optimized_support.get();
        let outcome = match (support, instance.ebs_optimized) {
            // Current-generation types report EbsOptimized=false unless it was set at launch,
            // yet are always EBS-optimized.
            (Ok(Some(s)), _) if s == "default" => Outcome::pass(format!(
                "instance {id} is a {ty}, which is always EBS-optimized"
            )),
            (Ok(Some(s)), _) if s == "unsupported" => {
                Outcome::not_applicable(format!("{ty} instances cannot be EBS-optimized"))
            }
            (_, Some(true)) => Outcome::pass(format!("instance {id} is EBS-optimized")),
            (Ok(Some(_)), Some(false)) => Outcome::fail(format!(
                "instance {id} ({ty}) supports EBS optimization but it is off"
            )),
            (Err(why), _) => Outcome::unavailable("the EBS optimization support of its type", why),
            (Ok(None), _) | (Ok(Some(_)), None) => Outcome::error(format!(
                "whether instance {id} ({ty}) is EBS-optimized is unknown: its type's support \
                 or its EbsOptimized attribute was not reported"
            )),
        };
        outcome
            .with("ebs_optimized", instance.ebs_optimized)
            .with("instance_type", &instance.instance_type)
            .with(
                "ebs_optimized_support",
                support.ok().flatten().map_or("unknown", String::as_str),
            )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

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
    fn pass_for_types_optimized_by_default_even_when_the_flag_is_false() {
        // The false positive other tools report: a t3 says EbsOptimized=false unless set at
        // launch, yet its EBS traffic is always dedicated.
        let mut i = instance();
        i.ebs_optimized = Some(false);
        i.instance_type = Some("t3.micro".into());
        i.ebs_optimized_support = posture_model::Observed::Collected("default".into());
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &instance_resource(i), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["ebs_optimized_support"], "default");
    }

    #[test]
    fn not_applicable_for_types_that_cannot_be_optimized() {
        let mut i = instance();
        i.ebs_optimized = Some(false);
        i.instance_type = Some("t2.micro".into());
        i.ebs_optimized_support = posture_model::Observed::Collected("unsupported".into());
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "ebs_optimized", json!(false));
        assert_evidence(&o, "instance_type", json!("t2.micro"));
        assert!(
            o.reason
                .contains("t2.micro instances cannot be EBS-optimized"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "ebs_optimized_support", json!("unsupported"));
    }

    #[test]
    fn error_when_the_type_support_could_not_be_read() {
        let mut i = instance();
        i.ebs_optimized = Some(false);
        i.ebs_optimized_support = denied("ec2:DescribeInstanceTypes");
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &instance_resource(i), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("ec2:DescribeInstanceTypes"),
            "{}",
            o.reason
        );
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
    fn not_applicable_when_terminated() {
        let mut i = instance();
        i.state = Some("shutting-down".into());
        let o = expect(
            run(&Ec2InstanceEbsOptimized, &instance_resource(i), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "shutting-down");
    }
}
