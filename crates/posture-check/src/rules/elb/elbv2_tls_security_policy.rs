//! `elbv2_tls_security_policy`: the HTTPS (Application) and TLS (Network) listeners of a v2
//! load balancer use an allowed TLS 1.2+ security policy.
//!
//! The default list is every predefined policy that AWS's "Security policies for your
//! Application Load Balancer" and "... for your Network Load Balancer" tables show with
//! TLS 1.0 and 1.1 disabled: the TLS 1.3 policies (`ELBSecurityPolicy-TLS13-1-2-*`,
//! `-TLS13-1-3-*`, their FIPS variants of 2023-04 and post-quantum variants of 2025-09),
//! the forward-secrecy TLS 1.2 policies (`ELBSecurityPolicy-FS-1-2-*`) and the TLS 1.2
//! policies (`ELBSecurityPolicy-TLS-1-2-2017-01`, `-TLS-1-2-Ext-2018-06`). Policies AWS
//! publishes later are not in it until added here or in the baseline's parameters.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::check_tls_policies;
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct Elbv2TlsSecurityPolicy;

static META: RuleMeta = RuleMeta {
    id: "elbv2_tls_security_policy",
    title: "ALB/NLB HTTPS and TLS listeners use a TLS 1.2+ security policy",
    severity: Severity::Medium,
    subject: ResourceKind::LoadBalancer,
    rationale: "The API's default policy, ELBSecurityPolicy-2016-08, still accepts TLS 1.0 and \
                1.1, so ePHI in transit can be protected with deprecated protocols \
                (164.312(a)(2)(iv), 164.312(e)(2)(ii)).",
    remediation: "Set each HTTPS/TLS listener's security policy to a TLS 1.2+ policy such as \
                  ELBSecurityPolicy-TLS13-1-2-2021-06 (EC2 console > Load Balancers > \
                  Listeners > Edit > Security policy, or ModifyListener --ssl-policy).",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
    ],
    params: &[ParamSpec {
        name: "allowed_policies",
        ty: ParamType::StringList,
        default: concat!(
            "ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-TLS13-1-2-Res-2021-06, ",
            "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06, ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06, ",
            "ELBSecurityPolicy-TLS13-1-3-2021-06, ",
            "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04, ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04, ",
            "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04, ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04, ",
            "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04, ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04, ",
            "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09, ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09, ",
            "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09, ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09, ",
            "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09, ",
            "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09, ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09, ",
            "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09, ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09, ",
            "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09, ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09, ",
            "ELBSecurityPolicy-FS-1-2-2019-08, ELBSecurityPolicy-FS-1-2-Res-2019-08, ",
            "ELBSecurityPolicy-FS-1-2-Res-2020-10, ",
            "ELBSecurityPolicy-TLS-1-2-2017-01, ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        ),
        doc: "Predefined security policies that pass (TLS 1.2 and later only)",
    }],
};

impl Rule for Elbv2TlsSecurityPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if lb.is_classic() {
            return Outcome::not_applicable(
                "applies to v2 load balancers (elb_tls_security_policy covers Classic ones)",
            )
            .with("lb_type", &lb.lb_type);
        }
        let Some(listeners) = try_observed!(lb.listeners, "the load balancer's listeners") else {
            return Outcome::error("the load balancer's listeners were not recorded");
        };
        check_tls_policies(listeners, &ctx.strings("allowed_policies")).with("lb_type", &lb.lb_type)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_tls13_policies_on_alb_and_nlb() {
        let o = expect(
            run(&Elbv2TlsSecurityPolicy, &lb_resource(alb()), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["tls_listeners"][0]["policy"],
            "ELBSecurityPolicy-TLS13-1-2-2021-06"
        );
        expect(
            run(&Elbv2TlsSecurityPolicy, &lb_resource(nlb()), &[]),
            Status::Pass,
        );
    }

    #[test]
    fn fail_with_the_2016_default_policy() {
        let mut lb = nlb();
        listeners(&mut lb)[0] = tls_listener("TLS", 443, "ELBSecurityPolicy-2016-08");
        let o = expect(
            run(&Elbv2TlsSecurityPolicy, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("TLS:443 uses ELBSecurityPolicy-2016-08"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["lb_type"], "network");
    }

    #[test]
    fn error_when_listeners_unavailable() {
        let mut lb = alb();
        lb.listeners = denied("elasticloadbalancing:DescribeListeners");
        let o = expect(
            run(&Elbv2TlsSecurityPolicy, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("DescribeListeners"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_tls_listeners_or_to_classic() {
        let mut lb = alb();
        listeners(&mut lb).retain(|l| l.protocol == "HTTP");
        let o = expect(
            run(&Elbv2TlsSecurityPolicy, &lb_resource(lb), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["listeners"], serde_json::json!(["HTTP:80"]));
        expect(
            run(&Elbv2TlsSecurityPolicy, &lb_resource(classic()), &[]),
            Status::NotApplicable,
        );
    }
}
