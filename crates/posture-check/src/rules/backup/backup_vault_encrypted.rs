//! `backup_vault_encrypted`: the backup vault encrypts its recovery points with a KMS key,
//! a customer-managed one when `require_customer_managed_key` is set. Who manages the key
//! comes from the KMS collection of the vault's region (`kms:ListKeys`, `kms:DescribeKey`);
//! a key not found there makes that question `Error`. Those calls are not in `api_calls`:
//! by default the rule does not need them, and a failed KMS listing must not turn every
//! vault into an error.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct BackupVaultEncrypted;

static META: RuleMeta = RuleMeta {
    id: "backup_vault_encrypted",
    title: "Backup vault encrypts recovery points with a KMS key",
    severity: Severity::High,
    subject: ResourceKind::BackupVault,
    rationale: "Recovery points are full copies of ePHI; the vault's KMS key protects those \
                AWS Backup encrypts independently, and a customer-managed key lets the \
                covered entity control and audit who can decrypt them (164.312(a)(2)(iv), \
                164.308(a)(7)(ii)(A)).",
    remediation: "Backup vaults cannot change key: create a vault with a customer-managed key \
                  (CreateBackupVault with EncryptionKeyArn), point the backup plans' rules at it \
                  (UpdateBackupPlan) and copy or let expire the recovery points in the old one.",
    api_calls: &["backup:ListBackupVaults"],
    params: &[ParamSpec {
        name: "require_customer_managed_key",
        ty: ParamType::Boolean,
        default: "false",
        doc: "Fail vaults encrypted with the AWS-managed key aws/backup.",
    }],
};

impl Rule for BackupVaultEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::BackupVault(vault) = &subject.body else {
            return Outcome::not_applicable("not a backup vault");
        };
        let Some(key) = &vault.encryption_key_arn else {
            return Outcome::fail("the vault reports no encryption key")
                .with("encryption_key_arn", None::<&str>);
        };
        let require_cmk = ctx.bool("require_customer_managed_key");
        // KMS keys are an input only when a customer-managed key is required (they are not
        // in `api_calls`): otherwise not looked up, so `key_manager` is null.
        let manager = require_cmk
            .then(|| super::key_manager(ctx, subject, key))
            .flatten();
        let described = |o: Outcome| {
            o.with("encryption_key_arn", key)
                .with("key_manager", manager)
                .with("require_customer_managed_key", require_cmk)
        };
        if !require_cmk {
            return described(Outcome::pass(
                "the vault encrypts recovery points with a KMS key",
            ));
        }
        match manager {
            Some("CUSTOMER") => described(Outcome::pass(
                "the vault encrypts recovery points with a customer-managed KMS key",
            )),
            Some(_) => described(Outcome::fail(
                "the vault encrypts recovery points with an AWS-managed key, not a \
                 customer-managed one",
            )),
            None => described(Outcome::error(
                "whether the vault's key is customer-managed is unknown: the key is not among \
                 the collected KMS keys of the region, or its metadata could not be read",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::rules::kms::fixtures::{aws_managed_key, customer_key, key_resource};
    use crate::testing::*;
    use crate::{ParamValue, Params};

    fn require_cmk() -> Params {
        let mut p = Params::defaults(&BackupVaultEncrypted);
        p.set("require_customer_managed_key", ParamValue::Boolean(true));
        p
    }

    #[test]
    fn pass_with_a_key() {
        let o = expect(
            run(&BackupVaultEncrypted, &vault_resource(vault("v")), &[]),
            Status::Pass,
        );
        assert!(
            o.evidence["encryption_key_arn"]
                .as_str()
                .unwrap()
                .contains(":key/")
        );
    }

    #[test]
    fn pass_and_fail_by_key_manager_when_cmk_required() {
        let o = expect(
            run_with(
                &BackupVaultEncrypted,
                &vault_resource(vault("v")),
                &[key_resource(customer_key())],
                &require_cmk(),
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["key_manager"], "CUSTOMER");
        let o = expect(
            run_with(
                &BackupVaultEncrypted,
                &vault_resource(vault("v")),
                &[key_resource(aws_managed_key())],
                &require_cmk(),
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["key_manager"], "AWS");
    }

    #[test]
    fn fail_without_a_key() {
        let mut v = vault("v");
        v.encryption_key_arn = None;
        let o = expect(
            run(&BackupVaultEncrypted, &vault_resource(v), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["encryption_key_arn"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_key_unknown_and_cmk_required() {
        let o = expect(
            run_with(
                &BackupVaultEncrypted,
                &vault_resource(vault("v")),
                &[],
                &require_cmk(),
            ),
            Status::Error,
        );
        assert_eq!(o.evidence["key_manager"], serde_json::Value::Null);
    }
}
