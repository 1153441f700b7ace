//! `iam_no_wildcard_marketplace_subscribe`: no customer-managed policy allows
//! `aws-marketplace:Subscribe` on every resource (`Resource "*"`).
//!
//! `aws-marketplace:*`, `*` and `NotAction` statements that include the action count; a
//! `Deny` in the same document that takes the grant away clears it (see
//! [`crate::policy::eval`]). AWS-managed policies are not applicable: the account cannot
//! change them.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::policy::{Caller, Policy, Request};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct IamNoWildcardMarketplaceSubscribe;

static META: RuleMeta = RuleMeta {
    id: "iam_no_wildcard_marketplace_subscribe",
    title: "Customer-managed policy does not allow aws-marketplace:Subscribe on every product",
    severity: Severity::Medium,
    subject: ResourceKind::IamPolicy,
    rationale: "aws-marketplace:Subscribe on \"*\" lets whoever holds the policy subscribe the \
                account to any Marketplace product, including third-party software and data \
                services that may receive ePHI without a business associate agreement or \
                review; subscriptions should be limited to approved products and approvers \
                (164.308(a)(4)(ii)(B) access authorization).",
    remediation: "Remove aws-marketplace:Subscribe (or aws-marketplace:*) from the statements \
                  with Resource \"*\", grant it only to the procurement role, or limit it to \
                  approved products with Private Marketplace.",
    api_calls: &["iam:GetAccountAuthorizationDetails"],
    params: &[],
};

const ACTION: &str = "aws-marketplace:Subscribe";

impl Rule for IamNoWildcardMarketplaceSubscribe {
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
        let decision = parsed.allows(&Request::new(Caller::Holder, ACTION, "*"));
        let statements: Vec<String> = decision
            .grants
            .iter()
            .filter(|g| g.statement.resources.covers("*"))
            .map(|g| g.statement.label())
            .collect();
        let outcome = if statements.is_empty() {
            Outcome::pass(format!(
                "the default version does not allow {ACTION} on \"*\""
            ))
        } else {
            Outcome::fail(format!(
                "the default version allows {ACTION} on every product (Resource \"*\")"
            ))
        };
        outcome
            .with("allowing_statements", statements)
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
            &IamNoWildcardMarketplaceSubscribe,
            &policy_resource(policy("P", doc)),
            &[],
        )
    }

    #[test]
    fn pass_for_unrelated_or_scoped_grants() {
        let o = expect(run_doc(narrow_document()), Status::Pass);
        assert_eq!(o.evidence["allowing_statements"], json!([]));
        expect(
            run_doc(json!({"Statement": [{"Effect": "Allow", "Action": ACTION,
                "Resource": "arn:aws:aws-marketplace::111122223333:product/prod-abc"}]})),
            Status::Pass,
        );
    }

    #[test]
    fn fail_for_subscribe_or_admin_on_star() {
        let o = expect(
            run_doc(json!({"Statement": [{"Sid": "Buy", "Effect": "Allow",
                "Action": "aws-marketplace:*", "Resource": "*"}]})),
            Status::Fail,
        );
        assert_eq!(o.evidence["allowing_statements"], json!(["Buy"]));
        expect(run_doc(admin_document()), Status::Fail);
    }

    #[test]
    fn pass_when_denied_in_the_same_document() {
        let o = expect(
            run_doc(json!({"Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "aws-marketplace:Subscribe", "Resource": "*"}
            ]})),
            Status::Pass,
        );
        assert_eq!(o.evidence["allowing_statements"], json!([]));
        assert!(
            o.reason
                .contains("does not allow aws-marketplace:Subscribe on \"*\""),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_document_unavailable_or_malformed() {
        let mut p = policy("Opaque", admin_document());
        p.document = denied("iam:GetAccountAuthorizationDetails");
        let o = expect(
            run(&IamNoWildcardMarketplaceSubscribe, &policy_resource(p), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("default policy version"), "{}", o.reason);
        expect(run_doc(json!({"Statement": 3})), Status::Error);
    }

    #[test]
    fn not_applicable_to_aws_managed() {
        let mut p = policy("AdministratorAccess", admin_document());
        p.aws_managed = true;
        let o = expect(
            run(&IamNoWildcardMarketplaceSubscribe, &policy_resource(p), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["aws_managed"], true);
    }
}
