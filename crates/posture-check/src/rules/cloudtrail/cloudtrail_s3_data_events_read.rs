//! `cloudtrail_s3_data_events_read`: some logging trail in the account records S3
//! object-level read data events for all buckets.
//!
//! See [`super::trails::s3_data_events`] for which selectors count. A trail whose status
//! or selectors could not be collected makes the result `Error` unless another trail
//! passes.

use posture_model::{Resource, ResourceKind, Severity};

use super::trails::{S3Events, s3_data_events_outcome};
use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct CloudtrailS3DataEventsRead;

static META: RuleMeta = RuleMeta {
    id: "cloudtrail_s3_data_events_read",
    title: "Account has a logging CloudTrail trail recording S3 object-level read events",
    severity: Severity::Medium,
    subject: ResourceKind::Account,
    rationale: "Management events do not record object access: without S3 data events there is \
                no record of who read which object holding ePHI, so access cannot be reviewed, \
                traced to a user or investigated after an incident (164.308(a)(1)(ii)(D), \
                164.308(a)(6)(ii), 164.312(a)(2)(i), 164.312(b)).",
    remediation: "Add an event selector to a logging trail (PutEventSelectors) recording S3 \
                  object-level read events for all buckets: a basic selector with \
                  DataResources Type=AWS::S3::Object, Values=arn:aws:s3 and ReadWriteType \
                  All or ReadOnly, or an advanced selector with eventCategory=Data and \
                  resources.type=AWS::S3::Object (no readOnly field, or readOnly=true).",
    api_calls: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ],
    params: &[],
};

impl Rule for CloudtrailS3DataEventsRead {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        s3_data_events_outcome(subject, ctx, S3Events::Read)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::resources::{
        AdvancedEventSelector, BasicEventSelector, Trail, TrailSelectors, TrailStatus,
    };
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::cloudtrail::fixtures::*;
    use crate::testing::*;

    fn basic(read_write_type: &str, values: &[&str]) -> Trail {
        let mut t = trail("data");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![BasicEventSelector {
                read_write_type: read_write_type.into(),
                include_management_events: true,
                data_resources: vec![(
                    "AWS::S3::Object".into(),
                    values.iter().map(|v| (*v).to_owned()).collect(),
                )],
            }],
            advanced: vec![],
        });
        t
    }

    fn advanced(read_only: Option<&str>) -> Trail {
        let mut fields = vec![
            ("eventCategory".to_owned(), vec!["Data".to_owned()]),
            (
                "resources.type".to_owned(),
                vec!["AWS::S3::Object".to_owned()],
            ),
        ];
        if let Some(v) = read_only {
            fields.push(("readOnly".to_owned(), vec![v.to_owned()]));
        }
        let mut t = trail("data");
        t.selectors = Observed::Collected(TrailSelectors {
            basic: vec![],
            advanced: vec![AdvancedEventSelector {
                name: Some("s3".into()),
                fields,
            }],
        });
        t
    }

    fn check(trails: Vec<Trail>) -> Outcome {
        let others: Vec<Resource> = trails.into_iter().map(trail_resource).collect();
        run(&CloudtrailS3DataEventsRead, &account_subject(), &others)
    }

    #[test]
    fn pass_with_basic_selector() {
        let o = expect(
            check(vec![basic("ReadOnly", &["arn:aws:s3"])]),
            Status::Pass,
        );
        assert_eq!(o.evidence["compliant_trail"], "data");
        expect(check(vec![basic("All", &["arn:aws:s3:::"])]), Status::Pass);
    }

    #[test]
    fn pass_with_advanced_selector() {
        expect(check(vec![advanced(None)]), Status::Pass);
        expect(check(vec![advanced(Some("true"))]), Status::Pass);
    }

    #[test]
    fn fail_with_management_events_only() {
        let o = expect(check(vec![trail("main")]), Status::Fail);
        assert_eq!(o.evidence["compliant_trail"], serde_json::Value::Null);
    }

    #[test]
    fn fail_when_restricted_the_other_way() {
        expect(
            check(vec![basic("WriteOnly", &["arn:aws:s3"])]),
            Status::Fail,
        );
        expect(check(vec![advanced(Some("false"))]), Status::Fail);
    }

    #[test]
    fn fail_for_one_bucket_only() {
        expect(
            check(vec![basic("All", &["arn:aws:s3:::phi/"])]),
            Status::Fail,
        );
    }

    #[test]
    fn fail_when_the_trail_is_not_logging() {
        let mut t = basic("All", &["arn:aws:s3"]);
        t.status = Observed::Collected(TrailStatus {
            is_logging: false,
            latest_delivery_error: None,
            latest_delivery_time: None,
        });
        expect(check(vec![t]), Status::Fail);
    }

    #[test]
    fn fail_without_trails() {
        let o = expect(check(vec![]), Status::Fail);
        assert!(o.reason.contains("no CloudTrail trail"), "{}", o.reason);
    }

    #[test]
    fn error_when_selectors_unavailable() {
        let mut t = trail("main");
        t.selectors = denied("cloudtrail:GetEventSelectors");
        let o = expect(check(vec![t.clone()]), Status::Error);
        assert!(o.reason.contains("trail main"), "{}", o.reason);
        // Another trail that passes decides.
        expect(check(vec![t, advanced(None)]), Status::Pass);
    }

    #[test]
    fn error_when_describe_trails_failed() {
        let f = finding_with_describe_gap(
            &CloudtrailS3DataEventsRead,
            &[account_subject()],
            "us-east-1",
            "arn:aws:iam::111122223333:root",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
    }

    #[test]
    fn not_applicable_to_other_kinds() {
        expect(
            run(
                &CloudtrailS3DataEventsRead,
                &trail_resource(trail("main")),
                &[],
            ),
            Status::NotApplicable,
        );
    }
}
