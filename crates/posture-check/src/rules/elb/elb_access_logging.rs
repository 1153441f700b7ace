//! `elb_access_logging`: access logs are on for Classic, Application and Network load
//! balancers (Gateway Load Balancers have no access logs).
//!
//! A v2 load balancer whose attributes omit `access_logs.s3.enabled` fails: AWS always
//! reports the key and documents `false` as its default, so a missing key is never taken
//! as enabled.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct ElbAccessLogging;

static META: RuleMeta = RuleMeta {
    id: "elb_access_logging",
    title: "Load balancer access logging is enabled",
    severity: Severity::Medium,
    subject: ResourceKind::LoadBalancer,
    rationale: "Access logs record every request a load balancer handled (client, path, TLS \
                protocol, response), the record needed to review activity on systems that \
                serve ePHI and to investigate incidents (164.312(b), 164.308(a)(1)(ii)(D), \
                164.308(a)(3)(ii)(A), 164.308(a)(6)(ii)).",
    remediation: "Enable access logs to an S3 bucket (EC2 console > Load Balancers > Attributes \
                  > Access logs; ModifyLoadBalancerAttributes with access_logs.s3.enabled=true \
                  and access_logs.s3.bucket for v2, or AccessLog.Enabled=true for Classic).",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
    ],
    params: &[],
};

impl Rule for ElbAccessLogging {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if lb.lb_type == "gateway" {
            return Outcome::not_applicable("Gateway Load Balancers have no access logs")
                .with("lb_type", &lb.lb_type);
        }
        let Some(attrs) = try_observed!(lb.attributes, "the load balancer's attributes") else {
            return Outcome::error("the load balancer's attributes were not recorded");
        };
        let outcome = match attrs.access_logs_enabled {
            Some(true) => Outcome::pass(format!(
                "access logs are delivered to {}",
                attrs
                    .access_logs_bucket
                    .as_deref()
                    .unwrap_or("an S3 bucket")
            )),
            Some(false) => Outcome::fail("access logging is disabled"),
            None => {
                Outcome::fail("the access-log attribute was not reported; disabled is its default")
            }
        };
        outcome
            .with("lb_type", &lb.lb_type)
            .with("access_logs_enabled", attrs.access_logs_enabled)
            .with("access_logs_bucket", &attrs.access_logs_bucket)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_enabled_on_classic_and_v2() {
        let o = expect(
            run(&ElbAccessLogging, &lb_resource(classic()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["access_logs_bucket"], "phi-elb-logs");
        expect(
            run(&ElbAccessLogging, &lb_resource(alb()), &[]),
            Status::Pass,
        );
    }

    #[test]
    fn fail_when_disabled_or_not_reported() {
        let mut lb = alb();
        attributes(&mut lb).access_logs_enabled = Some(false);
        let o = expect(
            run(&ElbAccessLogging, &lb_resource(lb.clone()), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["access_logs_enabled"], false);
        attributes(&mut lb).access_logs_enabled = None;
        let o = expect(run(&ElbAccessLogging, &lb_resource(lb), &[]), Status::Fail);
        assert!(o.reason.contains("not reported"), "{}", o.reason);
    }

    #[test]
    fn error_when_attributes_unavailable() {
        let mut lb = classic();
        lb.attributes = denied("elasticloadbalancing:DescribeLoadBalancerAttributes");
        let o = expect(run(&ElbAccessLogging, &lb_resource(lb), &[]), Status::Error);
        assert!(
            o.reason.contains("DescribeLoadBalancerAttributes"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn not_applicable_to_gateway_load_balancers() {
        let mut lb = nlb();
        lb.lb_type = "gateway".into();
        let o = expect(
            run(&ElbAccessLogging, &lb_resource(lb), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["lb_type"], "gateway");
    }
}
