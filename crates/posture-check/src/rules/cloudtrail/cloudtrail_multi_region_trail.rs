//! `cloudtrail_multi_region_trail`: the account has a multi-region trail that is logging
//! all management events.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::trails::{self, Known};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailMultiRegionTrail;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_multi_region_trail",
    title: "Account has a logging multi-region CloudTrail trail recording all management events",
    severity: Severity::High,
    subject: ResourceKind::Account,
    rationale: "CloudTrail is the record of who did what to the resources that store ePHI; \
                without a multi-region trail logging every read and write management event, \
                activity in other regions or read-only API calls go unrecorded and cannot be \
                reviewed (164.308(a)(1)(ii)(D), 164.312(b)).",
    remediation: "Create or update a trail with IsMultiRegionTrail=true and event selectors that \
                  include all (read and write) management events, and start logging: CloudTrail \
                  console > Trails, or CreateTrail/UpdateTrail, PutEventSelectors and StartLogging \
                  (an organization trail also counts).",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ],
    params: &[],
};

impl Rule for CloudtrailMultiRegionTrail {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Account(_) = &subject.body else {
            return Outcome::not_applicable("not an account");
        };
        let all = trails::in_account(ctx, &subject.account);
        let considered: Vec<_> = all.iter().map(|(r, t)| trails::summary(r, t)).collect();

        let mut unknown = None;
        for (_, trail) in all.iter().filter(|(_, t)| t.is_multi_region) {
            match trails::logging(trail).and(trails::all_management_events(trail)) {
                Known::Yes => {
                    let kind = if trail.is_organization_trail {
                        "organization trail"
                    } else {
                        "multi-region trail"
                    };
                    return Outcome::pass(format!(
                        "{kind} {} is logging all management events in every region",
                        trail.name
                    ))
                    .with("compliant_trail", &trail.name)
                    .with("trails", considered);
                }
                Known::Unknown(why) => {
                    unknown.get_or_insert((trail.name.as_str(), why));
                }
                Known::No => {}
            }
        }
        if let Some(gap) = trails::describe_gap(ctx, &subject.account) {
            return trails::gap_error(gap).with("trails", considered);
        }
        if let Some((name, why)) = unknown {
            return Outcome::unavailable(
                &format!("the status or event selectors of multi-region trail {name}"),
                why,
            )
            .with("trails", considered);
        }
        let reason = if all.is_empty() {
            "the account has no CloudTrail trail".to_owned()
        } else if all.iter().any(|(_, t)| t.is_multi_region) {
            "no multi-region trail is both logging and recording all management events".to_owned()
        } else {
            format!(
                "none of the account's {} trail(s) is multi-region",
                all.len()
            )
        };
        Outcome::fail(reason)
            .with("compliant_trail", None::<&str>)
            .with("trails", considered)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{BasicEventSelector, TrailSelectors, TrailStatus};
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn not_logging(mut t: posture_model::resources::Trail) -> posture_model::resources::Trail {
        t.status = Observed::Collected(TrailStatus {
            is_logging: false,
            latest_delivery_error: None,
            latest_delivery_time: None,
        });
        t
    }

    #[test]
    fn pass_with_logging_multi_region_trail() {
        let o = expect(
            run(
                &CloudtrailMultiRegionTrail,
                &account_subject(),
                &[
                    trail_resource(trail("local")),
                    trail_resource(multi_region_trail("main")),
                ],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["compliant_trail"], "main");
        assert_eq!(o.evidence["trails"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn pass_with_organization_trail() {
        let mut t = multi_region_trail("org");
        t.is_organization_trail = true;
        t.home_region = "eu-west-1".into();
        let o = expect(
            run(
                &CloudtrailMultiRegionTrail,
                &account_subject(),
                &[trail_resource(t)],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("organization trail"), "{}", o.reason);
    }

    #[test]
    fn fail_with_only_single_region_trails() {
        let o = expect(
            run(
                &CloudtrailMultiRegionTrail,
                &account_subject(),
                &[trail_resource(trail("local"))],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["trails"][0]["multi_region"], false);
    }

    #[test]
    fn fail_without_trails() {
        let o = expect(
            run(&CloudtrailMultiRegionTrail, &account_subject(), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["trails"], serde_json::json!([]));
    }

    #[test]
    fn fail_when_multi_region_trail_is_stopped_or_write_only() {
        let mut write_only = multi_region_trail("write-only");
        write_only.selectors = Observed::Collected(TrailSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: "WriteOnly".into(),
                include_management_events: true,
                data_resources: vec![],
                exclude_management_event_sources: Observed::Collected(vec![]),
            }],
            advanced: vec![],
        });
        let o = expect(
            run(
                &CloudtrailMultiRegionTrail,
                &account_subject(),
                &[
                    trail_resource(not_logging(multi_region_trail("stopped"))),
                    trail_resource(write_only),
                ],
            ),
            Status::Fail,
        );
        assert!(o.reason.contains("both logging"), "{}", o.reason);
    }

    #[test]
    fn error_when_status_denied() {
        let mut t = multi_region_trail("main");
        t.status = denied("cloudtrail:GetTrailStatus");
        let o = expect(
            run(
                &CloudtrailMultiRegionTrail,
                &account_subject(),
                &[trail_resource(t)],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("cloudtrail:GetTrailStatus"),
            "{}",
            o.reason
        );
        assert_eq!(o.evidence["trails"][0]["logging"], "unavailable");
    }

    #[test]
    fn unavailable_selectors_do_not_matter_when_not_logging() {
        let mut t = not_logging(multi_region_trail("main"));
        t.selectors = denied("cloudtrail:GetEventSelectors");
        let o = expect(
            run(
                &CloudtrailMultiRegionTrail,
                &account_subject(),
                &[trail_resource(t)],
            ),
            Status::Fail,
        );
        assert_eq!(
            o.reason,
            "no multi-region trail is both logging and recording all management events"
        );
        assert_evidence(&o, "compliant_trail", serde_json::json!(null));
        assert_eq!(o.evidence["trails"][0]["logging"], false);
        assert_eq!(
            o.evidence["trails"][0]["all_management_events"],
            "unavailable"
        );
    }

    #[test]
    fn error_when_describe_trails_failed_in_a_region() {
        let f = finding_with_describe_gap(
            &CloudtrailMultiRegionTrail,
            &[account_subject(), trail_resource(trail("local"))],
            "eu-west-1",
            "arn:aws:iam::111122223333:root",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(
            f.reason.contains("cloudtrail:DescribeTrails"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn a_compliant_trail_passes_despite_a_gap_elsewhere() {
        let f = finding_with_describe_gap(
            &CloudtrailMultiRegionTrail,
            &[
                account_subject(),
                trail_resource(multi_region_trail("main")),
            ],
            "eu-west-1",
            "arn:aws:iam::111122223333:root",
        );
        assert_eq!(f.status, Status::Pass, "{f:?}");
        assert_eq!(f.evidence["compliant_trail"], "main");
        assert!(f.reason.contains("multi-region trail main"), "{}", f.reason);
    }
}
