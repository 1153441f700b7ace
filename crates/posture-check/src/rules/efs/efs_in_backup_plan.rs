//! `efs_in_backup_plan`: the file system is backed up by AWS Backup: EFS automatic backups
//! are on (which keep it in the plan `aws/efs/automatic-backup-plan`), or a selection of a
//! backup plan in its region assigns it (see [`crate::rules::backup::membership`]).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::rules::backup::membership::{self, Membership};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EfsInBackupPlan;

static META: RuleMeta = RuleMeta {
    id: "efs_in_backup_plan",
    title: "EFS file system is protected by an AWS Backup plan",
    severity: Severity::Medium,
    subject: ResourceKind::EfsFileSystem,
    rationale: "ePHI on a file system no backup plan covers has no retrievable exact copy after \
                deletion, corruption or ransomware (164.308(a)(7)(i), \
                164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), 164.312(a)(2)(ii)).",
    remediation: "Turn on EFS automatic backups (EFS console > file system > Edit > Automatic \
                  backups, or PutBackupPolicy with Status ENABLED), or assign the file system \
                  to a backup plan (AWS Backup console > plan > Assign resources, or \
                  CreateBackupSelection).",
    api_calls: &[
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeBackupPolicy",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:GetBackupSelection",
    ],
    params: &[],
};

impl Rule for EfsInBackupPlan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EfsFileSystem(fs) = &subject.body else {
            return Outcome::not_applicable("not an EFS file system");
        };
        let automatic = fs.automatic_backups_enabled();
        if automatic == Some(true) {
            return Outcome::pass(
                "EFS automatic backups are on: AWS Backup's aws/efs/automatic-backup-plan \
                 backs the file system up daily",
            )
            .with("automatic_backups", backup_policy(fs))
            .with("backup_plan", "aws/efs/automatic-backup-plan");
        }
        let m = membership::membership(ctx, subject);
        let outcome = match (m, &fs.backup_policy_status) {
            (Membership::In(a), _) => membership::assigned(a, "file system"),
            (_, posture_model::Observed::Unavailable(u)) => {
                Outcome::unavailable("the file system's automatic-backup policy", u)
                    .with("backup_plan", None::<&str>)
            }
            (m, _) => membership::outcome(m, "file system"),
        };
        outcome.with("automatic_backups", backup_policy(fs))
    }
}

/// The automatic-backup policy status for evidence.
fn backup_policy(fs: &posture_model::resources::EfsFileSystem) -> &str {
    match &fs.backup_policy_status {
        posture_model::Observed::Collected(s) => s,
        posture_model::Observed::Absent => "not set",
        posture_model::Observed::Unavailable(_) => "unavailable",
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::backup::fixtures::{plan, plan_resource, selection};
    use crate::rules::efs::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_automatic_backups_or_a_selection() {
        let mut f = fs();
        f.backup_policy_status = Observed::Collected("ENABLED".into());
        let o = expect(run(&EfsInBackupPlan, &fs_resource(f), &[]), Status::Pass);
        assert_eq!(o.evidence["backup_plan"], "aws/efs/automatic-backup-plan");
        let p = plan_resource(plan(
            "efs",
            vec![selection(&["arn:aws:elasticfilesystem:*:*:file-system/*"])],
        ));
        let o = expect(
            run(&EfsInBackupPlan, &fs_resource(fs()), &[p]),
            Status::Pass,
        );
        assert_eq!(o.evidence["backup_plan"], "efs");
    }

    #[test]
    fn fail_when_backups_off_and_not_selected() {
        let mut f = fs();
        f.backup_policy_status = Observed::Collected("DISABLED".into());
        let o = expect(run(&EfsInBackupPlan, &fs_resource(f), &[]), Status::Fail);
        assert_eq!(o.evidence["automatic_backups"], "DISABLED");
    }

    #[test]
    fn error_when_backup_policy_or_selections_unreadable() {
        let mut f = fs();
        f.backup_policy_status = denied("elasticfilesystem:DescribeBackupPolicy");
        let o = expect(run(&EfsInBackupPlan, &fs_resource(f), &[]), Status::Error);
        assert!(o.reason.contains("DescribeBackupPolicy"), "{}", o.reason);
        let mut p = plan("p", vec![]);
        p.selections = denied("backup:ListBackupSelections");
        let o = expect(
            run(&EfsInBackupPlan, &fs_resource(fs()), &[plan_resource(p)]),
            Status::Error,
        );
        assert!(o.reason.contains("ListBackupSelections"), "{}", o.reason);
    }
}
