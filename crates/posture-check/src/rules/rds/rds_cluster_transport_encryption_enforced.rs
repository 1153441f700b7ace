//! `rds_cluster_transport_encryption_enforced`: every Aurora and Multi-AZ DB cluster refuses
//! connections without TLS, through its DB cluster parameter group (`rds.force_ssl` for
//! PostgreSQL engines, `require_secure_transport` for MySQL engines). The members of a
//! cluster take this setting from the cluster, so this is where their transport encryption
//! is judged (`rds_transport_encryption_enforced` covers standalone instances).

use posture_model::resources::RdsParameterGroup;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::rds_transport_encryption_enforced::{EngineTls, engine_tls, judge_group};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterTransportEncryptionEnforced;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_transport_encryption_enforced",
    title: "RDS DB cluster requires TLS for client connections",
    severity: Severity::High,
    subject: ResourceKind::RdsCluster,
    rationale: "An Aurora or Multi-AZ DB cluster accepts TLS but, unless its cluster parameter \
                group forces it, also accepts plaintext connections, so a misconfigured client \
                sends ePHI and credentials unencrypted; ePHI in transit must be protected \
                (164.312(e)(1), 164.312(e)(2)(ii)).",
    remediation: "Attach a custom DB cluster parameter group that sets rds.force_ssl = 1 (Aurora \
                  PostgreSQL, PostgreSQL) or require_secure_transport = ON (Aurora MySQL, \
                  MySQL), then reboot the members if the parameter is static for the engine \
                  version.",
    api_calls: &[
        "rds:DescribeDBClusters",
        "rds:DescribeDBClusterParameterGroups",
        "rds:DescribeDBClusterParameters",
    ],
    params: &[],
};

impl Rule for RdsClusterTransportEncryptionEnforced {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        let engine = cluster.engine.as_str();
        let parameter = match engine_tls(engine) {
            EngineTls::Parameter(p) => p,
            EngineTls::Elsewhere | EngineTls::Unknown => {
                return Outcome::error(format!(
                    "engine {engine} is not one whose TLS-enforcing cluster parameter is known, so \
                     enforcement cannot be judged"
                ))
                .with("engine", engine);
            }
        };
        let Some(name) = &cluster.parameter_group else {
            return Outcome::error(format!(
                "the cluster reports no DB cluster parameter group, so {parameter} cannot be read"
            ))
            .with("engine", engine)
            .with("parameter", parameter)
            .with("cluster_parameter_group", None::<&str>);
        };
        let group: Option<&RdsParameterGroup> = ctx
            .resources(
                ResourceKind::RdsClusterParameterGroup,
                &subject.account,
                &subject.region,
            )
            .find_map(|r| match &r.body {
                ResourceBody::RdsClusterParameterGroup(g) if &g.name == name => Some(g),
                _ => None,
            });
        let mut outcome = judge_group(name, group, parameter);
        outcome.reason = outcome
            .reason
            .replace("DB parameter group", "DB cluster parameter group");
        outcome
            .with("engine", engine)
            .with("cluster_parameter_group", name)
            .with("members", &cluster.members)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use posture_model::resources::RdsParameterGroup;
    use posture_model::{Observed, Status};
    use serde_json::json;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    fn cluster_group(name: &str, params: &[(&str, Option<&str>)]) -> Resource {
        let parameters: BTreeMap<String, Option<String>> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect();
        resource(
            &format!("arn:aws:rds:us-east-1:111122223333:cluster-pg:{name}"),
            region(),
            ResourceBody::RdsClusterParameterGroup(RdsParameterGroup {
                name: name.to_owned(),
                family: Some("aurora-postgresql16".to_owned()),
                parameters: Observed::Collected(parameters),
            }),
        )
    }

    fn with_group(engine: &str, group: &str) -> Resource {
        let mut c = cluster("c1");
        c.engine = engine.to_owned();
        c.parameter_group = Some(group.to_owned());
        c.members = vec!["c1-a".to_owned()];
        cluster_resource(c)
    }

    #[test]
    fn pass_aurora_postgresql_with_force_ssl() {
        let o = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("aurora-postgresql", "tls"),
                &[cluster_group("tls", &[("rds.force_ssl", Some("1"))])],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "parameter", json!("rds.force_ssl"));
        assert_evidence(&o, "value", json!("1"));
        assert_evidence(&o, "cluster_parameter_group", json!("tls"));
        assert_evidence(&o, "members", json!(["c1-a"]));
        assert!(
            o.reason.contains("DB cluster parameter group tls"),
            "{}",
            o.reason
        );
    }

    /// The cluster's own parameter group decides, not another group of the region.
    #[test]
    fn the_clusters_own_group_decides() {
        for (own, other, status) in [("1", "0", Status::Pass), ("0", "1", Status::Fail)] {
            let o = expect(
                run(
                    &RdsClusterTransportEncryptionEnforced,
                    &with_group("aurora-postgresql", "tls"),
                    &[
                        cluster_group(
                            "default.aurora-postgresql16",
                            &[("rds.force_ssl", Some(other))],
                        ),
                        cluster_group("tls", &[("rds.force_ssl", Some(own))]),
                    ],
                ),
                status,
            );
            assert_evidence(&o, "cluster_parameter_group", json!("tls"));
            assert_evidence(&o, "value", json!(own));
        }
    }

    #[test]
    fn fail_aurora_postgresql_without_force_ssl() {
        let o = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("aurora-postgresql", "plain"),
                &[cluster_group("plain", &[("rds.force_ssl", Some("0"))])],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "value", json!("0"));
        assert!(
            o.reason.contains("unencrypted connections are accepted"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn aurora_mysql_reads_require_secure_transport() {
        let on = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("aurora-mysql", "m"),
                &[cluster_group(
                    "m",
                    &[("require_secure_transport", Some("ON"))],
                )],
            ),
            Status::Pass,
        );
        assert_evidence(&on, "parameter", json!("require_secure_transport"));
        // rds.force_ssl means nothing to MySQL: the group does not set its parameter.
        let other = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("aurora-mysql", "m"),
                &[cluster_group("m", &[("rds.force_ssl", Some("1"))])],
            ),
            Status::Error,
        );
        assert_evidence(&other, "value", json!(null));
    }

    #[test]
    fn error_when_the_cluster_parameter_group_was_not_read() {
        let o = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("aurora-postgresql", "gone"),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("could not be read"), "{}", o.reason);
        assert_evidence(&o, "cluster_parameter_group", json!("gone"));
        let denied = resource(
            "arn:aws:rds:us-east-1:111122223333:cluster-pg:tls",
            region(),
            ResourceBody::RdsClusterParameterGroup(RdsParameterGroup {
                name: "tls".to_owned(),
                family: None,
                parameters: denied("rds:DescribeDBClusterParameters"),
            }),
        );
        let o = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("aurora-postgresql", "tls"),
                &[denied],
            ),
            Status::Error,
        );
        assert!(o.evidence.contains_key("unavailable"), "{o:?}");
    }

    #[test]
    fn error_for_an_unknown_engine_or_no_group() {
        let o = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &with_group("neptune", "g"),
                &[cluster_group("g", &[("rds.force_ssl", Some("1"))])],
            ),
            Status::Error,
        );
        assert_evidence(&o, "engine", json!("neptune"));
        let o = expect(
            run(
                &RdsClusterTransportEncryptionEnforced,
                &cluster_resource(cluster("c2")),
                &[],
            ),
            Status::Error,
        );
        assert_evidence(&o, "cluster_parameter_group", json!(null));
    }
}
