//! Elastic Load Balancing rules, over `aws_elb_load_balancer` (Classic, Application,
//! Network and Gateway load balancers alike; each rule says which types it applies to).

use posture_model::Observed;
use posture_model::resources::Listener;
use serde_json::json;

use crate::{Outcome, Rule};

mod alb_drop_invalid_headers;
mod alb_http_to_https_redirect;
mod elb_access_logging;
mod elb_acm_certificate;
mod elb_deletion_protection;
mod elb_https_tls_listeners_only;
mod elb_tls_security_policy;
mod elbv2_tls_security_policy;

/// The ELB rules.
pub const RULES: &[&dyn Rule] = &[
    &alb_drop_invalid_headers::AlbDropInvalidHeaders,
    &alb_http_to_https_redirect::AlbHttpToHttpsRedirect,
    &elb_access_logging::ElbAccessLogging,
    &elb_acm_certificate::ElbAcmCertificate,
    &elb_deletion_protection::ElbDeletionProtection,
    &elb_https_tls_listeners_only::ElbHttpsTlsListenersOnly,
    &elb_tls_security_policy::ElbTlsSecurityPolicy,
    &elbv2_tls_security_policy::Elbv2TlsSecurityPolicy,
];

/// `PROTOCOL:PORT`, how listeners are named in evidence and reasons.
pub(crate) fn label(l: &Listener) -> String {
    match l.port {
        Some(p) => format!("{}:{p}", l.protocol),
        None => l.protocol.clone(),
    }
}

/// Checks the security policy of every HTTPS/SSL/TLS listener against `allowed`
/// (predefined policy names): `Pass` when all use one, `Fail` naming those that do not
/// (a listener without a policy, or with a custom Classic policy, fails too), `Error` when a
/// policy could not be read, `NotApplicable` with no TLS listener.
pub(crate) fn check_tls_policies(listeners: &[Listener], allowed: &[String]) -> Outcome {
    let tls: Vec<&Listener> = listeners.iter().filter(|l| l.is_tls()).collect();
    if tls.is_empty() {
        return Outcome::not_applicable("the load balancer has no HTTPS, SSL or TLS listener")
            .with("listeners", listeners.iter().map(label).collect::<Vec<_>>());
    }
    let mut seen = Vec::new();
    let mut bad = Vec::new();
    for l in tls {
        let name = label(l);
        match &l.security_policy {
            Observed::Unavailable(why) => {
                return Outcome::unavailable(
                    &format!("the security policy of listener {name}"),
                    why,
                )
                .with("allowed_policies", allowed);
            }
            Observed::Absent => {
                seen.push(json!({"listener": name, "policy": null}));
                bad.push(format!("{name} has no security policy"));
            }
            Observed::Collected(p) => {
                seen.push(json!({
                    "listener": name,
                    "policy": p.name,
                    "predefined": p.predefined,
                    "protocols": p.protocols,
                }));
                match &p.predefined {
                    Some(n) if allowed.iter().any(|a| a == n) => {}
                    Some(n) => bad.push(format!("{name} uses {n}")),
                    None => bad.push(format!("{name} uses the custom policy {}", p.name)),
                }
            }
        }
    }
    let outcome = if bad.is_empty() {
        Outcome::pass("every HTTPS/SSL/TLS listener uses an allowed TLS 1.2+ security policy")
    } else {
        Outcome::fail(format!(
            "not an allowed TLS 1.2+ security policy: {}",
            bad.join("; ")
        ))
    };
    outcome
        .with("tls_listeners", seen)
        .with("allowed_policies", allowed)
}

/// Fixtures shared by the ELB rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::{
        Listener, ListenerAction, ListenerRule, LoadBalancer, LoadBalancerAttributes,
        SecurityPolicy,
    };
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{region, resource};

    /// An ACM certificate ARN.
    pub(crate) const ACM_CERT: &str =
        "arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666";
    /// An IAM server certificate ARN.
    pub(crate) const IAM_CERT: &str = "arn:aws:iam::111122223333:server-certificate/legacy";

    fn not_read() -> Observed<Vec<ListenerRule>> {
        Observed::Unavailable(posture_model::Unavailable {
            kind: posture_model::UnavailableKind::NotCollected,
            operation: "elasticloadbalancing:DescribeRules".into(),
            code: None,
            message: "not read".into(),
        })
    }

    /// A predefined security policy.
    pub(crate) fn policy(name: &str) -> SecurityPolicy {
        SecurityPolicy {
            name: name.into(),
            predefined: Some(name.into()),
            protocols: vec![],
        }
    }

    /// An action.
    pub(crate) fn act(action_type: &str, redirect_protocol: Option<&str>) -> ListenerAction {
        ListenerAction {
            action_type: action_type.into(),
            redirect_protocol: redirect_protocol.map(Into::into),
        }
    }

    /// A TLS listener (`HTTPS`, `SSL` or `TLS`) with an ACM certificate and `policy_name`.
    pub(crate) fn tls_listener(protocol: &str, port: i32, policy_name: &str) -> Listener {
        Listener {
            arn: None,
            port: Some(port),
            protocol: protocol.into(),
            instance_protocol: None,
            certificates: vec![ACM_CERT.into()],
            sni_certificates: Observed::Collected(vec![]),
            security_policy: Observed::Collected(policy(policy_name)),
            default_actions: vec![act("forward", None)],
            rules: not_read(),
        }
    }

    /// A plain listener (`HTTP`, `TCP`, ...) whose default action is `default`.
    pub(crate) fn plain_listener(protocol: &str, port: i32, default: ListenerAction) -> Listener {
        Listener {
            arn: None,
            port: Some(port),
            protocol: protocol.into(),
            instance_protocol: None,
            certificates: vec![],
            sni_certificates: Observed::Absent,
            security_policy: Observed::Absent,
            default_actions: vec![default],
            rules: not_read(),
        }
    }

    /// A rule.
    pub(crate) fn rule(priority: &str, action: ListenerAction) -> ListenerRule {
        ListenerRule {
            priority: priority.into(),
            is_default: priority == "default",
            actions: vec![action],
        }
    }

    /// Attributes with everything on.
    pub(crate) fn attributes_on() -> LoadBalancerAttributes {
        LoadBalancerAttributes {
            access_logs_enabled: Some(true),
            access_logs_bucket: Some("phi-elb-logs".into()),
            drop_invalid_header_fields: Some(true),
            deletion_protection: Some(true),
        }
    }

    /// A compliant ALB: HTTPS with a TLS 1.2+ policy, HTTP redirecting to HTTPS, every
    /// attribute on.
    pub(crate) fn alb() -> LoadBalancer {
        let mut http = plain_listener("HTTP", 80, act("redirect", Some("HTTPS")));
        http.rules = Observed::Collected(vec![rule("default", act("redirect", Some("HTTPS")))]);
        LoadBalancer {
            name: "phi-alb".into(),
            lb_type: "application".into(),
            scheme: Some("internet-facing".into()),
            vpc_id: Some("vpc-1".into()),
            dns_name: None,
            listeners: Observed::Collected(vec![
                tls_listener("HTTPS", 443, "ELBSecurityPolicy-TLS13-1-2-2021-06"),
                http,
            ]),
            attributes: Observed::Collected(attributes_on()),
        }
    }

    /// A compliant NLB: one TLS listener.
    pub(crate) fn nlb() -> LoadBalancer {
        let mut lb = alb();
        lb.name = "phi-nlb".into();
        lb.lb_type = "network".into();
        lb.listeners = Observed::Collected(vec![tls_listener(
            "TLS",
            443,
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
        )]);
        if let Observed::Collected(a) = &mut lb.attributes {
            a.drop_invalid_header_fields = None;
        }
        lb
    }

    /// A compliant Classic load balancer: one HTTPS listener with an ACM certificate and the
    /// TLS 1.2 predefined policy, access logs on.
    pub(crate) fn classic() -> LoadBalancer {
        let mut https = tls_listener("HTTPS", 443, "phi-tls12");
        https.security_policy = Observed::Collected(SecurityPolicy {
            name: "phi-tls12".into(),
            predefined: Some("ELBSecurityPolicy-TLS-1-2-2017-01".into()),
            protocols: vec!["Protocol-TLSv1.2".into()],
        });
        https.default_actions = vec![];
        https.instance_protocol = Some("HTTP".into());
        LoadBalancer {
            name: "phi-classic".into(),
            lb_type: "classic".into(),
            scheme: Some("internet-facing".into()),
            vpc_id: Some("vpc-1".into()),
            dns_name: None,
            listeners: Observed::Collected(vec![https]),
            attributes: Observed::Collected(LoadBalancerAttributes {
                access_logs_enabled: Some(true),
                access_logs_bucket: Some("phi-elb-logs".into()),
                drop_invalid_header_fields: None,
                deletion_protection: None,
            }),
        }
    }

    /// A load balancer resource in the fixture account and region.
    pub(crate) fn lb_resource(lb: LoadBalancer) -> Resource {
        let arn = if lb.is_classic() {
            format!(
                "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/{}",
                lb.name
            )
        } else {
            let kind = if lb.is_application() { "app" } else { "net" };
            format!(
                "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/{kind}/{}/50dc6c495c0c9188",
                lb.name
            )
        };
        resource(&arn, region(), ResourceBody::LoadBalancer(lb))
    }

    /// The listeners of `lb`, for editing.
    pub(crate) fn listeners(lb: &mut LoadBalancer) -> &mut Vec<Listener> {
        match &mut lb.listeners {
            Observed::Collected(l) => l,
            _ => panic!("fixture listeners are collected"),
        }
    }

    /// The attributes of `lb`, for editing.
    pub(crate) fn attributes(lb: &mut LoadBalancer) -> &mut LoadBalancerAttributes {
        match &mut lb.attributes {
            Observed::Collected(a) => a,
            _ => panic!("fixture attributes are collected"),
        }
    }
}
