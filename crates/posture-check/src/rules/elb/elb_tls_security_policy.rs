//! `elb_tls_security_policy`: the HTTPS/SSL listeners of a Classic load balancer negotiate
//! with an allowed predefined TLS 1.2+ security policy.
//!
//! The default allows only `ELBSecurityPolicy-TLS-1-2-2017-01`, the one predefined Classic
//! policy that disables TLS 1.0 and 1.1 (AWS Elastic Load Balancing, "Predefined SSL security
//! policies for Classic Load Balancers"); it is also the `predefinedPolicyName` of AWS
//! Config's `elb-predefined-security-policy-ssl-check`. A custom policy fails: its ciphers
//! and protocols are the account's own choice and cannot be vouched for by name.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::check_tls_policies;
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct ElbTlsSecurityPolicy;

static META: RuleMeta = RuleMeta {
    id: "elb_tls_security_policy",
    title: "Classic load balancer HTTPS/SSL listeners use a predefined TLS 1.2+ security policy",
    severity: Severity::Medium,
    subject: ResourceKind::LoadBalancer,
    rationale: "A listener whose SSL negotiation policy still allows TLS 1.0/1.1 or weak ciphers \
                lets a client (or an attacker downgrading it) protect ePHI in transit with \
                broken cryptography (164.312(e)(1), 164.312(e)(2)(ii)).",
    remediation: "Create an SSL negotiation policy that references ELBSecurityPolicy-TLS-1-2-2017-01 \
                  (CreateLoadBalancerPolicy with PolicyTypeName=SSLNegotiationPolicyType and \
                  Reference-Security-Policy) and attach it to each HTTPS/SSL listener \
                  (SetLoadBalancerPoliciesOfListener), or in the console: Listeners > Edit > \
                  Security policy.",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerPolicies",
    ],
    params: &[ParamSpec {
        name: "allowed_policies",
        ty: ParamType::StringList,
        default: "ELBSecurityPolicy-TLS-1-2-2017-01",
        doc: "Predefined Classic security policies (Reference-Security-Policy) that pass",
    }],
};

impl Rule for ElbTlsSecurityPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if !lb.is_classic() {
            return Outcome::not_applicable(format!(
                "applies to Classic load balancers (elbv2_tls_security_policy covers the {} one)",
                lb.lb_type
            ))
            .with("lb_type", &lb.lb_type);
        }
        let Some(listeners) = try_observed!(lb.listeners, "the load balancer's listeners") else {
            return Outcome::error("the load balancer's listeners were not recorded");
        };
        check_tls_policies(listeners, &ctx.strings("allowed_policies"))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::SecurityPolicy;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_the_tls12_reference_policy() {
        let o = expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(classic()), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["tls_listeners"][0]["predefined"],
            "ELBSecurityPolicy-TLS-1-2-2017-01"
        );
        assert_eq!(o.evidence["tls_listeners"][0]["policy"], "phi-tls12");
    }

    #[test]
    fn fail_with_an_older_or_custom_or_missing_policy() {
        let mut lb = classic();
        listeners(&mut lb)[0].security_policy = Observed::Collected(SecurityPolicy {
            name: "ELBSecurityPolicy-2016-08".into(),
            predefined: Some("ELBSecurityPolicy-2016-08".into()),
            protocols: vec!["Protocol-TLSv1".into(), "Protocol-TLSv1.2".into()],
        });
        let o = expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(lb.clone()), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("ELBSecurityPolicy-2016-08"),
            "{}",
            o.reason
        );

        listeners(&mut lb)[0].security_policy = Observed::Collected(SecurityPolicy {
            name: "my-ciphers".into(),
            predefined: None,
            protocols: vec!["Protocol-TLSv1.2".into()],
        });
        let o = expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(lb.clone()), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("custom policy my-ciphers"),
            "{}",
            o.reason
        );

        listeners(&mut lb)[0].security_policy = Observed::Absent;
        let o = expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no security policy"), "{}", o.reason);
    }

    #[test]
    fn error_when_the_policy_could_not_be_read() {
        let mut lb = classic();
        listeners(&mut lb)[0].security_policy =
            denied("elasticloadbalancing:DescribeLoadBalancerPolicies");
        let o = expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("DescribeLoadBalancerPolicies"),
            "{}",
            o.reason
        );
        assert!(o.reason.contains("HTTPS:443"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_tls_listeners_or_to_v2() {
        let mut lb = classic();
        *listeners(&mut lb) = vec![plain_listener("HTTP", 80, act("forward", None))];
        let o = expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(lb), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["listeners"], serde_json::json!(["HTTP:80"]));
        expect(
            run(&ElbTlsSecurityPolicy, &lb_resource(alb()), &[]),
            Status::NotApplicable,
        );
    }
}
