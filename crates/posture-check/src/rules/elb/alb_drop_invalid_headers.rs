//! `alb_drop_invalid_headers`: an Application Load Balancer drops HTTP headers whose names
//! are not valid, instead of passing them to the targets.
//!
//! A missing `routing.http.drop_invalid_header_fields.enabled` attribute fails: AWS always
//! reports it and documents `false` as its default.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct AlbDropInvalidHeaders;

static META: RuleMeta = RuleMeta {
    id: "alb_drop_invalid_headers",
    title: "Application Load Balancer drops invalid HTTP header fields",
    severity: Severity::Low,
    subject: ResourceKind::LoadBalancer,
    rationale: "Headers with invalid names are a vehicle for request smuggling and header \
                injection against the applications behind the load balancer, which can expose \
                or alter ePHI in transit (164.312(e)(1), 164.312(e)(2)(i), 164.312(e)(2)(ii), \
                164.312(a)(2)(iv)).",
    remediation: "Turn on 'Drop invalid header fields' (EC2 console > Load Balancers > \
                  Attributes, or ModifyLoadBalancerAttributes with \
                  routing.http.drop_invalid_header_fields.enabled=true).",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
    ],
    params: &[],
};

impl Rule for AlbDropInvalidHeaders {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if !lb.is_application() {
            return Outcome::not_applicable(format!(
                "applies to Application Load Balancers; this is a {} load balancer",
                lb.lb_type
            ))
            .with("lb_type", &lb.lb_type);
        }
        let Some(attrs) = try_observed!(lb.attributes, "the load balancer's attributes") else {
            return Outcome::error("the load balancer's attributes were not recorded");
        };
        let outcome = match attrs.drop_invalid_header_fields {
            Some(true) => Outcome::pass("invalid header fields are dropped"),
            Some(false) => Outcome::fail("invalid header fields are passed to the targets"),
            None => Outcome::fail(
                "routing.http.drop_invalid_header_fields.enabled was not reported; off is its \
                 default",
            ),
        };
        outcome.with(
            "drop_invalid_header_fields",
            attrs.drop_invalid_header_fields,
        )
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
            run(&AlbDropInvalidHeaders, &lb_resource(alb()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["drop_invalid_header_fields"], true);
    }

    #[test]
    fn fail_when_disabled_or_not_reported() {
        let mut lb = alb();
        attributes(&mut lb).drop_invalid_header_fields = Some(false);
        let o = expect(
            run(&AlbDropInvalidHeaders, &lb_resource(lb.clone()), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["drop_invalid_header_fields"], false);
        attributes(&mut lb).drop_invalid_header_fields = None;
        let o = expect(
            run(&AlbDropInvalidHeaders, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("not reported"), "{}", o.reason);
    }

    #[test]
    fn error_when_attributes_unavailable() {
        let mut lb = alb();
        lb.attributes = denied("elasticloadbalancing:DescribeLoadBalancerAttributes");
        let o = expect(
            run(&AlbDropInvalidHeaders, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("DescribeLoadBalancerAttributes"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_to_nlb_and_classic() {
        let o = expect(
            run(&AlbDropInvalidHeaders, &lb_resource(nlb()), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["lb_type"], "network");
        expect(
            run(&AlbDropInvalidHeaders, &lb_resource(classic()), &[]),
            Status::NotApplicable,
        );
    }
}
