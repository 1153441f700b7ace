//! `secret_encrypted_with_cmk`: a secret is encrypted with a customer-managed KMS key, not
//! the AWS-managed `aws/secretsmanager` key.

use posture_model::resources::KmsKey;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct SecretEncryptedWithCmk;

const AWS_MANAGED_ALIAS: &str = "alias/aws/secretsmanager";

static META: RuleMeta = RuleMeta {
    id: "secret_encrypted_with_cmk",
    title: "Secrets Manager secret is encrypted with a customer-managed KMS key",
    severity: Severity::Medium,
    subject: ResourceKind::Secret,
    rationale: "With the AWS-managed key, anyone the secret's policy admits can decrypt it and \
                the key's policy cannot be narrowed or its use separately audited; a \
                customer-managed key puts a second, reviewable control on credentials to ePHI \
                systems (164.312(a)(2)(iv), 164.312(e)(2)(ii)).",
    remediation: "Create a customer-managed KMS key (rotation on) and re-encrypt the secret \
                  with it (Secrets Manager console > secret > Edit encryption key, or \
                  UpdateSecret with KmsKeyId); grant kms:Decrypt to the secret's readers only.",
    api_calls: &[
        "secretsmanager:ListSecrets",
        "kms:ListKeys",
        "kms:ListAliases",
        "kms:DescribeKey",
    ],
    params: &[],
};

/// Splits a key reference into (account in its ARN, key id or alias name).
fn parse_key_ref(reference: &str) -> (Option<&str>, &str) {
    match reference.strip_prefix("arn:") {
        Some(rest) => {
            // partition:kms:region:account:key/ID or alias/NAME
            let mut parts = rest.splitn(5, ':');
            let account = parts.nth(3);
            let resource = parts.next().unwrap_or(reference);
            (account, resource.strip_prefix("key/").unwrap_or(resource))
        }
        None => (None, reference),
    }
}

impl Rule for SecretEncryptedWithCmk {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Secret(secret) = &subject.body else {
            return Outcome::not_applicable("not a Secrets Manager secret");
        };
        let Some(reference) = secret.kms_key_id.as_deref() else {
            return Outcome::fail(format!(
                "secret {} is encrypted with the AWS-managed key aws/secretsmanager",
                secret.name
            ))
            .with("secret", &secret.name)
            .with("kms_key_id", "none (aws/secretsmanager)");
        };
        let described = |o: Outcome| o.with("secret", &secret.name).with("kms_key_id", reference);
        let (account, id) = parse_key_ref(reference);
        if id == AWS_MANAGED_ALIAS {
            return described(Outcome::fail(format!(
                "secret {} is encrypted with the AWS-managed key aws/secretsmanager",
                secret.name
            )));
        }
        if let Some(account) = account
            && account != subject.account.as_str()
        {
            return described(Outcome::pass(format!(
                "secret {} is encrypted with a key of account {account}; AWS-managed keys \
                 cannot be used across accounts, so it is customer-managed",
                secret.name
            )))
            .with("key_manager", "CUSTOMER");
        }
        let found = ctx
            .resources(ResourceKind::KmsKey, &subject.account, &subject.region)
            .find_map(|r| match &r.body {
                ResourceBody::KmsKey(k)
                    if k.key_id == id
                        || r.arn.as_str() == reference
                        || k.aliases.iter().any(|a| a == id) =>
                {
                    Some((r, k))
                }
                _ => None,
            });
        let Some((key_resource, key)) = found else {
            if id.starts_with("alias/aws/") {
                return described(Outcome::fail(format!(
                    "secret {} is encrypted with the AWS-managed key {id}",
                    secret.name
                )));
            }
            return described(Outcome::error(format!(
                "key {reference} of secret {} is not among the KMS keys collected in {}; \
                 include kms in the scan to decide who manages it",
                secret.name, subject.region
            )));
        };
        let key: &KmsKey = key;
        let Some(meta) = try_observed!(key.metadata, "the secret's KMS key") else {
            return described(Outcome::error(format!(
                "DescribeKey gave no metadata for key {}",
                key.key_id
            )));
        };
        let described = |o: Outcome| {
            described(o)
                .with("key_arn", key_resource.arn.as_str())
                .with("key_manager", &meta.key_manager)
                .with("key_aliases", &key.aliases)
        };
        if meta.is_customer_managed() {
            described(Outcome::pass(format!(
                "secret {} is encrypted with customer-managed key {}",
                secret.name, key.key_id
            )))
        } else {
            described(Outcome::fail(format!(
                "secret {} is encrypted with AWS-managed key {}",
                secret.name, key.key_id
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::kms::fixtures::{KEY_ID, aws_managed_key, customer_key, key_resource};
    use crate::rules::secretsmanager::fixtures::*;
    use crate::testing::*;

    fn with_key(reference: Option<&str>) -> Resource {
        let mut s = secret();
        s.kms_key_id = reference.map(str::to_owned);
        secret_resource(s)
    }

    #[test]
    fn pass_with_a_customer_managed_key_by_arn_id_or_alias() {
        let keys = [key_resource(customer_key())];
        let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{KEY_ID}");
        for reference in [arn.as_str(), KEY_ID, "alias/phi"] {
            let o = expect(
                run(&SecretEncryptedWithCmk, &with_key(Some(reference)), &keys),
                Status::Pass,
            );
            assert_eq!(o.evidence["key_manager"], "CUSTOMER", "{reference}");
        }
    }

    #[test]
    fn pass_with_a_key_of_another_account() {
        let o = expect(
            run(
                &SecretEncryptedWithCmk,
                &with_key(Some(
                    "arn:aws:kms:us-east-1:999988887777:key/0000aaaa-12ab-34cd-56ef-1234567890ab",
                )),
                &[],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("999988887777"), "{}", o.reason);
    }

    #[test]
    fn fail_with_the_default_key() {
        let o = expect(
            run(&SecretEncryptedWithCmk, &with_key(None), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["kms_key_id"], "none (aws/secretsmanager)");
        expect(
            run(
                &SecretEncryptedWithCmk,
                &with_key(Some("alias/aws/secretsmanager")),
                &[],
            ),
            Status::Fail,
        );
    }

    #[test]
    fn fail_with_an_aws_managed_key_found_by_id() {
        let o = expect(
            run(
                &SecretEncryptedWithCmk,
                &with_key(Some(KEY_ID)),
                &[key_resource(aws_managed_key())],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["key_manager"], "AWS");
    }

    #[test]
    fn error_when_the_key_was_not_collected_or_not_described() {
        let o = expect(
            run(&SecretEncryptedWithCmk, &with_key(Some(KEY_ID)), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("include kms"), "{}", o.reason);

        let mut k = customer_key();
        k.metadata = denied("kms:DescribeKey");
        let o = expect(
            run(
                &SecretEncryptedWithCmk,
                &with_key(Some(KEY_ID)),
                &[key_resource(k)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("kms:DescribeKey"), "{}", o.reason);
    }

    #[test]
    fn key_references() {
        assert_eq!(
            parse_key_ref("arn:aws:kms:us-east-1:111122223333:key/abc"),
            (Some("111122223333"), "abc")
        );
        assert_eq!(
            parse_key_ref("arn:aws:kms:us-east-1:111122223333:alias/phi"),
            (Some("111122223333"), "alias/phi")
        );
        assert_eq!(parse_key_ref("alias/phi"), (None, "alias/phi"));
    }
}
