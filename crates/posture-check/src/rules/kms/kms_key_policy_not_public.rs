//! `kms_key_policy_not_public`: a customer-managed key's policy does not allow everyone to
//! use it without a condition.

use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::rules::s3::public_access::{
    allows_everyone, has_condition, statement_label, statements, strings,
};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct KmsKeyPolicyNotPublic;

static META: RuleMeta = RuleMeta {
    id: "kms_key_policy_not_public",
    title: "KMS key policy does not grant access to everyone",
    severity: Severity::Critical,
    subject: ResourceKind::KmsKey,
    rationale: "A key policy that allows Principal \"*\" without a condition lets any AWS \
                account use (and possibly manage) the key, so anyone who obtains ePHI \
                ciphertext, snapshots or backups encrypted under it can decrypt them \
                (164.312(a)(1), 164.312(a)(2)(iv)).",
    remediation: "Replace Principal \"*\" with the specific accounts or roles that need the key, or \
                  restrict the statement with a condition such as kms:CallerAccount or \
                  aws:PrincipalOrgID: KMS console > key > Key policy, or PutKeyPolicy.",
    api_calls: &["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyPolicy"],
    params: &[],
};

impl Rule for KmsKeyPolicyNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::KmsKey(key) = &subject.body else {
            return Outcome::not_applicable("not a KMS key");
        };
        if let Observed::Collected(meta) = &key.metadata
            && !meta.is_customer_managed()
        {
            return Outcome::not_applicable("AWS-managed key: AWS writes its policy")
                .with("key_manager", &meta.key_manager);
        }
        let Some(policy) = try_observed!(key.policy, "key policy") else {
            return Outcome::pass("no key policy was returned, so it grants nothing to anyone")
                .with("key_policy", "absent")
                .with("public_statements", Vec::<serde_json::Value>::new());
        };
        let public: Vec<serde_json::Value> = statements(policy)
            .into_iter()
            .enumerate()
            .filter(|(_, s)| allows_everyone(s) && !has_condition(s))
            .map(|(i, s)| {
                let actions = strings(s.get("Action").or_else(|| s.get("NotAction")));
                json!({ "statement": statement_label(s, i), "actions": actions })
            })
            .collect();
        let outcome = if public.is_empty() {
            Outcome::pass("no key policy statement allows everyone without a condition")
        } else {
            Outcome::fail(format!(
                "{} key policy statement(s) allow Principal \"*\" with no condition",
                public.len()
            ))
        };
        outcome
            .with("key_policy", "present")
            .with("public_statements", public)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::kms::fixtures::*;
    use crate::testing::*;

    fn with_statement(stmt: serde_json::Value) -> Resource {
        let mut k = customer_key();
        let mut policy = default_policy();
        if let Some(list) = policy["Statement"].as_array_mut() {
            list.push(stmt);
        }
        k.policy = Observed::Collected(policy);
        key_resource(k)
    }

    #[test]
    fn pass_with_default_policy() {
        let o = expect(
            run(&KmsKeyPolicyNotPublic, &key_resource(customer_key()), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["public_statements"], json!([]));
    }

    #[test]
    fn fail_when_everyone_may_decrypt() {
        let o = expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Sid": "Open",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*"
                })),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["public_statements"],
            json!([{"statement": "Open", "actions": ["kms:Decrypt", "kms:DescribeKey"]}])
        );
    }

    #[test]
    fn statement_restricted_by_condition_is_not_public() {
        expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": "111122223333",
                            "kms:ViaService": "s3.us-east-1.amazonaws.com"
                        }
                    }
                })),
                &[],
            ),
            Status::Pass,
        );
        expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
                })),
                &[],
            ),
            Status::Pass,
        );
    }

    #[test]
    fn public_deny_is_not_public() {
        expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:ScheduleKeyDeletion",
                    "Resource": "*"
                })),
                &[],
            ),
            Status::Pass,
        );
    }

    #[test]
    fn error_when_policy_denied() {
        let mut k = customer_key();
        k.policy = denied("kms:GetKeyPolicy");
        let o = expect(
            run(&KmsKeyPolicyNotPublic, &key_resource(k), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("kms:GetKeyPolicy"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_aws_managed_keys() {
        let o = expect(
            run(
                &KmsKeyPolicyNotPublic,
                &key_resource(aws_managed_key()),
                &[],
            ),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["key_manager"], "AWS");
    }

    #[test]
    fn not_applicable_to_other_kinds() {
        expect(
            run(&KmsKeyPolicyNotPublic, &bucket_resource(bucket("phi")), &[]),
            Status::NotApplicable,
        );
    }
}
