//! Secrets Manager rules.

use crate::Rule;

mod secret_encrypted_with_cmk;
mod secret_rotation_enabled;

/// The Secrets Manager rules.
pub const RULES: &[&dyn Rule] = &[
    &secret_encrypted_with_cmk::SecretEncryptedWithCmk,
    &secret_rotation_enabled::SecretRotationEnabled,
];

/// Fixtures shared by the Secrets Manager rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use posture_model::resources::Secret;
    use posture_model::{Resource, ResourceBody};

    use crate::testing::{days_ago, region, resource};

    /// A secret rotated every 30 days, last 10 days ago, under a customer key.
    pub(crate) fn secret() -> Secret {
        Secret {
            name: "prod/phi-db".into(),
            kms_key_id: Some(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            rotation_enabled: true,
            rotation_days: Some(30),
            rotation_schedule: None,
            last_rotated: Some(days_ago(10)),
            next_rotation: Some(days_ago(-20)),
            last_changed: Some(days_ago(10)),
            created: Some(days_ago(400)),
            deleted: None,
            owning_service: None,
        }
    }

    /// A secret resource in the fixture account and region.
    pub(crate) fn secret_resource(s: Secret) -> Resource {
        resource(
            &format!(
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:{}-AbCdEf",
                s.name
            ),
            region(),
            ResourceBody::Secret(s),
        )
    }
}
