//! `elb_https_tls_listeners_only`: every listener of a Classic load balancer is HTTPS or SSL.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::label;
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct ElbHttpsTlsListenersOnly;

static META: RuleMeta = RuleMeta {
    id: "elb_https_tls_listeners_only",
    title: "Classic load balancer listeners use HTTPS or SSL only",
    severity: Severity::High,
    subject: ResourceKind::LoadBalancer,
    rationale: "A plain HTTP or TCP listener carries whatever the clients send, ePHI included, \
                unencrypted across the network to the load balancer (164.312(e)(1), \
                164.312(e)(2)(i), 164.312(e)(2)(ii), 164.312(a)(2)(iv), 164.312(c)(1)).",
    remediation: "Replace each HTTP or TCP listener with an HTTPS or SSL listener that has a \
                  certificate (EC2 console > Load Balancers > Listeners, or \
                  CreateLoadBalancerListeners then DeleteLoadBalancerListeners); better, \
                  migrate the Classic load balancer to an Application or Network Load \
                  Balancer.",
    api_calls: &["elasticloadbalancing:DescribeLoadBalancers"],
    params: &[],
};

impl Rule for ElbHttpsTlsListenersOnly {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if !lb.is_classic() {
            return Outcome::not_applicable(format!(
                "applies to Classic load balancers, not to {} ones",
                lb.lb_type
            ))
            .with("lb_type", &lb.lb_type);
        }
        let Some(listeners) = try_observed!(lb.listeners, "the load balancer's listeners") else {
            return Outcome::error("the load balancer's listeners were not recorded");
        };
        if listeners.is_empty() {
            return Outcome::not_applicable("the load balancer has no listeners")
                .with("listeners", Vec::<String>::new());
        }
        let all: Vec<String> = listeners.iter().map(label).collect();
        let plain: Vec<String> = listeners
            .iter()
            .filter(|l| !l.is_tls())
            .map(label)
            .collect();
        let outcome = if plain.is_empty() {
            Outcome::pass("every listener is HTTPS or SSL")
        } else {
            Outcome::fail(format!(
                "listener(s) {} accept unencrypted traffic",
                plain.join(", ")
            ))
        };
        outcome
            .with("listeners", all)
            .with("plain_listeners", plain)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::ListenerAction;

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    fn none() -> ListenerAction {
        act("forward", None)
    }

    #[test]
    fn pass_when_every_listener_is_tls() {
        let mut lb = classic();
        listeners(&mut lb).push(tls_listener("SSL", 8443, "phi-tls12"));
        let o = expect(
            run(&ElbHttpsTlsListenersOnly, &lb_resource(lb), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["listeners"],
            serde_json::json!(["HTTPS:443", "SSL:8443"])
        );
    }

    #[test]
    fn fail_with_an_http_or_tcp_listener() {
        let mut lb = classic();
        listeners(&mut lb).push(plain_listener("HTTP", 80, none()));
        listeners(&mut lb).push(plain_listener("TCP", 25, none()));
        let o = expect(
            run(&ElbHttpsTlsListenersOnly, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["plain_listeners"],
            serde_json::json!(["HTTP:80", "TCP:25"])
        );
        assert!(o.reason.contains("HTTP:80"), "{}", o.reason);
    }

    #[test]
    fn error_when_listeners_unavailable() {
        let mut lb = classic();
        lb.listeners = denied("elasticloadbalancing:DescribeLoadBalancers");
        let o = expect(
            run(&ElbHttpsTlsListenersOnly, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("DescribeLoadBalancers"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_v2_load_balancers_and_listenerless_ones() {
        let o = expect(
            run(&ElbHttpsTlsListenersOnly, &lb_resource(alb()), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["lb_type"], "application");
        let mut lb = classic();
        listeners(&mut lb).clear();
        expect(
            run(&ElbHttpsTlsListenersOnly, &lb_resource(lb), &[]),
            Status::NotApplicable,
        );
        expect(
            run(
                &ElbHttpsTlsListenersOnly,
                &bucket_resource(bucket("phi")),
                &[],
            ),
            Status::NotApplicable,
        );
    }
}
