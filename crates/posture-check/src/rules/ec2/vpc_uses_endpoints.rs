//! `vpc_uses_endpoints`: a VPC has an available VPC endpoint (gateway or interface) for at
//! least one of the AWS services in `endpoint_services` (default S3 and DynamoDB), so its
//! traffic to them stays on the AWS network.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct VpcUsesEndpoints;

static META: RuleMeta = RuleMeta {
    id: "vpc_uses_endpoints",
    title: "VPC uses VPC endpoints for AWS services",
    severity: Severity::Low,
    subject: ResourceKind::Vpc,
    rationale: "VPC endpoints keep traffic between workloads and the AWS services that store \
                ePHI (e.g. S3 and DynamoDB) on the AWS network instead of the internet, and \
                endpoint policies limit which buckets and tables the VPC can reach: safeguards \
                the catalogue maps to the organizational requirements of 164.314(b)(1) and \
                164.314(b)(2)(i)-(iv).",
    remediation: "Create a gateway endpoint for S3 and DynamoDB (aws ec2 create-vpc-endpoint \
                  --vpc-id VPC --service-name com.amazonaws.REGION.s3 --route-table-ids ...), or \
                  interface endpoints for the other services the VPC's workloads call.",
    api_calls: &["ec2:DescribeVpcs", "ec2:DescribeVpcEndpoints"],
    params: &[ParamSpec {
        name: "endpoint_services",
        ty: ParamType::StringList,
        default: "s3,dynamodb",
        doc: "Service short names (the part after com.amazonaws.REGION., e.g. s3, dynamodb, \
              ec2, ecr.api); an available endpoint for any of them passes.",
    }],
};

/// The short service name of an endpoint service (`com.amazonaws.us-east-1.s3` → `s3`).
fn short_name<'a>(service_name: &'a str, region: &str) -> &'a str {
    service_name
        .strip_prefix("com.amazonaws.")
        .and_then(|rest| rest.strip_prefix(region))
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(service_name)
}

impl Rule for VpcUsesEndpoints {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Vpc(vpc) = &subject.body else {
            return Outcome::not_applicable("not a VPC");
        };
        let id = &vpc.vpc_id;
        let wanted = ctx.strings("endpoint_services");
        let region = subject.region.as_str();
        let endpoints: Vec<_> = ctx
            .resources(ResourceKind::VpcEndpoint, &subject.account, &subject.region)
            .filter_map(|r| match &r.body {
                ResourceBody::VpcEndpoint(e) if &e.vpc_id == id => Some(e),
                _ => None,
            })
            .collect();
        let evidence: Vec<_> = endpoints
            .iter()
            .map(|e| {
                json!({
                    "vpc_endpoint_id": e.vpc_endpoint_id,
                    "service": short_name(&e.service_name, region),
                    "type": e.endpoint_type,
                    "state": e.state,
                })
            })
            .collect();
        let matching: Vec<&str> = endpoints
            .iter()
            .filter(|e| e.state.as_deref() == Some("available"))
            .filter(|e| {
                let short = short_name(&e.service_name, region);
                wanted.iter().any(|w| w == short)
            })
            .map(|e| e.vpc_endpoint_id.as_str())
            .collect();
        let outcome = if matching.is_empty() {
            Outcome::fail(format!(
                "VPC {id} has no available endpoint for {}",
                wanted.join(" or ")
            ))
        } else {
            Outcome::pass(format!(
                "VPC {id} uses VPC endpoint(s) {} for {}",
                matching.join(", "),
                wanted.join("/")
            ))
        };
        outcome
            .with("endpoint_services", wanted)
            .with("endpoints", evidence)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::VpcEndpoint;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn endpoint(vpc: &str, service: &str, state: &str) -> Resource {
        resource(
            &format!("{EC2_ARN}:vpc-endpoint/vpce-1"),
            region(),
            ResourceBody::VpcEndpoint(VpcEndpoint {
                vpc_endpoint_id: "vpce-1".into(),
                vpc_id: vpc.into(),
                service_name: format!("com.amazonaws.us-east-1.{service}"),
                endpoint_type: Some("Gateway".into()),
                state: Some(state.into()),
            }),
        )
    }

    #[test]
    fn pass_with_s3_gateway_endpoint() {
        let o = expect(
            run(
                &VpcUsesEndpoints,
                &vpc_resource(),
                &[endpoint("vpc-1", "s3", "available")],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["endpoints"][0]["service"], "s3");
    }

    #[test]
    fn fail_without_endpoint_or_other_vpcs_only() {
        let o = expect(
            run(
                &VpcUsesEndpoints,
                &vpc_resource(),
                &[endpoint("vpc-2", "s3", "available")],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["endpoints"], serde_json::json!([]));
        let o = expect(
            run(
                &VpcUsesEndpoints,
                &vpc_resource(),
                &[endpoint("vpc-1", "s3", "pending")],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["endpoints"][0]["state"], "pending");
        expect(
            run(
                &VpcUsesEndpoints,
                &vpc_resource(),
                &[endpoint("vpc-1", "sqs", "available")],
            ),
            Status::Fail,
        );
    }

    #[test]
    fn error_when_endpoints_could_not_be_listed() {
        let f = evaluate_with_gap(
            "vpc_uses_endpoints",
            &[vpc_resource()],
            "ec2:DescribeVpcEndpoints",
            &format!("{EC2_ARN}:vpc/vpc-1"),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("ec2:DescribeVpcEndpoints"),
            "{}",
            f.reason
        );
    }
}
