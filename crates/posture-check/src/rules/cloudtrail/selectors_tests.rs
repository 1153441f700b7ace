//! The examples of AWS's documentation of event selectors (`PutEventSelectors`,
//! `AdvancedFieldSelector`, the User Guide's "Filtering data events by using advanced
//! event selectors" and "Logging management events"), and their boundaries.

use posture_model::Observed;
use posture_model::resources::{
    AdvancedEventSelector, BasicEventSelector, FieldOperators, FieldSelector, Trail, TrailSelectors,
};

use super::*;
use crate::rules::cloudtrail::fixtures::trail;
use crate::rules::cloudtrail::trails::Known;

/// A field selector with `Equals` values only, recorded whole.
fn eq(field: &str, values: &[&str]) -> FieldSelector {
    ops(field, values, FieldOperators::default())
}

fn ops(field: &str, equals: &[&str], others: FieldOperators) -> FieldSelector {
    FieldSelector {
        field: field.into(),
        equals: equals.iter().map(|v| (*v).to_owned()).collect(),
        others: Observed::Collected(others),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn advanced(selectors: Vec<Vec<FieldSelector>>) -> Trail {
    let mut t = trail("t");
    t.selectors = Observed::Collected(TrailSelectors {
        basic: vec![],
        advanced: selectors
            .into_iter()
            .map(|fields| AdvancedEventSelector {
                name: None,
                fields: fields.into_iter().collect(),
            })
            .collect(),
    });
    t
}

fn basic(read_write_type: &str, management: bool, s3_values: &[&str]) -> Trail {
    let mut t = trail("t");
    t.selectors = Observed::Collected(TrailSelectors {
        basic: vec![BasicEventSelector {
            read_write_type: read_write_type.into(),
            include_management_events: management,
            data_resources: if s3_values.is_empty() {
                vec![]
            } else {
                vec![("AWS::S3::Object".into(), strings(s3_values))]
            },
            exclude_management_event_sources: Observed::Collected(vec![]),
        }],
        advanced: vec![],
    });
    t
}

fn s3_data() -> Vec<FieldSelector> {
    vec![
        eq("eventCategory", &["Data"]),
        eq("resources.type", &["AWS::S3::Object"]),
    ]
}

fn is_unknown(k: &Known<'_>) -> bool {
    matches!(k, Known::Unknown(_))
}

#[test]
fn no_selectors_log_every_management_event_and_no_data_event() {
    let t = trail("t");
    let m = management_events(&t);
    assert_eq!(m.all(), Known::Yes);
    assert!(m.excluded_sources().is_empty());
    assert_eq!(logs_s3_objects(&t, "b", S3Events::Read), Known::No);
}

#[test]
fn management_selector_without_read_only_logs_read_and_write() {
    let t = advanced(vec![vec![eq("eventCategory", &["Management"])]]);
    assert_eq!(management_events(&t).all(), Known::Yes);
}

/// "Log all management events except KMS": `eventSource NotEquals kms.amazonaws.com`.
#[test]
fn not_equals_kms_excludes_kms_events() {
    let t = advanced(vec![vec![
        eq("eventCategory", &["Management"]),
        ops(
            "eventSource",
            &[],
            FieldOperators {
                not_equals: strings(&["kms.amazonaws.com"]),
                ..Default::default()
            },
        ),
    ]]);
    let m = management_events(&t);
    assert_eq!(m.all(), Known::No);
    assert_eq!(m.excluded_sources(), vec!["kms.amazonaws.com"]);
    assert_eq!(
        m.read.evidence(),
        serde_json::json!({"all_except": ["kms.amazonaws.com"]})
    );
}

/// A second selector logging KMS alone fills the first one's gap (selectors are ORed).
#[test]
fn a_second_selector_can_fill_an_exclusion() {
    let t = advanced(vec![
        vec![
            eq("eventCategory", &["Management"]),
            ops(
                "eventSource",
                &[],
                FieldOperators {
                    not_equals: strings(&["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
                    ..Default::default()
                },
            ),
        ],
        vec![
            eq("eventCategory", &["Management"]),
            eq("eventSource", &["kms.amazonaws.com"]),
        ],
    ]);
    let m = management_events(&t);
    assert_eq!(m.excluded_sources(), vec!["rdsdata.amazonaws.com"]);
    assert_eq!(m.all(), Known::No);
}

#[test]
fn read_only_false_logs_writes_only_and_two_selectors_log_both() {
    let writes = advanced(vec![vec![
        eq("eventCategory", &["Management"]),
        eq("readOnly", &["false"]),
    ]]);
    let m = management_events(&writes);
    assert_eq!(m.read, Sources::NotAll);
    assert_eq!(m.write, Sources::AllExcept(vec![]));
    assert_eq!(m.all(), Known::No);
    let both = advanced(vec![
        vec![
            eq("eventCategory", &["Management"]),
            eq("readOnly", &["true"]),
        ],
        vec![
            eq("eventCategory", &["Management"]),
            eq("readOnly", &["false"]),
        ],
    ]);
    assert_eq!(management_events(&both).all(), Known::Yes);
}

#[test]
fn data_selectors_log_no_management_events() {
    let t = advanced(vec![s3_data()]);
    assert_eq!(management_events(&t).read, Sources::NotAll);
}

#[test]
fn basic_selectors_for_management_events() {
    assert_eq!(
        management_events(&basic("All", true, &[])).all(),
        Known::Yes
    );
    let write_only = basic("WriteOnly", true, &[]);
    let w = management_events(&write_only);
    assert_eq!(w.read, Sources::NotAll);
    assert_eq!(w.write, Sources::AllExcept(vec![]));
    assert_eq!(
        management_events(&basic("All", false, &["arn:aws:s3"])).all(),
        Known::No
    );
}

/// An `eventSource` stored without its non-`Equals` operators, and no `Equals` value: some
/// operator excluded or picked sources, which is unknown.
#[test]
fn event_source_without_recorded_operators_is_unknown() {
    let mut t = trail("t");
    t.selectors = Observed::Collected(TrailSelectors {
        basic: vec![],
        advanced: vec![AdvancedEventSelector {
            name: None,
            fields: [
                ("eventCategory".to_owned(), strings(&["Management"])),
                ("eventSource".to_owned(), vec![]),
            ]
            .into_iter()
            .collect(),
        }],
    });
    assert!(is_unknown(&management_events(&t).all()));
    // eventCategory alone in the pair form is whole (Equals is its only operator).
    t.selectors = Observed::Collected(TrailSelectors {
        basic: vec![],
        advanced: vec![AdvancedEventSelector {
            name: None,
            fields: [("eventCategory".to_owned(), strings(&["Management"]))]
                .into_iter()
                .collect(),
        }],
    });
    assert_eq!(management_events(&t).all(), Known::Yes);
}

#[test]
fn unreadable_selectors_are_unknown() {
    let mut t = trail("t");
    t.selectors = crate::testing::denied("cloudtrail:GetEventSelectors");
    assert!(is_unknown(&management_events(&t).all()));
    assert!(is_unknown(&logs_s3_objects(&t, "b", S3Events::Write)));
}

/// "Log all S3 data events": `eventCategory = Data`, `resources.type = AWS::S3::Object`.
#[test]
fn all_s3_object_events() {
    let t = advanced(vec![s3_data()]);
    assert_eq!(logs_s3_objects(&t, "phi", S3Events::Read), Known::Yes);
    assert_eq!(logs_s3_objects(&t, "phi", S3Events::Write), Known::Yes);
}

/// "Log data events for one bucket": `resources.ARN StartsWith arn:aws:s3:::bucket/`.
#[test]
fn starts_with_one_bucket_covers_that_bucket_only() {
    let mut fields = s3_data();
    fields.push(ops(
        "resources.ARN",
        &[],
        FieldOperators {
            starts_with: strings(&["arn:aws:s3:::phi/"]),
            ..Default::default()
        },
    ));
    let t = advanced(vec![fields]);
    assert_eq!(logs_s3_objects(&t, "phi", S3Events::Read), Known::Yes);
    assert_eq!(logs_s3_objects(&t, "phi2", S3Events::Read), Known::No);
    assert_eq!(logs_s3_objects(&t, "other", S3Events::Read), Known::No);
}

/// "Exclude the trail's own bucket": `resources.ARN NotStartsWith arn:aws:s3:::logs/`.
#[test]
fn not_starts_with_excludes_that_bucket() {
    let mut fields = s3_data();
    fields.push(ops(
        "resources.ARN",
        &[],
        FieldOperators {
            not_starts_with: strings(&["arn:aws:s3:::logs/"]),
            ..Default::default()
        },
    ));
    let t = advanced(vec![fields]);
    assert_eq!(logs_s3_objects(&t, "phi", S3Events::Write), Known::Yes);
    assert_eq!(logs_s3_objects(&t, "logs", S3Events::Write), Known::No);
}

/// StartsWith the bucket and NotStartsWith a key prefix in it: only some objects.
#[test]
fn excluding_a_key_prefix_is_not_every_object() {
    let mut fields = s3_data();
    fields.push(ops(
        "resources.ARN",
        &[],
        FieldOperators {
            starts_with: strings(&["arn:aws:s3:::phi/"]),
            not_starts_with: strings(&["arn:aws:s3:::phi/tmp/"]),
            ..Default::default()
        },
    ));
    assert_eq!(
        logs_s3_objects(&advanced(vec![fields]), "phi", S3Events::Read),
        Known::No
    );
    let mut fields = s3_data();
    fields.push(ops(
        "resources.ARN",
        &[],
        FieldOperators {
            not_ends_with: strings(&[".tmp"]),
            ..Default::default()
        },
    ));
    assert_eq!(
        logs_s3_objects(&advanced(vec![fields]), "phi", S3Events::Read),
        Known::No
    );
}

#[test]
fn read_only_and_event_name_narrow_the_selector() {
    let mut writes = s3_data();
    writes.push(eq("readOnly", &["false"]));
    let t = advanced(vec![writes]);
    assert_eq!(logs_s3_objects(&t, "phi", S3Events::Write), Known::Yes);
    assert_eq!(logs_s3_objects(&t, "phi", S3Events::Read), Known::No);
    // "Log only PutObject and DeleteObject": not every write event.
    let mut some = s3_data();
    some.push(eq("eventName", &["PutObject", "DeleteObject"]));
    assert_eq!(
        logs_s3_objects(&advanced(vec![some]), "phi", S3Events::Write),
        Known::No
    );
}

#[test]
fn one_selector_per_bucket_covers_both() {
    let for_bucket = |b: &str| {
        let mut f = s3_data();
        f.push(ops(
            "resources.ARN",
            &[],
            FieldOperators {
                starts_with: strings(&[&format!("arn:aws:s3:::{b}/")]),
                ..Default::default()
            },
        ));
        f
    };
    let t = advanced(vec![for_bucket("a"), for_bucket("b")]);
    assert_eq!(logs_s3_objects(&t, "a", S3Events::Read), Known::Yes);
    assert_eq!(logs_s3_objects(&t, "b", S3Events::Read), Known::Yes);
    assert_eq!(logs_s3_objects(&t, "c", S3Events::Read), Known::No);
}

#[test]
fn an_arn_field_without_recorded_operators_is_unknown() {
    let mut t = trail("t");
    t.selectors = Observed::Collected(TrailSelectors {
        basic: vec![],
        advanced: vec![AdvancedEventSelector {
            name: None,
            fields: [
                ("eventCategory".to_owned(), strings(&["Data"])),
                ("resources.type".to_owned(), strings(&["AWS::S3::Object"])),
                ("resources.ARN".to_owned(), vec![]),
            ]
            .into_iter()
            .collect(),
        }],
    });
    assert!(is_unknown(&logs_s3_objects(&t, "phi", S3Events::Read)));
}

/// Basic selectors: `arn:aws:s3` is every bucket, `arn:aws:s3:::bucket/` one bucket, a key
/// prefix only some objects; `ReadWriteType` limits the direction.
#[test]
fn basic_data_resources() {
    let all = basic("All", true, &["arn:aws:s3"]);
    assert_eq!(logs_s3_objects(&all, "phi", S3Events::Read), Known::Yes);
    let gov = basic("All", true, &["arn:aws-us-gov:s3"]);
    assert_eq!(logs_s3_objects(&gov, "phi", S3Events::Write), Known::Yes);
    let one = basic("All", true, &["arn:aws:s3:::phi/"]);
    assert_eq!(logs_s3_objects(&one, "phi", S3Events::Read), Known::Yes);
    assert_eq!(logs_s3_objects(&one, "other", S3Events::Read), Known::No);
    let prefix = basic("All", true, &["arn:aws:s3:::phi/reports/"]);
    assert_eq!(logs_s3_objects(&prefix, "phi", S3Events::Read), Known::No);
    let reads = basic("ReadOnly", true, &["arn:aws:s3"]);
    assert_eq!(logs_s3_objects(&reads, "phi", S3Events::Read), Known::Yes);
    assert_eq!(logs_s3_objects(&reads, "phi", S3Events::Write), Known::No);
}

/// "Log all management events except KMS" in the basic form: `IncludeManagementEvents`
/// with `ExcludeManagementEventSources: [kms.amazonaws.com]`.
#[test]
fn basic_exclude_management_event_sources_excludes_them() {
    let mut t = basic("All", true, &[]);
    if let Observed::Collected(s) = &mut t.selectors {
        s.basic[0].exclude_management_event_sources =
            Observed::Collected(strings(&["kms.amazonaws.com"]));
    }
    let m = management_events(&t);
    assert_eq!(m.all(), Known::No);
    assert_eq!(m.excluded_sources(), vec!["kms.amazonaws.com"]);
    assert_eq!(
        m.write.evidence(),
        serde_json::json!({"all_except": ["kms.amazonaws.com"]})
    );
    // Boundary: an empty exclusion list logs every source.
    let all = basic("All", true, &[]);
    assert_eq!(management_events(&all).all(), Known::Yes);
    assert!(management_events(&all).excluded_sources().is_empty());
}

/// A basic selector stored before its exclusions were collected may exclude some sources:
/// unknown, never all, unless another selector logs every source anyway.
#[test]
fn basic_exclusions_not_recorded_are_unknown() {
    let mut t = basic("All", true, &[]);
    if let Observed::Collected(s) = &mut t.selectors {
        s.basic[0].exclude_management_event_sources = Observed::not_recorded();
    }
    let m = management_events(&t);
    assert!(is_unknown(&m.all()), "got {:?}", m.all());
    assert_eq!(m.read.evidence(), serde_json::json!("unavailable"));

    // A second selector logging every management event decides it.
    if let Observed::Collected(s) = &mut t.selectors {
        s.advanced.push(AdvancedEventSelector {
            name: None,
            fields: vec![eq("eventCategory", &["Management"])]
                .into_iter()
                .collect(),
        });
    }
    assert_eq!(management_events(&t).all(), Known::Yes);
}
