//! `vpn_both_tunnels_up`: an available Site-to-Site VPN connection reports both of its
//! tunnels `UP`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct VpnBothTunnelsUp;

static META: RuleMeta = RuleMeta {
    id: "vpn_both_tunnels_up",
    title: "Site-to-Site VPN connection has both tunnels up",
    severity: Severity::Medium,
    subject: ResourceKind::VpnConnection,
    rationale: "Each VPN connection has two tunnels so that one can fail or be maintained \
                without losing the link; with one down, access to systems holding ePHI over the \
                VPN has no redundancy, a risk the contingency plan must address \
                (164.308(a)(1)(ii)(B), 164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C)).",
    remediation: "Configure both tunnels on the customer gateway device (download the \
                  configuration from the VPC console > Site-to-Site VPN connections > Download \
                  configuration), and check the tunnel's status message for the cause.",
    api_calls: &["ec2:DescribeVpnConnections"],
    params: &[],
};

impl Rule for VpnBothTunnelsUp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::VpnConnection(vpn) = &subject.body else {
            return Outcome::not_applicable("not a VPN connection");
        };
        let id = &vpn.vpn_connection_id;
        let state = vpn.state.as_deref();
        if state != Some("available") {
            return Outcome::not_applicable(format!(
                "VPN connection {id} is {}, not available",
                state.unwrap_or("in an unknown state")
            ))
            .with("state", state);
        }
        let tunnels: Vec<_> = vpn
            .tunnels
            .iter()
            .map(|t| {
                json!({
                    "outside_ip_address": t.outside_ip_address,
                    "status": t.status,
                    "status_message": t.status_message,
                    "last_status_change": t.last_status_change,
                })
            })
            .collect();
        let up = vpn
            .tunnels
            .iter()
            .filter(|t| t.status.as_deref() == Some("UP"))
            .count();
        let outcome = if vpn.tunnels.len() < 2 && up == vpn.tunnels.len() {
            Outcome::error(format!(
                "VPN connection {id} reports telemetry for {} tunnel(s) instead of 2, so the \
                 status of both is unknown",
                vpn.tunnels.len()
            ))
        } else if up >= 2 {
            Outcome::pass(format!("both tunnels of VPN connection {id} are UP"))
        } else {
            Outcome::fail(format!(
                "VPN connection {id} has {up} of {} tunnels UP",
                vpn.tunnels.len().max(2)
            ))
        };
        outcome
            .with("state", state)
            .with("tunnels_up", up)
            .with("tunnels", tunnels)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::{VpnConnection, VpnTunnel};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn vpn(state: &str, statuses: &[&str]) -> Resource {
        resource(
            &format!("{EC2_ARN}:vpn-connection/vpn-1"),
            region(),
            ResourceBody::VpnConnection(VpnConnection {
                vpn_connection_id: "vpn-1".into(),
                state: Some(state.into()),
                vpn_gateway_id: Some("vgw-1".into()),
                transit_gateway_id: None,
                tunnels: statuses
                    .iter()
                    .map(|s| VpnTunnel {
                        outside_ip_address: Some("203.0.113.1".into()),
                        status: Some((*s).into()),
                        status_message: None,
                        last_status_change: None,
                    })
                    .collect(),
            }),
        )
    }

    #[test]
    fn pass_when_both_up() {
        let o = expect(
            run(&VpnBothTunnelsUp, &vpn("available", &["UP", "UP"]), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["tunnels_up"], 2);
    }

    #[test]
    fn fail_when_one_down() {
        let o = expect(
            run(&VpnBothTunnelsUp, &vpn("available", &["UP", "DOWN"]), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("1 of 2"), "{}", o.reason);
        assert_eq!(o.evidence["tunnels"][1]["status"], "DOWN");
    }

    #[test]
    fn error_without_telemetry() {
        let o = expect(
            run(&VpnBothTunnelsUp, &vpn("available", &[]), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("0 tunnel"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_when_not_available() {
        let o = expect(
            run(&VpnBothTunnelsUp, &vpn("deleted", &[]), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "deleted");
    }
}
