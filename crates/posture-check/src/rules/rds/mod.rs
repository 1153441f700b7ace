//! RDS rules.

use crate::Rule;

mod rds_auto_minor_version_upgrade;
mod rds_backup_enabled;
mod rds_ca_certificate_valid;
mod rds_cluster_backup_retention;
mod rds_cluster_deletion_protection;
mod rds_cluster_iac_provenance;
mod rds_cluster_iam_authentication;
mod rds_cluster_log_exports_enabled;
mod rds_cluster_multi_az;
mod rds_cluster_storage_encrypted;
mod rds_cluster_transport_encryption_enforced;
mod rds_enhanced_monitoring;
mod rds_event_subscription;
mod rds_iam_authentication;
mod rds_in_private_subnets;
mod rds_instance_deletion_protection;
mod rds_instance_iac_provenance;
mod rds_instance_multi_az;
mod rds_instance_not_public;
mod rds_instance_storage_encrypted;
mod rds_log_exports_enabled;
mod rds_snapshot_encrypted;
mod rds_snapshot_not_public;
mod rds_transport_encryption_enforced;

/// The RDS rules.
pub const RULES: &[&dyn Rule] = &[
    &rds_auto_minor_version_upgrade::RdsAutoMinorVersionUpgrade,
    &rds_backup_enabled::RdsBackupEnabled,
    &rds_ca_certificate_valid::RdsCaCertificateValid,
    &rds_cluster_backup_retention::RdsClusterBackupRetention,
    &rds_cluster_deletion_protection::RdsClusterDeletionProtection,
    &rds_cluster_iac_provenance::RdsClusterIacProvenance,
    &rds_cluster_iam_authentication::RdsClusterIamAuthentication,
    &rds_cluster_log_exports_enabled::RdsClusterLogExportsEnabled,
    &rds_cluster_multi_az::RdsClusterMultiAz,
    &rds_cluster_storage_encrypted::RdsClusterStorageEncrypted,
    &rds_cluster_transport_encryption_enforced::RdsClusterTransportEncryptionEnforced,
    &rds_enhanced_monitoring::RdsEnhancedMonitoring,
    &rds_event_subscription::RdsEventSubscriptionRule,
    &rds_iam_authentication::RdsIamAuthentication,
    &rds_in_private_subnets::RdsInPrivateSubnets,
    &rds_instance_deletion_protection::RdsInstanceDeletionProtection,
    &rds_instance_iac_provenance::RdsInstanceIacProvenance,
    &rds_instance_multi_az::RdsInstanceMultiAz,
    &rds_instance_not_public::RdsInstanceNotPublic,
    &rds_instance_storage_encrypted::RdsInstanceStorageEncrypted,
    &rds_log_exports_enabled::RdsLogExportsEnabled,
    &rds_snapshot_encrypted::RdsSnapshotEncrypted,
    &rds_snapshot_not_public::RdsSnapshotNotPublic,
    &rds_transport_encryption_enforced::RdsTransportEncryptionEnforced,
];

/// RDS fixtures for rule tests: every setting at its least-compliant value unless noted.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use posture_model::resources::{
        RdsCluster, RdsInstance, RdsParameterGroup, RdsSnapshot, RdsSnapshotOf,
    };
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{region, resource};

    /// A standalone `postgres` instance: unencrypted, private, no backups, no deletion
    /// protection, parameter group `NAME-pg`.
    pub(crate) fn instance(id: &str) -> RdsInstance {
        RdsInstance {
            identifier: id.to_owned(),
            engine: "postgres".to_owned(),
            engine_version: Some("16.3".to_owned()),
            instance_class: Some("db.t3.micro".to_owned()),
            cluster_identifier: None,
            storage_encrypted: false,
            kms_key_id: None,
            publicly_accessible: false,
            backup_retention_period: 0,
            deletion_protection: false,
            multi_az: false,
            auto_minor_version_upgrade: false,
            iam_database_authentication_enabled: false,
            enabled_cloudwatch_logs_exports: vec![],
            parameter_groups: vec![format!("{id}-pg")],
            db_subnet_group: None,
            vpc_id: None,
            monitoring_interval: None,
            ca_certificate_identifier: None,
            created_at: None,
            subnet_ids: vec![],
            server_certificate_valid_till: None,
            ca_certificate: Observed::Absent,
        }
    }

    /// An instance resource, ARN `arn:aws:rds:us-east-1:111122223333:db:ID`.
    pub(crate) fn instance_resource(i: RdsInstance) -> Resource {
        resource(
            &format!("arn:aws:rds:us-east-1:111122223333:db:{}", i.identifier),
            region(),
            ResourceBody::RdsInstance(i),
        )
    }

    /// An unencrypted `aurora-postgresql` cluster with no members.
    pub(crate) fn cluster(id: &str) -> RdsCluster {
        RdsCluster {
            identifier: id.to_owned(),
            engine: "aurora-postgresql".to_owned(),
            storage_encrypted: false,
            kms_key_id: None,
            deletion_protection: false,
            backup_retention_period: 1,
            multi_az: false,
            iam_database_authentication_enabled: false,
            enabled_cloudwatch_logs_exports: vec![],
            parameter_group: None,
            members: vec![],
        }
    }

    /// A cluster resource, ARN `arn:aws:rds:us-east-1:111122223333:cluster:ID`.
    pub(crate) fn cluster_resource(c: RdsCluster) -> Resource {
        resource(
            &format!(
                "arn:aws:rds:us-east-1:111122223333:cluster:{}",
                c.identifier
            ),
            region(),
            ResourceBody::RdsCluster(c),
        )
    }

    /// An unencrypted manual instance snapshot shared with nobody.
    pub(crate) fn snapshot(id: &str) -> RdsSnapshot {
        RdsSnapshot {
            identifier: id.to_owned(),
            of: RdsSnapshotOf::Instance,
            source: Some("db1".to_owned()),
            snapshot_type: Some("manual".to_owned()),
            encrypted: false,
            restore_accounts: Observed::Collected(vec![]),
        }
    }

    /// A snapshot resource, ARN `arn:aws:rds:us-east-1:111122223333:snapshot:ID`.
    pub(crate) fn snapshot_resource(s: RdsSnapshot) -> Resource {
        resource(
            &format!(
                "arn:aws:rds:us-east-1:111122223333:snapshot:{}",
                s.identifier
            ),
            region(),
            ResourceBody::RdsSnapshot(s),
        )
    }

    /// A parameter group resource, ARN `arn:aws:rds:us-east-1:111122223333:pg:NAME`, with
    /// the given tracked parameters.
    pub(crate) fn parameter_group(name: &str, params: &[(&str, Option<&str>)]) -> Resource {
        let parameters: BTreeMap<String, Option<String>> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect();
        parameter_group_resource(RdsParameterGroup {
            name: name.to_owned(),
            family: None,
            parameters: Observed::Collected(parameters),
        })
    }

    /// Wraps a parameter group body.
    pub(crate) fn parameter_group_resource(g: RdsParameterGroup) -> Resource {
        resource(
            &format!("arn:aws:rds:us-east-1:111122223333:pg:{}", g.name),
            region(),
            ResourceBody::RdsParameterGroup(g),
        )
    }

    /// Evaluates `rule` alone over `[subject]` through `evaluate`, with a failed list call
    /// for `operation` in the subject's account and region; returns the subject's finding.
    /// This is the `Error` path of rules whose only input is a list call.
    pub(crate) fn finding_with_list_gap(
        rule: &dyn crate::Rule,
        subject: Resource,
        operation: &str,
    ) -> posture_model::Finding {
        let id = rule.meta().id;
        let toml = format!(
            "name = \"t\"\nversion = \"1\"\n[[citations]]\nid = \"t\"\ntitle = \"t\"\nrules = [\"{id}\"]\n"
        );
        let baseline = crate::Baseline::from_toml("test.toml", &toml).expect("valid baseline");
        let coverage = posture_model::Coverage {
            failed: vec![crate::testing::list_gap(operation, subject.region.clone())],
            ..Default::default()
        };
        let arn = subject.arn.clone();
        crate::testing::evaluate(&[subject], &coverage, &baseline, crate::testing::now())
            .into_iter()
            .find(|f| f.resource.arn == arn)
            .expect("a finding for the subject")
    }
}
