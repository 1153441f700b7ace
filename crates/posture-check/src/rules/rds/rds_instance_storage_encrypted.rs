//! `rds_instance_storage_encrypted`: every RDS DB instance encrypts its storage at rest.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsInstanceStorageEncrypted;

static META: RuleMeta = RuleMeta {
    id: "rds_instance_storage_encrypted",
    title: "RDS DB instance storage is encrypted at rest",
    severity: Severity::High,
    subject: ResourceKind::RdsInstance,
    rationale: "An unencrypted DB instance stores ePHI, its automated backups, read replicas and \
                snapshots in the clear on the underlying volumes; ePHI at rest must be encrypted \
                (164.312(a)(2)(iv)).",
    remediation: "Encryption cannot be enabled on an existing instance: take a snapshot, copy it with \
                  a KMS key (preferably customer-managed), restore a new encrypted instance from \
                  the copy, switch clients over and delete the unencrypted instance.",
    api_calls: &["rds:DescribeDBInstances"],
    params: &[],
};

impl Rule for RdsInstanceStorageEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsInstance(db) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB instance");
        };
        if db.storage_encrypted {
            Outcome::pass(format!(
                "storage is encrypted with KMS key {}",
                db.kms_key_id.as_deref().unwrap_or("(not reported)")
            ))
            .with("storage_encrypted", true)
            .with("kms_key_id", &db.kms_key_id)
        } else {
            Outcome::fail("storage is not encrypted at rest").with("storage_encrypted", false)
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::rds::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_encrypted() {
        let mut db = instance("db1");
        db.storage_encrypted = true;
        db.kms_key_id = Some("arn:aws:kms:us-east-1:111122223333:key/k1".into());
        let o = expect(
            run(&RdsInstanceStorageEncrypted, &instance_resource(db), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["storage_encrypted"], true);
        assert_eq!(
            o.evidence["kms_key_id"],
            "arn:aws:kms:us-east-1:111122223333:key/k1"
        );
    }

    #[test]
    fn fail_when_unencrypted() {
        let o = expect(
            run(
                &RdsInstanceStorageEncrypted,
                &instance_resource(instance("db1")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["storage_encrypted"], false);
    }

    #[test]
    fn error_when_instance_list_failed() {
        let f = finding_with_list_gap(
            &RdsInstanceStorageEncrypted,
            instance_resource(instance("db1")),
            "rds:DescribeDBInstances",
        );
        assert_eq!(f.status, Status::Error);
        assert!(f.reason.contains("rds:DescribeDBInstances"), "{}", f.reason);
    }
}
