//! `elb_deletion_protection`: deletion protection is on for Application, Network and
//! Gateway load balancers (Classic load balancers have no such setting).
//!
//! A missing `deletion_protection.enabled` attribute fails: AWS always reports it and
//! documents `false` as its default.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct ElbDeletionProtection;

static META: RuleMeta = RuleMeta {
    id: "elb_deletion_protection",
    title: "ALB/NLB deletion protection is enabled",
    severity: Severity::Medium,
    subject: ResourceKind::LoadBalancer,
    rationale: "Deleting the load balancer in front of an ePHI application, by mistake or \
                malice, takes the application offline until it is rebuilt; deletion \
                protection makes that a deliberate two-step change (164.308(a)(7)(i), \
                164.308(a)(7)(ii)(C), 164.308(a)(1)(ii)(B)).",
    remediation: "Enable deletion protection (EC2 console > Load Balancers > Attributes, or \
                  ModifyLoadBalancerAttributes with deletion_protection.enabled=true).",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
    ],
    params: &[],
};

impl Rule for ElbDeletionProtection {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if lb.is_classic() {
            return Outcome::not_applicable("Classic load balancers have no deletion protection")
                .with("lb_type", &lb.lb_type);
        }
        let Some(attrs) = try_observed!(lb.attributes, "the load balancer's attributes") else {
            return Outcome::error("the load balancer's attributes were not recorded");
        };
        let outcome = match attrs.deletion_protection {
            Some(true) => Outcome::pass("deletion protection is enabled"),
            Some(false) => Outcome::fail("deletion protection is disabled"),
            None => Outcome::fail(
                "deletion_protection.enabled was not reported; disabled is its default",
            ),
        };
        outcome
            .with("lb_type", &lb.lb_type)
            .with("deletion_protection", attrs.deletion_protection)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(&ElbDeletionProtection, &lb_resource(nlb()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["deletion_protection"], true);
    }

    #[test]
    fn fail_when_disabled_or_not_reported() {
        let mut lb = alb();
        attributes(&mut lb).deletion_protection = Some(false);
        let o = expect(
            run(&ElbDeletionProtection, &lb_resource(lb.clone()), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["deletion_protection"], false);
        attributes(&mut lb).deletion_protection = None;
        let o = expect(
            run(&ElbDeletionProtection, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("not reported"), "{}", o.reason);
    }

    #[test]
    fn error_when_attributes_unavailable() {
        let mut lb = alb();
        lb.attributes = denied("elasticloadbalancing:DescribeLoadBalancerAttributes");
        let o = expect(
            run(&ElbDeletionProtection, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("DescribeLoadBalancerAttributes"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_to_classic() {
        let o = expect(
            run(&ElbDeletionProtection, &lb_resource(classic()), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["lb_type"], "classic");
    }
}
