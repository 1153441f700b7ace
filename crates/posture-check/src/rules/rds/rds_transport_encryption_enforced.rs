//! `rds_transport_encryption_enforced`: every standalone RDS DB instance refuses
//! connections without TLS, through its DB parameter group (`rds.force_ssl` for
//! PostgreSQL and SQL Server, `require_secure_transport` for MySQL and MariaDB).

use posture_model::resources::RdsParameterGroup;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity, Status};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct RdsTransportEncryptionEnforced;

static META: RuleMeta = RuleMeta {
    id: "rds_transport_encryption_enforced",
    title: "RDS DB instance requires TLS for client connections",
    severity: Severity::High,
    subject: ResourceKind::RdsInstance,
    rationale: "RDS accepts TLS but, unless the parameter group forces it, also accepts plaintext \
                connections, so a misconfigured client sends ePHI and credentials unencrypted over \
                the network; ePHI in transit must be protected (164.312(e)(1), 164.312(e)(2)(ii)).",
    remediation: "Attach a custom DB parameter group that sets rds.force_ssl = 1 (PostgreSQL, SQL \
                  Server) or require_secure_transport = ON (MySQL, MariaDB), then reboot the \
                  instance if the parameter is static for its engine version.",
    api_calls: &[
        "rds:DescribeDBInstances",
        "rds:DescribeDBParameterGroups",
        "rds:DescribeDBParameters",
    ],
    params: &[],
};

/// How an engine enforces TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EngineTls {
    /// Through this boolean parameter of the DB parameter group.
    Parameter(&'static str),
    /// Not through the parameter group (Oracle: native network encryption or the SSL option).
    Elsewhere,
    /// An engine this rule does not know.
    Unknown,
}

pub(super) fn engine_tls(engine: &str) -> EngineTls {
    match engine {
        "postgres" | "aurora-postgresql" => EngineTls::Parameter("rds.force_ssl"),
        e if e.starts_with("sqlserver-") => EngineTls::Parameter("rds.force_ssl"),
        "mysql" | "mariadb" | "aurora-mysql" | "aurora" => {
            EngineTls::Parameter("require_secure_transport")
        }
        e if e.starts_with("oracle-") || e.starts_with("custom-oracle-") => EngineTls::Elsewhere,
        _ => EngineTls::Unknown,
    }
}

impl Rule for RdsTransportEncryptionEnforced {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        let engine = db.engine.as_str();
        if let Some(cluster) = &db.cluster_identifier {
            return Outcome::not_applicable(format!(
                "the instance belongs to cluster {cluster}, whose cluster parameter group sets TLS \
                 enforcement (rds_cluster_transport_encryption_enforced)"
            ))
            .with("cluster_identifier", cluster)
            .with("engine", engine);
        }
        let parameter = match engine_tls(engine) {
            EngineTls::Parameter(p) => p,
            EngineTls::Elsewhere => {
                return Outcome::not_applicable(format!(
                    "engine {engine} has no TLS-enforcing DB parameter: Oracle encrypts in transit \
                     with native network encryption or the SSL option of its option group"
                ))
                .with("engine", engine);
            }
            EngineTls::Unknown => {
                return Outcome::error(format!(
                    "engine {engine} is not one whose TLS-enforcing parameter is known, so \
                     enforcement cannot be judged"
                ))
                .with("engine", engine);
            }
        };
        if db.parameter_groups.is_empty() {
            return Outcome::error(format!(
                "the instance reports no DB parameter group, so {parameter} cannot be read"
            ))
            .with("engine", engine)
            .with("parameter", parameter)
            .with("parameter_groups", &db.parameter_groups);
        }
        let collected: Vec<&RdsParameterGroup> = ctx
            .resources(
                ResourceKind::RdsParameterGroup,
                &subject.account,
                &subject.region,
            )
            .filter_map(|r| match &r.body {
                ResourceBody::RdsParameterGroup(g) => Some(g),
                _ => None,
            })
            .collect();
        let outcomes: Vec<Outcome> = db
            .parameter_groups
            .iter()
            .map(|name| {
                let group = collected.iter().copied().find(|g| &g.name == name);
                judge_group(name, group, parameter)
            })
            .collect();
        // A group that allows plaintext decides; then one we could not read; else all pass.
        let decisive = [Status::Fail, Status::Error, Status::Pass]
            .into_iter()
            .find_map(|status| outcomes.iter().find(|o| o.status == status))
            .cloned()
            .unwrap_or_else(|| Outcome::error("no parameter group could be judged"));
        decisive
            .with("engine", engine)
            .with("parameter_groups", &db.parameter_groups)
    }
}

/// The verdict of one parameter group on `parameter`.
pub(super) fn judge_group(
    name: &str,
    group: Option<&RdsParameterGroup>,
    parameter: &str,
) -> Outcome {
    let Some(group) = group else {
        return Outcome::error(format!(
            "DB parameter group {name} could not be read: it is not in the snapshot (the \
             endpoint did not list it), so whether {parameter} is on is unknown"
        ))
        .with("parameter_group", name)
        .with("parameter", parameter);
    };
    let what = format!("the parameters of DB parameter group {name}");
    let params = try_observed!(group.parameters, what.as_str());
    let value = params
        .and_then(|p| p.get(parameter))
        .and_then(Option::as_deref);
    let Some(value) = value else {
        return Outcome::error(format!(
            "{parameter} is not set in DB parameter group {name}: the engine default applies and \
             cannot be read from the group, so whether TLS is enforced is unknown"
        ))
        .with("parameter_group", name)
        .with("parameter", parameter)
        .with("value", None::<&str>);
    };
    let on = value == "1"
        || (parameter == "require_secure_transport" && value.eq_ignore_ascii_case("on"));
    let off = value == "0" || value.eq_ignore_ascii_case("off");
    let outcome = if on {
        Outcome::pass(format!(
            "{parameter} = {value} in DB parameter group {name}: connections without TLS are refused"
        ))
    } else if off {
        Outcome::fail(format!(
            "{parameter} = {value} in DB parameter group {name}: unencrypted connections are accepted"
        ))
    } else {
        Outcome::error(format!(
            "{parameter} has the unrecognised value {value:?} in DB parameter group {name}"
        ))
    };
    outcome
        .with("parameter_group", name)
        .with("parameter", parameter)
        .with("value", value)
}

#[cfg(test)]
mod tests {
    use posture_model::resources::RdsParameterGroup;
    use posture_model::{Observed, Region};

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    fn mysql(id: &str) -> posture_model::resources::RdsInstance {
        let mut db = instance(id);
        db.engine = "mysql".into();
        db
    }

    #[test]
    fn pass_postgres_with_force_ssl() {
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(instance("db1")),
                &[parameter_group("db1-pg", &[("rds.force_ssl", Some("1"))])],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["parameter"], "rds.force_ssl");
        assert_eq!(o.evidence["value"], "1");
        assert_eq!(o.evidence["parameter_group"], "db1-pg");
        assert_eq!(o.evidence["engine"], "postgres");
    }

    #[test]
    fn pass_mysql_with_require_secure_transport_on_in_any_case() {
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(mysql("db1")),
                &[parameter_group(
                    "db1-pg",
                    &[("require_secure_transport", Some("on"))],
                )],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["parameter"], "require_secure_transport");
    }

    #[test]
    fn fail_postgres_with_force_ssl_off() {
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(instance("db1")),
                &[parameter_group("db1-pg", &[("rds.force_ssl", Some("0"))])],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["value"], "0");
    }

    #[test]
    fn fail_mysql_with_require_secure_transport_off() {
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(mysql("db1")),
                &[parameter_group(
                    "db1-pg",
                    &[("require_secure_transport", Some("OFF"))],
                )],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["value"], "OFF");
    }

    #[test]
    fn error_when_group_not_collected() {
        let mut db = instance("db1");
        db.parameter_groups = vec!["default.postgres16".into()];
        let o = expect(
            run(&RdsTransportEncryptionEnforced, &instance_resource(db), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("could not be read"), "{}", o.reason);
        assert_eq!(o.evidence["parameter_group"], "default.postgres16");
    }

    #[test]
    fn error_when_group_only_in_another_region() {
        let other = resource(
            "arn:aws:rds:eu-west-1:111122223333:pg:db1-pg",
            Region::new("eu-west-1").expect("valid"),
            ResourceBody::RdsParameterGroup(RdsParameterGroup {
                name: "db1-pg".into(),
                family: Some("postgres16".into()),
                parameters: Observed::Collected(
                    [("rds.force_ssl".to_owned(), Some("1".to_owned()))].into(),
                ),
            }),
        );
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(instance("db1")),
                &[other],
            ),
            Status::Error,
        );
        assert_evidence(&o, "parameter_group", json!("db1-pg"));
        assert_evidence(&o, "parameter", json!("rds.force_ssl"));
        assert_evidence(&o, "parameter_groups", json!(["db1-pg"]));
    }

    #[test]
    fn error_when_parameters_denied() {
        let group = parameter_group_resource(RdsParameterGroup {
            name: "db1-pg".into(),
            family: Some("postgres16".into()),
            parameters: denied("rds:DescribeDBParameters"),
        });
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(instance("db1")),
                &[group],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("rds:DescribeDBParameters"),
            "{}",
            o.reason
        );
        assert!(o.reason.contains("db1-pg"), "{}", o.reason);
    }

    #[test]
    fn error_when_parameter_has_no_value() {
        for params in [vec![("rds.force_ssl", None)], vec![]] {
            let o = expect(
                run(
                    &RdsTransportEncryptionEnforced,
                    &instance_resource(instance("db1")),
                    &[parameter_group("db1-pg", &params)],
                ),
                Status::Error,
            );
            assert!(o.reason.contains("engine default"), "{}", o.reason);
        }
    }

    /// Each engine family's TLS switch: SQL Server editions share rds.force_ssl with
    /// PostgreSQL, the MySQL family uses require_secure_transport, Oracle none.
    #[test]
    fn engine_families_and_their_tls_parameter() {
        for (engine, tls) in [
            ("postgres", EngineTls::Parameter("rds.force_ssl")),
            ("sqlserver-se", EngineTls::Parameter("rds.force_ssl")),
            ("sqlserver-ex", EngineTls::Parameter("rds.force_ssl")),
            (
                "aurora-mysql",
                EngineTls::Parameter("require_secure_transport"),
            ),
            ("oracle-ee", EngineTls::Elsewhere),
            ("custom-oracle-ee", EngineTls::Elsewhere),
            ("db2-se", EngineTls::Unknown),
        ] {
            assert_eq!(engine_tls(engine), tls, "{engine}");
        }
    }

    #[test]
    fn one_group_allowing_plaintext_decides() {
        let mut db = instance("db1");
        db.parameter_groups = vec!["a".into(), "b".into()];
        let o = expect(
            run(
                &RdsTransportEncryptionEnforced,
                &instance_resource(db),
                &[
                    parameter_group("a", &[("rds.force_ssl", Some("1"))]),
                    parameter_group("b", &[("rds.force_ssl", Some("0"))]),
                ],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["parameter_group"], "b");
        assert_eq!(
            o.evidence["parameter_groups"],
            serde_json::json!(["a", "b"])
        );
    }

    #[test]
    fn not_applicable_to_oracle() {
        let mut db = instance("ora");
        db.engine = "oracle-ee".into();
        let o = expect(
            run(&RdsTransportEncryptionEnforced, &instance_resource(db), &[]),
            Status::NotApplicable,
        );
        assert!(
            o.reason.contains("native network encryption"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["engine"], "oracle-ee");
    }

    #[test]
    fn not_applicable_to_cluster_members() {
        let mut db = instance("aurora-1");
        db.engine = "aurora-postgresql".into();
        db.cluster_identifier = Some("aurora".into());
        let o = expect(
            run(&RdsTransportEncryptionEnforced, &instance_resource(db), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["cluster_identifier"], "aurora");
    }

    #[test]
    fn error_for_unknown_engine() {
        let mut db = instance("db2");
        db.engine = "db2-se".into();
        let o = expect(
            run(&RdsTransportEncryptionEnforced, &instance_resource(db), &[]),
            Status::Error,
        );
        assert_evidence(&o, "engine", json!("db2-se"));
        assert!(o.reason.contains("engine db2-se"), "{}", o.reason);
    }
}
