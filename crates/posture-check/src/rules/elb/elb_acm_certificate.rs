//! `elb_acm_certificate`: the certificates of a load balancer's HTTPS/SSL/TLS listeners are
//! managed by ACM (not uploaded to IAM), so that AWS renews them and tracks their use.
//!
//! For v2 listeners both the default certificate (`DescribeListeners`) and the additional
//! SNI certificates (`DescribeListenerCertificates`) are checked.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use super::label;
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct ElbAcmCertificate;

static META: RuleMeta = RuleMeta {
    id: "elb_acm_certificate",
    title: "Load balancer TLS listeners use ACM certificates",
    severity: Severity::Medium,
    subject: ResourceKind::LoadBalancer,
    rationale: "Certificates uploaded to IAM are renewed by hand and expire silently; an expired \
                certificate breaks or tempts clients to bypass the encryption that protects \
                ePHI in transit. ACM renews its certificates and shows where they are used \
                (164.312(e)(1), 164.312(e)(2)(i), 164.312(e)(2)(ii), 164.312(a)(2)(iv), \
                164.308(a)(1)(ii)(B)).",
    remediation: "Request or import the certificate in ACM and set it on each HTTPS/SSL/TLS \
                  listener (ModifyListener --certificates for v2, \
                  SetLoadBalancerListenerSSLCertificate for Classic), then delete the IAM \
                  server certificate.",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerCertificates",
    ],
    params: &[],
};

fn is_acm(certificate: &str) -> bool {
    certificate.starts_with("arn:") && certificate.split(':').nth(2) == Some("acm")
}

impl Rule for ElbAcmCertificate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        let Some(listeners) = try_observed!(lb.listeners, "the load balancer's listeners") else {
            return Outcome::error("the load balancer's listeners were not recorded");
        };
        let tls: Vec<_> = listeners.iter().filter(|l| l.is_tls()).collect();
        if tls.is_empty() {
            return Outcome::not_applicable("the load balancer has no HTTPS, SSL or TLS listener")
                .with("lb_type", &lb.lb_type)
                .with("listeners", listeners.iter().map(label).collect::<Vec<_>>());
        }
        let mut seen = Vec::new();
        let mut bad = Vec::new();
        let mut unknown = None;
        for l in tls {
            let name = label(l);
            if l.certificates.is_empty() {
                bad.push(format!("{name} reports no certificate"));
            }
            let sni: &[String] = match l.sni_certificates.get() {
                Ok(s) => s.map(Vec::as_slice).unwrap_or_default(),
                Err(why) => {
                    unknown.get_or_insert((name.clone(), why));
                    &[]
                }
            };
            for c in l.certificates.iter().chain(sni).filter(|c| !is_acm(c)) {
                bad.push(format!("{name} uses {c}"));
            }
            seen.push(json!({
                "listener": name,
                "certificates": l.certificates,
                "sni_certificates": sni,
            }));
        }
        // A known non-ACM certificate fails; otherwise unread SNI certificates are unknown.
        if bad.is_empty()
            && let Some((name, why)) = unknown
        {
            return Outcome::unavailable(&format!("the SNI certificates of {name}"), why)
                .with("lb_type", &lb.lb_type)
                .with("tls_listeners", seen);
        }
        let outcome = if bad.is_empty() {
            Outcome::pass("every TLS listener uses an ACM certificate")
        } else {
            Outcome::fail(format!("not an ACM certificate: {}", bad.join("; ")))
        };
        outcome
            .with("lb_type", &lb.lb_type)
            .with("tls_listeners", seen)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_acm_certificates_on_classic_and_v2() {
        let o = expect(
            run(&ElbAcmCertificate, &lb_resource(alb()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["tls_listeners"][0]["certificates"][0], ACM_CERT);
        expect(
            run(&ElbAcmCertificate, &lb_resource(classic()), &[]),
            Status::Pass,
        );
    }

    #[test]
    fn fail_with_an_iam_server_certificate() {
        let mut lb = classic();
        listeners(&mut lb)[0].certificates = vec![IAM_CERT.into()];
        let o = expect(run(&ElbAcmCertificate, &lb_resource(lb), &[]), Status::Fail);
        assert!(
            o.reason.contains("server-certificate/legacy"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["lb_type"], "classic");
    }

    #[test]
    fn fail_with_an_iam_certificate_served_by_sni() {
        let mut lb = alb();
        let tls = listeners(&mut lb)
            .iter_mut()
            .find(|l| l.is_tls())
            .expect("the ALB fixture has an HTTPS listener");
        tls.sni_certificates = posture_model::Observed::Collected(vec![IAM_CERT.into()]);
        let o = expect(run(&ElbAcmCertificate, &lb_resource(lb), &[]), Status::Fail);
        assert!(
            o.reason.contains("server-certificate/legacy"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_sni_certificates_could_not_be_read() {
        let mut lb = alb();
        let tls = listeners(&mut lb)
            .iter_mut()
            .find(|l| l.is_tls())
            .expect("the ALB fixture has an HTTPS listener");
        tls.sni_certificates = denied("elasticloadbalancing:DescribeListenerCertificates");
        let o = expect(
            run(&ElbAcmCertificate, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("DescribeListenerCertificates"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_listeners_unavailable() {
        let mut lb = nlb();
        lb.listeners = denied("elasticloadbalancing:DescribeListeners");
        let o = expect(
            run(&ElbAcmCertificate, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("DescribeListeners"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_tls_listeners() {
        let mut lb = alb();
        listeners(&mut lb).retain(|l| !l.is_tls());
        let o = expect(
            run(&ElbAcmCertificate, &lb_resource(lb), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["listeners"], serde_json::json!(["HTTP:80"]));
    }
}
