//! `rds_cluster_storage_encrypted`: every RDS/Aurora DB cluster encrypts its storage at rest.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct RdsClusterStorageEncrypted;

static META: RuleMeta = RuleMeta {
    id: "rds_cluster_storage_encrypted",
    title: "RDS DB cluster storage is encrypted at rest",
    severity: Severity::High,
    subject: ResourceKind::RdsCluster,
    rationale: "An unencrypted cluster stores ePHI, its backups and snapshots in the clear on the \
                shared cluster volume; ePHI at rest must be encrypted (164.312(a)(2)(iv)).",
    remediation: "Encryption cannot be enabled on an existing cluster: snapshot it, restore the \
                  snapshot to a new cluster with a KMS key (preferably customer-managed), switch \
                  clients over and delete the unencrypted cluster.",
    api_calls: &["rds:DescribeDBClusters"],
    params: &[],
};

impl Rule for RdsClusterStorageEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::RdsCluster(cluster) = &subject.body else {
            return Outcome::not_applicable("not an RDS DB cluster");
        };
        if cluster.storage_encrypted {
            Outcome::pass(format!(
                "cluster storage is encrypted with KMS key {}",
                cluster.kms_key_id.as_deref().unwrap_or("(not reported)")
            ))
            .with("storage_encrypted", true)
            .with("kms_key_id", &cluster.kms_key_id)
        } else {
            Outcome::fail("cluster storage is not encrypted at rest")
                .with("storage_encrypted", false)
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
        let mut c = cluster("aurora");
        c.storage_encrypted = true;
        c.kms_key_id = Some("k1".into());
        let o = expect(
            run(&RdsClusterStorageEncrypted, &cluster_resource(c), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["storage_encrypted"], true);
        assert_eq!(o.evidence["kms_key_id"], "k1");
    }

    #[test]
    fn fail_when_unencrypted() {
        let o = expect(
            run(
                &RdsClusterStorageEncrypted,
                &cluster_resource(cluster("aurora")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["storage_encrypted"], false);
    }

    #[test]
    fn error_when_cluster_list_failed() {
        let f = finding_with_list_gap(
            &RdsClusterStorageEncrypted,
            cluster_resource(cluster("aurora")),
            "rds:DescribeDBClusters",
        );
        assert_eq!(f.status, Status::Error);
        assert!(f.reason.contains("rds:DescribeDBClusters"), "{}", f.reason);
    }
}
