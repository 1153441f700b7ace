//! `kms_key_policy_not_public`: a customer-managed key's policy does not allow everyone to
//! use it, unless a condition restricts who can call (`kms:CallerAccount`,
//! `aws:PrincipalOrgID`, ...; see [`crate::policy`]) or an explicit Deny overrides it.

use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::policy::{Exposed, Policy, Target};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct KmsKeyPolicyNotPublic;

static META: RuleMeta = RuleMeta {
    id: "kms_key_policy_not_public",
    title: "KMS key policy does not grant access to everyone",
    severity: Severity::Critical,
    subject: ResourceKind::KmsKey,
    rationale: "A key policy that allows Principal \"*\" without a condition restricting who can \
                call (kms:CallerAccount, aws:PrincipalOrgID, ...) lets any AWS account use (and possibly manage) the key, so anyone who obtains ePHI \
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
        let Some(document) = try_observed!(key.policy, "key policy") else {
            return Outcome::pass("no key policy was returned, so it grants nothing to anyone")
                .with("key_policy", "absent")
                .with("public_statements", Vec::<serde_json::Value>::new());
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the key policy cannot be read: {why}"))
                    .with("key_policy", "malformed");
            }
        };
        // Any action on this key: key policies name the key as "*".
        let exposure = policy.public_access(&[Target::new("*", subject.arn.as_str())]);
        let public: Vec<Value> = exposure.public.iter().map(public_evidence).collect();
        let limited: Vec<Value> = exposure
            .limited
            .iter()
            .map(|l| {
                let by: Vec<String> = l.by.iter().map(ToString::to_string).collect();
                json!({ "statement": l.statement.label(), "limited_by": by })
            })
            .collect();
        let denied: Vec<Value> = exposure
            .denied
            .iter()
            .map(|d| {
                let by: Vec<String> = d.by.iter().map(|s| s.label()).collect();
                json!({ "statement": d.statement.label(), "denied_by": by })
            })
            .collect();
        let outcome = if public.is_empty() {
            Outcome::pass(
                "no key policy statement allows everyone without a condition restricting who can \
                 call",
            )
        } else {
            let labels: Vec<String> = exposure
                .public
                .iter()
                .map(|e| e.statement.label())
                .collect();
            Outcome::fail(format!(
                "{} key policy statement(s) allow everyone (Principal \"*\") with no condition \
                 restricting who can call and no Deny overriding it: {}",
                public.len(),
                labels.join(", ")
            ))
        };
        let mut outcome = outcome
            .with("key_policy", "present")
            .with("public_statements", public);
        if !limited.is_empty() {
            outcome = outcome.with("limited_statements", limited);
        }
        if !denied.is_empty() {
            outcome = outcome.with("denied_statements", denied);
        }
        outcome
    }
}

/// `{"statement", "actions", "principal" | "not_principal", "conditions_not_limiting"?}`.
fn public_evidence(e: &Exposed<'_, '_>) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("statement".into(), json!(e.statement.label()));
    map.insert("actions".into(), json!(e.statement.actions.patterns));
    map.extend(e.statement.principal_evidence());
    if !e.conditions.is_empty() {
        let c: Vec<String> = e.conditions.iter().map(ToString::to_string).collect();
        map.insert("conditions_not_limiting".into(), json!(c));
    }
    Value::Object(map)
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
            json!([{
                "statement": "Open",
                "actions": ["kms:Decrypt", "kms:DescribeKey"],
                "principal": {"AWS": "*"}
            }])
        );
        assert!(o.reason.contains("Open"), "{}", o.reason);
    }

    #[test]
    fn statement_restricted_by_condition_is_not_public() {
        let o = expect(
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
        assert_evidence(&o, "public_statements", json!([]));
        assert_eq!(
            o.evidence["limited_statements"][0]["statement"],
            "Statement[1]"
        );
        assert!(
            o.evidence["limited_statements"][0]["limited_by"]
                .as_array()
                .is_some_and(|by| by
                    .iter()
                    .any(|c| c == "StringEquals kms:CallerAccount 111122223333")),
            "{:?}",
            o.evidence
        );
        let o = expect(
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
        assert_evidence(
            &o,
            "limited_statements",
            json!([{
                "statement": "Statement[1]",
                "limited_by": ["StringEquals aws:PrincipalOrgID o-abc123"]
            }]),
        );
    }

    #[test]
    fn public_deny_is_not_public() {
        let o = expect(
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
        assert_evidence(&o, "public_statements", json!([]));
        assert_evidence(&o, "key_policy", json!("present"));
    }

    #[test]
    fn principal_star_limited_by_principal_org_id_is_not_public() {
        let o = expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Sid": "Org",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
                })),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["limited_statements"],
            json!([{"statement": "Org", "limited_by": ["StringEquals aws:PrincipalOrgID o-abc123"]}])
        );
    }

    #[test]
    fn via_service_alone_does_not_limit_exposure() {
        // kms:ViaService says how the key is reached (through S3), not who reaches it:
        // any account's principals can call S3.
        let o = expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Sid": "ViaS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
                })),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["public_statements"][0]["conditions_not_limiting"],
            json!(["StringEquals kms:ViaService s3.us-east-1.amazonaws.com"])
        );
    }

    #[test]
    fn explicit_deny_wins_over_public_allow() {
        let mut k = customer_key();
        let mut policy = default_policy();
        if let Some(list) = policy["Statement"].as_array_mut() {
            list.push(json!({"Sid": "Open", "Effect": "Allow", "Principal": "*",
                             "Action": "kms:Decrypt", "Resource": "*"}));
            list.push(
                json!({"Sid": "OutsideOrg", "Effect": "Deny", "Principal": "*",
                             "Action": "kms:*", "Resource": "*",
                             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}),
            );
        }
        k.policy = Observed::Collected(policy);
        let o = expect(
            run(&KmsKeyPolicyNotPublic, &key_resource(k), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["denied_statements"],
            json!([{"statement": "Open", "denied_by": ["OutsideOrg"]}])
        );
    }

    #[test]
    fn service_principal_is_not_public() {
        let o = expect(
            run(
                &KmsKeyPolicyNotPublic,
                &with_statement(json!({
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*"
                })),
                &[],
            ),
            Status::Pass,
        );
        assert_evidence(&o, "public_statements", json!([]));
        assert!(
            !o.evidence.contains_key("limited_statements"),
            "{:?}",
            o.evidence
        );
    }

    /// Boundary: `"*"` and `{"AWS": "*"}` are everyone; the account's root is not, and a
    /// second public statement is counted and named.
    #[test]
    fn principal_boundary_and_count() {
        let mut k = customer_key();
        let mut policy = default_policy();
        if let Some(list) = policy["Statement"].as_array_mut() {
            list.push(json!({"Sid": "A", "Effect": "Allow", "Principal": "*",
                             "Action": "kms:Decrypt", "Resource": "*"}));
            list.push(
                json!({"Sid": "B", "Effect": "Allow", "Principal": {"AWS": ["*"]},
                             "Action": "kms:*", "Resource": "*"}),
            );
        }
        k.policy = Observed::Collected(policy);
        let o = expect(
            run(&KmsKeyPolicyNotPublic, &key_resource(k), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.starts_with("2 key policy statement(s)"),
            "{}",
            o.reason
        );
        assert!(o.reason.ends_with(": A, B"), "{}", o.reason);
        assert_eq!(
            o.evidence["public_statements"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(o.evidence["public_statements"][0]["principal"], "*");
        assert_eq!(
            o.evidence["public_statements"][1]["actions"],
            json!(["kms:*"])
        );
    }

    #[test]
    fn error_when_policy_is_malformed() {
        let mut k = customer_key();
        k.policy =
            Observed::Collected(json!({"Statement": [{"Effect": "Allow", "Principal": "*"}]}));
        let o = expect(
            run(&KmsKeyPolicyNotPublic, &key_resource(k), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["key_policy"], "malformed");
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
}
