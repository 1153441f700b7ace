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
            exclude_management_event_sources: Observed::Collected(vec![]),
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
            fields: fields.into_iter().collect(),
        }],
    });
    t
}

/// A bucket of the fixture account in `region`.
fn bucket_in(name: &str, region: &str) -> Resource {
    let mut r = bucket_resource(bucket(name));
    r.region = posture_model::Region::new(region).expect("valid region");
    r
}

/// The rule over `trails` and one bucket, `phi`, in the trails' home region (us-east-1).
fn check(rule: &dyn Rule, trails: Vec<Trail>) -> Outcome {
    check_buckets(rule, trails, vec![bucket_in("phi", "us-east-1")])
}

fn check_buckets(rule: &dyn Rule, trails: Vec<Trail>, buckets: Vec<Resource>) -> Outcome {
    let mut others: Vec<Resource> = trails.into_iter().map(trail_resource).collect();
    others.extend(buckets);
    run(rule, &account_subject(), &others)
}

/// Asserts that `o` passed with bucket `phi` logged by trail `data`.
#[track_caller]
fn logged(o: Outcome) {
    let o = expect(o, Status::Pass);
    assert_eq!(o.evidence["buckets"][0]["logged_by"], "data", "{o:?}");
    assert_eq!(o.evidence["uncovered_buckets"], serde_json::json!([]));
}

/// Asserts that `o` failed with bucket `phi` logged by no trail.
#[track_caller]
fn not_logged(o: Outcome) {
    let o = expect(o, Status::Fail);
    assert_eq!(
        o.evidence["uncovered_buckets"],
        serde_json::json!(["phi (us-east-1)"]),
        "{o:?}"
    );
    assert_eq!(
        o.evidence["buckets"][0]["logged_by"],
        serde_json::Value::Null
    );
}

/// Basic and advanced selectors of the rule's direction, or of both, pass.
pub(crate) fn pass(rule: &dyn Rule, d: &Direction) {
    let o = expect(
        check(rule, vec![basic(d.basic, &["arn:aws:s3"])]),
        Status::Pass,
    );
    assert_eq!(o.evidence["buckets"][0]["bucket"], "phi");
    assert_eq!(o.evidence["buckets"][0]["logged_by"], "data");
    assert_eq!(o.evidence["uncovered_buckets"], serde_json::json!([]));
    logged(check(rule, vec![basic("All", &["arn:aws:s3:::"])]));
    // The bucket itself, by name, with or without the trailing slash.
    logged(check(rule, vec![basic("All", &["arn:aws:s3:::phi/"])]));
    logged(check(rule, vec![basic(d.basic, &["arn:aws:s3:::phi"])]));
    logged(check(rule, vec![advanced(None)]));
    logged(check(rule, vec![advanced(Some(d.read_only))]));
    // A multi-region trail covers a bucket in another region.
    let mut multi = advanced(None);
    multi.is_multi_region = true;
    let o = expect(
        check_buckets(rule, vec![multi], vec![bucket_in("west", "us-west-2")]),
        Status::Pass,
    );
    assert_eq!(o.evidence["buckets"][0]["region"], "us-west-2");
}

/// Management events only, the other direction, another bucket, a stopped trail, no trail
/// at all, and a single-region trail for a bucket in another region fail.
pub(crate) fn fail(rule: &dyn Rule, d: &Direction) {
    let o = expect(check(rule, vec![trail("main")]), Status::Fail);
    assert_eq!(
        o.evidence["uncovered_buckets"],
        serde_json::json!(["phi (us-east-1)"])
    );
    assert_eq!(
        o.evidence["buckets"][0]["logged_by"],
        serde_json::Value::Null
    );
    not_logged(check(rule, vec![basic(d.other_basic, &["arn:aws:s3"])]));
    not_logged(check(rule, vec![advanced(Some(d.other_read_only))]));
    not_logged(check(rule, vec![basic("All", &["arn:aws:s3:::other/"])]));
    // Boundary: a bucket whose name starts with this one's, and a prefix inside this
    // bucket (only some of its objects), do not cover it.
    not_logged(check(
        rule,
        vec![basic("All", &["arn:aws:s3:::phi-archive/"])],
    ));
    not_logged(check(
        rule,
        vec![basic("All", &["arn:aws:s3:::phi/reports/"])],
    ));
    let mut stopped = basic("All", &["arn:aws:s3"]);
    stopped.status = Observed::Collected(TrailStatus {
        is_logging: false,
        latest_delivery_error: None,
        latest_delivery_time: None,
    });
    not_logged(check(rule, vec![stopped]));
    let o = expect(check(rule, vec![]), Status::Fail);
    assert!(o.reason.contains("no CloudTrail trail"), "{}", o.reason);
    // Regression (issue 12): a single-region trail logs data events of its home region
    // only, so a bucket in us-west-2 is not covered by a us-east-1 trail.
    let o = expect(
        check_buckets(
            rule,
            vec![advanced(None)],
            vec![
                bucket_in("phi", "us-east-1"),
                bucket_in("west", "us-west-2"),
            ],
        ),
        Status::Fail,
    );
    assert_eq!(
        o.evidence["uncovered_buckets"],
        serde_json::json!(["west (us-west-2)"])
    );
    assert_eq!(o.evidence["buckets"][0]["logged_by"], "data");
    assert!(
        o.reason.contains("1 of the account's 2 bucket(s)"),
        "{}",
        o.reason
    );
}

/// Unreadable selectors are an error unless another trail passes; so is a failed
/// DescribeTrails. Without buckets the rule does not apply.
pub(crate) fn error(rule: &dyn Rule) {
    let mut t = trail("main");
    t.selectors = denied("cloudtrail:GetEventSelectors");
    let o = expect(check(rule, vec![t.clone()]), Status::Error);
    assert!(o.reason.contains("trail main"), "{}", o.reason);
    assert_eq!(o.evidence["buckets"][0]["unknown_trail"], "main");
    expect(check(rule, vec![t, advanced(None)]), Status::Pass);
    let f = finding_with_describe_gap(
        rule,
        &[account_subject(), bucket_in("phi", "us-east-1")],
        "us-east-1",
        "arn:aws:iam::111122223333:root",
    );
    assert_eq!(f.status, Status::Error, "{f:?}");
    let o = expect(
        check_buckets(rule, vec![advanced(None)], vec![]),
        Status::NotApplicable,
    );
    assert!(o.reason.contains("no S3 buckets"), "{}", o.reason);
}
