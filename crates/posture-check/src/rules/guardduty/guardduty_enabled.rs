//! `guardduty_enabled`: a GuardDuty detector is enabled in every scanned region, optionally
//! managed by a delegated administrator account.

use posture_model::resources::GuardDutyDetector;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::rule::{ParamSpec, ParamType};
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct GuarddutyEnabled;

static META: RuleMeta = RuleMeta {
    id: "guardduty_enabled",
    title: "GuardDuty is enabled in the region",
    severity: Severity::High,
    subject: ResourceKind::Region,
    rationale: "GuardDuty watches CloudTrail, VPC flow and DNS logs for compromised credentials, \
                instances and data access; without it in a region, attacks on ePHI systems \
                there go unnoticed. It is the detection half of security incident procedures \
                and information system activity review (164.308(a)(1)(ii)(D), \
                164.308(a)(6)(i)-(ii), 164.312(b)).",
    remediation: "Enable GuardDuty in the region (GuardDuty console > Get started, or \
                  CreateDetector with Enable=true); in an organization, designate a delegated \
                  administrator and auto-enable member accounts in every region.",
    api_calls: &[
        "guardduty:ListDetectors",
        "guardduty:GetDetector",
        "guardduty:GetAdministratorAccount",
    ],
    params: &[ParamSpec {
        name: "require_administrator",
        ty: ParamType::Boolean,
        default: "false",
        doc: "Also require that the detector is managed by a delegated GuardDuty \
              administrator account (organizations that manage GuardDuty centrally).",
    }],
};

impl Rule for GuarddutyEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let detectors: Vec<(&Resource, &GuardDutyDetector)> = ctx
            .resources(
                ResourceKind::GuardDutyDetector,
                &subject.account,
                &info.name,
            )
            .filter_map(|r| match &r.body {
                ResourceBody::GuardDutyDetector(d) => Some((r, d)),
                _ => None,
            })
            .collect();
        let Some((resource, detector)) = detectors.first() else {
            return Outcome::fail(format!("no GuardDuty detector exists in {region}"))
                .with("region", region)
                .with("detector", "none");
        };
        let Some(details) = try_observed!(detector.details, "the GuardDuty detector") else {
            return Outcome::error(format!(
                "GetDetector found no detector {} in {region}",
                detector.detector_id
            ))
            .with("detector_id", &detector.detector_id);
        };
        let described = |o: Outcome| {
            o.with("region", region)
                .with("detector_id", &detector.detector_id)
                .with("detector_arn", resource.arn.as_str())
                .with("status", &details.status)
                .with(
                    "finding_publishing_frequency",
                    &details.finding_publishing_frequency,
                )
        };
        if !details.is_enabled() {
            return described(Outcome::fail(format!(
                "GuardDuty detector {} in {region} is {}",
                detector.detector_id, details.status
            )));
        }
        if !ctx.bool("require_administrator") {
            let admin = match detector.administrator.get() {
                Ok(Some(a)) => a.account_id.clone(),
                Ok(None) => "none (managed in this account)".to_owned(),
                Err(u) => format!("unknown ({})", u.operation),
            };
            return described(Outcome::pass(format!(
                "GuardDuty detector {} is enabled in {region}",
                detector.detector_id
            )))
            .with("administrator", admin);
        }
        match try_observed!(
            detector.administrator,
            "the detector's GuardDuty administrator"
        ) {
            // Invited, Removed, Resigned...: nobody manages the detector.
            Some(admin) if admin.relationship_status.as_deref() != Some("Enabled") => {
                described(Outcome::fail(format!(
                    "GuardDuty detector {} in {region} names administrator {} but the \
                     relationship is {}",
                    detector.detector_id,
                    admin.account_id,
                    admin.relationship_status.as_deref().unwrap_or("unknown")
                )))
                .with("administrator", &admin.account_id)
                .with("relationship_status", &admin.relationship_status)
            }
            Some(admin) => described(Outcome::pass(format!(
                "GuardDuty detector {} is enabled in {region} and managed by administrator \
                 account {}",
                detector.detector_id, admin.account_id
            )))
            .with("administrator", &admin.account_id)
            .with("relationship_status", &admin.relationship_status),
            None => described(Outcome::fail(format!(
                "GuardDuty detector {} in {region} is enabled but not managed by a delegated \
                 administrator account",
                detector.detector_id
            )))
            .with("administrator", "none"),
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::GuardDutyAdministrator;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::baseline::ParamValue;
    use crate::rules::guardduty::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_the_detector_is_enabled() {
        let o = expect(
            run(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_resource(detector())],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["status"], "ENABLED");
        assert_eq!(
            o.evidence["administrator"],
            "none (managed in this account)"
        );
    }

    #[test]
    fn fail_when_no_detector_exists_in_the_region() {
        // A detector in another region does not cover this one.
        let o = expect(
            run(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_in("us-west-2", detector())],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["detector"], "none");
        assert!(o.reason.contains("us-east-1"), "{}", o.reason);
    }

    #[test]
    fn fail_when_the_detector_is_suspended() {
        let o = expect(
            run(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_resource(with_status(detector(), "DISABLED"))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["status"], "DISABLED");
    }

    #[test]
    fn error_when_the_detector_could_not_be_read() {
        let mut d = detector();
        d.details = denied("guardduty:GetDetector");
        let o = expect(
            run(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_resource(d)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("guardduty:GetDetector"), "{}", o.reason);
    }

    #[test]
    fn error_when_listing_detectors_failed() {
        let region = region_subject("us-east-1");
        let baseline = baseline_of(&GuarddutyEnabled);
        let coverage = posture_model::Coverage {
            failed: vec![list_gap("guardduty:ListDetectors", region.region.clone())],
            ..Default::default()
        };
        let findings = evaluate(&[region], &coverage, &baseline, now());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].status, Status::Error, "{findings:?}");
        assert!(
            findings[0]
                .reason
                .contains("guardduty:ListDetectors failed in 111122223333/us-east-1"),
            "{}",
            findings[0].reason
        );
        assert_eq!(
            findings[0].evidence["gap"]["operation"],
            "guardduty:ListDetectors"
        );
    }

    #[test]
    fn error_not_fail_when_guardduty_was_left_out_of_the_scan() {
        // The scan collected EC2 in the region but not GuardDuty: no detector proves nothing.
        let region = region_subject("us-east-1");
        let coverage = posture_model::Coverage {
            collected: vec![posture_model::CollectionRecord {
                account: account(),
                region: region.region.clone(),
                service: "ec2".into(),
                resources: 3,
                complete: true,
            }],
            ..Default::default()
        };
        let findings = evaluate(&[region], &coverage, &baseline_of(&GuarddutyEnabled), now());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].status, Status::Error, "{findings:?}");
        assert!(
            findings[0].reason.contains("guardduty was not collected"),
            "{}",
            findings[0].reason
        );
    }

    #[test]
    fn administrator_required_when_configured() {
        let mut params = crate::Params::defaults(&GuarddutyEnabled);
        params.set("require_administrator", ParamValue::Boolean(true));
        let o = expect(
            run_with(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_resource(detector())],
                &params,
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["administrator"], "none");

        let mut managed = detector();
        managed.administrator = Observed::Collected(GuardDutyAdministrator {
            account_id: "999988887777".into(),
            relationship_status: Some("Enabled".into()),
        });
        let o = expect(
            run_with(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_resource(managed)],
                &params,
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["administrator"], "999988887777");

        let mut removed = detector();
        removed.administrator = Observed::Collected(GuardDutyAdministrator {
            account_id: "999988887777".into(),
            relationship_status: Some("Removed".into()),
        });
        let o = expect(
            run_with(
                &GuarddutyEnabled,
                &region_subject("us-east-1"),
                &[detector_resource(removed)],
                &params,
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["relationship_status"], "Removed");
    }
}
