//! `cloudtrail_bedrock_data_events`: some logging trail of the account records Amazon
//! Bedrock data events (model invocations, agent, knowledge base, flow and guardrail calls),
//! read from the event selectors already collected.
//!
//! Bedrock data events can only be selected with advanced event selectors: one with
//! `eventCategory` `Data` and a `resources.type` of `AWS::Bedrock::…` counts (basic
//! selectors' data resources are checked the same way for completeness). Subject: the
//! account, as for the S3 data-event rules. No selectors record management events only.

use posture_model::resources::Trail;
use posture_model::{Resource, ResourceKind, Severity};

use super::trails::{self, Known};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailBedrockDataEvents;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_bedrock_data_events",
    title: "A logging CloudTrail trail records Amazon Bedrock data events",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Prompts sent to Bedrock models, agents and knowledge bases can carry ePHI; \
                their data events are the only record of who invoked what, and they are not \
                logged unless a trail selects them: audit controls (164.312(b)) and the review \
                of information system activity (164.308(a)(1)(ii)(D)).",
    remediation: "Add an advanced event selector to a logging trail with eventCategory = Data \
                  and resources.type = AWS::Bedrock::Model (and AWS::Bedrock::AgentAlias, \
                  AWS::Bedrock::KnowledgeBase, ... for the Bedrock features in use) \
                  (PutEventSelectors with AdvancedEventSelectors).",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ],
    params: &[],
};

const BEDROCK: &str = "AWS::Bedrock::";

/// Whether the trail's selectors record some Bedrock data events.
fn records_bedrock(trail: &Trail) -> Known<'_> {
    super::selectors::logs_some_data_events(trail, |ty| ty.starts_with(BEDROCK))
}

impl Rule for CloudtrailBedrockDataEvents {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        trails::some_logging_trail(
            subject,
            ctx,
            "bedrock_data_events",
            "records Amazon Bedrock data events",
            "event selectors",
            records_bedrock,
        )
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Observed;
    use posture_model::Status;
    use posture_model::resources::{AdvancedEventSelector, TrailSelectors};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn advanced(category: &str, ty: &str) -> Resource {
        let mut t = trail("ai");
        t.is_multi_region = true;
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![],
            advanced: vec![AdvancedEventSelector {
                name: Some("bedrock".into()),
                fields: [
                    ("eventCategory".to_owned(), vec![category.to_owned()]),
                    ("resources.type".to_owned(), vec![ty.to_owned()]),
                ]
                .into_iter()
                .collect(),
            }],
        });
        trail_resource(t)
    }

    #[test]
    fn pass_with_a_bedrock_data_selector() {
        let o = expect(
            run(
                &CloudtrailBedrockDataEvents,
                &account_subject(),
                &[advanced("Data", "AWS::Bedrock::Model")],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["compliant_trail"], "ai");
        assert_eq!(o.evidence["trails"][0]["bedrock_data_events"], true);
    }

    #[test]
    fn fail_with_only_s3_data_events_or_default_selectors() {
        let o = expect(
            run(
                &CloudtrailBedrockDataEvents,
                &account_subject(),
                &[
                    advanced("Data", "AWS::S3::Object"),
                    trail_resource(trail("default")),
                ],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["trails"][0]["bedrock_data_events"], false);
    }

    #[test]
    fn fail_when_only_a_single_region_trail_records_them() {
        let posture_model::ResourceBody::Trail(mut t) =
            advanced("Data", "AWS::Bedrock::Model").body
        else {
            unreachable!()
        };
        t.is_multi_region = false;
        let o = expect(
            run(
                &CloudtrailBedrockDataEvents,
                &account_subject(),
                &[trail_resource(t)],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("multi-region"), "{}", o.reason);
    }

    #[test]
    fn error_when_selectors_unavailable() {
        let mut t = trail("main");
        t.is_multi_region = true;
        t.selectors = denied("cloudtrail:GetEventSelectors");
        let o = expect(
            run(
                &CloudtrailBedrockDataEvents,
                &account_subject(),
                &[trail_resource(t)],
            ),
            Status::Error,
        );
        assert!(o.reason.contains("event selectors"), "{}", o.reason);
    }
}
