//! `kms_enclave_attestation_enforced`: a KMS key that serves Nitro Enclaves releases
//! plaintext only to attested enclaves — its key policy denies the decrypting operations
//! whenever the request carries no enclave attestation (so neither IAM policies, the root
//! statement nor grants can bypass it), no statement admits a debug-mode enclave, and, when
//! golden image measurements are configured, only those images are admitted.
//!
//! A key is an enclave key when its policy mentions a `kms:RecipientAttestation:*` condition
//! key, or when it carries the tag named by `enclave_tag_key`.

use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Severity};

use crate::policy::{BaseOperator, Effect, Policy, Principals, Statement};
use crate::rule::{ParamSpec, ParamType};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct KmsEnclaveAttestationEnforced;

/// The operations that return key material or plaintext and accept an attestation document.
const PLAINTEXT_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:DeriveSharedSecret",
];

/// The condition-key prefix of enclave attestation.
const ATTESTATION_PREFIX: &str = "kms:recipientattestation:";

static META: RuleMeta = RuleMeta {
    id: "kms_enclave_attestation_enforced",
    title: "KMS key used by Nitro Enclaves requires enclave attestation",
    severity: Severity::High,
    subject: ResourceKind::KmsKey,
    rationale: "An enclave's guarantee that ePHI is decrypted only inside measured code holds \
                only if the key refuses everyone else: an Allow conditioned on attestation \
                leaves the root statement, IAM policies and grants as bypass paths, and a \
                debug-mode enclave (all-zero PCRs) can be inspected by the host \
                (164.312(a)(1), 164.312(a)(2)(iv), 164.312(c)(1)).",
    remediation: "Add a key policy statement that denies kms:Decrypt, kms:GenerateDataKey, \
                  kms:GenerateDataKeyPair and kms:DeriveSharedSecret to \"*\" with the \
                  condition {\"Null\": {\"kms:RecipientAttestation:ImageSha384\": \"true\"}}, \
                  pin ImageSha384 (or PCR0) to your release measurements, and never admit \
                  the all-zero debug PCRs.",
    api_calls: &["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyPolicy"],
    params: &[
        ParamSpec {
            name: "enclave_tag_key",
            ty: ParamType::StringList,
            default: "nitro-enclave",
            doc: "Tag keys that mark a key as serving Nitro Enclaves even when its policy \
                  mentions no attestation.",
        },
        ParamSpec {
            name: "allowed_image_digests",
            ty: ParamType::StringList,
            default: "",
            doc: "Golden ImageSha384 / PCR0 measurements (hex); when set, a statement that \
                  admits any other measurement fails. Empty: measurements are not compared.",
        },
    ],
};

fn is_attestation_key(key: &str) -> bool {
    key.to_ascii_lowercase().starts_with(ATTESTATION_PREFIX)
}

/// A statement that denies the plaintext operations to everyone when the request carries
/// no attestation (`Null` on an attestation key, value `true`).
fn is_deny_guard(s: &Statement) -> bool {
    s.effect == Effect::Deny
        && matches!(&s.principals, Principals::Only { ids, .. } if Principals::names_anyone(ids))
        && PLAINTEXT_ACTIONS.iter().all(|a| s.actions.matches(a))
        && s.conditions.iter().any(|c| {
            c.operator.base == BaseOperator::Null
                && is_attestation_key(&c.key)
                && c.values.iter().any(|v| v.eq_ignore_ascii_case("true"))
        })
}

/// Measurement values an Allow statement admits (`ImageSha384`, `PCR0`).
fn admitted_measurements(s: &Statement) -> Vec<&str> {
    if s.effect != Effect::Allow {
        return Vec::new();
    }
    s.conditions
        .iter()
        .filter(|c| {
            let k = c.key.to_ascii_lowercase();
            k == "kms:recipientattestation:imagesha384" || k == "kms:recipientattestation:pcr0"
        })
        .flat_map(|c| c.values.iter().map(String::as_str))
        .collect()
}

fn is_debug_measurement(v: &str) -> bool {
    !v.is_empty() && v.chars().all(|c| c == '0')
}

impl Rule for KmsEnclaveAttestationEnforced {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::KmsKey(key) = &subject.body else {
            return Outcome::not_applicable("not a KMS key");
        };
        if let Observed::Collected(meta) = &key.metadata
            && !meta.is_customer_managed()
        {
            return Outcome::not_applicable("AWS-managed key: it cannot be used by enclaves")
                .with("key_manager", &meta.key_manager);
        }
        let tag_keys = ctx.strings("enclave_tag_key");
        let tagged = tag_keys
            .iter()
            .find(|t| subject.tags_or_empty().contains_key(t.as_str()));
        let Some(document) = try_observed!(key.policy, "key policy") else {
            return match tagged {
                Some(t) => Outcome::fail(format!(
                    "key {} is tagged {t} but has no key policy, so nothing requires \
                     attestation",
                    key.key_id
                ))
                .with("key_policy", "absent"),
                None => Outcome::not_applicable("no key policy: not an enclave key")
                    .with("key_policy", "absent"),
            };
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the key policy cannot be read: {why}"))
                    .with("key_policy", "malformed");
            }
        };
        let mentions_attestation = policy
            .statements()
            .iter()
            .any(|s| s.conditions.iter().any(|c| is_attestation_key(&c.key)));
        if !mentions_attestation && tagged.is_none() {
            return Outcome::not_applicable(
                "not an enclave key: its policy has no kms:RecipientAttestation condition and \
                 it carries none of the enclave tags",
            )
            .with("enclave_tag_key", &tag_keys);
        }
        let guards: Vec<String> = policy
            .statements()
            .iter()
            .filter(|s| is_deny_guard(s))
            .map(Statement::label)
            .collect();
        let allowed = ctx.strings("allowed_image_digests");
        let mut debug = Vec::new();
        let mut unknown = Vec::new();
        for s in policy.statements() {
            for m in admitted_measurements(s) {
                if is_debug_measurement(m) {
                    debug.push(format!("{}: {m}", s.label()));
                } else if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(m))
                {
                    unknown.push(format!("{}: {m}", s.label()));
                }
            }
        }
        let described = |o: Outcome| {
            o.with("key_id", &key.key_id)
                .with("deny_without_attestation", &guards)
                .with("debug_measurements_admitted", &debug)
                .with("unknown_measurements_admitted", &unknown)
                .with("tagged_as_enclave_key", tagged)
        };
        if guards.is_empty() {
            return described(Outcome::fail(format!(
                "key {} has no statement denying decryption without enclave attestation, so \
                 the root statement, IAM policies or grants can release plaintext outside an \
                 enclave",
                key.key_id
            )));
        }
        if !debug.is_empty() {
            return described(Outcome::fail(format!(
                "key {} admits debug-mode enclaves (all-zero measurements)",
                key.key_id
            )));
        }
        if !unknown.is_empty() {
            return described(Outcome::fail(format!(
                "key {} admits enclave images outside allowed_image_digests",
                key.key_id
            )));
        }
        described(Outcome::pass(format!(
            "key {} denies decryption without enclave attestation",
            key.key_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::baseline::ParamValue;
    use crate::rules::kms::fixtures::*;
    use crate::testing::*;

    const IMAGE: &str = "4cd3c1a8f6a0b9e2d1c0ffee4cd3c1a8f6a0b9e2d1c0ffee4cd3c1a8f6a0b9e2d1c0ffee4cd3c1a8f6a0b9e2d1c0ffee";

    fn policy(guard: bool, measurement: &str) -> serde_json::Value {
        let mut statements = vec![
            json!({"Sid": "Admin", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                   "Action": "kms:*", "Resource": "*"}),
            json!({"Sid": "EnclaveDecrypt", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::111122223333:role/enclave-parent"},
                   "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
                   "Condition": {"StringEqualsIgnoreCase":
                       {"kms:RecipientAttestation:ImageSha384": measurement}}}),
        ];
        if guard {
            statements.push(json!({"Sid": "DenyWithoutAttestation", "Effect": "Deny",
                "Principal": "*",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DeriveSharedSecret"],
                "Resource": "*",
                "Condition": {"Null": {"kms:RecipientAttestation:ImageSha384": "true"}}}));
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn key_with(policy: serde_json::Value) -> Resource {
        let mut k = customer_key();
        k.policy = Observed::Collected(policy);
        key_resource(k)
    }

    #[test]
    fn pass_when_decryption_without_attestation_is_denied() {
        let o = expect(
            run(
                &KmsEnclaveAttestationEnforced,
                &key_with(policy(true, IMAGE)),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["deny_without_attestation"][0],
            "DenyWithoutAttestation"
        );
    }

    #[test]
    fn fail_when_only_an_allow_is_conditioned() {
        let o = expect(
            run(
                &KmsEnclaveAttestationEnforced,
                &key_with(policy(false, IMAGE)),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.contains("bypass") || o.reason.contains("root statement"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_on_debug_or_unknown_images() {
        let zeros = "0".repeat(96);
        let o = expect(
            run(
                &KmsEnclaveAttestationEnforced,
                &key_with(policy(true, &zeros)),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("debug-mode"), "{}", o.reason);

        let mut params = crate::Params::defaults(&KmsEnclaveAttestationEnforced);
        params.set(
            "allowed_image_digests",
            ParamValue::StringList(vec!["ab".repeat(48)]),
        );
        let o = expect(
            run_with(
                &KmsEnclaveAttestationEnforced,
                &key_with(policy(true, IMAGE)),
                &[],
                &params,
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["unknown_measurements_admitted"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn fail_when_tagged_but_unguarded() {
        let mut r = key_resource(customer_key());
        r.tags = Observed::Collected([("nitro-enclave".to_owned(), "payments".to_owned())].into());
        let o = expect(run(&KmsEnclaveAttestationEnforced, &r, &[]), Status::Fail);
        assert_eq!(o.evidence["tagged_as_enclave_key"], "nitro-enclave");
    }

    #[test]
    fn error_when_the_policy_could_not_be_read() {
        let mut k = customer_key();
        k.policy = denied("kms:GetKeyPolicy");
        let o = expect(
            run(&KmsEnclaveAttestationEnforced, &key_resource(k), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("kms:GetKeyPolicy"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_ordinary_and_aws_managed_keys() {
        let o = expect(
            run(
                &KmsEnclaveAttestationEnforced,
                &key_resource(customer_key()),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(
            o.reason
                .contains("no kms:RecipientAttestation condition and it carries none of"),
            "{}",
            o.reason
        );
        assert!(
            o.evidence.contains_key("enclave_tag_key"),
            "{:?}",
            o.evidence
        );
        let o = expect(
            run(
                &KmsEnclaveAttestationEnforced,
                &key_resource(aws_managed_key()),
                &[],
            ),
            Status::NotApplicable,
        );
        assert!(o.reason.contains("AWS-managed key"), "{}", o.reason);
        assert_evidence(&o, "key_manager", json!("AWS"));
    }
}
