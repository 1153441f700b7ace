//! `backup_recovery_point_encrypted`: the recovery point is encrypted.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct BackupRecoveryPointEncrypted;

static META: RuleMeta = RuleMeta {
    id: "backup_recovery_point_encrypted",
    title: "Backup recovery point is encrypted",
    severity: Severity::High,
    subject: ResourceKind::BackupRecoveryPoint,
    rationale: "A recovery point is a full copy of the ePHI it backs up; unencrypted, it is \
                readable by anyone who obtains the copy, undoing the source's encryption \
                (164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), \
                164.312(a)(2)(ii)).",
    remediation: "Encrypt the source (unencrypted EBS, RDS and EFS sources give unencrypted \
                  backups), or copy the recovery point into a vault with a KMS key \
                  (StartCopyJob), then delete the unencrypted one once the copy is verified.",
    api_calls: &[
        "backup:ListBackupVaults",
        "backup:ListRecoveryPointsByBackupVault",
    ],
    params: &[],
};

impl Rule for BackupRecoveryPointEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::BackupRecoveryPoint(p) = &subject.body else {
            return Outcome::not_applicable("not a recovery point");
        };
        if matches!(p.status.as_deref(), Some("EXPIRED" | "DELETING")) {
            return Outcome::not_applicable("the recovery point is expired or being deleted")
                .with("status", &p.status);
        }
        let outcome = if p.is_encrypted {
            Outcome::pass("the recovery point is encrypted")
        } else {
            Outcome::fail("the recovery point is not encrypted")
        };
        outcome
            .with("is_encrypted", p.is_encrypted)
            .with("encryption_key_arn", &p.encryption_key_arn)
            .with("vault", &p.vault_name)
            .with("resource_arn", &p.resource_arn)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::rules::ec2::fixtures::evaluate_with_gap;
    use crate::testing::*;

    #[test]
    fn pass_when_encrypted() {
        let o = expect(
            run(
                &BackupRecoveryPointEncrypted,
                &recovery_point_resource(recovery_point()),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["is_encrypted"], true);
    }

    #[test]
    fn fail_when_not_encrypted() {
        let mut p = recovery_point();
        p.is_encrypted = false;
        p.encryption_key_arn = None;
        let o = expect(
            run(
                &BackupRecoveryPointEncrypted,
                &recovery_point_resource(p),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["vault"], "phi-vault");
    }

    #[test]
    fn error_when_recovery_points_could_not_be_listed() {
        let subject = recovery_point_resource(recovery_point());
        let f = evaluate_with_gap(
            "backup_recovery_point_encrypted",
            std::slice::from_ref(&subject),
            "backup:ListRecoveryPointsByBackupVault",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error);
        assert!(
            f.reason.contains("ListRecoveryPointsByBackupVault"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn not_applicable_when_expired() {
        let mut p = recovery_point();
        p.status = Some("EXPIRED".into());
        let o = expect(
            run(
                &BackupRecoveryPointEncrypted,
                &recovery_point_resource(p),
                &[],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["status"], "EXPIRED");
    }
}
