//! `ec2_account_imdsv2_default`: the region's instance metadata defaults require IMDSv2
//! (or turn the metadata service off) for new instances.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2AccountImdsv2Default;

static META: RuleMeta = RuleMeta {
    id: "ec2_account_imdsv2_default",
    title: "Region's instance metadata defaults require IMDSv2",
    severity: Severity::Medium,
    subject: ResourceKind::InstanceMetadataDefaults,
    rationale: "Without an account-level default, every instance launched without explicit \
                metadata options allows IMDSv1, whose credentials a server-side request forgery \
                can read and use to reach ePHI (164.312(a)(1)); the default makes IMDSv2 the \
                access control for new workloads (164.308(a)(3)(i)).",
    remediation: "Set the region's default: aws ec2 modify-instance-metadata-defaults \
                  --http-tokens required (EC2 console > Dashboard > Account attributes > Data \
                  protection and security > IMDS defaults), in every region in use.",
    api_calls: &["ec2:GetInstanceMetadataDefaults"],
    params: &[],
};

impl Rule for Ec2AccountImdsv2Default {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::InstanceMetadataDefaults(settings) = &subject.body else {
            return Outcome::not_applicable("not the instance metadata defaults");
        };
        let region = subject.region.as_str();
        let defaults = try_observed!(settings.defaults, "the instance metadata defaults");
        let tokens = defaults.and_then(|d| d.http_tokens.as_deref());
        let endpoint = defaults.and_then(|d| d.http_endpoint.as_deref());
        let outcome = if tokens == Some("required") {
            Outcome::pass(format!(
                "new instances in {region} require IMDSv2 by default (HttpTokens required)"
            ))
        } else if endpoint == Some("disabled") {
            Outcome::pass(format!(
                "new instances in {region} have the metadata service disabled by default"
            ))
        } else {
            Outcome::fail(match tokens {
                Some(t) => format!("the default HttpTokens in {region} is {t}, not required"),
                None => format!(
                    "{region} sets no default HttpTokens: instances launched without metadata \
                     options allow IMDSv1 unless their AMI requires IMDSv2"
                ),
            })
        };
        outcome
            .with("region", region)
            .with("http_tokens", tokens)
            .with("http_endpoint", endpoint)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{ImdsDefaults, InstanceMetadataDefaults};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn defaults(tokens: Option<&str>, endpoint: Option<&str>) -> Resource {
        imds_defaults_resource(Observed::Collected(ImdsDefaults {
            http_tokens: tokens.map(str::to_owned),
            http_endpoint: endpoint.map(str::to_owned),
            http_put_response_hop_limit: None,
        }))
    }

    fn imds_defaults_resource(defaults: Observed<ImdsDefaults>) -> Resource {
        resource(
            &format!("{EC2_ARN}:instance-metadata-defaults"),
            region(),
            ResourceBody::InstanceMetadataDefaults(InstanceMetadataDefaults { defaults }),
        )
    }

    #[test]
    fn pass_when_required() {
        let o = expect(
            run(
                &Ec2AccountImdsv2Default,
                &defaults(Some("required"), None),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["http_tokens"], "required");
    }

    #[test]
    fn pass_when_endpoint_disabled() {
        let o = expect(
            run(
                &Ec2AccountImdsv2Default,
                &defaults(None, Some("disabled")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["http_endpoint"], "disabled");
    }

    #[test]
    fn fail_when_unset_or_optional() {
        let o = expect(
            run(&Ec2AccountImdsv2Default, &defaults(None, None), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no default"), "{}", o.reason);
        let o = expect(
            run(
                &Ec2AccountImdsv2Default,
                &defaults(Some("optional"), None),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["http_tokens"], "optional");
    }

    #[test]
    fn error_when_unavailable() {
        let o = expect(
            run(
                &Ec2AccountImdsv2Default,
                &imds_defaults_resource(denied("ec2:GetInstanceMetadataDefaults")),
                &[],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("ec2:GetInstanceMetadataDefaults"),
            "{}",
            o.reason
        );
    }
}
