//! `rds_iam_authentication`: every RDS DB instance whose engine supports it has IAM database
//! authentication enabled.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsIamAuthentication;

/// Engine name prefixes RDS offers no IAM database authentication for.
const ENGINES_WITHOUT_IAM_AUTH: &[&str] = &["sqlserver", "oracle", "db2", "custom-"];

static META: RuleMeta = RuleMeta {
    id: "rds_iam_authentication",
    title: "RDS DB instance has IAM database authentication enabled",
    severity: Severity::Medium,
    subject: ResourceKind::RdsInstance,
    rationale: "With IAM database authentication, access to the database holding ePHI is \
                granted to IAM identities with short-lived tokens and is revoked with them, \
                instead of long-lived shared database passwords that outlive role changes and \
                departures (164.312(a)(1), 164.312(d)). Aurora instances report their cluster's setting.",
    remediation: "Modify the instance (or, for Aurora, the cluster) with \
                  --enable-iam-database-authentication, then create database users that \
                  authenticate with IAM and grant rds-db:connect to the identities that need \
                  access.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsIamAuthentication {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if ENGINES_WITHOUT_IAM_AUTH
            .iter()
            .any(|p| db.engine.starts_with(p))
        {
            return Outcome::not_applicable(format!(
                "engine {} does not support IAM database authentication",
                db.engine
            ))
            .with("engine", &db.engine);
        }
        let enabled = db.iam_database_authentication_enabled;
        let outcome = if enabled {
            Outcome::pass("IAM database authentication is enabled")
        } else {
            Outcome::fail("IAM database authentication is disabled")
        };
        outcome
            .with("engine", &db.engine)
            .with("iam_database_authentication_enabled", enabled)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;
    use serde_json::json;

    #[test]
    fn pass_when_enabled() {
        let mut db = instance("db1");
        db.iam_database_authentication_enabled = true;
        let o = expect(
            run(&RdsIamAuthentication, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["iam_database_authentication_enabled"], true);
    }

    #[test]
    fn fail_when_disabled() {
        let o = expect(
            run(
                &RdsIamAuthentication,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["iam_database_authentication_enabled"], false);
    }

    #[test]
    fn applies_to_aurora_members() {
        let mut db = instance("aurora-1");
        db.engine = "aurora-mysql".into();
        db.cluster_identifier = Some("aurora".into());
        let o = expect(
            run(&RdsIamAuthentication, &instance_resource(db), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "engine", json!("aurora-mysql"));
        assert_evidence(&o, "iam_database_authentication_enabled", json!(false));
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsIamAuthentication,
            instance_resource(instance("db1")),
            "rds:DescribeDBInstances",
        );
        assert_eq!(f.status, Status::Error);
        assert!(
            f.reason
                .contains("rds:DescribeDBInstances failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(f.evidence["gap"]["operation"], "rds:DescribeDBInstances");
    }

    #[test]
    fn not_applicable_to_engines_without_iam_auth() {
        for engine in ["sqlserver-se", "oracle-ee", "db2-se"] {
            let mut db = instance("db1");
            db.engine = engine.into();
            let o = expect(
                run(&RdsIamAuthentication, &instance_resource(db), &[]),
                Status::NotApplicable,
            );
            assert_eq!(o.evidence["engine"], engine);
        }
    }
}
