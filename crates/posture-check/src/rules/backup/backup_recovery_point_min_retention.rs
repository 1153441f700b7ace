//! `backup_recovery_point_min_retention`: the recovery point is not set to be deleted
//! sooner than `min_retention_days` after its creation.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct BackupRecoveryPointMinRetention;

static META: RuleMeta = RuleMeta {
    id: "backup_recovery_point_min_retention",
    title: "Backup recovery point is retained at least 35 days",
    severity: Severity::Medium,
    subject: ResourceKind::BackupRecoveryPoint,
    rationale: "A recovery point that expires quickly may be gone by the time corruption, \
                deletion or ransomware of the ePHI is noticed, leaving no exact copy to \
                restore (164.308(a)(7)(i), 164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), \
                164.312(a)(2)(ii)).",
    remediation: "Extend the recovery point's retention (AWS Backup console > vault > recovery \
                  point > Edit, or UpdateRecoveryPointLifecycle with DeleteAfterDays of at \
                  least 35), and the Lifecycle of the plan rule that created it.",
    api_calls: &[
        "backup:ListBackupVaults",
        "backup:ListRecoveryPointsByBackupVault",
    ],
    params: &[ParamSpec {
        name: "min_retention_days",
        ty: ParamType::Integer,
        default: "35",
        doc: "The shortest allowed retention (DeleteAfterDays) of a recovery point.",
    }],
};

impl Rule for BackupRecoveryPointMinRetention {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::BackupRecoveryPoint(p) = &subject.body else {
            return Outcome::not_applicable("not a recovery point");
        };
        if matches!(p.status.as_deref(), Some("EXPIRED" | "DELETING")) {
            return Outcome::not_applicable("the recovery point is expired or being deleted")
                .with("status", &p.status);
        }
        let min = ctx.int("min_retention_days");
        let outcome = match p.delete_after_days {
            None => Outcome::pass("the recovery point has no expiry"),
            Some(d) if d >= min => Outcome::pass(format!(
                "the recovery point is kept {d} days (at least {min})"
            )),
            Some(d) => Outcome::fail(format!(
                "the recovery point is deleted {d} days after creation, fewer than {min}"
            )),
        };
        outcome
            .with("delete_after_days", p.delete_after_days)
            .with("delete_at", p.delete_at)
            .with("min_retention_days", min)
            .with("vault", &p.vault_name)
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
    fn pass_when_kept_long_enough_or_forever() {
        let o = expect(
            run(
                &BackupRecoveryPointMinRetention,
                &recovery_point_resource(recovery_point()),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["delete_after_days"], 35);
        let mut p = recovery_point();
        p.delete_after_days = None;
        expect(
            run(
                &BackupRecoveryPointMinRetention,
                &recovery_point_resource(p),
                &[],
            ),
            Status::Pass,
        );
    }

    #[test]
    fn fail_when_expiring_early() {
        let mut p = recovery_point();
        p.delete_after_days = Some(7);
        let o = expect(
            run(
                &BackupRecoveryPointMinRetention,
                &recovery_point_resource(p),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["min_retention_days"], 35);
    }

    #[test]
    fn error_when_recovery_points_could_not_be_listed() {
        let subject = recovery_point_resource(recovery_point());
        let f = evaluate_with_gap(
            "backup_recovery_point_min_retention",
            std::slice::from_ref(&subject),
            "backup:ListRecoveryPointsByBackupVault",
            subject.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error);
        assert!(
            f.reason
                .contains("backup:ListRecoveryPointsByBackupVault failed in 111122223333/"),
            "{}",
            f.reason
        );
        assert_eq!(
            f.evidence["gap"]["operation"],
            "backup:ListRecoveryPointsByBackupVault"
        );
    }

    #[test]
    fn not_applicable_when_deleting() {
        let mut p = recovery_point();
        p.status = Some("DELETING".into());
        let o = expect(
            run(
                &BackupRecoveryPointMinRetention,
                &recovery_point_resource(p.clone()),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(
            o.reason.contains("expired or being deleted"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "status", serde_json::json!("DELETING"));
        p.status = Some("EXPIRED".into());
        let o = expect(
            run(
                &BackupRecoveryPointMinRetention,
                &recovery_point_resource(p),
                &[],
            ),
            Status::NotApplicable,
        );
        assert_evidence(&o, "status", serde_json::json!("EXPIRED"));
    }
}
