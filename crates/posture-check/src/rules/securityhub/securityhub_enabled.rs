//! `securityhub_enabled`: Security Hub is enabled in the region with at least one security
//! standard ready.

use posture_model::resources::SecurityHub;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct SecurityhubEnabled;

static META: RuleMeta = RuleMeta {
    id: "securityhub_enabled",
    title: "Security Hub is enabled with a security standard in the region",
    severity: Severity::Medium,
    subject: ResourceKind::Region,
    rationale: "Security Hub gathers GuardDuty, Inspector, Macie and Config findings and \
                checks controls continuously; without it, security incidents and drift in a \
                region are reviewed only service by service, if at all \
                (164.308(a)(1)(ii)(D), 164.308(a)(5)(ii)(C), 164.308(a)(6)(ii)).",
    remediation: "Enable Security Hub in the region (Security Hub console > Go to Security Hub, \
                  or EnableSecurityHub) with the AWS Foundational Security Best Practices \
                  standard (BatchEnableStandards); in an organization use central \
                  configuration from the delegated administrator.",
    api_calls: &["securityhub:DescribeHub", "securityhub:GetEnabledStandards"],
    params: &[],
};

impl Rule for SecurityhubEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let hub: Option<(&Resource, &SecurityHub)> = ctx
            .resources(ResourceKind::SecurityHub, &subject.account, &info.name)
            .find_map(|r| match &r.body {
                ResourceBody::SecurityHub(h) => Some((r, h)),
                _ => None,
            });
        let Some((hub_resource, hub)) = hub else {
            return Outcome::fail(format!("Security Hub is not enabled in {region}"))
                .with("region", region)
                .with("hub", "none");
        };
        let standards = match hub.standards.get() {
            Ok(s) => s.map(Vec::as_slice).unwrap_or_default(),
            Err(why) => {
                return Outcome::unavailable("the hub's enabled standards", why)
                    .with("region", region)
                    .with("hub", hub_resource.arn.as_str());
            }
        };
        let ready: Vec<&str> = standards
            .iter()
            .filter(|s| s.status == "READY")
            .map(|s| s.standards_arn.as_str())
            .collect();
        let outcome = if ready.is_empty() {
            Outcome::fail(format!(
                "Security Hub is enabled in {region} but no security standard is ready"
            ))
        } else {
            Outcome::pass(format!(
                "Security Hub is enabled in {region} with {} standard(s) ready",
                ready.len()
            ))
        };
        outcome
            .with("region", region)
            .with("hub", hub_resource.arn.as_str())
            .with("subscribed_at", &hub.subscribed_at)
            .with("standards", standards)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{RegionInfo, SecurityHubStandard};
    use posture_model::{Observed, Region, Status};

    use super::*;
    use crate::testing::*;

    const FSBP: &str =
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0";

    fn hub(standards: Observed<Vec<SecurityHubStandard>>) -> Resource {
        resource(
            "arn:aws:securityhub:us-east-1:111122223333:hub/default",
            region(),
            ResourceBody::SecurityHub(SecurityHub {
                subscribed_at: Some("2026-01-01T00:00:00Z".into()),
                auto_enable_controls: Some(true),
                standards,
            }),
        )
    }

    fn standard(status: &str) -> Observed<Vec<SecurityHubStandard>> {
        Observed::Collected(vec![SecurityHubStandard {
            standards_arn: FSBP.into(),
            status: status.into(),
        }])
    }

    fn region_subject() -> Resource {
        let r = Region::new("us-east-1").expect("valid");
        resource(
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
            r.clone(),
            ResourceBody::Region(RegionInfo { name: r }),
        )
    }

    #[test]
    fn pass_with_a_ready_standard() {
        let o = expect(
            run(
                &SecurityhubEnabled,
                &region_subject(),
                &[hub(standard("READY"))],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["standards"][0]["standards_arn"], FSBP);
    }

    #[test]
    fn fail_when_off_or_without_a_ready_standard() {
        let o = expect(
            run(&SecurityhubEnabled, &region_subject(), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["hub"], "none");
        expect(
            run(
                &SecurityhubEnabled,
                &region_subject(),
                &[hub(standard("FAILED"))],
            ),
            Status::Fail,
        );
        expect(
            run(
                &SecurityhubEnabled,
                &region_subject(),
                &[hub(Observed::Collected(vec![]))],
            ),
            Status::Fail,
        );
    }

    #[test]
    fn error_when_standards_could_not_be_read() {
        let o = expect(
            run(
                &SecurityhubEnabled,
                &region_subject(),
                &[hub(denied("securityhub:GetEnabledStandards"))],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("securityhub:GetEnabledStandards"),
            "{}",
            o.reason
        );
    }
}
