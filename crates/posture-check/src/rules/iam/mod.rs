//! IAM rules, and the policy-document reading they share.

use serde_json::Value;

use crate::Rule;

mod iam_access_key_rotated_90d;
mod iam_no_admin_inline_policy;
mod iam_no_admin_managed_policy;
mod iam_password_policy_length_14;
mod iam_password_policy_reuse_24;
mod iam_root_mfa;
mod iam_root_no_access_keys;
mod iam_user_console_mfa;

/// The IAM rules.
pub const RULES: &[&dyn Rule] = &[
    &iam_access_key_rotated_90d::IamAccessKeyRotated90d,
    &iam_no_admin_inline_policy::IamNoAdminInlinePolicy,
    &iam_no_admin_managed_policy::IamNoAdminManagedPolicy,
    &iam_password_policy_length_14::IamPasswordPolicyLength14,
    &iam_password_policy_reuse_24::IamPasswordPolicyReuse24,
    &iam_root_mfa::IamRootMfa,
    &iam_root_no_access_keys::IamRootNoAccessKeys,
    &iam_user_console_mfa::IamUserConsoleMfa,
];

/// The statements of a policy document that allow every action (`*` or `*:*`) on every
/// resource (`*`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct AdminGrants {
    /// Such statements with no `Condition`, by label (their `Sid`, else `Statement[i]`).
    pub unconditional: Vec<String>,
    /// Such statements limited by a `Condition`, by label.
    pub conditional: Vec<String>,
}

impl AdminGrants {
    /// Whether the document grants full administrator access without condition.
    pub fn is_admin(&self) -> bool {
        !self.unconditional.is_empty()
    }
}

/// Finds the statements of `document` that allow `*:*` on `*`. A statement with `NotAction`
/// is not counted (it names what it excludes); one with a `Condition` is counted as
/// conditional. `Err` when the document is not a policy (not an object, no `Statement`, a
/// statement that is not an object), so that callers report `Error` rather than read an
/// undecodable document as harmless.
pub(crate) fn admin_grants(document: &Value) -> Result<AdminGrants, String> {
    let Value::Object(doc) = document else {
        return Err(format!(
            "the document is not a JSON policy object (it is {})",
            json_type(document)
        ));
    };
    let statements: Vec<(String, &Value)> = match doc.get("Statement") {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("Statement[{i}]"), s))
            .collect(),
        Some(one @ Value::Object(_)) => vec![("Statement".to_owned(), one)],
        Some(other) => {
            return Err(format!(
                "the document's Statement is {}, not an object or array",
                json_type(other)
            ));
        }
        None => return Err("the document has no Statement".to_owned()),
    };
    let mut grants = AdminGrants::default();
    for (position, statement) in statements {
        let Value::Object(st) = statement else {
            return Err(format!(
                "{position} is {}, not an object",
                json_type(statement)
            ));
        };
        let label = st
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or(position, str::to_owned);
        let allows = st.get("Effect").and_then(Value::as_str) == Some("Allow");
        let every_action = !st.contains_key("NotAction")
            && st
                .get("Action")
                .is_some_and(|a| contains_any(a, &["*", "*:*"]));
        let every_resource = st.get("Resource").is_some_and(|r| contains_any(r, &["*"]));
        if allows && every_action && every_resource {
            if st.contains_key("Condition") {
                grants.conditional.push(label);
            } else {
                grants.unconditional.push(label);
            }
        }
    }
    Ok(grants)
}

/// Whether a string-or-array policy element holds one of `wanted`.
fn contains_any(element: &Value, wanted: &[&str]) -> bool {
    match element {
        Value::String(s) => wanted.contains(&s.as_str()),
        Value::Array(items) => items
            .iter()
            .any(|i| i.as_str().is_some_and(|s| wanted.contains(&s))),
        _ => false,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
            ResourceBody::IamAccountSummary(IamAccountSummary { summary }),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn star_action_on_star_resource_is_admin() {
        for action in [json!("*"), json!("*:*"), json!(["s3:GetObject", "*"])] {
            let doc = json!({"Statement": [{"Sid": "All", "Effect": "Allow", "Action": action, "Resource": ["*"]}]});
            let g = admin_grants(&doc).expect("a policy document");
            assert_eq!(g.unconditional, vec!["All".to_owned()]);
            assert!(g.is_admin());
        }
    }

    #[test]
    fn single_statement_object_is_read() {
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        assert_eq!(
            admin_grants(&doc).expect("a policy document").unconditional,
            vec!["Statement".to_owned()]
        );
    }

    #[test]
    fn deny_narrow_notaction_and_scoped_resource_are_not_admin() {
        for st in [
            json!({"Effect": "Deny", "Action": "*", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::phi/*"}),
        ] {
            let g = admin_grants(&json!({"Statement": [st]})).expect("a policy document");
            assert_eq!(g, AdminGrants::default(), "{st}");
        }
    }

    #[test]
    fn condition_makes_it_conditional() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let g = admin_grants(&doc).expect("a policy document");
        assert!(!g.is_admin());
        assert_eq!(g.conditional, vec!["Statement[0]".to_owned()]);
    }

    #[test]
    fn non_policies_are_errors() {
        for doc in [
            json!("%7B%22Version%22"),
            json!(null),
            json!({"Version": "2012-10-17"}),
            json!({"Statement": "x"}),
            json!({"Statement": ["x"]}),
        ] {
            assert!(admin_grants(&doc).is_err(), "{doc}");
        }
    }
}
