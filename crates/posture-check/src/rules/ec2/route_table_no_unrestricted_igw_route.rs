//! `route_table_no_unrestricted_igw_route`: no route table sends `0.0.0.0/0` or `::/0` to
//! an internet gateway (`igw-…`).
//!
//! Subnets whose route table has such a route are public: anything in them with a public
//! address is reachable from the internet. Approved public subnets (load balancers, NAT
//! gateways) fail too and are meant to be waived, one route table at a time.

use posture_model::resources::Route;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RouteTableNoUnrestrictedIgwRoute;

static META: RuleMeta = RuleMeta {
    id: "route_table_no_unrestricted_igw_route",
    title: "Route table has no default route to an internet gateway",
    severity: Severity::Medium,
    subject: ResourceKind::RouteTable,
    rationale: "A 0.0.0.0/0 or ::/0 route to an internet gateway makes every subnet using the \
                table public: instances and databases there that hold ePHI are one public IP or \
                security-group change away from the internet (164.312(e)(1)).",
    remediation: "Route private subnets' default traffic through a NAT gateway or VPC endpoints \
                  instead of the internet gateway; keep internet-gateway routes only in the route \
                  tables of approved public subnets, and waive those findings with the reason.",
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

impl Rule for RouteTableNoUnrestrictedIgwRoute {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RouteTable(table) = &subject.body else {
            return Outcome::not_applicable("not a route table");
        };
        let mut found: Vec<Value> = Vec::new();
        let mut described: Vec<String> = Vec::new();
        for route in &table.routes {
            let Some(dest) = world_destination(route) else {
                continue;
            };
            let Some(igw) = route
                .gateway_id
                .as_deref()
                .filter(|g| g.starts_with("igw-"))
            else {
                continue;
            };
            found.push(json!({"destination": dest, "gateway_id": igw}));
            described.push(format!("{dest} -> {igw}"));
        }
        let main = table.associations.iter().any(|a| a.main);
        let subnets: Vec<&str> = table
            .associations
            .iter()
            .filter_map(|a| a.subnet_id.as_deref())
            .collect();
        let outcome = if found.is_empty() {
            Outcome::pass(format!(
                "{} has no 0.0.0.0/0 or ::/0 route to an internet gateway",
                table.route_table_id
            ))
        } else {
            Outcome::fail(format!(
                "{} routes {} (every subnet using it is public)",
                table.route_table_id,
                described.join(", ")
            ))
        };
        outcome
            .with("igw_routes", found)
            .with("main", main)
            .with("subnet_ids", subnets)
            .with("vpc_id", &table.vpc_id)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::{RouteTable, RouteTableAssociation};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn route(
        v4: Option<&str>,
        v6: Option<&str>,
        gateway: Option<&str>,
        nat: Option<&str>,
    ) -> Route {
        Route {
            destination_cidr_block: v4.map(str::to_owned),
            destination_ipv6_cidr_block: v6.map(str::to_owned),
            gateway_id: gateway.map(str::to_owned),
            nat_gateway_id: nat.map(str::to_owned),
            other_target: None,
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
                associations: vec![RouteTableAssociation {
                    main: true,
                    subnet_id: None,
                }],
            }),
        )
    }

    #[test]
    fn pass_with_local_and_nat_routes() {
        let o = expect(
            run(
                &RouteTableNoUnrestrictedIgwRoute,
                &table(vec![
                    route(Some("10.0.0.0/16"), None, Some("local"), None),
                    route(Some("0.0.0.0/0"), None, None, Some("nat-1")),
                    route(Some("192.168.0.0/16"), None, Some("igw-1"), None),
                ]),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["main"], true);
    }

    #[test]
    fn fail_on_ipv4_default_to_igw() {
        let o = expect(
            run(
                &RouteTableNoUnrestrictedIgwRoute,
                &table(vec![
                    route(Some("10.0.0.0/16"), None, Some("local"), None),
                    route(Some("0.0.0.0/0"), None, Some("igw-1"), None),
                ]),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["igw_routes"],
            serde_json::json!([{"destination": "0.0.0.0/0", "gateway_id": "igw-1"}])
        );
    }

    #[test]
    fn fail_on_ipv6_default_to_igw() {
        let o = expect(
            run(
                &RouteTableNoUnrestrictedIgwRoute,
                &table(vec![route(None, Some("::/0"), Some("igw-2"), None)]),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("::/0 -> igw-2"), "{}", o.reason);
    }

    #[test]
    fn error_when_route_tables_could_not_be_listed() {
        let subject = table(vec![]);
        let f = evaluate_with_gap(
            "route_table_no_unrestricted_igw_route",
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
