//! KMS rules.

use crate::Rule;

mod kms_cmk_not_pending_deletion;
mod kms_cmk_rotation;
mod kms_enclave_attestation_enforced;
mod kms_key_policy_not_public;

/// The KMS rules.
pub const RULES: &[&dyn Rule] = &[
    &kms_cmk_not_pending_deletion::KmsCmkNotPendingDeletion,
    &kms_cmk_rotation::KmsCmkRotation,
    &kms_enclave_attestation_enforced::KmsEnclaveAttestationEnforced,
    &kms_key_policy_not_public::KmsKeyPolicyNotPublic,
];

/// Fixtures shared by the KMS rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::{KmsKey, KmsKeyMetadata};
    use posture_model::{Observed, Resource, ResourceBody};

    use crate::testing::{region, resource};

    /// The key id every fixture key has.
    pub(crate) const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    /// Metadata of an enabled symmetric key with KMS key material, managed by `manager`
    /// (`CUSTOMER` or `AWS`).
    pub(crate) fn metadata(manager: &str) -> KmsKeyMetadata {
        KmsKeyMetadata {
            key_manager: manager.into(),
            key_state: "Enabled".into(),
            key_spec: Some("SYMMETRIC_DEFAULT".into()),
            key_usage: Some("ENCRYPT_DECRYPT".into()),
            origin: Some("AWS_KMS".into()),
            deletion_date: None,
            description: Some("ePHI".into()),
            creation_date: None,
        }
    }

    /// The default key policy: only the account (through IAM) may use the key.
    pub(crate) fn default_policy() -> serde_json::Value {
        serde_json::json!({
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [{
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*"
            }]
        })
    }

    /// A customer-managed key with rotation on and the default policy.
    pub(crate) fn customer_key() -> KmsKey {
        KmsKey {
            key_id: KEY_ID.into(),
            metadata: Observed::Collected(metadata("CUSTOMER")),
            rotation_enabled: Observed::Collected(true),
            policy: Observed::Collected(default_policy()),
            aliases: vec!["alias/phi".into()],
        }
    }

    /// An AWS-managed key, as the collector records it: rotation and policy not read.
    pub(crate) fn aws_managed_key() -> KmsKey {
        KmsKey {
            key_id: KEY_ID.into(),
            metadata: Observed::Collected(metadata("AWS")),
            rotation_enabled: crate::testing::denied("kms:GetKeyRotationStatus"),
            policy: crate::testing::denied("kms:GetKeyPolicy"),
            aliases: vec!["alias/aws/s3".into()],
        }
    }

    /// A key resource in the fixture account and region.
    pub(crate) fn key_resource(key: KmsKey) -> Resource {
        resource(
            &format!("arn:aws:kms:us-east-1:111122223333:key/{}", key.key_id),
            region(),
            ResourceBody::KmsKey(key),
        )
    }
}
