//! The fixture cases of the two S3 data-event rules, which mirror each other: one records
//! read events, the other write events; each case takes the rule and its direction.

use posture_model::resources::{
    AdvancedEventSelector, BasicEventSelector, Trail, TrailSelectors, TrailStatus,
};
use posture_model::{Observed, Resource, Status};

use crate::rules::cloudtrail::fixtures::*;
use crate::testing::*;
use crate::{Outcome, Rule};

/// The selector values that record the rule's direction, and those that record only the
/// other one.
pub(crate) struct Direction {
    /// `ReadOnly` / `WriteOnly`: the basic selector type of this direction.
    pub basic: &'static str,
    /// The basic selector type of the other direction.
    pub other_basic: &'static str,
    /// The advanced `readOnly` value of this direction.
    pub read_only: &'static str,
    /// The advanced `readOnly` value of the other direction.
    pub other_read_only: &'static str,
}

/// Read events.
pub(crate) const READ: Direction = Direction {
    basic: "ReadOnly",
    other_basic: "WriteOnly",
    read_only: "true",
    other_read_only: "false",
};

/// Write events.
pub(crate) const WRITE: Direction = Direction {
    basic: "WriteOnly",
    other_basic: "ReadOnly",
    read_only: "false",
    other_read_only: "true",
};

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

fn check(rule: &dyn Rule, trails: Vec<Trail>) -> Outcome {
    let others: Vec<Resource> = trails.into_iter().map(trail_resource).collect();
    run(rule, &account_subject(), &others)
}

/// Basic and advanced selectors of the rule's direction, or of both, pass.
pub(crate) fn pass(rule: &dyn Rule, d: &Direction) {
    let o = expect(
        check(rule, vec![basic(d.basic, &["arn:aws:s3"])]),
        Status::Pass,
    );
    assert_eq!(o.evidence["compliant_trail"], "data");
    expect(
        check(rule, vec![basic("All", &["arn:aws:s3:::"])]),
        Status::Pass,
    );
    expect(check(rule, vec![advanced(None)]), Status::Pass);
    expect(check(rule, vec![advanced(Some(d.read_only))]), Status::Pass);
}

/// Management events only, the other direction, one bucket, a stopped trail and no trail
/// at all fail.
pub(crate) fn fail(rule: &dyn Rule, d: &Direction) {
    let o = expect(check(rule, vec![trail("main")]), Status::Fail);
    assert_eq!(o.evidence["compliant_trail"], serde_json::Value::Null);
    expect(
        check(rule, vec![basic(d.other_basic, &["arn:aws:s3"])]),
        Status::Fail,
    );
    expect(
        check(rule, vec![advanced(Some(d.other_read_only))]),
        Status::Fail,
    );
    expect(
        check(rule, vec![basic("All", &["arn:aws:s3:::phi/"])]),
        Status::Fail,
    );
    let mut stopped = basic("All", &["arn:aws:s3"]);
    stopped.status = Observed::Collected(TrailStatus {
        is_logging: false,
        latest_delivery_error: None,
        latest_delivery_time: None,
    });
    expect(check(rule, vec![stopped]), Status::Fail);
    let o = expect(check(rule, vec![]), Status::Fail);
    assert!(o.reason.contains("no CloudTrail trail"), "{}", o.reason);
}

/// Unreadable selectors are an error unless another trail passes; so is a failed
/// DescribeTrails.
pub(crate) fn error(rule: &dyn Rule) {
    let mut t = trail("main");
    t.selectors = denied("cloudtrail:GetEventSelectors");
    let o = expect(check(rule, vec![t.clone()]), Status::Error);
    assert!(o.reason.contains("trail main"), "{}", o.reason);
    expect(check(rule, vec![t, advanced(None)]), Status::Pass);
    let f = finding_with_describe_gap(
        rule,
        &[account_subject()],
        "us-east-1",
        "arn:aws:iam::111122223333:root",
    );
    assert_eq!(f.status, Status::Error, "{f:?}");
}

/// The subject is the account.
pub(crate) fn not_applicable(rule: &dyn Rule) {
    expect(
        run(rule, &trail_resource(trail("main")), &[]),
        Status::NotApplicable,
    );
}
