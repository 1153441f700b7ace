//! `igw_authorized_vpc_only`: internet gateways are attached only to VPCs listed in
//! `authorized_vpc_ids`.
//!
//! The default list is empty, meaning no VPC is authorized: every attached internet
//! gateway fails until the VPCs meant to reach the internet are listed in the baseline (or
//! the findings waived with the reason). An unset parameter therefore never passes an
//! attachment silently. A detached gateway exposes nothing and passes.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IgwAuthorizedVpcOnly;

static META: RuleMeta = RuleMeta {
    id: "igw_authorized_vpc_only",
    title: "Internet gateway is attached only to an authorized VPC",
    severity: Severity::Medium,
    subject: ResourceKind::InternetGateway,
    rationale: "An internet gateway gives a VPC a path to and from the internet; knowing which \
                VPCs have one, and allowing it only where intended, is part of the risk \
                analysis of where ePHI can be reached from (164.308(a)(1)(ii)(B)).",
    remediation: "Detach the gateway from VPCs that should be private (aws ec2 \
                  detach-internet-gateway --internet-gateway-id IGW --vpc-id VPC, after moving \
                  their egress to NAT gateways or VPC endpoints), or add the VPC to the rule's \
                  authorized_vpc_ids parameter in the baseline if it is meant to be public.",
    api_calls: &["ec2:DescribeInternetGateways"],
    params: &[ParamSpec {
        name: "authorized_vpc_ids",
        ty: ParamType::StringList,
        default: "",
        doc: "VPC ids allowed to have an internet gateway. Empty (the default) authorizes no \
              VPC: every attached gateway fails until its VPC is listed or the finding waived.",
    }],
};

impl Rule for IgwAuthorizedVpcOnly {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::InternetGateway(igw) = &subject.body else {
            return Outcome::not_applicable("not an internet gateway");
        };
        let id = &igw.internet_gateway_id;
        let authorized = ctx.strings("authorized_vpc_ids");
        let attached: Vec<&str> = igw
            .attachments
            .iter()
            .filter(|a| a.state.as_deref() != Some("detached"))
            .map(|a| a.vpc_id.as_str())
            .collect();
        let unauthorized: Vec<&str> = attached
            .iter()
            .copied()
            .filter(|v| !authorized.iter().any(|a| a == v))
            .collect();
        let outcome = if attached.is_empty() {
            Outcome::pass(format!("internet gateway {id} is not attached to any VPC"))
        } else if unauthorized.is_empty() {
            Outcome::pass(format!(
                "internet gateway {id} is attached only to authorized VPC(s) {}",
                attached.join(", ")
            ))
        } else if authorized.is_empty() {
            Outcome::fail(format!(
                "internet gateway {id} is attached to {} and no VPC is authorized \
                 (authorized_vpc_ids is empty)",
                unauthorized.join(", ")
            ))
        } else {
            Outcome::fail(format!(
                "internet gateway {id} is attached to unauthorized VPC(s) {}",
                unauthorized.join(", ")
            ))
        };
        outcome
            .with("attached_vpcs", attached)
            .with("unauthorized_vpcs", unauthorized)
            .with("authorized_vpc_ids", authorized)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::{IgwAttachment, InternetGateway};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    fn igw(vpcs: &[&str]) -> Resource {
        resource(
            &format!("{EC2_ARN}:internet-gateway/igw-1"),
            region(),
            ResourceBody::InternetGateway(InternetGateway {
                internet_gateway_id: "igw-1".into(),
                attachments: vpcs
                    .iter()
                    .map(|v| IgwAttachment {
                        vpc_id: (*v).to_owned(),
                        state: Some("available".into()),
                    })
                    .collect(),
            }),
        )
    }

    fn authorizing(vpcs: &[&str]) -> Params {
        let mut p = Params::defaults(&IgwAuthorizedVpcOnly);
        p.set(
            "authorized_vpc_ids",
            ParamValue::StringList(vpcs.iter().map(|v| (*v).to_owned()).collect()),
        );
        p
    }

    #[test]
    fn pass_when_detached() {
        let o = expect(run(&IgwAuthorizedVpcOnly, &igw(&[]), &[]), Status::Pass);
        assert!(o.reason.contains("not attached"), "{}", o.reason);
    }

    #[test]
    fn pass_when_vpc_authorized() {
        let o = expect(
            run_with(
                &IgwAuthorizedVpcOnly,
                &igw(&["vpc-1"]),
                &[],
                &authorizing(&["vpc-1"]),
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["attached_vpcs"], serde_json::json!(["vpc-1"]));
    }

    #[test]
    fn fail_by_default_when_attached() {
        let o = expect(
            run(&IgwAuthorizedVpcOnly, &igw(&["vpc-1"]), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no VPC is authorized"), "{}", o.reason);
    }

    #[test]
    fn fail_when_vpc_not_listed() {
        let o = expect(
            run_with(
                &IgwAuthorizedVpcOnly,
                &igw(&["vpc-2"]),
                &[],
                &authorizing(&["vpc-1"]),
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["unauthorized_vpcs"],
            serde_json::json!(["vpc-2"])
        );
    }

    #[test]
    fn error_when_listing_failed() {
        let f = evaluate_with_gap(
            "igw_authorized_vpc_only",
            &[igw(&[])],
            "ec2:DescribeInternetGateways",
            &format!("{EC2_ARN}:internet-gateway/igw-1"),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("ec2:DescribeInternetGateways"),
            "{}",
            f.reason
        );
    }
}
