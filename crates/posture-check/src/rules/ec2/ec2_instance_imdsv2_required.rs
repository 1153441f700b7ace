//! `ec2_instance_imdsv2_required`: every instance requires IMDSv2 session tokens (or has
//! the metadata service turned off).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::is_gone;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2InstanceImdsv2Required;

static META: RuleMeta = RuleMeta {
    id: "ec2_instance_imdsv2_required",
    title: "EC2 instance requires IMDSv2",
    severity: Severity::Medium,
    subject: ResourceKind::Instance,
    rationale: "With IMDSv1 allowed, a server-side request forgery or open proxy on the instance can \
                read the instance role's credentials from the metadata service and use them to reach \
                ePHI elsewhere in the account (164.312(a)(1)); IMDSv2 session tokens block that.",
    remediation: "Require session tokens (ModifyInstanceMetadataOptions --http-tokens required), or \
                  turn the metadata service off (--http-endpoint disabled) if the instance does not \
                  use it; set the same in launch templates.",
    api_calls: &["ec2:DescribeInstances"],
    params: &[],
};

impl Rule for Ec2InstanceImdsv2Required {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Instance(instance) = &subject.body else {
            return Outcome::not_applicable("not an EC2 instance");
        };
        let id = &instance.instance_id;
        let state = instance.state.as_deref();
        if is_gone(state) {
            return Outcome::not_applicable(format!(
                "instance {id} is {}",
                state.unwrap_or_default()
            ))
            .with("state", state);
        }
        let tokens = instance.metadata_http_tokens.as_deref();
        let endpoint = instance.metadata_http_endpoint.as_deref();
        if endpoint == Some("disabled") {
            return Outcome::pass(format!("instance {id} has the metadata service disabled"))
                .with("metadata_http_endpoint", endpoint)
                .with("metadata_http_tokens", tokens);
        }
        match tokens {
            Some("required") => {
                Outcome::pass(format!("instance {id} requires IMDSv2 session tokens"))
                    .with("metadata_http_tokens", tokens)
                    .with("metadata_http_endpoint", endpoint)
            }
            Some("optional") => Outcome::fail(format!(
                "instance {id} allows IMDSv1 (metadata HttpTokens is optional)"
            ))
            .with("metadata_http_tokens", tokens)
            .with("metadata_http_endpoint", endpoint),
            Some(other) => Outcome::error(format!(
                "instance {id} reports an unrecognised metadata HttpTokens value {other:?}"
            ))
            .with("metadata_http_tokens", tokens)
            .with("metadata_http_endpoint", endpoint),
            None => Outcome::error(format!(
                "instance {id} reports no metadata options, so whether IMDSv1 is allowed is unknown"
            ))
            .with("metadata_http_tokens", tokens)
            .with("metadata_http_endpoint", endpoint),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_tokens_required() {
        let o = expect(
            run(
                &Ec2InstanceImdsv2Required,
                &instance_resource(instance()),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["metadata_http_tokens"],
            serde_json::json!("required")
        );
    }

    #[test]
    fn pass_when_endpoint_disabled() {
        let mut i = instance();
        i.metadata_http_tokens = Some("optional".into());
        i.metadata_http_endpoint = Some("disabled".into());
        let o = expect(
            run(&Ec2InstanceImdsv2Required, &instance_resource(i), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["metadata_http_endpoint"],
            serde_json::json!("disabled")
        );
    }

    #[test]
    fn fail_when_tokens_optional() {
        let mut i = instance();
        i.metadata_http_tokens = Some("optional".into());
        let o = expect(
            run(&Ec2InstanceImdsv2Required, &instance_resource(i), &[]),
            Status::Fail,
        );
        assert_eq!(
            o.evidence["metadata_http_tokens"],
            serde_json::json!("optional")
        );
        assert!(o.reason.contains("i-1"), "{}", o.reason);
    }

    #[test]
    fn error_when_tokens_unknown() {
        let mut i = instance();
        i.metadata_http_tokens = None;
        let o = expect(
            run(&Ec2InstanceImdsv2Required, &instance_resource(i), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["metadata_http_tokens"], serde_json::Value::Null);
    }

    #[test]
    fn not_applicable_when_terminated() {
        for state in ["terminated", "shutting-down"] {
            let mut i = instance();
            i.state = Some(state.into());
            i.metadata_http_tokens = Some("optional".into());
            let o = expect(
                run(&Ec2InstanceImdsv2Required, &instance_resource(i), &[]),
                Status::NotApplicable,
            );
            assert_eq!(o.evidence["state"], serde_json::json!(state));
        }
    }
}
