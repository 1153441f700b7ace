//! `efs_not_public`: the file system policy grants nothing to everyone, unless a condition
//! restricts who can call or an explicit Deny overrides it (see [`crate::policy`]).
//!
//! Without a policy EFS lets any NFS client that can reach a mount target in the VPC mount
//! it: access is then bounded by the network (mount targets have only private addresses),
//! not opened to the world, so no policy passes, with that noted. Mount targets are not
//! examined.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::policy::{Policy, Target};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct EfsNotPublic;

/// The NFS client actions a file system policy governs.
const CLIENT_ACTIONS: [&str; 3] = [
    "elasticfilesystem:ClientMount",
    "elasticfilesystem:ClientWrite",
    "elasticfilesystem:ClientRootAccess",
];

static META: RuleMeta = RuleMeta {
    id: "efs_not_public",
    title: "EFS file system policy does not grant access to everyone",
    severity: Severity::Critical,
    subject: ResourceKind::EfsFileSystem,
    rationale: "A file system policy that allows Principal \"*\" without a condition restricting \
                who can call lets any AWS principal that reaches a mount target (from a peered \
                or shared network) mount, write or act as root on ePHI (164.312(a)(1)).",
    remediation: "Replace Principal \"*\" with the roles that need the file system, or add a \
                  condition such as aws:PrincipalAccount or aws:SourceVpc: EFS console > file \
                  system > File system policy, or PutFileSystemPolicy.",
    api_calls: &[
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeFileSystemPolicy",
    ],
    params: &[],
};

impl Rule for EfsNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::EfsFileSystem(fs) = &subject.body else {
            return Outcome::not_applicable("not an EFS file system");
        };
        let Some(document) = try_observed!(fs.policy, "the file system policy") else {
            return Outcome::pass(
                "the file system has no policy: only clients that can reach its mount targets \
                 in the VPC can mount it",
            )
            .with("file_system_policy", "absent")
            .with("public_statements", Vec::<Value>::new());
        };
        let policy = match Policy::parse(document) {
            Ok(p) => p,
            Err(why) => {
                return Outcome::error(format!("the file system policy cannot be read: {why}"))
                    .with("file_system_policy", "malformed");
            }
        };
        let arn = subject.arn.as_str();
        let targets: Vec<Target<'_>> = CLIENT_ACTIONS.iter().map(|a| Target::new(a, arn)).collect();
        let exposure = policy.public_access(&targets);
        let public: Vec<Value> = exposure.public.iter().map(|e| e.evidence()).collect();
        let limited: Vec<Value> = exposure.limited.iter().map(|l| l.evidence()).collect();
        let denied: Vec<Value> = exposure.denied.iter().map(|d| d.evidence()).collect();
        let outcome = if public.is_empty() {
            Outcome::pass(
                "no file system policy statement allows everyone without a condition \
                 restricting who can call",
            )
        } else {
            Outcome::fail(format!(
                "the file system policy allows everyone to {}",
                exposure.actions().join(", ")
            ))
        };
        outcome
            .with("file_system_policy", "present")
            .with("public_statements", public)
            .with("limited_statements", limited)
            .with("denied_statements", denied)
            .with("checked_actions", json!(CLIENT_ACTIONS))
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use serde_json::json;

    use super::*;
    use crate::rules::efs::fixtures::*;
    use crate::testing::*;

    fn allow_all(condition: Option<Value>) -> Value {
        let mut s = json!({
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
            "Resource": "*"
        });
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        s
    }

    #[test]
    fn pass_without_policy_or_with_limiting_condition() {
        let o = expect(run(&EfsNotPublic, &fs_resource(fs()), &[]), Status::Pass);
        assert_eq!(o.evidence["file_system_policy"], "absent");
        let o = expect(
            run(
                &EfsNotPublic,
                &fs_with_statement(allow_all(Some(
                    json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}),
                ))),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["limited_statements"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn fail_when_open_to_everyone() {
        let o = expect(
            run(&EfsNotPublic, &fs_with_statement(allow_all(None)), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["public_statements"][0]["statement"], "Open");
        assert!(o.reason.contains("ClientWrite"), "{}", o.reason);
    }

    #[test]
    fn error_when_policy_unreadable() {
        let mut f = fs();
        f.policy = denied("elasticfilesystem:DescribeFileSystemPolicy");
        let o = expect(run(&EfsNotPublic, &fs_resource(f), &[]), Status::Error);
        assert!(
            o.reason
                .contains("elasticfilesystem:DescribeFileSystemPolicy"),
            "{}",
            o.reason
        );
    }
}
