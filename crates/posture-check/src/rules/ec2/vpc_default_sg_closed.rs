//! `vpc_default_sg_closed`: every VPC's default security group has no rules.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct VpcDefaultSgClosed;

static META: RuleMeta = RuleMeta {
    id: "vpc_default_sg_closed",
    title: "VPC default security group allows no traffic",
    severity: Severity::Medium,
    subject: ResourceKind::SecurityGroup,
    rationale: "Resources launched without an explicit security group land in the VPC's default \
                group; if it has rules, they silently get network access that nobody reviewed, \
                which undermines access control around systems holding ePHI (164.312(a)(1)).",
    remediation: "Remove every inbound and outbound rule from the default security group (it cannot \
                  be deleted) and give resources purpose-built groups instead.",
    api_calls: &["ec2:DescribeSecurityGroups"],
    params: &[],
};

impl Rule for VpcDefaultSgClosed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::SecurityGroup(group) = &subject.body else {
            return Outcome::not_applicable("not a security group");
        };
        if group.group_name != "default" {
            return Outcome::not_applicable(format!(
                "{} is not a VPC default security group",
                group.group_id
            ))
            .with("group_name", &group.group_name);
        }
        let (ingress, egress) = (group.ingress.len(), group.egress.len());
        let outcome = if ingress == 0 && egress == 0 {
            Outcome::pass(format!(
                "default security group {} has no inbound or outbound rules",
                group.group_id
            ))
        } else {
            Outcome::fail(format!(
                "default security group {} has {ingress} inbound and {egress} outbound rule(s)",
                group.group_id
            ))
        };
        outcome
            .with("group_name", &group.group_name)
            .with("vpc_id", &group.vpc_id)
            .with("ingress_rules", ingress)
            .with("egress_rules", egress)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_default_group_is_empty() {
        let o = expect(
            run(&VpcDefaultSgClosed, &sg_resource(sg("default")), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["ingress_rules"], serde_json::json!(0));
        assert_eq!(o.evidence["egress_rules"], serde_json::json!(0));
    }

    #[test]
    fn fail_when_default_group_has_rules() {
        let mut g = sg("default");
        // The rules AWS creates with every default group: all traffic from the group itself,
        // all traffic out.
        let mut self_ref = sg_rule("-1", None, None, &[], &[]);
        self_ref.source_groups = vec!["sg-1".into()];
        g.ingress = vec![self_ref];
        g.egress = vec![sg_rule("-1", None, None, &["0.0.0.0/0"], &[])];
        let o = expect(run(&VpcDefaultSgClosed, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(o.evidence["ingress_rules"], serde_json::json!(1));
        assert_eq!(o.evidence["egress_rules"], serde_json::json!(1));
    }

    #[test]
    fn fail_with_egress_only() {
        let mut g = sg("default");
        g.egress = vec![sg_rule("-1", None, None, &["0.0.0.0/0"], &[])];
        let o = expect(run(&VpcDefaultSgClosed, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(o.evidence["ingress_rules"], serde_json::json!(0));
        assert_eq!(o.evidence["egress_rules"], serde_json::json!(1));
        assert_eq!(o.evidence["vpc_id"], serde_json::json!("vpc-1"));
        assert!(
            o.reason.contains("0 inbound and 1 outbound"),
            "{}",
            o.reason
        );
    }

    /// Security groups have no `Observed` input; what the rule needs is the group list,
    /// and a failed `ec2:DescribeSecurityGroups` makes the result in that region `Error`.
    #[test]
    fn error_when_groups_could_not_be_listed() {
        let subject = sg_resource(sg("default"));
        let f = evaluate_with_gap(
            "vpc_default_sg_closed",
            std::slice::from_ref(&subject),
            "ec2:DescribeSecurityGroups",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeSecurityGroups failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeSecurityGroups");
    }

    #[test]
    fn not_applicable_to_non_default_groups() {
        let mut g = sg("web");
        g.ingress = vec![world_tcp(443, 443)];
        let o = expect(
            run(&VpcDefaultSgClosed, &sg_resource(g), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["group_name"], serde_json::json!("web"));
    }
}
