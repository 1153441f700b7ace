//! `cloudtrail_insights`: some logging trail of the account has CloudTrail Insights enabled
//! (`ApiCallRateInsight` or `ApiErrorRateInsight`), so unusual API activity is detected.
//!
//! Subject: the account (Insights on one logging trail is enough, as for the data-event
//! rules). A trail whose status or insight selectors could not be read, or a failed
//! `DescribeTrails`, makes the result `Error` unless a compliant trail was seen.

use posture_model::{Resource, ResourceKind, Severity};

use super::trails::{self, Known};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailInsights;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_insights",
    title: "CloudTrail Insights is enabled on a logging trail",
    severity: Severity::Low,
    subject: ResourceKind::Account,
    rationale: "CloudTrail Insights flags unusual rates of API calls and errors (a burst of \
                GetObject or Decrypt calls, mass deletions, repeated access denials) that \
                manual log review tends to miss: it supports the regular review of \
                information system activity (164.308(a)(1)(ii)(D)) and log-in and activity \
                monitoring (164.308(a)(5)(ii)(C)).",
    remediation: "Enable Insights on a logging (preferably multi-region) trail: CloudTrail \
                  console > trail > Insights events, or PutInsightSelectors with \
                  ApiCallRateInsight and ApiErrorRateInsight.",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetInsightSelectors",
    ],
    params: &[],
};

impl Rule for CloudtrailInsights {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        trails::some_logging_trail(
            subject,
            ctx,
            "insights",
            "has CloudTrail Insights enabled",
            "insight selectors",
            |t| -> Known<'_> {
                trails::known(&t.insight_selectors, |s| s.is_some_and(|s| !s.is_empty()))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn with_insights(name: &str, insights: Observed<Vec<String>>) -> Resource {
        let mut t = trail(name);
        t.is_multi_region = true;
        t.insight_selectors = insights;
        trail_resource(t)
    }

    #[test]
    fn pass_when_a_logging_trail_has_insights() {
        let o = expect(
            run(
                &CloudtrailInsights,
                &account_subject(),
                &[
                    with_insights("plain", Observed::Absent),
                    with_insights(
                        "watch",
                        Observed::Collected(vec!["ApiCallRateInsight".into()]),
                    ),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["compliant_trail"], "watch");
    }

    #[test]
    fn fail_when_only_a_stopped_trail_has_insights() {
        let mut t = trail("stopped");
        t.insight_selectors = Observed::Collected(vec!["ApiErrorRateInsight".into()]);
        t.status = Observed::Absent;
        let o = expect(
            run(
                &CloudtrailInsights,
                &account_subject(),
                &[trail_resource(t), with_insights("plain", Observed::Absent)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["trails"].as_array().map(Vec::len), Some(2));
        let o = expect(
            run(&CloudtrailInsights, &account_subject(), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("no CloudTrail trail"), "{}", o.reason);
    }

    #[test]
    fn fail_when_only_a_single_region_trail_has_insights() {
        let mut t = trail("regional");
        t.insight_selectors = Observed::Collected(vec!["ApiCallRateInsight".into()]);
        let o = expect(
            run(
                &CloudtrailInsights,
                &account_subject(),
                &[trail_resource(t)],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("multi-region"), "{}", o.reason);
    }

    #[test]
    fn error_when_selectors_unavailable_or_trails_unlisted() {
        let o = expect(
            run(
                &CloudtrailInsights,
                &account_subject(),
                &[with_insights(
                    "main",
                    denied("cloudtrail:GetInsightSelectors"),
                )],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("cloudtrail:GetInsightSelectors"),
            "{}",
            o.reason
        );
        let account = account_subject();
        let f = finding_with_describe_gap(
            &CloudtrailInsights,
            std::slice::from_ref(&account),
            "us-west-2",
            account.arn.as_str(),
        );
        assert_eq!(f.status, Status::Error);
    }
}
