//! `iam_inline_policy_blocked_kms_actions`: no IAM role has an inline policy that allows
//! `kms:Decrypt` or `kms:ReEncryptFrom` on every key (`Resource "*"`).
//!
//! Roles only (a rule has one subject kind): workloads hold their KMS grants in roles, and
//! user and group inline policies are already reported by `iam_user_no_direct_policies`
//! and `iam_no_inline_policies`. Service-linked roles are not applicable: AWS maintains
//! their policies. What counts is as in `iam_customer_policy_blocked_kms_actions`.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use super::blocked_kms::{BLOCKED, actions, grants_on_all_keys};
use crate::policy::Policy;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct IamInlinePolicyBlockedKmsActions;

static META: RuleMeta = RuleMeta {
    id: "iam_inline_policy_blocked_kms_actions",
    title: "IAM role has no inline policy allowing decryption with every KMS key",
    severity: Severity::Medium,
    subject: ResourceKind::IamRole,
    rationale: "kms:Decrypt or kms:ReEncryptFrom on \"*\" in a role's inline policy lets every \
                workload or person able to assume the role turn any ePHI ciphertext they can \
                read into plaintext with any key the key policies let the account use, which \
                defeats encryption as an access control; decryption should be granted per key \
                (164.312(a)(2)(iv)). Roles only: user and group inline policies are reported \
                by iam_user_no_direct_policies and iam_no_inline_policies.",
    remediation: "Replace Resource \"*\" in the role's inline statements allowing kms:Decrypt \
                  or kms:ReEncryptFrom (or kms:*) with the ARNs of the keys the workload needs \
                  (PutRolePolicy), or limit them with kms:ViaService / kms:EncryptionContext \
                  conditions.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

impl Rule for IamInlinePolicyBlockedKmsActions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::IamRole(role) = &subject.body else {
            return Outcome::not_applicable("not an IAM role");
        };
        if role.path.starts_with("/aws-service-role/") {
            return Outcome::not_applicable(
                "service-linked role: its policies are defined and maintained by AWS",
            )
            .with("path", &role.path);
        }
        let mut offending = Vec::new();
        let mut described = Vec::new();
        let mut unreadable = Vec::new();
        for policy in &role.inline_policies {
            let parsed = match Policy::parse(&policy.document) {
                Ok(p) => p,
                Err(why) => {
                    unreadable.push(format!("{}: {why}", policy.name));
                    continue;
                }
            };
            let grants = grants_on_all_keys(&parsed);
            if !grants.is_empty() {
                described.push(format!(
                    "inline policy {} allows {}",
                    policy.name,
                    actions(&grants).join(", ")
                ));
                offending.push(json!({"policy": policy.name, "grants": grants}));
            }
        }
        let names: Vec<&str> = role
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let outcome = if !offending.is_empty() {
            Outcome::fail(format!(
                "{} on every key (Resource \"*\")",
                described.join("; ")
            ))
        } else if !unreadable.is_empty() {
            Outcome::error(format!(
                "inline policy document cannot be read: {}",
                unreadable.join("; ")
            ))
        } else if names.is_empty() {
            Outcome::pass("the role has no inline policies")
        } else {
            Outcome::pass(format!(
                "no inline policy allows {} on every key",
                BLOCKED.join(" or ")
            ))
        };
        outcome
            .with("inline_policies", names)
            .with("blocked_kms_grants", offending)
            .with("unreadable_inline_policies", unreadable)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::iam::fixtures::*;
    use crate::testing::*;

    fn run_role(inline: &[(&str, serde_json::Value)]) -> Outcome {
        run(
            &IamInlinePolicyBlockedKmsActions,
            &role_resource(role("app", inline)),
            &[],
        )
    }

    #[test]
    fn pass_without_inline_policies() {
        let o = expect(run_role(&[]), Status::Pass);
        assert!(o.reason.contains("no inline"), "{}", o.reason);
        assert_evidence(&o, "inline_policies", json!([]));
    }

    #[test]
    fn pass_for_decrypt_on_one_key() {
        let o = expect(
            run_role(&[(
                "kms",
                json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",
                    "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234"}]}),
            )]),
            Status::Pass,
        );
        assert!(
            o.reason
                .contains("no inline policy allows kms:Decrypt or kms:ReEncryptFrom"),
            "{}",
            o.reason
        );
        assert_evidence(&o, "inline_policies", json!(["kms"]));
        assert_evidence(&o, "blocked_kms_grants", json!([]));
    }

    #[test]
    fn fail_for_reencrypt_on_all_keys() {
        let o = expect(
            run_role(&[
                ("read", narrow_document()),
                (
                    "kms",
                    json!({"Statement": [{"Effect": "Allow", "Action": "kms:ReEncrypt*",
                        "Resource": "*"}]}),
                ),
            ]),
            Status::Fail,
        );
        assert!(o.reason.contains("inline policy kms"), "{}", o.reason);
        assert_eq!(
            o.evidence["blocked_kms_grants"][0]["grants"][0]["action"],
            "kms:ReEncryptFrom"
        );
    }

    #[test]
    fn error_when_a_document_is_malformed() {
        let o = expect(
            run_role(&[("bad", json!({"Version": "2012-10-17"}))]),
            Status::Error,
        );
        assert!(
            o.reason
                .contains("inline policy document cannot be read: bad:"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["unreadable_inline_policies"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        // An unreadable document does not hide a readable one that fails.
        let o = expect(
            run_role(&[
                ("bad", json!({"Version": "2012-10-17"})),
                (
                    "kms",
                    json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",
                        "Resource": "*"}]}),
                ),
            ]),
            Status::Fail,
        );
        assert_eq!(o.evidence["blocked_kms_grants"][0]["policy"], "kms");
        assert_evidence(&o, "inline_policies", json!(["bad", "kms"]));
    }

    #[test]
    fn not_applicable_to_service_linked_roles() {
        let mut r = role("AWSServiceRoleForRDS", &[("p", admin_document())]);
        r.path = "/aws-service-role/rds.amazonaws.com/".into();
        let o = expect(
            run(&IamInlinePolicyBlockedKmsActions, &role_resource(r), &[]),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("service-linked role"), "{}", o.reason);
        assert_evidence(&o, "path", json!("/aws-service-role/rds.amazonaws.com/"));
    }
}
