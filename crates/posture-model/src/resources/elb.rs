//! Elastic Load Balancing: Classic load balancers (the `elasticloadbalancing` 2012-06-01 API)
//! and Application, Network and Gateway load balancers (the 2015-12-01 "v2" API), as one
//! kind so that the rules about both (access logging, ACM certificates) have one subject.

use serde::{Deserialize, Serialize};

use crate::Observed;

/// A load balancer of any type, from `DescribeLoadBalancers` (v1 or v2),
/// `DescribeListeners`, `DescribeLoadBalancerPolicies`, `DescribeRules` and
/// `DescribeLoadBalancerAttributes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    /// Name.
    pub name: String,
    /// `classic`, `application`, `network` or `gateway`.
    pub lb_type: String,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    /// The VPC, if any.
    pub vpc_id: Option<String>,
    /// The DNS name.
    pub dns_name: Option<String>,
    /// Listeners: from `DescribeLoadBalancers` for Classic load balancers, from
    /// `DescribeListeners` for the others.
    pub listeners: Observed<Vec<Listener>>,
    /// Attributes from `DescribeLoadBalancerAttributes`.
    pub attributes: Observed<LoadBalancerAttributes>,
}

impl LoadBalancer {
    /// A Classic load balancer.
    pub fn is_classic(&self) -> bool {
        self.lb_type == "classic"
    }

    /// An Application Load Balancer.
    pub fn is_application(&self) -> bool {
        self.lb_type == "application"
    }
}

/// One listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    /// The listener ARN (v2 only).
    pub arn: Option<String>,
    /// The front-end port.
    pub port: Option<i32>,
    /// The front-end protocol, upper case: `HTTP`, `HTTPS`, `TCP`, `SSL` (Classic), `TLS`,
    /// `UDP`, `TCP_UDP`, `GENEVE`.
    pub protocol: String,
    /// The back-end protocol (Classic only).
    pub instance_protocol: Option<String>,
    /// Server certificate ARNs (ACM or IAM): Classic's `SSLCertificateId`, or the v2
    /// listener's default certificate.
    pub certificates: Vec<String>,
    /// A v2 HTTPS/TLS listener's additional (SNI) certificates, from
    /// `DescribeListenerCertificates`; `Absent` for other listeners.
    #[serde(default = "Observed::not_recorded")]
    pub sni_certificates: Observed<Vec<String>>,
    /// The TLS negotiation policy of an HTTPS/SSL/TLS listener; `Absent` when the listener
    /// has none (plain protocols, or a Classic listener with no SSL negotiation policy).
    pub security_policy: Observed<SecurityPolicy>,
    /// The default actions (v2 only; Classic listeners forward to instances).
    pub default_actions: Vec<ListenerAction>,
    /// The listener's rules, default rule included, from `DescribeRules`: read only for
    /// Application Load Balancer HTTP listeners whose default action does not already decide
    /// whether they redirect to HTTPS; `Unavailable` (not collected) otherwise.
    pub rules: Observed<Vec<ListenerRule>>,
}

impl Listener {
    /// The listener terminates TLS (`HTTPS`, `SSL` or `TLS`).
    pub fn is_tls(&self) -> bool {
        matches!(self.protocol.as_str(), "HTTPS" | "SSL" | "TLS")
    }
}

/// A TLS negotiation policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityPolicy {
    /// The policy's name on the listener (v2: the predefined policy's name; Classic: the
    /// name of the load balancer's policy object).
    pub name: String,
    /// The predefined `ELBSecurityPolicy-*` it is (v2: `name`; Classic: the
    /// `Reference-Security-Policy` attribute), `None` for a Classic custom policy.
    pub predefined: Option<String>,
    /// The protocols a Classic policy enables (`Protocol-TLSv1.2`, ...); empty for v2.
    pub protocols: Vec<String>,
}

/// One action of a v2 listener or rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerAction {
    /// `forward`, `redirect`, `fixed-response`, `authenticate-oidc`, ...
    pub action_type: String,
    /// For `redirect`: the target protocol (`HTTPS`, `HTTP` or `#{protocol}`).
    pub redirect_protocol: Option<String>,
}

impl ListenerAction {
    /// A redirect to HTTPS.
    pub fn redirects_to_https(&self) -> bool {
        self.action_type == "redirect" && self.redirect_protocol.as_deref() == Some("HTTPS")
    }

    /// On an HTTP listener, an action that answers over plain HTTP with the target's content
    /// (`forward`) or sends the client to a URL that is not HTTPS (a redirect that keeps
    /// `#{protocol}` or names `HTTP`). Fixed responses and redirects to HTTPS do neither.
    pub fn serves_plain_http(&self) -> bool {
        match self.action_type.as_str() {
            "forward" => true,
            "redirect" => !self.redirects_to_https(),
            _ => false,
        }
    }
}

/// One v2 listener rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerRule {
    /// `1`..`50000`, or `default`.
    pub priority: String,
    /// The listener's default rule.
    pub is_default: bool,
    /// Its actions, in order.
    pub actions: Vec<ListenerAction>,
}

/// Load balancer attributes the rules read. A v2 key AWS did not report is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerAttributes {
    /// Classic `AccessLog.Enabled`, or v2 `access_logs.s3.enabled`.
    pub access_logs_enabled: Option<bool>,
    /// The access log bucket.
    pub access_logs_bucket: Option<String>,
    /// v2 `routing.http.drop_invalid_header_fields.enabled` (Application Load Balancers).
    pub drop_invalid_header_fields: Option<bool>,
    /// v2 `deletion_protection.enabled` (Classic load balancers have no such setting).
    pub deletion_protection: Option<bool>,
}
