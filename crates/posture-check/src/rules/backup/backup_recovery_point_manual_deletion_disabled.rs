//! `backup_recovery_point_manual_deletion_disabled`: nobody can delete the vault's recovery
//! points by hand: Vault Lock is in effect, or the vault access policy has a statement that
//! denies, to everyone, `backup:DeleteRecoveryPoint`, `backup:UpdateRecoveryPointLifecycle`
//! (which can shorten retention) and `backup:PutBackupVaultAccessPolicy` (which could
//! remove the deny), on every resource — the statement AWS Config's
//! `backup-recovery-point-manual-deletion-disabled` looks for. Conditions on
//! `aws:PrincipalArn` (the usual exemption of a break-glass role) are allowed and reported;
//! any other condition narrows the deny and does not count.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::policy::{Effect, Policy, Principals, Statement};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct BackupRecoveryPointManualDeletionDisabled;

/// The actions the deny must cover.
const ACTIONS: [&str; 3] = [
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
];

static META: RuleMeta = RuleMeta {
    id: "backup_recovery_point_manual_deletion_disabled",
    title: "Backup vault prevents manual deletion of recovery points",
    severity: Severity::High,
    subject: ResourceKind::BackupVault,
    rationale: "Anyone who can delete recovery points (an attacker with stolen credentials, \
                ransomware, a mistaken administrator) can destroy the retrievable copies of \
                ePHI the contingency plan relies on (164.308(a)(7)(i), \
                164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), 164.312(a)(2)(ii)).",
    remediation: "Add a vault access policy statement (AWS Backup console > vault > Access \
                  policy, or PutBackupVaultAccessPolicy) with Effect Deny, Principal {\"AWS\": \
                  \"*\"}, Action [backup:DeleteRecoveryPoint, \
                  backup:UpdateRecoveryPointLifecycle, backup:PutBackupVaultAccessPolicy] and \
                  Resource \"*\", or enable Vault Lock (PutBackupVaultLockConfiguration).",
    api_calls: &[
        "backup:ListBackupVaults",
        "backup:GetBackupVaultAccessPolicy",
    ],
    params: &[],
};

impl Rule for BackupRecoveryPointManualDeletionDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::BackupVault(vault) = &subject.body else {
            return Outcome::not_applicable("not a backup vault");
        };
        if vault.locked == Some(true) {
            return Outcome::pass(
                "Vault Lock is in effect: it prevents deleting or updating recovery points",
            )
            .with("locked", true);
        }
        let Some(document) = try_observed!(vault.access_policy, "the vault access policy") else {
            return Outcome::fail(
                "the vault has no access policy and no Vault Lock, so anyone allowed by IAM can \
                 delete its recovery points",
            )
            .with("locked", vault.locked)
            .with("access_policy", "absent");
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the vault access policy cannot be read: {why}"))
                    .with("access_policy", "malformed");
            }
        };
        let mut rejected: Vec<Value> = Vec::new();
        for st in policy
            .statements()
            .iter()
            .filter(|s| s.effect == Effect::Deny)
        {
            match denies_deletion(st) {
                Ok(exempted) => {
                    return Outcome::pass(format!(
                        "statement {} denies deleting recovery points to everyone",
                        st.label()
                    ))
                    .with("deny_statement", st.label())
                    .with("exempted_by", exempted)
                    .with("locked", vault.locked)
                    .with("access_policy", "present");
                }
                Err(problem) => rejected.push(json!({"statement": st.label(), "problem": problem})),
            }
        }
        Outcome::fail(
            "no vault access policy statement denies deleting recovery points to everyone",
        )
        .with("deny_statement", None::<&str>)
        .with("rejected_statements", rejected)
        .with("locked", vault.locked)
        .with("access_policy", "present")
    }
}

/// `Ok(exemptions)` when the Deny statement refuses the deletion actions to everyone.
fn denies_deletion(st: &Statement) -> Result<Vec<String>, String> {
    if !matches!(&st.principals, Principals::Only { ids, .. } if Principals::names_anyone(ids)) {
        return Err("Principal is not \"*\"".to_owned());
    }
    let missing: Vec<&str> = ACTIONS
        .iter()
        .copied()
        .filter(|a| !st.actions.covers(a))
        .collect();
    if !missing.is_empty() {
        return Err(format!("Action does not cover {}", missing.join(", ")));
    }
    if !st.resources.covers("*") {
        return Err("Resource is not \"*\"".to_owned());
    }
    let mut exempted = Vec::new();
    for c in &st.conditions {
        if c.is_key("aws:PrincipalArn") {
            exempted.push(c.to_string());
        } else {
            return Err(format!("Condition {c} narrows the deny"));
        }
    }
    Ok(exempted)
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};
    use serde_json::json;

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::testing::*;

    fn with_policy(statement: Value) -> Resource {
        let mut v = vault("phi-vault");
        v.access_policy = Observed::Collected(json!({
            "Version": "2012-10-17",
            "Statement": [statement]
        }));
        vault_resource(v)
    }

    fn deny(actions: Value, condition: Option<Value>) -> Value {
        let mut s = json!({
            "Sid": "NoDelete",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": actions,
            "Resource": "*"
        });
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        s
    }

    #[test]
    fn pass_with_deny_statement_and_exemption() {
        let o = expect(
            run(
                &BackupRecoveryPointManualDeletionDisabled,
                &with_policy(deny(
                    json!(ACTIONS),
                    Some(
                        json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/BreakGlass"}}),
                    ),
                )),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["deny_statement"], "NoDelete");
        assert_eq!(o.evidence["exempted_by"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn pass_when_locked() {
        let mut v = vault("locked");
        v.locked = Some(true);
        v.access_policy = denied("backup:GetBackupVaultAccessPolicy");
        let o = expect(
            run(
                &BackupRecoveryPointManualDeletionDisabled,
                &vault_resource(v),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["locked"], true);
    }

    #[test]
    fn fail_without_policy_or_with_partial_deny() {
        let o = expect(
            run(
                &BackupRecoveryPointManualDeletionDisabled,
                &vault_resource(vault("v")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["access_policy"], "absent");
        let o = expect(
            run(
                &BackupRecoveryPointManualDeletionDisabled,
                &with_policy(deny(json!("backup:DeleteRecoveryPoint"), None)),
                &[],
            ),
            Status::Fail,
        );
        let problem = o.evidence["rejected_statements"][0]["problem"]
            .as_str()
            .unwrap();
        assert!(
            problem.contains("UpdateRecoveryPointLifecycle"),
            "{problem}"
        );
        let o = expect(
            run(
                &BackupRecoveryPointManualDeletionDisabled,
                &with_policy(deny(
                    json!("backup:*"),
                    Some(json!({"Bool": {"aws:SecureTransport": "false"}})),
                )),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.evidence["rejected_statements"][0]["problem"]
                .as_str()
                .unwrap()
                .contains("narrows")
        );
    }

    #[test]
    fn error_when_policy_unreadable() {
        let mut v = vault("v");
        v.access_policy = denied("backup:GetBackupVaultAccessPolicy");
        let o = expect(
            run(
                &BackupRecoveryPointManualDeletionDisabled,
                &vault_resource(v),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("GetBackupVaultAccessPolicy"),
            "{}",
            o.reason
        );
    }
}
