//! `ec2_launch_template_imdsv2`: a launch template's default version requires IMDSv2 (or
//! turns the metadata service off), itself or through the region's metadata defaults.

use posture_model::resources::LaunchTemplateVersion;
use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2LaunchTemplateImdsv2;

static META: RuleMeta = RuleMeta {
    id: "ec2_launch_template_imdsv2",
    title: "Launch template's default version requires IMDSv2",
    severity: Severity::Medium,
    subject: ResourceKind::LaunchTemplate,
    rationale: "Instances launched from a template that allows IMDSv1 expose their role \
                credentials to server-side request forgery, through which ePHI elsewhere in the \
                account can be reached (164.312(a)(1)).",
    remediation: "Create a template version with MetadataOptions HttpTokens=required \
                  (aws ec2 create-launch-template-version --launch-template-id ID \
                  --source-version $Default --launch-template-data \
                  '{\"MetadataOptions\":{\"HttpTokens\":\"required\"}}') and make it the \
                  default (aws ec2 modify-launch-template --default-version N); or require \
                  IMDSv2 in the region's instance metadata defaults.",
    api_calls: &[
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceMetadataDefaults",
    ],
    params: &[],
};

impl Rule for Ec2LaunchTemplateImdsv2 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LaunchTemplate(template) = &subject.body else {
            return Outcome::not_applicable("not a launch template");
        };
        let name = &template.name;
        let versions = try_observed!(template.versions, "the launch template's versions");
        let versions = versions.map(Vec::as_slice).unwrap_or_default();
        let Some(default) = default_version(versions, template.default_version_number) else {
            return Outcome::error(format!(
                "the default version of launch template {name} was not returned"
            ))
            .with("default_version_number", template.default_version_number);
        };
        let tokens = default.metadata_http_tokens.as_deref();
        let endpoint = default.metadata_http_endpoint.as_deref();
        let v = default.version_number;
        let base = |o: Outcome| {
            o.with("default_version_number", v)
                .with("metadata_http_tokens", tokens)
                .with("metadata_http_endpoint", endpoint)
        };
        if endpoint == Some("disabled") {
            return base(Outcome::pass(format!(
                "launch template {name} version {v} disables the metadata service"
            )));
        }
        match tokens {
            Some("required") => base(Outcome::pass(format!(
                "launch template {name} version {v} requires IMDSv2"
            ))),
            Some(other) => base(Outcome::fail(format!(
                "launch template {name} version {v} sets HttpTokens {other}: IMDSv1 is allowed"
            ))),
            None => {
                let defaults = ctx
                    .resources(
                        ResourceKind::InstanceMetadataDefaults,
                        &subject.account,
                        &subject.region,
                    )
                    .find_map(|r| match &r.body {
                        ResourceBody::InstanceMetadataDefaults(d) => Some(&d.defaults),
                        _ => None,
                    });
                match defaults {
                    Some(Observed::Collected(d))
                        if d.http_tokens.as_deref() == Some("required") =>
                    {
                        base(Outcome::pass(format!(
                            "launch template {name} version {v} sets no HttpTokens and the \
                             region's metadata defaults require IMDSv2"
                        )))
                        .with("region_default_http_tokens", "required")
                    }
                    Some(Observed::Unavailable(why)) => base(Outcome::unavailable(
                        "the region's instance metadata defaults, which this template inherits,",
                        why,
                    )),
                    None => base(Outcome::error(format!(
                        "launch template {name} version {v} sets no HttpTokens and the region's \
                         instance metadata defaults were not collected"
                    ))),
                    Some(other) => {
                        let region_tokens = match other {
                            Observed::Collected(d) => d.http_tokens.clone(),
                            _ => None,
                        };
                        base(Outcome::fail(format!(
                            "launch template {name} version {v} sets no HttpTokens and the \
                             region's metadata defaults do not require IMDSv2"
                        )))
                        .with("region_default_http_tokens", region_tokens)
                    }
                }
            }
        }
    }
}

/// The default version among those collected.
pub(super) fn default_version(
    versions: &[LaunchTemplateVersion],
    number: Option<i64>,
) -> Option<&LaunchTemplateVersion> {
    versions
        .iter()
        .find(|v| v.is_default || Some(v.version_number) == number)
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::{ImdsDefaults, InstanceMetadataDefaults};

    use super::*;
    use crate::rules::ec2::fixtures::*;
    use crate::testing::*;

    fn region_defaults(tokens: Option<&str>) -> Resource {
        resource(
            &format!("{EC2_ARN}:instance-metadata-defaults"),
            region(),
            ResourceBody::InstanceMetadataDefaults(InstanceMetadataDefaults {
                defaults: Observed::Collected(ImdsDefaults {
                    http_tokens: tokens.map(str::to_owned),
                    http_endpoint: None,
                    http_put_response_hop_limit: None,
                }),
            }),
        )
    }

    #[test]
    fn pass_when_required() {
        let o = expect(
            run(
                &Ec2LaunchTemplateImdsv2,
                &launch_template_resource(Some("required"), None),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["metadata_http_tokens"], "required");
    }

    #[test]
    fn pass_when_unset_and_region_requires() {
        let o = expect(
            run(
                &Ec2LaunchTemplateImdsv2,
                &launch_template_resource(None, None),
                &[region_defaults(Some("required"))],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["region_default_http_tokens"], "required");
    }

    #[test]
    fn fail_when_optional() {
        let o = expect(
            run(
                &Ec2LaunchTemplateImdsv2,
                &launch_template_resource(Some("optional"), None),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("IMDSv1"), "{}", o.reason);
    }

    #[test]
    fn fail_when_unset_and_region_has_no_default() {
        let o = expect(
            run(
                &Ec2LaunchTemplateImdsv2,
                &launch_template_resource(None, None),
                &[region_defaults(None)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["metadata_http_tokens"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_unset_and_region_defaults_unavailable() {
        let mut d = region_defaults(None);
        d.body = ResourceBody::InstanceMetadataDefaults(InstanceMetadataDefaults {
            defaults: denied("ec2:GetInstanceMetadataDefaults"),
        });
        let o = expect(
            run(
                &Ec2LaunchTemplateImdsv2,
                &launch_template_resource(None, None),
                &[d],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("inherits"), "{}", o.reason);
    }

    #[test]
    fn error_when_versions_unavailable() {
        let mut r = launch_template_resource(Some("required"), None);
        if let ResourceBody::LaunchTemplate(t) = &mut r.body {
            t.versions = denied("ec2:DescribeLaunchTemplateVersions");
        }
        let o = expect(run(&Ec2LaunchTemplateImdsv2, &r, &[]), Status::Error);
        assert!(
            o.reason.contains("ec2:DescribeLaunchTemplateVersions"),
            "{}",
            o.reason
        );
    }
}
