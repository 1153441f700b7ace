//! `iam_customer_policy_blocked_kms_actions`: no customer-managed policy allows
//! `kms:Decrypt` or `kms:ReEncryptFrom` on every key (`Resource "*"`).
//!
//! `kms:*`, `*` and `NotAction` statements that include them count; a grant on specific key
//! ARNs does not, nor one that a `Deny` in the same document takes away (see
//! [`crate::policy::eval`]). AWS-managed policies are not applicable: the account cannot
//! change them.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::blocked_kms::{BLOCKED, actions, grants_on_all_keys};
use crate::policy::Policy;
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamCustomerPolicyBlockedKmsActions;

static META: RuleMeta = RuleMeta {
    id: "iam_customer_policy_blocked_kms_actions",
    title: "Customer-managed policy does not allow decryption with every KMS key",
    severity: Severity::Medium,
    subject: ResourceKind::IamPolicy,
    rationale: "kms:Decrypt or kms:ReEncryptFrom on \"*\" lets whoever holds the policy turn \
                any ePHI ciphertext they can read (objects, snapshots, exported data) into \
                plaintext with any key the key policies let the account use, which defeats \
                encryption as an access control; decryption should be granted per key, to \
                those who need it (164.312(a)(2)(iv)).",
    remediation: "Replace Resource \"*\" in the statements allowing kms:Decrypt or \
                  kms:ReEncryptFrom (or kms:*) with the ARNs of the keys the holders need, or \
                  limit them with kms:ViaService / kms:EncryptionContext conditions.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamCustomerPolicyBlockedKmsActions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamPolicy(policy) = &subject.body else {
            return Outcome::not_applicable("not a managed IAM policy");
        };
        if policy.aws_managed {
            return Outcome::not_applicable(
                "AWS-managed policy: its document is not the account's to change",
            )
            .with("aws_managed", true);
        }
        let Some(document) = try_observed!(policy.document, "the default policy version") else {
            return Outcome::error("the policy's default version document was not returned");
        };
        let parsed = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the policy document cannot be read: {why}"));
            }
        };
        let grants = grants_on_all_keys(&parsed);
        let outcome = if grants.is_empty() {
            Outcome::pass(format!(
                "the default version allows none of {} on every key",
                BLOCKED.join(", ")
            ))
        } else {
            Outcome::fail(format!(
                "the default version allows {} on every key (Resource \"*\")",
                actions(&grants).join(", ")
            ))
        };
        outcome
            .with("blocked_kms_grants", grants)
            .with("attachment_count", policy.attachment_count)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn run_doc(doc: serde_json::Value) -> Outcome {
        run(
            &IamCustomerPolicyBlockedKmsActions,
            &policy_resource(policy("P", doc)),
            &[],
        )
    }

    #[test]
    fn pass_for_decrypt_on_one_key() {
        let o = expect(
            run_doc(
                json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234"}]}),
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["blocked_kms_grants"], json!([]));
        assert!(
            o.reason
                .contains("allows none of kms:Decrypt, kms:ReEncryptFrom on every key"),
            "{}",
            o.reason
        );
        let o = expect(run_doc(narrow_document()), Status::Pass);
        assert_eq!(o.evidence["blocked_kms_grants"], json!([]));
    }

    #[test]
    fn fail_for_decrypt_on_all_keys() {
        let o = expect(
            run_doc(json!({"Statement": [{"Sid": "Dec", "Effect": "Allow",
                "Action": ["kms:Decrypt"], "Resource": "*"}]})),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["blocked_kms_grants"],
            json!([{"action": "kms:Decrypt", "statements": ["Dec"]}])
        );
    }

    #[test]
    fn fail_for_kms_star_and_admin() {
        let o = expect(
            run_doc(
                json!({"Statement": [{"Sid": "Kms", "Effect": "Allow", "Action": "kms:*",
                "Resource": "*"}]}),
            ),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("allows kms:Decrypt, kms:ReEncryptFrom on every key"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["blocked_kms_grants"],
            json!([
                {"action": "kms:Decrypt", "statements": ["Kms"]},
                {"action": "kms:ReEncryptFrom", "statements": ["Kms"]}
            ])
        );
        let o = expect(run_doc(admin_document()), Status::Fail);
        assert_eq!(
            actions(
                o.evidence["blocked_kms_grants"]
                    .as_array()
                    .expect("an array")
            ),
            vec!["kms:Decrypt", "kms:ReEncryptFrom"]
        );
    }

    #[test]
    fn pass_when_denied_in_the_same_document() {
        let o = expect(
            run_doc(json!({"Statement": [
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Action": ["kms:Decrypt", "kms:ReEncrypt*"], "Resource": "*"}
            ]})),
            Status::Pass,
        );
        assert_eq!(o.evidence["blocked_kms_grants"], json!([]));
        // A Deny of one blocked action leaves the other one granted.
        let o = expect(
            run_doc(json!({"Statement": [
                {"Sid": "Kms", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
            ]})),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["blocked_kms_grants"],
            json!([{"action": "kms:ReEncryptFrom", "statements": ["Kms"]}])
        );
    }

    #[test]
    fn error_when_document_unavailable() {
        let mut p = policy("Opaque", admin_document());
        p.document = denied("iam:GetAccountAuthorizationDetails");
        let o = expect(
            run(
                &IamCustomerPolicyBlockedKmsActions,
                &policy_resource(p),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("the default policy version"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["unavailable"]["operation"],
            "iam:GetAccountAuthorizationDetails"
        );
    }

    #[test]
    fn error_when_document_is_malformed() {
        let o = expect(run_doc(json!({"Version": "2012-10-17"})), Status::Error);
        assert!(
            o.reason.contains("the policy document cannot be read"),
            "{}",
            o.reason
        );
        assert!(!o.evidence.contains_key("blocked_kms_grants"), "{o:?}");
    }

    #[test]
    fn not_applicable_to_aws_managed() {
        let mut p = policy("AWSKeyManagementServicePowerUser", admin_document());
        p.aws_managed = true;
        let o = expect(
            run(
                &IamCustomerPolicyBlockedKmsActions,
                &policy_resource(p),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("AWS-managed policy"), "{}", o.reason);
        assert_evidence(&o, "aws_managed", json!(true));
    }
}
