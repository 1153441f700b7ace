//! `cloudtrail_management_events_rw`: the trail records both read and write management
//! events.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::selectors::management_events;
use super::trails::Known;
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailManagementEventsRw;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_management_events_rw",
    title: "CloudTrail trail records read and write management events",
    severity: Severity::Medium,
    subject: ResourceKind::Trail,
    rationale: "A trail whose event selectors drop read-only (or write) management events \
                leaves no record of who listed, described or changed the resources holding \
                ePHI (for example who read a bucket policy or a snapshot attribute before \
                exfiltrating), so activity cannot be reviewed or investigated (164.312(b), \
                164.308(a)(1)(ii)(D)).",
    remediation: "Set the trail's event selectors to include management events with \
                  ReadWriteType=All (PutEventSelectors), or use an advanced selector on \
                  eventCategory=Management without a readOnly field and without excluding \
                  event sources (eventSource NotEquals kms.amazonaws.com, say).",
    api_calls: &["cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors"],
    params: &[],
};

impl Rule for CloudtrailManagementEventsRw {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Trail(trail) = &subject.body else {
            return Outcome::not_applicable("not a CloudTrail trail");
        };
        let m = management_events(trail);
        let excluded = m.excluded_sources();
        let outcome = match m.all() {
            Known::Yes => Outcome::pass(format!(
                "trail {} records read and write management events of every source",
                trail.name
            )),
            Known::No if !excluded.is_empty() => Outcome::fail(format!(
                "trail {} does not record the management events of {}",
                trail.name,
                excluded.join(", ")
            )),
            Known::No => Outcome::fail(format!(
                "trail {} does not record both read and write management events",
                trail.name
            )),
            Known::Unknown(why) => {
                return Outcome::unavailable("the trail's event selectors", why)
                    .with("trail", &trail.name);
            }
        };
        outcome
            .with("trail", &trail.name)
            .with("read_events", m.read.evidence())
            .with("write_events", m.write.evidence())
            .with("excluded_sources", excluded)
            .with("event_selectors", trail.selectors.get().ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{AdvancedEventSelector, BasicEventSelector, TrailSelectors};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn with_basic(read_write_type: &str, management: bool) -> Resource {
        let mut t = trail("main");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: read_write_type.into(),
                include_management_events: management,
                data_resources: vec![],
                exclude_management_event_sources: Observed::Collected(vec![]),
            }],
            advanced: vec![],
        });
        trail_resource(t)
    }

    #[test]
    fn pass_with_default_selectors() {
        let o = expect(
            run(
                &CloudtrailManagementEventsRw,
                &trail_resource(trail("main")),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["trail"], "main");
    }

    #[test]
    fn pass_with_all_management_events() {
        let o = expect(
            run(&CloudtrailManagementEventsRw, &with_basic("All", true), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.reason,
            "trail main records read and write management events of every source"
        );
        assert_evidence(&o, "read_events", serde_json::json!(true));
        assert_evidence(&o, "write_events", serde_json::json!(true));
        assert_evidence(&o, "excluded_sources", serde_json::json!([]));
    }

    /// Boundary: either direction alone fails, and the evidence says which one is logged.
    #[test]
    fn fail_with_write_only() {
        for (rw, read, write) in [("WriteOnly", false, true), ("ReadOnly", true, false)] {
            let o = expect(
                run(&CloudtrailManagementEventsRw, &with_basic(rw, true), &[]),
                Status::Fail,
            );
            assert!(
                o.reason.contains("does not record both read and write"),
                "{rw}: {}",
                o.reason
            );
            assert_evidence(&o, "read_events", serde_json::json!(read));
            assert_evidence(&o, "write_events", serde_json::json!(write));
        }
    }

    #[test]
    fn fail_without_management_events() {
        let o = expect(
            run(
                &CloudtrailManagementEventsRw,
                &with_basic("All", false),
                &[],
            ),
            Status::Fail,
        );
        assert_evidence(&o, "read_events", serde_json::json!(false));
        assert_evidence(&o, "write_events", serde_json::json!(false));
        assert_eq!(
            o.evidence["event_selectors"]["basic"][0]["read_write_type"],
            "All"
        );
    }

    #[test]
    fn fail_with_read_only_limited_advanced_selector() {
        let mut t = trail("main");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![],
            advanced: vec![AdvancedEventSelector {
                name: Some("writes".into()),
                fields: [
                    ("eventCategory".to_owned(), vec!["Management".to_owned()]),
                    ("readOnly".to_owned(), vec!["false".to_owned()]),
                ]
                .into_iter()
                .collect(),
            }],
        });
        let o = expect(
            run(&CloudtrailManagementEventsRw, &trail_resource(t), &[]),
            Status::Fail,
        );
        assert_evidence(&o, "read_events", serde_json::json!(false));
        assert_evidence(&o, "write_events", serde_json::json!(true));
    }

    /// Regression (issue 12): `eventSource NotEquals kms.amazonaws.com` counted as every
    /// management event, because only `Equals` was read.
    #[test]
    fn fail_when_an_advanced_selector_excludes_kms() {
        use posture_model::resources::{FieldOperators, FieldSelector};
        let mut t = trail("main");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![],
            advanced: vec![AdvancedEventSelector {
                name: Some("no-kms".into()),
                fields: [
                    FieldSelector {
                        field: "eventCategory".into(),
                        equals: vec!["Management".into()],
                        others: Observed::Collected(FieldOperators::default()),
                    },
                    FieldSelector {
                        field: "eventSource".into(),
                        equals: vec![],
                        others: Observed::Collected(FieldOperators {
                            not_equals: vec!["kms.amazonaws.com".into()],
                            ..Default::default()
                        }),
                    },
                ]
                .into_iter()
                .collect(),
            }],
        });
        let o = expect(
            run(&CloudtrailManagementEventsRw, &trail_resource(t), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("kms.amazonaws.com"), "{}", o.reason);
        assert_eq!(
            o.evidence["excluded_sources"],
            serde_json::json!(["kms.amazonaws.com"])
        );
        assert_eq!(
            o.evidence["read_events"],
            serde_json::json!({"all_except": ["kms.amazonaws.com"]})
        );
    }

    /// Basic selectors' `ExcludeManagementEventSources` was taken as none: a trail
    /// excluding KMS's events passed.
    #[test]
    fn fail_when_a_basic_selector_excludes_kms() {
        let mut t = trail("main");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                data_resources: vec![],
                exclude_management_event_sources: Observed::Collected(vec![
                    "kms.amazonaws.com".into(),
                ]),
            }],
            advanced: vec![],
        });
        let o = expect(
            run(&CloudtrailManagementEventsRw, &trail_resource(t), &[]),
            Status::Fail,
        );
        assert!(
            o.reason
                .contains("does not record the management events of kms.amazonaws.com"),
            "{}",
            o.reason
        );
        assert_eq!(
            o.evidence["excluded_sources"],
            serde_json::json!(["kms.amazonaws.com"])
        );
        assert_eq!(
            o.evidence["write_events"],
            serde_json::json!({"all_except": ["kms.amazonaws.com"]})
        );
    }

    /// A basic selector stored before its exclusions were collected: unknown, not a pass.
    #[test]
    fn error_when_basic_exclusions_were_not_recorded() {
        let mut t = trail("main");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                data_resources: vec![],
                exclude_management_event_sources: Observed::not_recorded(),
            }],
            advanced: vec![],
        });
        let o = expect(
            run(&CloudtrailManagementEventsRw, &trail_resource(t), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("event selectors"), "{}", o.reason);
        assert!(o.reason.contains("not recorded"), "{}", o.reason);
    }

    #[test]
    fn error_when_selectors_unavailable() {
        let mut t = trail("main");
        t.selectors = denied("cloudtrail:GetEventSelectors");
        let o = expect(
            run(&CloudtrailManagementEventsRw, &trail_resource(t), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("event selectors"), "{}", o.reason);
    }

    #[test]
    fn error_when_describe_trails_failed() {
        let f = finding_with_describe_gap(
            &CloudtrailManagementEventsRw,
            &[],
            "us-east-1",
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("cloudtrail:DescribeTrails"),
            "{}",
            f.reason
        );
    }
}
