//! GuardDuty rules.

use crate::Rule;

mod guardduty_data_protection_plans;
mod guardduty_enabled;
mod guardduty_no_unresolved_high_findings;

/// The GuardDuty rules.
pub const RULES: &[&dyn Rule] = &[
    &guardduty_data_protection_plans::GuarddutyDataProtectionPlans,
    &guardduty_enabled::GuarddutyEnabled,
    &guardduty_no_unresolved_high_findings::GuarddutyNoUnresolvedHighFindings,
];

/// Fixtures shared by the GuardDuty rule tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use posture_model::resources::{
        GuardDutyDetector, GuardDutyDetectorDetails, GuardDutyFinding, GuardDutyFindingSample,
        RegionInfo,
    };
    use posture_model::{Observed, Region, Resource, ResourceBody};

    use crate::testing::resource;

    /// An enabled detector with S3 and RDS protection on and no open high findings.
    pub(crate) fn detector() -> GuardDutyDetector {
        GuardDutyDetector {
            detector_id: "12abc34d567e8fa901bc2d34e56789f0".into(),
            details: Observed::Collected(GuardDutyDetectorDetails {
                status: "ENABLED".into(),
                finding_publishing_frequency: Some("SIX_HOURS".into()),
                features: BTreeMap::from([
                    ("S3_DATA_EVENTS".to_owned(), "ENABLED".to_owned()),
                    ("RDS_LOGIN_EVENTS".to_owned(), "ENABLED".to_owned()),
                    ("EKS_AUDIT_LOGS".to_owned(), "DISABLED".to_owned()),
                ]),
                updated_at: None,
            }),
            administrator: Observed::Absent,
            high_severity_findings: Observed::Collected(GuardDutyFindingSample {
                count: 0,
                count_capped: false,
                sample: vec![],
            }),
        }
    }

    /// A high-severity finding.
    pub(crate) fn high_finding(id: &str, severity: f64) -> GuardDutyFinding {
        GuardDutyFinding {
            id: id.into(),
            finding_type: "UnauthorizedAccess:EC2/SSHBruteForce".into(),
            severity,
            title: Some("SSH brute force attacks against i-0abc".into()),
            resource_type: Some("Instance".into()),
            updated_at: Some("2026-05-30T10:00:00.000Z".into()),
        }
    }

    /// Sets the detector's status.
    pub(crate) fn with_status(mut d: GuardDutyDetector, status: &str) -> GuardDutyDetector {
        if let Observed::Collected(details) = &mut d.details {
            details.status = status.into();
        }
        d
    }

    /// A detector resource in `region` of the fixture account.
    pub(crate) fn detector_in(region: &str, d: GuardDutyDetector) -> Resource {
        resource(
            &format!(
                "arn:aws:guardduty:{region}:111122223333:detector/{}",
                d.detector_id
            ),
            Region::new(region).expect("valid region"),
            ResourceBody::GuardDutyDetector(d),
        )
    }

    /// A detector resource in the fixture region.
    pub(crate) fn detector_resource(d: GuardDutyDetector) -> Resource {
        detector_in("us-east-1", d)
    }

    /// A region of the fixture account as a subject.
    pub(crate) fn region_subject(name: &str) -> Resource {
        let r = Region::new(name).expect("valid region");
        resource(
            &format!("arn:aws:ec2:{name}:111122223333:region/{name}"),
            r.clone(),
            ResourceBody::Region(RegionInfo { name: r }),
        )
    }
}
