//! `sg_no_world_db_ports`: no security group admits database ports from the whole
//! internet.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use super::{describe_sg_rule, sg_rule_evidence};
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SgNoWorldDbPorts;

static META: RuleMeta = RuleMeta {
    id: "sg_no_world_db_ports",
    title: "Security group does not allow database ports from the internet",
    severity: Severity::Critical,
    subject: ResourceKind::SecurityGroup,
    rationale: "Database and cache ports open to 0.0.0.0/0 or ::/0 let anyone on the internet attempt \
                to log in to, or exploit, the stores that typically hold ePHI; several of these \
                engines ship with weak or no authentication (164.312(a)(1)).",
    remediation: "Remove the ingress rules admitting the database ports (or all traffic) from \
                  0.0.0.0/0 and ::/0; allow them only from the application tier's security group or \
                  private CIDRs.",
    api_calls: &["ec2:DescribeSecurityGroups"],
    params: &[ParamSpec {
        name: "db_ports",
        ty: ParamType::IntegerList,
        default: "1433,1521,3306,5432,5439,6379,9200,11211,27017",
        doc: "TCP ports treated as database ports: SQL Server, Oracle, MySQL/MariaDB, PostgreSQL, \
              Redshift, Redis, Elasticsearch/OpenSearch, Memcached, MongoDB.",
    }],
};

impl Rule for SgNoWorldDbPorts {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::SecurityGroup(group) = &subject.body else {
            return Outcome::not_applicable("not a security group");
        };
        let mut db_ports: Vec<i32> = ctx
            .ints("db_ports")
            .into_iter()
            .filter_map(|p| i32::try_from(p).ok())
            .collect();
        db_ports.sort_unstable();
        db_ports.dedup();

        let mut open_ports = Vec::new();
        let mut offending: Vec<Value> = Vec::new();
        let mut described = Vec::new();
        for rule in group.ingress.iter().filter(|r| r.open_to_world()) {
            let covered: Vec<i32> = db_ports
                .iter()
                .copied()
                .filter(|p| rule.covers_tcp_port(*p))
                .collect();
            if covered.is_empty() {
                continue;
            }
            let mut evidence = sg_rule_evidence(rule);
            evidence["db_ports"] = Value::from(covered.clone());
            offending.push(evidence);
            described.push(format!(
                "{} (ports {})",
                describe_sg_rule(rule),
                join(&covered)
            ));
            open_ports.extend(covered);
        }
        open_ports.sort_unstable();
        open_ports.dedup();

        if open_ports.is_empty() {
            Outcome::pass(format!(
                "no ingress rule of {} admits a database port from 0.0.0.0/0 or ::/0",
                group.group_id
            ))
            .with("db_ports", db_ports)
            .with("ingress_rules", group.ingress.len())
        } else {
            Outcome::fail(format!(
                "{} admits database ports {} from the internet: {}",
                group.group_id,
                join(&open_ports),
                described.join("; ")
            ))
            .with("open_db_ports", open_ports)
            .with("offending_rules", offending)
        }
    }
}

fn join(ports: &[i32]) -> String {
    ports
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;
    use crate::{ParamValue, Params};

    #[test]
    fn pass_when_db_ports_are_private() {
        let mut g = sg("db");
        g.ingress = vec![
            sg_rule("tcp", Some(5432), Some(5432), &["10.0.0.0/16"], &[]),
            world_tcp(443, 443),
        ];
        let o = expect(run(&SgNoWorldDbPorts, &sg_resource(g), &[]), Status::Pass);
        assert_eq!(
            o.evidence["db_ports"],
            serde_json::json!([1433, 1521, 3306, 5432, 5439, 6379, 9200, 11211, 27017])
        );
    }

    #[test]
    fn fail_lists_each_open_db_port() {
        let mut g = sg("db");
        g.ingress = vec![
            world_tcp(3306, 3306),
            sg_rule("tcp", Some(5000), Some(6500), &[], &["::/0"]),
            world_tcp(443, 443),
        ];
        let o = expect(run(&SgNoWorldDbPorts, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(
            o.evidence["open_db_ports"],
            serde_json::json!([3306, 5432, 5439, 6379])
        );
        assert_eq!(
            o.evidence["offending_rules"],
            serde_json::json!([
                {"protocol": "tcp", "from_port": 3306, "to_port": 3306,
                 "cidrs": ["0.0.0.0/0"], "db_ports": [3306]},
                {"protocol": "tcp", "from_port": 5000, "to_port": 6500,
                 "cidrs": ["::/0"], "db_ports": [5432, 5439, 6379]},
            ])
        );
        assert!(o.reason.contains("3306, 5432, 5439, 6379"), "{}", o.reason);
    }

    #[test]
    fn fail_when_all_protocols_open_to_world() {
        let mut g = sg("open");
        g.ingress = vec![sg_rule("-1", None, None, &["0.0.0.0/0"], &[])];
        let o = expect(run(&SgNoWorldDbPorts, &sg_resource(g), &[]), Status::Fail);
        assert_eq!(
            o.evidence["open_db_ports"],
            serde_json::json!([1433, 1521, 3306, 5432, 5439, 6379, 9200, 11211, 27017])
        );
    }

    #[test]
    fn db_ports_parameter_is_honoured() {
        let mut g = sg("db");
        g.ingress = vec![world_tcp(3306, 3306)];
        let subject = sg_resource(g);
        let mut params = Params::defaults(&SgNoWorldDbPorts);
        params.set("db_ports", ParamValue::IntegerList(vec![5432]));
        expect(
            run_with(&SgNoWorldDbPorts, &subject, &[], &params),
            Status::Pass,
        );
        params.set("db_ports", ParamValue::IntegerList(vec![3306, 8080]));
        let o = expect(
            run_with(&SgNoWorldDbPorts, &subject, &[], &params),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_db_ports"], serde_json::json!([3306]));
    }

    /// Security groups have no `Observed` input; what the rule needs is the group list,
    /// and a failed `ec2:DescribeSecurityGroups` makes the result in that region `Error`.
    #[test]
    fn error_when_groups_could_not_be_listed() {
        let subject = sg_resource(sg("db"));
        let f = evaluate_with_gap(
            "sg_no_world_db_ports",
            std::slice::from_ref(&subject),
            "ec2:DescribeSecurityGroups",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason
                .contains("ec2:DescribeSecurityGroups failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "ec2:DescribeSecurityGroups");
    }
}
