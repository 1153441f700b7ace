//! `rds_in_private_subnets`: a DB instance is in a VPC and none of its DB subnet group's
//! subnets is public.
//!
//! A subnet is public when its route table sends `0.0.0.0/0` or `::/0` to an internet
//! gateway. A subnet with no explicit route table association uses its VPC's main route
//! table.

use posture_model::resources::RouteTable;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInPrivateSubnets;

static META: RuleMeta = RuleMeta {
    id: "rds_in_private_subnets",
    title: "RDS DB instance is in a VPC with only private subnets",
    severity: Severity::High,
    subject: ResourceKind::RdsInstance,
    rationale: "A DB subnet group with a subnet routed to an internet gateway lets the database \
                (or a replacement after failover) land where one PubliclyAccessible or security \
                group change exposes ePHI to the internet; private subnets keep access control \
                and transmission security in the network layer too (164.312(a)(1), \
                164.312(e)(1)).",
    remediation: "Create a DB subnet group of private subnets only (no 0.0.0.0/0 route to an \
                  internet gateway; egress through NAT or VPC endpoints) and move the instance to \
                  it (aws rds modify-db-instance --db-subnet-group-name GROUP, applied in a \
                  maintenance window), or remove the internet gateway route from those subnets' \
                  route table.",
    api_calls: &["rds:DescribeDBInstances", "ec2:DescribeRouteTables"],
    params: &[],
};

/// The `0.0.0.0/0` / `::/0` routes of `table` to an internet gateway, as `dest -> igw`.
fn igw_default_routes(table: &RouteTable) -> Vec<String> {
    table
        .routes
        .iter()
        .filter_map(|r| {
            let dest = r
                .destination_cidr_block
                .as_deref()
                .filter(|c| *c == "0.0.0.0/0")
                .or(r
                    .destination_ipv6_cidr_block
                    .as_deref()
                    .filter(|c| *c == "::/0"))?;
            let igw = r.gateway_id.as_deref().filter(|g| g.starts_with("igw-"))?;
            Some(format!("{dest} -> {igw}"))
        })
        .collect()
}

impl Rule for RdsInPrivateSubnets {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        let id = &db.identifier;
        if db.subnet_ids.is_empty() {
            return match &db.db_subnet_group {
                None => Outcome::fail(format!("{id} has no DB subnet group: it is not in a VPC"))
                    .with("db_subnet_group", None::<&str>),
                Some(group) => Outcome::error(format!(
                    "{id}'s DB subnet group {group} was reported without subnets"
                ))
                .with("db_subnet_group", group),
            };
        }
        let tables: Vec<&RouteTable> = ctx
            .resources(ResourceKind::RouteTable, &subject.account, &subject.region)
            .filter_map(|r| match &r.body {
                ResourceBody::RouteTable(t) => Some(t),
                _ => None,
            })
            .collect();
        let subnet_vpc = |subnet: &str| -> Option<String> {
            ctx.resources(ResourceKind::Subnet, &subject.account, &subject.region)
                .find_map(|r| match &r.body {
                    ResourceBody::Subnet(s) if s.subnet_id == subnet => Some(s.vpc_id.clone()),
                    _ => None,
                })
                .or_else(|| db.vpc_id.clone())
        };
        let mut public = Vec::new();
        let mut unknown = Vec::new();
        let mut subnets: Vec<Value> = Vec::new();
        for subnet in &db.subnet_ids {
            let explicit = tables.iter().find(|t| {
                t.associations
                    .iter()
                    .any(|a| a.subnet_id.as_deref() == Some(subnet.as_str()))
            });
            let (table, how) = match explicit {
                Some(t) => (Some(*t), "explicit"),
                None => {
                    let vpc = subnet_vpc(subnet);
                    let main = tables.iter().find(|t| {
                        Some(&t.vpc_id) == vpc.as_ref() && t.associations.iter().any(|a| a.main)
                    });
                    (main.copied(), "main")
                }
            };
            let Some(table) = table else {
                unknown.push(subnet.clone());
                subnets.push(json!({"subnet_id": subnet, "route_table": null}));
                continue;
            };
            let routes = igw_default_routes(table);
            if !routes.is_empty() {
                public.push(format!("{subnet} ({})", routes.join(", ")));
            }
            subnets.push(json!({
                "subnet_id": subnet,
                "route_table": table.route_table_id,
                "association": how,
                "internet_gateway_routes": routes,
            }));
        }
        let outcome = if !public.is_empty() {
            Outcome::fail(format!(
                "{id}'s DB subnet group has public subnets: {}",
                public.join("; ")
            ))
        } else if !unknown.is_empty() {
            Outcome::error(format!(
                "no route table was collected for subnet(s) {} of {id}, so whether they are \
                 public is unknown",
                unknown.join(", ")
            ))
        } else {
            Outcome::pass(format!(
                "{id}'s {} subnet(s) have no route to an internet gateway",
                db.subnet_ids.len()
            ))
        };
        outcome
            .with("db_subnet_group", &db.db_subnet_group)
            .with("vpc_id", &db.vpc_id)
            .with("subnets", subnets)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::{Route, RouteTableAssociation};

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    fn db(subnets: &[&str]) -> Resource {
        let mut i = instance("db1");
        i.db_subnet_group = Some("phi-group".into());
        i.vpc_id = Some("vpc-1".into());
        i.subnet_ids = subnets.iter().map(|s| (*s).to_owned()).collect();
        instance_resource(i)
    }

    fn table(id: &str, main: bool, subnet: Option<&str>, igw: bool) -> Resource {
        let mut routes = vec![Route {
            destination_cidr_block: Some("10.0.0.0/16".into()),
            destination_ipv6_cidr_block: None,
            gateway_id: Some("local".into()),
            nat_gateway_id: None,
            other_target: None,
        }];
        if igw {
            routes.push(Route {
                destination_cidr_block: Some("0.0.0.0/0".into()),
                destination_ipv6_cidr_block: None,
                gateway_id: Some("igw-1".into()),
                nat_gateway_id: None,
                other_target: None,
            });
        }
        resource(
            &format!("arn:aws:ec2:us-east-1:111122223333:route-table/{id}"),
            region(),
            ResourceBody::RouteTable(RouteTable {
                route_table_id: id.into(),
                vpc_id: "vpc-1".into(),
                routes,
                associations: vec![RouteTableAssociation {
                    main,
                    subnet_id: subnet.map(str::to_owned),
                }],
            }),
        )
    }

    #[test]
    fn pass_when_subnets_use_private_main_table() {
        let o = expect(
            run(
                &RdsInPrivateSubnets,
                &db(&["subnet-a", "subnet-b"]),
                &[
                    table("rtb-main", true, None, false),
                    table("rtb-pub", false, Some("subnet-z"), true),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["subnets"][0]["association"], "main");
        assert_eq!(o.evidence["subnets"][0]["route_table"], "rtb-main");
    }

    #[test]
    fn fail_when_a_subnet_routes_to_igw() {
        let o = expect(
            run(
                &RdsInPrivateSubnets,
                &db(&["subnet-a", "subnet-b"]),
                &[
                    table("rtb-main", true, None, false),
                    table("rtb-pub", false, Some("subnet-b"), true),
                ],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.contains("subnet-b (0.0.0.0/0 -> igw-1)"),
            "{}",
            o.reason
        );
    }

    /// A subnet without an explicit association uses the main table of its own VPC, found
    /// through the subnet's record, not another VPC's main table or the first subnet.
    #[test]
    fn a_subnet_uses_the_main_table_of_its_own_vpc() {
        let vpc = |id: &str, subnet: &str, igw: bool| -> [Resource; 2] {
            let mut t = table(&format!("rtb-{id}"), true, None, igw);
            if let ResourceBody::RouteTable(rt) = &mut t.body {
                rt.vpc_id = id.into();
            }
            let s = resource(
                &format!("arn:aws:ec2:us-east-1:111122223333:subnet/{subnet}"),
                region(),
                ResourceBody::Subnet(posture_model::resources::Subnet {
                    subnet_id: subnet.into(),
                    vpc_id: id.into(),
                    cidr_block: None,
                    availability_zone: None,
                    map_public_ip_on_launch: false,
                    default_for_az: false,
                }),
            );
            [t, s]
        };
        let [public_main, public_subnet] = vpc("vpc-a", "subnet-a", true);
        let [private_main, private_subnet] = vpc("vpc-b", "subnet-b", false);
        let mut i = instance("db1");
        i.db_subnet_group = Some("phi-group".into());
        i.vpc_id = Some("vpc-b".into());
        i.subnet_ids = vec!["subnet-b".into()];
        let o = expect(
            run(
                &RdsInPrivateSubnets,
                &instance_resource(i),
                &[public_main, public_subnet, private_main, private_subnet],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["subnets"][0]["route_table"], "rtb-vpc-b");
        assert_eq!(o.evidence["subnets"][0]["association"], "main");
    }

    /// An IPv6 default route to an internet gateway makes the subnet public too; a narrower
    /// IPv6 route does not.
    #[test]
    fn fail_on_an_ipv6_default_route_to_igw() {
        let with_v6 = |cidr: &str| {
            let mut t = table("rtb-main", true, None, false);
            if let ResourceBody::RouteTable(rt) = &mut t.body {
                rt.routes.push(Route {
                    destination_cidr_block: None,
                    destination_ipv6_cidr_block: Some(cidr.into()),
                    gateway_id: Some("igw-1".into()),
                    nat_gateway_id: None,
                    other_target: None,
                });
            }
            t
        };
        let o = expect(
            run(&RdsInPrivateSubnets, &db(&["subnet-a"]), &[with_v6("::/0")]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("subnet-a (::/0 -> igw-1)"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["subnets"][0]["internet_gateway_routes"],
            serde_json::json!(["::/0 -> igw-1"])
        );
        let o = expect(
            run(
                &RdsInPrivateSubnets,
                &db(&["subnet-a"]),
                &[with_v6("2600:1f18::/56")],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["subnets"][0]["internet_gateway_routes"],
            serde_json::json!([])
        );
    }

    #[test]
    fn fail_when_main_table_is_public() {
        let o = expect(
            run(
                &RdsInPrivateSubnets,
                &db(&["subnet-a"]),
                &[table("rtb-main", true, None, true)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["subnets"][0]["association"], "main");
    }

    #[test]
    fn fail_when_not_in_vpc() {
        let o = expect(
            run(
                &RdsInPrivateSubnets,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("not in a VPC"), "{}", o.reason);
    }

    #[test]
    fn error_when_no_route_table_known() {
        let o = expect(
            run(&RdsInPrivateSubnets, &db(&["subnet-a"]), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("subnet-a"), "{}", o.reason);
    }

    #[test]
    fn error_when_route_tables_could_not_be_listed() {
        let f = finding_with_list_gap(
            &RdsInPrivateSubnets,
            db(&["subnet-a"]),
            "ec2:DescribeRouteTables",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeRouteTables"), "{}", f.reason);
    }
}
