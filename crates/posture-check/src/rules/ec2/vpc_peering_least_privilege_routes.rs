//! `vpc_peering_least_privilege_routes`: no route table sends `0.0.0.0/0` or `::/0` to a
//! VPC peering connection (`pcx-…`).
//!
//! A peering route should name the peer's CIDR (or the subnets that need it), never
//! everything: a default route over a peering connection hands all traffic the table's
//! subnets send off-VPC to the peer. Only the route table is needed: the peering
//! connection's own CIDRs are not in the model, so narrower over-broad routes (the whole
//! peer VPC when one subnet would do) are not judged.

use posture_model::resources::Route;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct VpcPeeringLeastPrivilegeRoutes;

static META: RuleMeta = RuleMeta {
    id: "vpc_peering_least_privilege_routes",
    title: "Route table sends no default route to a VPC peering connection",
    severity: Severity::Medium,
    subject: ResourceKind::RouteTable,
    rationale: "A 0.0.0.0/0 or ::/0 route to a peering connection sends every off-VPC packet \
                of the subnets using the table, ePHI included, to the peer VPC (often another \
                account's); peering routes should reach only the CIDRs the workload needs, so \
                access is granted on least privilege and ePHI in transit goes only where \
                intended (164.312(e)(1), 164.308(a)(4)(ii)(B)).",
    remediation: "Replace the default route to the peering connection with routes to the peer \
                  VPC's specific CIDRs (or subnets) that the workload needs.",
    api_calls: &["ec2:DescribeRouteTables"],
    params: &[],
};

/// The world destination of `route`, if any.
fn world_destination(route: &Route) -> Option<&str> {
    route
        .destination_cidr_block
        .as_deref()
        .filter(|c| *c == "0.0.0.0/0")
        .or(route
            .destination_ipv6_cidr_block
            .as_deref()
            .filter(|c| *c == "::/0"))
}

/// The peering connection `route` targets, if any.
fn peering_target(route: &Route) -> Option<&str> {
    route
        .other_target
        .as_deref()
        .filter(|t| t.starts_with("pcx-"))
        .or(route
            .gateway_id
            .as_deref()
            .filter(|g| g.starts_with("pcx-")))
}

impl Rule for VpcPeeringLeastPrivilegeRoutes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RouteTable(table) = &subject.body else {
            return Outcome::not_applicable("not a route table");
        };
        let mut peering_routes = 0usize;
        let mut found: Vec<Value> = Vec::new();
        let mut described: Vec<String> = Vec::new();
        for route in &table.routes {
            let Some(pcx) = peering_target(route) else {
                continue;
            };
            peering_routes += 1;
            if let Some(dest) = world_destination(route) {
                found.push(json!({"destination": dest, "vpc_peering_connection_id": pcx}));
                described.push(format!("{dest} -> {pcx}"));
            }
        }
        let outcome = if !found.is_empty() {
            Outcome::fail(format!(
                "{} routes {} (all off-VPC traffic goes to the peer)",
                table.route_table_id,
                described.join(", ")
            ))
        } else if peering_routes == 0 {
            Outcome::pass(format!(
                "{} has no route to a VPC peering connection",
                table.route_table_id
            ))
        } else {
            Outcome::pass(format!(
                "{} routes only specific CIDRs to VPC peering connections",
                table.route_table_id
            ))
        };
        outcome
            .with("default_peering_routes", found)
            .with("peering_routes", peering_routes)
            .with("vpc_id", &table.vpc_id)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::RouteTable;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn route(v4: Option<&str>, v6: Option<&str>, target: Option<&str>) -> Route {
        Route {
            destination_cidr_block: v4.map(str::to_owned),
            destination_ipv6_cidr_block: v6.map(str::to_owned),
            gateway_id: None,
            nat_gateway_id: None,
            other_target: target.map(str::to_owned),
        }
    }

    fn table(routes: Vec<Route>) -> Resource {
        resource(
            &format!("{EC2_ARN}:route-table/rtb-1"),
            region(),
            ResourceBody::RouteTable(RouteTable {
                route_table_id: "rtb-1".into(),
                vpc_id: "vpc-1".into(),
                routes,
                associations: vec![],
            }),
        )
    }

    #[test]
    fn pass_with_specific_peering_route() {
        let o = expect(
            run(
                &VpcPeeringLeastPrivilegeRoutes,
                &table(vec![
                    route(Some("10.1.0.0/16"), None, Some("pcx-1")),
                    route(Some("0.0.0.0/0"), None, Some("tgw-1")),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["peering_routes"], 1);
    }

    #[test]
    fn pass_without_peering_routes() {
        let o = expect(
            run(&VpcPeeringLeastPrivilegeRoutes, &table(vec![]), &[]),
            Status::Pass,
        );
        assert!(o.reason.contains("no route"), "{}", o.reason);
    }

    #[test]
    fn fail_on_ipv4_default_to_peering() {
        let o = expect(
            run(
                &VpcPeeringLeastPrivilegeRoutes,
                &table(vec![route(Some("0.0.0.0/0"), None, Some("pcx-1"))]),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["default_peering_routes"],
            json!([{"destination": "0.0.0.0/0", "vpc_peering_connection_id": "pcx-1"}])
        );
    }

    #[test]
    fn fail_on_ipv6_default_to_peering() {
        let o = expect(
            run(
                &VpcPeeringLeastPrivilegeRoutes,
                &table(vec![route(None, Some("::/0"), Some("pcx-2"))]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("::/0 -> pcx-2"), "{}", o.reason);
    }

    #[test]
    fn error_when_route_tables_could_not_be_listed() {
        let subject = table(vec![]);
        let f = evaluate_with_gap(
            "vpc_peering_least_privilege_routes",
            std::slice::from_ref(&subject),
            "ec2:DescribeRouteTables",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeRouteTables failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeRouteTables");
    }
}
