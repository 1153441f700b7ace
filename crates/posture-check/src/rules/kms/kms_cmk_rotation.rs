//! `kms_cmk_rotation`: automatic key rotation is on for customer-managed keys that support it.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct KmsCmkRotation;

static META: RuleMeta = RuleMeta {
    id: "kms_cmk_rotation",
    title: "Customer-managed KMS key has automatic rotation enabled",
    severity: Severity::Medium,
    subject: ResourceKind::KmsKey,
    rationale: "Rotating key material limits how much ePHI is encrypted under any one key \
                version and how long a compromised version stays useful; KMS rotates \
                customer-managed keys only when asked (164.312(a)(2)(iv), 164.312(e)(2)(ii)).",
    remediation: "Enable automatic rotation for the key: KMS console > key > Key rotation, or \
                  EnableKeyRotation (optionally with RotationPeriodInDays).",
    api_calls: &[
        "kms:ListKeys",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
    ],
    params: &[],
};

impl Rule for KmsCmkRotation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::KmsKey(key) = &subject.body else {
            return Outcome::not_applicable("not a KMS key");
        };
        let Some(meta) = try_observed!(key.metadata, "key metadata") else {
            return Outcome::error("DescribeKey returned no metadata for the key")
                .with("metadata", "absent");
        };
        let described = |o: Outcome| {
            o.with("key_manager", &meta.key_manager)
                .with("key_state", &meta.key_state)
                .with("key_spec", &meta.key_spec)
                .with("origin", &meta.origin)
        };
        if !meta.is_customer_managed() {
            return described(Outcome::not_applicable(
                "AWS-managed key: AWS rotates it every year",
            ));
        }
        if meta.key_state == "PendingDeletion" {
            return described(Outcome::not_applicable(
                "the key is pending deletion, so it cannot be rotated",
            ));
        }
        // A disabled key encrypts nothing new and KMS does not rotate it while disabled;
        // enabling it again brings it back under the rule.
        if meta.key_state == "Disabled" {
            return described(Outcome::not_applicable(
                "the key is disabled, so it encrypts nothing and is not rotated",
            ));
        }
        if !meta.supports_automatic_rotation() {
            return described(Outcome::not_applicable(format!(
                "automatic rotation is not supported for key spec {} with origin {}",
                meta.key_spec.as_deref().unwrap_or("unknown"),
                meta.origin.as_deref().unwrap_or("unknown"),
            )));
        }
        let Some(&enabled) = try_observed!(key.rotation_enabled, "key rotation status") else {
            return described(Outcome::error(
                "the key supports rotation but its rotation status was not recorded",
            ))
            .with("rotation_enabled", "absent");
        };
        let outcome = if enabled {
            Outcome::pass("automatic key rotation is enabled")
        } else {
            Outcome::fail("automatic key rotation is disabled")
        };
        described(outcome.with("rotation_enabled", enabled))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::kms::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_rotation_enabled() {
        let o = expect(
            run(&KmsCmkRotation, &key_resource(customer_key()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["rotation_enabled"], true);
        assert_eq!(o.evidence["key_manager"], "CUSTOMER");
    }

    #[test]
    fn fail_when_rotation_disabled() {
        let mut k = customer_key();
        k.rotation_enabled = Observed::Collected(false);
        let o = expect(run(&KmsCmkRotation, &key_resource(k), &[]), Status::Fail);
        assert_eq!(o.evidence["rotation_enabled"], false);
    }

    #[test]
    fn error_when_rotation_status_denied() {
        let mut k = customer_key();
        k.rotation_enabled = denied("kms:GetKeyRotationStatus");
        let o = expect(run(&KmsCmkRotation, &key_resource(k), &[]), Status::Error);
        assert!(
            o.reason.contains("kms:GetKeyRotationStatus"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_metadata_denied() {
        let mut k = customer_key();
        k.metadata = denied("kms:DescribeKey");
        let o = expect(run(&KmsCmkRotation, &key_resource(k), &[]), Status::Error);
        assert!(o.reason.contains("kms:DescribeKey"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_aws_managed_keys() {
        let o = expect(
            run(&KmsCmkRotation, &key_resource(aws_managed_key()), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["key_manager"], "AWS");
    }

    #[test]
    fn not_applicable_to_asymmetric_and_imported_keys() {
        let mut k = customer_key();
        let mut m = metadata("CUSTOMER");
        m.key_spec = Some("RSA_2048".into());
        k.metadata = Observed::Collected(m);
        k.rotation_enabled = Observed::Absent;
        let o = expect(
            run(&KmsCmkRotation, &key_resource(k.clone()), &[]),
            Status::NotApplicable,
        );
        assert_eq!(
            o.reason,
            "automatic rotation is not supported for key spec RSA_2048 with origin AWS_KMS"
        );
        assert_evidence(&o, "key_spec", serde_json::json!("RSA_2048"));
        let mut m = metadata("CUSTOMER");
        m.origin = Some("EXTERNAL".into());
        k.metadata = Observed::Collected(m);
        let o = expect(
            run(&KmsCmkRotation, &key_resource(k), &[]),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("origin EXTERNAL"), "{}", o.reason);
        assert_evidence(&o, "origin", serde_json::json!("EXTERNAL"));
        assert_evidence(&o, "key_spec", serde_json::json!("SYMMETRIC_DEFAULT"));
    }

    #[test]
    fn not_applicable_when_pending_deletion() {
        let mut k = customer_key();
        let mut m = metadata("CUSTOMER");
        m.key_state = "PendingDeletion".into();
        k.metadata = Observed::Collected(m);
        k.rotation_enabled = Observed::Absent;
        let o = expect(
            run(&KmsCmkRotation, &key_resource(k), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["key_state"], "PendingDeletion");
    }

    /// A disabled key cannot be used to encrypt, and KMS does not rotate it while it is
    /// disabled: like a key pending deletion, the rule does not apply (regression: it
    /// failed as "rotation is disabled").
    #[test]
    fn not_applicable_when_disabled() {
        let mut k = customer_key();
        let mut m = metadata("CUSTOMER");
        m.key_state = "Disabled".into();
        k.metadata = Observed::Collected(m);
        k.rotation_enabled = Observed::Collected(false);
        let o = expect(
            run(&KmsCmkRotation, &key_resource(k), &[]),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("disabled"), "{}", o.reason);
        assert_eq!(o.evidence["key_state"], "Disabled");
    }

    /// The boundary: an enabled key with rotation off still fails.
    #[test]
    fn enabled_key_without_rotation_still_fails() {
        let mut k = customer_key();
        k.rotation_enabled = Observed::Collected(false);
        let o = expect(run(&KmsCmkRotation, &key_resource(k), &[]), Status::Fail);
        assert_eq!(o.evidence["key_state"], "Enabled");
        assert_eq!(o.evidence["rotation_enabled"], false);
    }
}
