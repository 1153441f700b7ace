//! `efs_encrypted_at_rest`: the file system is encrypted at rest, with a customer-managed
//! KMS key when `require_customer_managed_key` is set. Who manages the key comes from the
//! KMS collection of the region (`kms:ListKeys`, `kms:DescribeKey`); a key not found there
//! makes that question `Error`. Those calls are not in `api_calls`: by default the rule
//! does not need them, and a failed KMS listing must not turn every file system into an
//! error.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::rules::backup::key_manager;
use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct EfsEncryptedAtRest;

static META: RuleMeta = RuleMeta {
    id: "efs_encrypted_at_rest",
    title: "EFS file system is encrypted at rest",
    severity: Severity::High,
    subject: ResourceKind::EfsFileSystem,
    rationale: "ePHI in an unencrypted file system is readable from the underlying storage and \
                any copy of it; encryption at rest is the addressable safeguard \
                (164.312(a)(2)(iv), 164.312(e)(2)(ii), 164.308(a)(1)(ii)(B), \
                164.308(a)(4)(ii)(A)).",
    remediation: "Encryption cannot be turned on for an existing file system: create an \
                  encrypted one (CreateFileSystem with Encrypted=true and a KmsKeyId), copy the \
                  data (AWS DataSync or a restore from AWS Backup), move clients to it and \
                  delete the old one.",
    api_calls: &["elasticfilesystem:DescribeFileSystems"],
    params: &[ParamSpec {
        name: "require_customer_managed_key",
        ty: ParamType::Boolean,
        default: "false",
        doc: "Fail file systems encrypted with the AWS-managed key aws/elasticfilesystem.",
    }],
};

impl Rule for EfsEncryptedAtRest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EfsFileSystem(fs) = &subject.body else {
            return Outcome::not_applicable("not an EFS file system");
        };
        if !fs.encrypted {
            return Outcome::fail("the file system is not encrypted at rest")
                .with("encrypted", false);
        }
        let require_cmk = ctx.bool("require_customer_managed_key");
        // KMS keys are an input only when a customer-managed key is required (they are not
        // in `api_calls`): otherwise not looked up, so `key_manager` is null.
        let manager = fs
            .kms_key_id
            .as_deref()
            .filter(|_| require_cmk)
            .and_then(|k| key_manager(ctx, subject, k));
        let described = |o: Outcome| {
            o.with("encrypted", true)
                .with("kms_key_id", &fs.kms_key_id)
                .with("key_manager", manager)
                .with("require_customer_managed_key", require_cmk)
        };
        if !require_cmk {
            return described(Outcome::pass("the file system is encrypted at rest"));
        }
        match manager {
            Some("CUSTOMER") => described(Outcome::pass(
                "the file system is encrypted at rest with a customer-managed KMS key",
            )),
            Some(_) => described(Outcome::fail(
                "the file system is encrypted with an AWS-managed key, not a customer-managed one",
            )),
            None => described(Outcome::error(
                "whether the file system's key is customer-managed is unknown: the key is not \
                 among the collected KMS keys of the region, or its metadata could not be read",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::efs::fixtures::*;
    use crate::rules::kms::fixtures::{aws_managed_key, key_resource};
    use crate::testing::*;
    use crate::{ParamValue, Params};

    fn require_cmk() -> Params {
        let mut p = Params::defaults(&EfsEncryptedAtRest);
        p.set("require_customer_managed_key", ParamValue::Boolean(true));
        p
    }

    #[test]
    fn pass_when_encrypted() {
        let o = expect(
            run(&EfsEncryptedAtRest, &fs_resource(fs()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["encrypted"], true);
    }

    #[test]
    fn fail_when_unencrypted_or_aws_key_with_cmk_required() {
        let mut f = fs();
        f.encrypted = false;
        f.kms_key_id = None;
        let o = expect(run(&EfsEncryptedAtRest, &fs_resource(f), &[]), Status::Fail);
        assert_eq!(o.evidence["encrypted"], false);
        let o = expect(
            run_with(
                &EfsEncryptedAtRest,
                &fs_resource(fs()),
                &[key_resource(aws_managed_key())],
                &require_cmk(),
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["key_manager"], "AWS");
    }

    #[test]
    fn error_when_key_unknown_and_cmk_required() {
        let o = expect(
            run_with(&EfsEncryptedAtRest, &fs_resource(fs()), &[], &require_cmk()),
            Status::Error,
        );
        assert!(o.reason.contains("unknown"), "{}", o.reason);
    }
}
