//! `iam_no_full_service_wildcard`: no customer-managed policy allows every action of a
//! service (`"<service>:*"`, or `"*"`, which is every service's), on any resource.
//!
//! An `Allow` with `NotAction` grants every action of every service it does not name, so it
//! counts too. A `Deny` in the same document that takes the whole grant away (see
//! [`crate::policy::eval`]) clears it. AWS-managed policies are not applicable: the account
//! cannot change them (`iam_no_admin_managed_policy` reports the administrator ones).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use crate::policy::{Caller, Effect, Policy, Request, Selection};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoFullServiceWildcard;

static META: RuleMeta = RuleMeta {
    id: "iam_no_full_service_wildcard",
    title: "Customer-managed policy does not grant full access to a service (<service>:*)",
    severity: Severity::Medium,
    subject: ResourceKind::IamPolicy,
    rationale: "\"s3:*\" or \"kms:*\" gives whoever holds the policy every operation of the \
                service, including deleting data, changing bucket and key policies and \
                disabling encryption of ePHI; access should be authorised per job function, on \
                least privilege (164.308(a)(4)(ii)(B), 164.312(a)(1)).",
    remediation: "Replace the \"<service>:*\" actions with the specific actions the holders use \
                  (IAM Access Analyzer can generate them from activity), and scope Resource to \
                  the resources they need.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

/// Whether an action pattern is a whole-service (or every-service) wildcard.
fn is_service_wildcard(pattern: &str) -> bool {
    pattern == "*"
        || pattern
            .split_once(':')
            .is_some_and(|(service, action)| !service.is_empty() && action == "*")
}

impl Rule for IamNoFullServiceWildcard {
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
        // Every whole-service action pattern an Allow names (NotAction: "*").
        let mut patterns: Vec<String> = Vec::new();
        for st in parsed.statements() {
            if st.effect != Effect::Allow {
                continue;
            }
            let found: Vec<String> = match st.actions.selection {
                Selection::Only => st
                    .actions
                    .patterns
                    .iter()
                    .filter(|p| is_service_wildcard(p))
                    .map(|p| p.to_ascii_lowercase())
                    .collect(),
                Selection::AllExcept => vec!["*".to_owned()],
            };
            for p in found {
                if !patterns.contains(&p) {
                    patterns.push(p);
                }
            }
        }
        patterns.sort();
        let mut granted = Vec::new();
        let mut denied = Vec::new();
        for pattern in &patterns {
            let decision = parsed.allows(&Request::new(Caller::Holder, pattern, "*"));
            if decision.is_allowed() {
                let statements: Vec<String> = decision
                    .grants
                    .iter()
                    .map(|g| g.statement.label())
                    .collect();
                granted.push(json!({"action": pattern, "statements": statements}));
            } else {
                denied.push(pattern.clone());
            }
        }
        let outcome = if granted.is_empty() {
            if denied.is_empty() {
                Outcome::pass("no statement allows every action of a service")
            } else {
                Outcome::pass(format!(
                    "{} is allowed, but a Deny in the same document takes it away",
                    denied.join(", ")
                ))
            }
        } else {
            let actions: Vec<&str> = granted
                .iter()
                .filter_map(|g| g["action"].as_str())
                .collect();
            Outcome::fail(format!(
                "the default version allows full access to a service: {}",
                actions.join(", ")
            ))
        };
        outcome
            .with("full_service_grants", granted)
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
            &IamNoFullServiceWildcard,
            &policy_resource(policy("P", doc)),
            &[],
        )
    }

    #[test]
    fn pass_for_specific_actions() {
        let o = expect(run_doc(narrow_document()), Status::Pass);
        assert_eq!(o.evidence["full_service_grants"], json!([]));
    }

    #[test]
    fn fail_for_s3_star_on_one_bucket() {
        let o = expect(
            run_doc(json!({"Statement": [{"Sid": "AllS3", "Effect": "Allow",
                "Action": ["s3:GetObject", "S3:*"], "Resource": "arn:aws:s3:::phi/*"}]})),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["full_service_grants"],
            json!([{"action": "s3:*", "statements": ["AllS3"]}])
        );
    }

    #[test]
    fn fail_for_star() {
        let o = expect(run_doc(admin_document()), Status::Fail);
        assert!(o.reason.contains('*'), "{}", o.reason);
        assert_evidence(
            &o,
            "full_service_grants",
            json!([{"action": "*", "statements": ["Statement[0]"]}]),
        );
        assert_evidence(&o, "attachment_count", json!(1));
    }

    #[test]
    fn fail_for_not_action() {
        let o = expect(
            run_doc(
                json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*",
                "Resource": "*"}]}),
            ),
            Status::Fail,
        );
        assert_evidence(
            &o,
            "full_service_grants",
            json!([{"action": "*", "statements": ["Statement[0]"]}]),
        );
    }

    #[test]
    fn prefix_wildcards_are_not_full_service() {
        let o = expect(
            run_doc(
                json!({"Statement": [{"Effect": "Allow", "Action": "s3:Get*",
                "Resource": "*"}]}),
            ),
            Status::Pass,
        );
        assert_evidence(&o, "full_service_grants", json!([]));
        assert!(
            o.reason.contains("no statement allows every action"),
            "{}",
            o.reason
        );
    }

    /// Two statements granting `s3:*` are one grant naming both; `*` and `s3:*` are two.
    #[test]
    fn fail_lists_each_wildcard_once_with_every_statement_granting_it() {
        let o = expect(
            run_doc(json!({"Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Sid": "B", "Effect": "Allow", "Action": ["S3:*", "*"], "Resource": "*"}
            ]})),
            Status::Fail,
        );
        // The evaluator matches the request `*` against `s3:*` as overlapping patterns, so
        // both statements are listed for `*` too (see the report of issue 12, item 6).
        assert_eq!(
            o.evidence["full_service_grants"][1],
            json!({"action": "s3:*", "statements": ["A", "B"]}),
            "{o:?}"
        );
        assert_eq!(o.evidence["full_service_grants"][0]["action"], "*", "{o:?}");
        assert_eq!(
            o.evidence["full_service_grants"].as_array().map(Vec::len),
            Some(2),
            "{o:?}"
        );
        assert!(o.reason.contains("*, s3:*"), "{}", o.reason);
    }

    /// A Deny of `s3:*` grants nothing and is not reported as an allowed wildcard; `:*`
    /// names no service.
    #[test]
    fn pass_for_a_deny_only_wildcard_and_a_serviceless_pattern() {
        let o = expect(
            run_doc(json!({"Statement": [
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Allow", "Action": ":*", "Resource": "*"}
            ]})),
            Status::Pass,
        );
        assert_eq!(
            o.reason, "no statement allows every action of a service",
            "{o:?}"
        );
        assert_evidence(&o, "full_service_grants", json!([]));
    }

    #[test]
    fn pass_when_denied_in_the_same_document() {
        let o = expect(
            run_doc(json!({"Statement": [
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}
            ]})),
            Status::Pass,
        );
        assert!(o.reason.contains("Deny"), "{}", o.reason);
    }

    #[test]
    fn error_when_document_unavailable() {
        let mut p = policy("Opaque", admin_document());
        p.document = denied("iam:GetAccountAuthorizationDetails");
        let o = expect(
            run(&IamNoFullServiceWildcard, &policy_resource(p), &[]),
            Status::Error,
        );
        assert!(
            o.reason.contains("iam:GetAccountAuthorizationDetails"),
            "{}",
            o.reason
        );
        assert!(o.evidence.contains_key("unavailable"), "{o:?}");
    }

    #[test]
    fn error_when_document_is_malformed() {
        let o = expect(run_doc(json!({"Version": "2012-10-17"})), Status::Error);
        assert!(o.reason.contains("cannot be read"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_to_aws_managed() {
        let mut p = policy("AmazonS3FullAccess", admin_document());
        p.aws_managed = true;
        let o = expect(
            run(&IamNoFullServiceWildcard, &policy_resource(p), &[]),
            Status::NotApplicable,
        );
        assert_evidence(&o, "aws_managed", json!(true));
    }
}
