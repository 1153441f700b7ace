//! `efs_tls_enforced`: the file system policy denies NFS clients that do not use TLS.
//!
//! Every NFS client must mount before it can read or write, so a statement that denies
//! `elasticfilesystem:ClientMount` to everyone whenever `aws:SecureTransport` is false
//! (the console's "Enforce in-transit encryption for all clients" writes one denying `*`)
//! keeps all access on TLS.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::Value;

use crate::policy::Policy;
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct EfsTlsEnforced;

static META: RuleMeta = RuleMeta {
    id: "efs_tls_enforced",
    title: "EFS file system policy denies clients not using TLS",
    severity: Severity::High,
    subject: ResourceKind::EfsFileSystem,
    rationale: "NFS without TLS sends ePHI across the network in clear text; only the file \
                system policy can make EFS refuse such clients (164.312(e)(1), \
                164.312(e)(2)(ii)).",
    remediation: "Add a file system policy statement (EFS console > file system > File system \
                  policy > Enforce in-transit encryption for all clients, or \
                  PutFileSystemPolicy) with Effect Deny, Principal {\"AWS\": \"*\"}, Action \"*\", \
                  Resource the file system ARN and Condition {\"Bool\": \
                  {\"aws:SecureTransport\": \"false\"}}; mount with the EFS mount helper's tls \
                  option.",
    api_calls: &[
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeFileSystemPolicy",
    ],
    params: &[],
};

impl Rule for EfsTlsEnforced {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EfsFileSystem(fs) = &subject.body else {
            return Outcome::not_applicable("not an EFS file system");
        };
        let Some(document) = try_observed!(fs.policy, "the file system policy") else {
            return Outcome::fail(
                "the file system has no policy (the default allows every client, with or \
                 without TLS)",
            )
            .with("file_system_policy", "absent")
            .with("secure_transport_deny", None::<&str>);
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the file system policy cannot be read: {why}"))
                    .with("file_system_policy", "malformed");
            }
        };
        let denial =
            policy.insecure_transport_denial("elasticfilesystem:ClientMount", subject.arn.as_str());
        let rejected: Vec<Value> = denial.rejected.iter().map(|r| r.evidence()).collect();
        let outcome = match denial.enforced_by {
            Some(stmt) => Outcome::pass(format!(
                "statement {} denies mounting to everyone when aws:SecureTransport is false",
                stmt.label()
            ))
            .with("secure_transport_deny", stmt.label()),
            None => {
                Outcome::fail("no file system policy statement denies every client not using TLS")
                    .with("secure_transport_deny", None::<&str>)
                    .with("rejected_statements", rejected)
            }
        };
        outcome.with("file_system_policy", "present")
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::efs::fixtures::*;
    use crate::testing::*;

    fn deny_http(action: Value, condition: Value) -> Value {
        json!({
            "Sid": "DenyPlain",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": action,
            "Resource": "*",
            "Condition": condition
        })
    }

    #[test]
    fn pass_with_secure_transport_deny() {
        let o = expect(
            run(
                &EfsTlsEnforced,
                &fs_with_statement(deny_http(
                    json!("*"),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                )),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["secure_transport_deny"], "DenyPlain");
    }

    #[test]
    fn fail_without_policy_or_with_narrow_deny() {
        let o = expect(run(&EfsTlsEnforced, &fs_resource(fs()), &[]), Status::Fail);
        assert_eq!(o.evidence["file_system_policy"], "absent");
        let o = expect(
            run(
                &EfsTlsEnforced,
                &fs_with_statement(deny_http(
                    json!("elasticfilesystem:ClientWrite"),
                    json!({"Bool": {"aws:SecureTransport": "false"}}),
                )),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["rejected_statements"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn error_when_policy_unreadable() {
        let mut f = fs();
        f.policy = denied("elasticfilesystem:DescribeFileSystemPolicy");
        let o = expect(run(&EfsTlsEnforced, &fs_resource(f), &[]), Status::Error);
        assert!(
            o.reason.contains("DescribeFileSystemPolicy"),
            "{}",
            o.reason
        );
    }
}
