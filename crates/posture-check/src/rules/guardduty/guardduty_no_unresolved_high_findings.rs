//! `guardduty_no_unresolved_high_findings`: a detector has no unarchived findings of high
//! severity (7.0 and above).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct GuarddutyNoUnresolvedHighFindings;

static META: RuleMeta = RuleMeta {
    id: "guardduty_no_unresolved_high_findings",
    title: "GuardDuty has no open high-severity findings",
    severity: Severity::High,
    subject: ResourceKind::GuardDutyDetector,
    rationale: "A high-severity GuardDuty finding is a suspected security incident (credential \
                compromise, data exfiltration, a controlled instance); left open it is an \
                incident neither responded to nor documented (164.308(a)(6)(ii), 164.312(b)).",
    remediation: "Investigate each finding (GuardDuty console > Findings, severity High), \
                  contain and remediate, document the response, then archive it; suppression \
                  rules are for confirmed false positives only.",
    api_calls: &[
        "guardduty:ListDetectors",
        "guardduty:ListFindings",
        "guardduty:GetFindings",
    ],
    params: &[],
};

impl Rule for GuarddutyNoUnresolvedHighFindings {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::GuardDutyDetector(detector) = &subject.body else {
            return Outcome::not_applicable("not a GuardDuty detector");
        };
        let Some(found) = try_observed!(
            detector.high_severity_findings,
            "the detector's high-severity findings"
        ) else {
            return Outcome::error("ListFindings returned no answer for the detector")
                .with("detector_id", &detector.detector_id);
        };
        let outcome = if found.count == 0 {
            Outcome::pass(format!(
                "detector {} has no unarchived findings of severity 7 or more",
                detector.detector_id
            ))
        } else {
            let at_least = if found.count_capped { "at least " } else { "" };
            let top = found
                .sample
                .first()
                .map(|f| format!("; highest: {} ({:.1})", f.finding_type, f.severity))
                .unwrap_or_default();
            Outcome::fail(format!(
                "detector {} has {at_least}{} unarchived high-severity finding(s){top}",
                detector.detector_id, found.count
            ))
        };
        outcome
            .with("detector_id", &detector.detector_id)
            .with("open_high_findings", found.count)
            .with("count_capped", found.count_capped)
            .with("findings", &found.sample)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::GuardDutyFindingSample;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::guardduty::fixtures::*;
    use crate::testing::*;

    fn with_findings(count: u64, capped: bool) -> Resource {
        let mut d = detector();
        d.high_severity_findings = Observed::Collected(GuardDutyFindingSample {
            count,
            count_capped: capped,
            sample: vec![high_finding("f1", 8.5), high_finding("f2", 7.0)],
        });
        detector_resource(d)
    }

    #[test]
    fn pass_when_no_high_findings_are_open() {
        let o = expect(
            run(
                &GuarddutyNoUnresolvedHighFindings,
                &detector_resource(detector()),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["open_high_findings"], 0);
    }

    #[test]
    fn fail_lists_the_open_findings() {
        let o = expect(
            run(
                &GuarddutyNoUnresolvedHighFindings,
                &with_findings(2, false),
                &[],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["open_high_findings"], 2);
        assert_eq!(o.evidence["findings"][0]["id"], "f1");
        assert!(o.reason.contains("SSHBruteForce (8.5)"), "{}", o.reason);
    }

    #[test]
    fn fail_says_when_the_count_is_a_lower_bound() {
        let o = expect(
            run(
                &GuarddutyNoUnresolvedHighFindings,
                &with_findings(1000, true),
                &[],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("at least 1000"), "{}", o.reason);
        assert_eq!(o.evidence["count_capped"], true);
    }

    #[test]
    fn error_when_findings_could_not_be_listed() {
        let mut d = detector();
        d.high_severity_findings = denied("guardduty:ListFindings");
        let o = expect(
            run(
                &GuarddutyNoUnresolvedHighFindings,
                &detector_resource(d),
                &[],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("guardduty:ListFindings"), "{}", o.reason);
    }
}
