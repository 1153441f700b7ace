//! `guardduty_data_protection_plans`: the detector's S3 Protection and RDS Protection plans
//! are on, so access to the data stores that hold ePHI is monitored.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct GuarddutyDataProtectionPlans;

/// The protection plans required, as GuardDuty names them, with their console names.
const PLANS: &[(&str, &str)] = &[
    ("S3_DATA_EVENTS", "S3 Protection"),
    ("RDS_LOGIN_EVENTS", "RDS Protection"),
];

static META: RuleMeta = RuleMeta {
    id: "guardduty_data_protection_plans",
    title: "GuardDuty S3 Protection and RDS Protection are enabled",
    severity: Severity::Medium,
    subject: ResourceKind::GuardDutyDetector,
    rationale: "GuardDuty's foundational detection does not read S3 data events or RDS login \
                activity; without S3 Protection and RDS Protection, anomalous access to the \
                buckets and databases that hold ePHI is not detected (164.308(a)(1)(ii)(D), \
                164.308(a)(5)(ii)(C)).",
    remediation: "Turn on S3 Protection and RDS Protection for the detector (GuardDuty console \
                  > Protection plans, or UpdateDetector with Features S3_DATA_EVENTS and \
                  RDS_LOGIN_EVENTS set to ENABLED); in an organization, auto-enable them for \
                  members.",
    api_calls: &["guardduty:ListDetectors", "guardduty:GetDetector"],
    params: &[],
};

impl Rule for GuarddutyDataProtectionPlans {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::GuardDutyDetector(detector) = &subject.body else {
            return Outcome::not_applicable("not a GuardDuty detector");
        };
        let Some(details) = try_observed!(detector.details, "the GuardDuty detector") else {
            return Outcome::error(format!(
                "GetDetector found no detector {}",
                detector.detector_id
            ))
            .with("detector_id", &detector.detector_id);
        };
        let plans: serde_json::Map<String, serde_json::Value> = PLANS
            .iter()
            .map(|(feature, _)| {
                let status = details
                    .features
                    .get(*feature)
                    .map_or("not reported", String::as_str);
                ((*feature).to_owned(), status.into())
            })
            .collect();
        let described = |o: Outcome| {
            o.with("detector_id", &detector.detector_id)
                .with("detector_status", &details.status)
                .with("plans", &plans)
        };
        if !details.is_enabled() {
            return described(Outcome::fail(format!(
                "detector {} is {}, so no protection plan is active",
                detector.detector_id, details.status
            )));
        }
        // A plan GetDetector does not list is not offered in the region (RDS Protection is
        // not available everywhere): nothing to enable there.
        let offered: Vec<&(&str, &str)> = PLANS
            .iter()
            .filter(|(feature, _)| details.features.contains_key(*feature))
            .collect();
        if offered.is_empty() {
            return described(Outcome::error(format!(
                "detector {} lists no S3 or RDS protection plan, so their state is unknown",
                detector.detector_id
            )));
        }
        let off: Vec<&str> = offered
            .iter()
            .filter(|(feature, _)| !details.feature_enabled(feature))
            .map(|(_, name)| *name)
            .collect();
        if off.is_empty() {
            let names: Vec<&str> = offered.iter().map(|(_, name)| *name).collect();
            described(Outcome::pass(format!(
                "{} enabled on detector {}",
                names.join(" and "),
                detector.detector_id
            )))
        } else {
            described(Outcome::fail(format!(
                "{} not enabled on detector {}",
                off.join(" and "),
                detector.detector_id
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::guardduty::fixtures::*;
    use crate::testing::*;

    fn with_feature(feature: &str, status: Option<&str>) -> Resource {
        let mut d = detector();
        if let Observed::Collected(details) = &mut d.details {
            match status {
                Some(s) => details.features.insert(feature.into(), s.into()),
                None => details.features.remove(feature),
            };
        }
        detector_resource(d)
    }

    #[test]
    fn pass_when_s3_and_rds_protection_are_on() {
        let o = expect(
            run(
                &GuarddutyDataProtectionPlans,
                &detector_resource(detector()),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["plans"]["S3_DATA_EVENTS"], "ENABLED");
        assert_eq!(o.evidence["plans"]["RDS_LOGIN_EVENTS"], "ENABLED");
    }

    #[test]
    fn fail_when_rds_protection_is_off() {
        let o = expect(
            run(
                &GuarddutyDataProtectionPlans,
                &with_feature("RDS_LOGIN_EVENTS", Some("DISABLED")),
                &[],
            ),
            Status::Fail,
        );
        assert!(
            o.reason.starts_with("RDS Protection not enabled"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn pass_when_a_plan_is_not_offered_in_the_region() {
        let o = expect(
            run(
                &GuarddutyDataProtectionPlans,
                &with_feature("RDS_LOGIN_EVENTS", None),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["plans"]["RDS_LOGIN_EVENTS"], "not reported");
    }

    #[test]
    fn fail_when_the_detector_is_suspended() {
        let o = expect(
            run(
                &GuarddutyDataProtectionPlans,
                &detector_resource(with_status(detector(), "DISABLED")),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["detector_status"], "DISABLED");
    }

    #[test]
    fn error_when_the_detector_could_not_be_read() {
        let mut d = detector();
        d.details = denied("guardduty:GetDetector");
        let o = expect(
            run(&GuarddutyDataProtectionPlans, &detector_resource(d), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("guardduty:GetDetector"), "{}", o.reason);
    }
}
