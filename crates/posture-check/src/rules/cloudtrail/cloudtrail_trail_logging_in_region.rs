//! `cloudtrail_trail_logging_in_region`: some logging trail covers the region, either homed
//! there or multi-region.

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use super::trails::{self, Known};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailTrailLoggingInRegion;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_trail_logging_in_region",
    title: "A logging CloudTrail trail covers the region",
    severity: Severity::High,
    subject: ResourceKind::Region,
    rationale: "API activity in a region no logging trail covers is not recorded, so access to \
                or changes of ePHI resources there cannot be reviewed or investigated \
                (164.308(a)(1)(ii)(D), 164.312(b)).",
    remediation: "Start logging on a trail that covers the region (CloudTrail console > trail > \
                  Logging on, or StartLogging), or create a multi-region trail (CreateTrail with \
                  IsMultiRegionTrail=true, then StartLogging).",
    api_calls: &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"],
    params: &[],
};

impl Rule for CloudtrailTrailLoggingInRegion {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Region(info) = &subject.body else {
            return Outcome::not_applicable("not a region");
        };
        let region = info.name.as_str();
        let covering: Vec<_> = trails::in_account(ctx, &subject.account)
            .into_iter()
            .filter(|(_, t)| t.is_multi_region || t.home_region == region)
            .collect();
        let considered: Vec<_> = covering
            .iter()
            .map(|(r, t)| trails::summary(r, t))
            .collect();

        let mut unknown = None;
        for (_, trail) in &covering {
            match trails::logging(trail) {
                Known::Yes => {
                    let how = if trail.home_region == region {
                        "homed in this region".to_owned()
                    } else {
                        format!("multi-region, homed in {}", trail.home_region)
                    };
                    return Outcome::pass(format!(
                        "trail {} ({how}) is logging {region}",
                        trail.name
                    ))
                    .with("region", region)
                    .with("logging_trail", &trail.name)
                    .with("covering_trails", considered);
                }
                Known::Unknown(why) => {
                    unknown.get_or_insert((trail.name.as_str(), why));
                }
                Known::No => {}
            }
        }
        if let Some(gap) = trails::describe_gap(ctx, &subject.account) {
            return trails::gap_error(gap)
                .with("region", region)
                .with("covering_trails", considered);
        }
        if let Some((name, why)) = unknown {
            return Outcome::unavailable(&format!("the status of trail {name}"), why)
                .with("region", region)
                .with("covering_trails", considered);
        }
        let reason = if covering.is_empty() {
            format!("no trail is homed in {region} and no multi-region trail exists")
        } else {
            format!("no trail covering {region} is logging")
        };
        Outcome::fail(reason)
            .with("region", region)
            .with("logging_trail", None::<&str>)
            .with("covering_trails", considered)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::TrailStatus;
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_with_trail_homed_in_region() {
        let o = expect(
            run(
                &CloudtrailTrailLoggingInRegion,
                &region_subject("us-east-1"),
                &[trail_resource(trail("local"))],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["logging_trail"], "local");
        assert_eq!(o.evidence["region"], "us-east-1");
    }

    #[test]
    fn multi_region_trail_from_other_home_region_covers_region() {
        let mut t = multi_region_trail("main");
        t.home_region = "eu-west-1".into();
        let o = expect(
            run(
                &CloudtrailTrailLoggingInRegion,
                &region_subject("us-east-1"),
                &[trail_resource(t)],
            ),
            Status::Pass,
        );
        assert!(o.reason.contains("homed in eu-west-1"), "{}", o.reason);
    }

    #[test]
    fn fail_when_only_other_regions_have_trails() {
        let mut t = trail("elsewhere");
        t.home_region = "eu-west-1".into();
        let o = expect(
            run(
                &CloudtrailTrailLoggingInRegion,
                &region_subject("us-east-1"),
                &[trail_resource(t)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["covering_trails"], serde_json::json!([]));
    }

    #[test]
    fn fail_when_covering_trail_is_stopped() {
        let mut t = trail("local");
        t.status = Observed::Collected(TrailStatus {
            is_logging: false,
            latest_delivery_error: None,
            latest_delivery_time: None,
        });
        let o = expect(
            run(
                &CloudtrailTrailLoggingInRegion,
                &region_subject("us-east-1"),
                &[trail_resource(t)],
            ),
            Status::Fail,
        );
        assert_eq!(o.evidence["covering_trails"][0]["logging"], false);
    }

    #[test]
    fn error_when_status_denied() {
        let mut t = trail("local");
        t.status = denied("cloudtrail:GetTrailStatus");
        let o = expect(
            run(
                &CloudtrailTrailLoggingInRegion,
                &region_subject("us-east-1"),
                &[trail_resource(t)],
            ),
            Status::Error,
        );
        assert!(
            o.reason.contains("cloudtrail:GetTrailStatus"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_describe_trails_failed_in_another_region() {
        let f = finding_with_describe_gap(
            &CloudtrailTrailLoggingInRegion,
            &[region_subject("us-east-1")],
            "eu-west-1",
            "arn:aws:ec2:us-east-1:111122223333:region/us-east-1",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("eu-west-1"), "{}", f.reason);
    }
}
