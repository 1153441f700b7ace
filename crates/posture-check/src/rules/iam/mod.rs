//! IAM rules. Policy documents are read with [`crate::policy`].

use crate::Rule;

mod admin;
mod iam_access_key_rotated_90d;
mod iam_customer_policy_blocked_kms_actions;
mod iam_group_no_admin_inline_policy;
mod iam_group_not_empty;
mod iam_inline_policy_blocked_kms_actions;
mod iam_no_admin_inline_policy;
mod iam_no_admin_managed_policy;
mod iam_no_expired_server_certificates;
mod iam_no_full_service_wildcard;
mod iam_no_inline_policies;
mod iam_no_privilege_escalation;
mod iam_no_wildcard_marketplace_subscribe;
mod iam_password_policy_complexity;
mod iam_password_policy_length_14;
mod iam_password_policy_max_age_90;
mod iam_password_policy_reuse_24;
mod iam_root_hardware_mfa;
mod iam_root_mfa;
mod iam_root_no_access_keys;
mod iam_root_not_used;
mod iam_unused_access_keys_disabled;
mod iam_unused_console_password_disabled;
mod iam_user_console_mfa;
mod iam_user_in_group;
mod iam_user_mfa_all;
mod iam_user_no_admin_inline_policy;
mod iam_user_no_direct_policies;

/// The IAM rules.
pub const RULES: &[&dyn Rule] = &[
    &iam_access_key_rotated_90d::IamAccessKeyRotated90d,
    &iam_customer_policy_blocked_kms_actions::IamCustomerPolicyBlockedKmsActions,
    &iam_group_no_admin_inline_policy::IamGroupNoAdminInlinePolicy,
    &iam_group_not_empty::IamGroupNotEmpty,
    &iam_inline_policy_blocked_kms_actions::IamInlinePolicyBlockedKmsActions,
    &iam_no_admin_inline_policy::IamNoAdminInlinePolicy,
    &iam_no_admin_managed_policy::IamNoAdminManagedPolicy,
    &iam_no_expired_server_certificates::IamNoExpiredServerCertificates,
    &iam_no_full_service_wildcard::IamNoFullServiceWildcard,
    &iam_no_inline_policies::IamNoInlinePolicies,
    &iam_no_privilege_escalation::IamNoPrivilegeEscalation,
    &iam_no_wildcard_marketplace_subscribe::IamNoWildcardMarketplaceSubscribe,
    &iam_password_policy_complexity::IamPasswordPolicyComplexity,
    &iam_password_policy_length_14::IamPasswordPolicyLength14,
    &iam_password_policy_max_age_90::IamPasswordPolicyMaxAge90,
    &iam_password_policy_reuse_24::IamPasswordPolicyReuse24,
    &iam_root_hardware_mfa::IamRootHardwareMfa,
    &iam_root_mfa::IamRootMfa,
    &iam_root_no_access_keys::IamRootNoAccessKeys,
    &iam_root_not_used::IamRootNotUsed,
    &iam_unused_access_keys_disabled::IamUnusedAccessKeysDisabled,
    &iam_unused_console_password_disabled::IamUnusedConsolePasswordDisabled,
    &iam_user_console_mfa::IamUserConsoleMfa,
    &iam_user_in_group::IamUserInGroup,
    &iam_user_mfa_all::IamUserMfaAll,
    &iam_user_no_admin_inline_policy::IamUserNoAdminInlinePolicy,
    &iam_user_no_direct_policies::IamUserNoDirectPolicies,
];

/// Shared by the blocked-KMS-actions rules: which `Allow`s of an identity policy let the
/// holder decrypt with every key.
pub(crate) mod blocked_kms {
    use serde_json::{Value, json};

    use crate::policy::{Caller, Policy, Request};

    /// The KMS actions that must not be allowed on every key: they turn any ciphertext the
    /// holder can read into plaintext.
    pub(crate) const BLOCKED: &[&str] = &["kms:Decrypt", "kms:ReEncryptFrom"];

    /// Each blocked action the policy allows on `Resource "*"` (a statement whose resources
    /// cover every key), with the statements that allow it, as evidence. A `Deny` in the
    /// same document that takes the grant away clears it.
    pub(crate) fn grants_on_all_keys(policy: &Policy) -> Vec<Value> {
        let mut out = Vec::new();
        for action in BLOCKED {
            let decision = policy.allows(&Request::new(Caller::Holder, action, "*"));
            let statements: Vec<String> = decision
                .grants
                .iter()
                .filter(|g| g.statement.resources.covers("*"))
                .map(|g| g.statement.label())
                .collect();
            if !statements.is_empty() {
                out.push(json!({"action": action, "statements": statements}));
            }
        }
        out
    }

    /// The actions of `grants_on_all_keys`' answer, for a reason.
    pub(crate) fn actions(grants: &[Value]) -> Vec<&str> {
        grants.iter().filter_map(|g| g["action"].as_str()).collect()
    }
}

/// IAM fixtures for rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use posture_model::resources::{
        IamAccountSummary, IamPasswordPolicy, IamPolicy, IamRole, IamUser, InlinePolicy,
        PasswordPolicy, UserCredentials,
    };
    use posture_model::{Observed, Region, Resource, ResourceBody};
    use serde_json::{Value, json};

    use crate::testing::resource;

    /// The finding of an IAM rule whose `iam:GetAccountAuthorizationDetails` failed: the
    /// evaluator reports `Error` without calling the rule, naming the failed call in the
    /// reason and as evidence.
    pub(crate) fn assert_authorization_details_gap(f: &posture_model::Finding) {
        assert_eq!(f.status, posture_model::Status::Error);
        assert!(
            f.reason
                .contains("iam:GetAccountAuthorizationDetails failed in 111122223333/global"),
            "{}",
            f.reason
        );
        assert_eq!(
            f.evidence["gap"]["operation"],
            "iam:GetAccountAuthorizationDetails"
        );
    }

    /// A policy document allowing `*` on `*`.
    pub(crate) fn admin_document() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        })
    }

    /// A policy document allowing reads of one bucket.
    pub(crate) fn narrow_document() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": "arn:aws:s3:::phi/*"
            }
        })
    }

    /// A user with no console password, no MFA and no access keys.
    pub(crate) fn user(name: &str) -> IamUser {
        IamUser {
            name: name.to_owned(),
            path: "/".to_owned(),
            create_date: None,
            groups: vec![],
            attached_policies: vec![],
            inline_policies: vec![],
            credentials: Observed::Collected(UserCredentials {
                password_enabled: false,
                password_last_used: None,
                mfa_active: false,
                access_keys: vec![],
            }),
            permissions_boundary: None,
        }
    }

    /// A user resource, ARN `arn:aws:iam::111122223333:user/NAME`.
    pub(crate) fn user_resource(u: IamUser) -> Resource {
        resource(
            &format!("arn:aws:iam::111122223333:user/{}", u.name),
            Region::global(),
            ResourceBody::IamUser(u),
        )
    }

    /// A role at path `/` with the given inline policies.
    pub(crate) fn role(name: &str, inline: &[(&str, Value)]) -> IamRole {
        IamRole {
            name: name.to_owned(),
            path: "/".to_owned(),
            assume_role_policy: None,
            attached_policies: vec![],
            inline_policies: inline
                .iter()
                .map(|(n, d)| InlinePolicy {
                    name: (*n).to_owned(),
                    document: d.clone(),
                })
                .collect(),
            last_used: None,
            permissions_boundary: None,
        }
    }

    /// A role resource, ARN `arn:aws:iam::111122223333:role/NAME`.
    pub(crate) fn role_resource(r: IamRole) -> Resource {
        resource(
            &format!("arn:aws:iam::111122223333:role/{}", r.name),
            Region::global(),
            ResourceBody::IamRole(r),
        )
    }

    /// A customer-managed policy attached once.
    pub(crate) fn policy(name: &str, document: Value) -> IamPolicy {
        IamPolicy {
            name: name.to_owned(),
            aws_managed: false,
            attachment_count: 1,
            document: Observed::Collected(document),
        }
    }

    /// A policy resource, ARN `arn:aws:iam::111122223333:policy/NAME`.
    pub(crate) fn policy_resource(p: IamPolicy) -> Resource {
        resource(
            &format!("arn:aws:iam::111122223333:policy/{}", p.name),
            Region::global(),
            ResourceBody::IamPolicy(p),
        )
    }

    /// A password policy with the given length and reuse prevention, nothing else required.
    pub(crate) fn password_policy(length: Option<i32>, reuse: Option<i32>) -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: length,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            max_password_age: None,
            password_reuse_prevention: reuse,
        }
    }

    /// The password-policy resource, ARN
    /// `arn:aws:iam::111122223333:account-password-policy`.
    pub(crate) fn password_policy_resource(policy: Observed<PasswordPolicy>) -> Resource {
        resource(
            "arn:aws:iam::111122223333:account-password-policy",
            Region::global(),
            ResourceBody::IamPasswordPolicy(IamPasswordPolicy { policy }),
        )
    }

    /// The account-summary resource with the given entries. Its ARN is the one the
    /// collector and the model document, `arn:aws:iam::111122223333:account-summary`.
    pub(crate) fn summary_resource(entries: &[(&str, i32)]) -> Resource {
        let map: BTreeMap<String, i32> =
            entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        summary_resource_observed(Observed::Collected(map))
    }

    /// The account-summary resource with the given summary.
    pub(crate) fn summary_resource_observed(summary: Observed<BTreeMap<String, i32>>) -> Resource {
        resource(
            "arn:aws:iam::111122223333:account-summary",
            Region::global(),
            ResourceBody::IamAccountSummary(IamAccountSummary {
                summary,
                virtual_mfa_devices: Observed::Collected(vec![]),
            }),
        )
    }
}
