//! EFS rules.

use crate::Rule;

mod efs_encrypted_at_rest;
mod efs_iac_provenance;
mod efs_in_backup_plan;
mod efs_not_public;
mod efs_tls_enforced;

/// The EFS rules.
pub const RULES: &[&dyn Rule] = &[
    &efs_encrypted_at_rest::EfsEncryptedAtRest,
    &efs_iac_provenance::EfsIacProvenance,
    &efs_in_backup_plan::EfsInBackupPlan,
    &efs_not_public::EfsNotPublic,
    &efs_tls_enforced::EfsTlsEnforced,
];

/// Fixtures shared by the EFS rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::EfsFileSystem;
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{region, resource};

    /// An encrypted file system with no policy and automatic backups off.
    pub(crate) fn fs() -> EfsFileSystem {
        EfsFileSystem {
            file_system_id: "fs-1".into(),
            name: Some("phi".into()),
            life_cycle_state: Some("available".into()),
            encrypted: true,
            kms_key_id: Some(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            creation_time: None,
            policy: Observed::Absent,
            backup_policy_status: Observed::Absent,
        }
    }

    /// A file system resource in the fixture region.
    pub(crate) fn fs_resource(f: EfsFileSystem) -> Resource {
        resource(
            &format!(
                "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/{}",
                f.file_system_id
            ),
            region(),
            ResourceBody::EfsFileSystem(f),
        )
    }

    /// `fs()` with `statement` as its only policy statement.
    pub(crate) fn fs_with_statement(statement: serde_json::Value) -> Resource {
        let mut f = fs();
        f.policy = Observed::Collected(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [statement]
        }));
        fs_resource(f)
    }
}
