//! `kms_cmk_not_pending_deletion`: no customer-managed key is scheduled for deletion.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct KmsCmkNotPendingDeletion;

/// Key states in which KMS will delete the key material when the waiting period ends.
const DELETION_STATES: &[&str] = &["PendingDeletion", "PendingReplicaDeletion"];

static META: RuleMeta = RuleMeta {
    id: "kms_cmk_not_pending_deletion",
    title: "Customer-managed KMS key is not scheduled for deletion",
    severity: Severity::High,
    subject: ResourceKind::KmsKey,
    rationale: "Once a KMS key is deleted, every object, volume, snapshot and backup encrypted \
                under it can never be decrypted again, so ePHI protected by a key pending \
                deletion is about to become unrecoverable (164.308(a)(7)(ii)(A), \
                164.312(a)(2)(iv)).",
    remediation: "If the key still protects data, cancel the deletion (KMS console > key > \
                  Cancel key deletion, or CancelKeyDeletion) and re-enable it (EnableKey); \
                  otherwise confirm nothing is encrypted under it before the deletion date.",
    api_calls: &["kms:ListKeys", "kms:DescribeKey"],
    params: &[],
};

impl Rule for KmsCmkNotPendingDeletion {
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
        let outcome = if !meta.is_customer_managed() {
            Outcome::not_applicable("AWS-managed key: AWS controls its lifecycle")
        } else if DELETION_STATES.contains(&meta.key_state.as_str()) {
            let when = meta
                .deletion_date
                .map_or_else(|| "an unknown date".to_owned(), |d| d.to_rfc3339());
            Outcome::fail(format!(
                "the key is {} and will be deleted on {when}",
                meta.key_state
            ))
        } else {
            Outcome::pass(format!(
                "the key is {}, not scheduled for deletion",
                meta.key_state
            ))
        };
        outcome
            .with("key_manager", &meta.key_manager)
            .with("key_state", &meta.key_state)
            .with("deletion_date", meta.deletion_date)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::kms::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_enabled() {
        let o = expect(
            run(
                &KmsCmkNotPendingDeletion,
                &key_resource(customer_key()),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["key_state"], "Enabled");
    }

    #[test]
    fn pass_when_disabled_but_not_scheduled() {
        let mut k = customer_key();
        let mut m = metadata("CUSTOMER");
        m.key_state = "Disabled".into();
        k.metadata = Observed::Collected(m);
        let o = expect(
            run(&KmsCmkNotPendingDeletion, &key_resource(k), &[]),
            Status::Pass,
        );
        assert_eq!(o.reason, "the key is Disabled, not scheduled for deletion");
        assert_evidence(&o, "key_state", serde_json::json!("Disabled"));
        assert_evidence(&o, "deletion_date", serde_json::json!(null));
    }

    /// Both deletion states fail, a replica's too, also without a recorded date; a state
    /// that merely sounds pending (PendingImport) does not.
    #[test]
    fn deletion_states_boundary() {
        let with_state = |state: &str| {
            let mut k = customer_key();
            let mut m = metadata("CUSTOMER");
            m.key_state = state.into();
            k.metadata = Observed::Collected(m);
            key_resource(k)
        };
        let o = expect(
            run(
                &KmsCmkNotPendingDeletion,
                &with_state("PendingReplicaDeletion"),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.reason,
            "the key is PendingReplicaDeletion and will be deleted on an unknown date"
        );
        assert_evidence(&o, "key_state", serde_json::json!("PendingReplicaDeletion"));
        let o = expect(
            run(&KmsCmkNotPendingDeletion, &with_state("PendingImport"), &[]),
            Status::Pass,
        );
        assert_evidence(&o, "key_state", serde_json::json!("PendingImport"));
    }

    #[test]
    fn fail_when_pending_deletion() {
        let mut k = customer_key();
        let mut m = metadata("CUSTOMER");
        m.key_state = "PendingDeletion".into();
        m.deletion_date = Some(now() + chrono::Duration::days(7));
        k.metadata = Observed::Collected(m);
        let o = expect(
            run(&KmsCmkNotPendingDeletion, &key_resource(k), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["key_state"], "PendingDeletion");
        assert_eq!(o.evidence["deletion_date"], "2026-06-08T00:00:00Z");
        assert!(o.reason.contains("2026-06-08"), "{}", o.reason);
    }

    #[test]
    fn error_when_metadata_denied() {
        let mut k = customer_key();
        k.metadata = denied("kms:DescribeKey");
        let o = expect(
            run(&KmsCmkNotPendingDeletion, &key_resource(k), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("kms:DescribeKey"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_aws_managed_keys() {
        let mut k = aws_managed_key();
        let mut m = metadata("AWS");
        m.key_state = "PendingDeletion".into();
        k.metadata = Observed::Collected(m);
        let o = expect(
            run(&KmsCmkNotPendingDeletion, &key_resource(k), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["key_manager"], "AWS");
    }
}
