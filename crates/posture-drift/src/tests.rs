use chrono::TimeZone;
use posture_model::resources::{SecurityGroup, SgRule, Vpc};
use posture_model::{Arn, Citation, Observed, ResourceBody};
use serde_json::json;

use super::*;

fn account() -> AccountId {
    AccountId::new("111122223333").unwrap()
}

fn scope(regions: &[&str]) -> Scope {
    Scope::new(
        &[account()],
        &regions
            .iter()
            .map(|r| Region::new(*r).unwrap())
            .collect::<Vec<_>>(),
        &["ec2".to_owned()],
    )
}

fn vpc(region: &str, id: &str, cidr: &str) -> Resource {
    Resource {
        arn: Arn::new(format!("arn:aws:ec2:{region}:111122223333:vpc/{id}")).unwrap(),
        account: account(),
        region: Region::new(region).unwrap(),
        tags: Observed::Collected(Default::default()),
        body: ResourceBody::Vpc(Vpc {
            vpc_id: id.into(),
            cidr_block: Some(cidr.into()),
            is_default: false,
            state: None,
        }),
    }
}

fn sg(ingress: Vec<SgRule>) -> Resource {
    Resource {
        arn: Arn::new("arn:aws:ec2:us-east-1:111122223333:security-group/sg-1").unwrap(),
        account: account(),
        region: Region::new("us-east-1").unwrap(),
        tags: Observed::Collected(Default::default()),
        body: ResourceBody::SecurityGroup(SecurityGroup {
            group_id: "sg-1".into(),
            group_name: "db".into(),
            vpc_id: None,
            ingress,
            egress: vec![],
        }),
    }
}

fn ssh_from(cidr: &str) -> SgRule {
    SgRule {
        ip_protocol: "tcp".into(),
        from_port: Some(22),
        to_port: Some(22),
        ipv4_ranges: vec![cidr.into()],
        ipv6_ranges: vec![],
        source_groups: vec![],
        prefix_lists: vec![],
    }
}

#[test]
fn added_removed_and_modified_with_field_pointers() {
    let old = vec![
        vpc("us-east-1", "vpc-a", "10.0.0.0/16"),
        vpc("us-east-1", "vpc-b", "10.1.0.0/16"),
    ];
    let new = vec![
        vpc("us-east-1", "vpc-a", "10.9.0.0/16"),
        vpc("us-east-1", "vpc-c", "10.2.0.0/16"),
    ];
    let d = diff_resources(&old, &new, &scope(&["us-east-1"]));
    let summary: Vec<_> = d
        .iter()
        .map(|c| (c.change, c.arn.rsplit('/').next().unwrap().to_owned()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Change::Modified, "vpc-a".into()),
            (Change::Removed, "vpc-b".into()),
            (Change::Added, "vpc-c".into())
        ]
    );
    assert_eq!(
        d[0].fields,
        vec![FieldChange {
            pointer: "/body/config/cidr_block".into(),
            old: Some(json!("10.0.0.0/16")),
            new: Some(json!("10.9.0.0/16")),
        }]
    );
}

#[test]
fn port_22_opened_to_the_world_shows_as_array_element_changes() {
    let old = vec![sg(vec![])];
    let new = vec![sg(vec![ssh_from("0.0.0.0/0")])];
    let d = diff_resources(&old, &new, &scope(&["us-east-1"]));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].fields[0].pointer, "/body/config/ingress/0");
    assert_eq!(d[0].fields[0].old, None);
    assert_eq!(
        d[0].fields[0].new.as_ref().unwrap()["ipv4_ranges"],
        json!(["0.0.0.0/0"])
    );
    // Widening an existing rule shows the exact element.
    let d = diff_resources(
        &[sg(vec![ssh_from("10.0.0.0/8")])],
        &new,
        &scope(&["us-east-1"]),
    );
    assert_eq!(
        d[0].fields[0].pointer,
        "/body/config/ingress/0/ipv4_ranges/0"
    );
}

#[test]
fn resources_outside_the_shared_scope_are_not_reported_removed() {
    let old = vec![
        vpc("us-east-1", "vpc-a", "10.0.0.0/16"),
        vpc("us-west-2", "vpc-w", "10.1.0.0/16"),
    ];
    let new = vec![vpc("us-east-1", "vpc-a", "10.0.0.0/16")];
    let shared = scope(&["us-east-1", "us-west-2"]).intersect(&scope(&["us-east-1"]));
    assert!(diff_resources(&old, &new, &shared).is_empty());
}

#[test]
fn activity_timestamps_alone_are_not_drift() {
    let mut old = vec![vpc("us-east-1", "vpc-a", "10.0.0.0/16")];
    let mut new = old.clone();
    // Stand-in for a role's last_used moving on: patch the JSON, then read it back.
    let bump = |r: &mut Resource, v: &str| {
        let mut j = serde_json::to_value(&*r).unwrap();
        j["tags"]["value"]["last_used"] = json!(v);
        *r = serde_json::from_value(j).unwrap();
    };
    bump(&mut old[0], "2026-01-01");
    bump(&mut new[0], "2026-01-02");
    assert!(diff_resources(&old, &new, &scope(&["us-east-1"])).is_empty());
}

#[test]
fn a_field_an_earlier_version_did_not_record_is_not_drift_when_it_appears() {
    let mut out = Vec::new();
    let old: Observed<bool> = Observed::not_recorded();
    walk(
        &mut String::new(),
        &json!({"a": 1, "new_field": serde_json::to_value(&old).unwrap()}),
        &json!({"a": 1, "new_field": {"state": "collected", "value": true}}),
        &mut out,
    );
    assert!(out.is_empty(), "{out:?}");
    // A real change next to it is still reported.
    walk(
        &mut String::new(),
        &json!({"a": 1, "new_field": serde_json::to_value(&old).unwrap()}),
        &json!({"a": 2, "new_field": {"state": "collected", "value": true}}),
        &mut out,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].pointer, "/a");
}

#[test]
fn pointer_tokens_are_escaped() {
    let mut out = Vec::new();
    walk(
        &mut String::new(),
        &json!({"a/b": {"c~d": 1}}),
        &json!({"a/b": {"c~d": 2}}),
        &mut out,
    );
    assert_eq!(out[0].pointer, "/a~1b/c~0d");
}

fn t(days: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(days)
}

fn finding(id: &str, status: Status, first_seen: Option<DateTime<Utc>>) -> Finding {
    let r = vpc("us-east-1", id, "10.0.0.0/16");
    Finding {
        rule_id: RuleId::new("vpc_flow_logs_enabled").unwrap(),
        title: "flow logs".into(),
        status,
        severity: Severity::Medium,
        resource: ResourceRef {
            arn: r.arn,
            kind: ResourceKind::Vpc,
            account: account(),
            region: r.region,
            tags: Default::default(),
        },
        citations: vec![Citation {
            id: "164.312(b)".into(),
            title: "Audit controls".into(),
        }],
        evidence: Default::default(),
        reason: format!("{id} {status:?}"),
        first_seen,
        phi: false,
        waiver: None,
    }
}

#[test]
fn finding_transitions_are_classified() {
    let old = vec![
        finding("new-fail", Status::Pass, None),
        finding("resolved", Status::Fail, None),
        finding("still", Status::Fail, Some(t(0))),
        finding("waived", Status::Fail, None),
        finding("expired", Status::Waived, None),
        finding("error", Status::Pass, None),
        finding("gone", Status::Fail, None),
        finding("steady", Status::Pass, None),
    ];
    let new = vec![
        finding("new-fail", Status::Fail, None),
        finding("resolved", Status::Pass, None),
        finding("still", Status::Fail, Some(t(0))),
        finding("waived", Status::Waived, None),
        finding("expired", Status::Fail, None),
        finding("error", Status::Error, None),
        finding("steady", Status::Pass, None),
        finding("brand-new", Status::Fail, None),
    ];
    let d = diff_findings(&old, &new, &scope(&["us-east-1"]), t(10));
    let got: Vec<_> = d
        .iter()
        .map(|f| {
            (
                f.resource
                    .arn
                    .as_str()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                f.transition,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("brand-new".to_owned(), Transition::NewFailure),
            ("error".to_owned(), Transition::NewError),
            ("expired".to_owned(), Transition::WaiverExpired),
            ("gone".to_owned(), Transition::Resolved),
            ("new-fail".to_owned(), Transition::NewFailure),
            ("resolved".to_owned(), Transition::Resolved),
            ("still".to_owned(), Transition::StillFailing),
            ("waived".to_owned(), Transition::NewlyWaived),
        ]
    );
    let still = d
        .iter()
        .find(|f| f.transition == Transition::StillFailing)
        .unwrap();
    assert_eq!(still.age_days, Some(10));
    let gone = d
        .iter()
        .find(|f| f.resource.arn.as_str().ends_with("gone"))
        .unwrap();
    assert_eq!(gone.to, None);
}

fn unread_vpcs(region: &str) -> Unread {
    let gap = posture_model::Gap {
        account: account(),
        region: Region::new(region).unwrap(),
        service: "ec2".into(),
        operation: "ec2:DescribeVpcs".into(),
        resource: None,
        kind: posture_model::UnavailableKind::Denied,
        code: Some("AccessDenied".into()),
        message: "not authorized".into(),
    };
    let regions = [Region::new(region).unwrap()];
    let services = ["ec2".to_owned()];
    let collected = [(Region::new(region).unwrap(), "ec2".to_owned())];
    Unread::of_account(&posture_model::AccountScan {
        regions: &regions,
        services: &services,
        collected: &collected,
        gaps: &[gap],
    })
}

#[test]
fn a_resource_whose_list_call_failed_is_not_removed_while_a_read_kind_beside_it_is() {
    let old = vec![
        vpc("us-east-1", "vpc-1", "10.0.0.0/16"),
        sg(vec![ssh_from("10.0.0.0/8")]),
    ];
    let scope = scope(&["us-east-1"]).with_unread(account(), unread_vpcs("us-east-1"));
    let d = diff_resources(&old, &[], &scope);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].change, Change::Removed);
    assert_eq!(d[0].kind, ResourceKind::SecurityGroup);
    // Without the unread scope both are removed: the scope is what keeps the VPC.
    assert_eq!(diff_resources(&old, &[], &scope_of_us_east_1()).len(), 2);
}

fn scope_of_us_east_1() -> Scope {
    scope(&["us-east-1"])
}

#[test]
fn a_failure_whose_resource_could_not_be_read_becomes_new_error_never_resolved() {
    let old = vec![
        finding("vpc-1", Status::Fail, Some(t(0))),
        finding("vpc-2", Status::Pass, Some(t(0))),
        finding("vpc-3", Status::NotApplicable, Some(t(0))),
    ];
    let scope = scope(&["us-east-1"]).with_unread(account(), unread_vpcs("us-east-1"));
    let d = diff_findings(&old, &[], &scope, t(10));
    let got: Vec<_> = d
        .iter()
        .map(|f| {
            (
                f.resource.arn.as_str().rsplit('/').next().unwrap(),
                f.transition,
                f.from,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("vpc-1", Transition::NewError, Some(Status::Fail)),
            ("vpc-2", Transition::NewError, Some(Status::Pass)),
        ]
    );
    assert!(d[0].reason.contains("could not be read"), "{}", d[0].reason);
    // In another region, read in full, the same vanished failure is resolved.
    let elsewhere = scope_of_us_east_1().with_unread(account(), unread_vpcs("eu-west-1"));
    let d = diff_findings(&old[..1], &[], &elsewhere, t(10));
    assert_eq!(d[0].transition, Transition::Resolved);
}

#[test]
fn a_failure_read_again_after_an_error_goes_on_and_a_new_one_is_new() {
    let old = vec![
        finding("vpc-1", Status::Error, Some(t(5))),
        finding("vpc-2", Status::Error, Some(t(5))),
    ];
    let new = vec![
        // The store continued its failure episode: first seen before this scan.
        finding("vpc-1", Status::Fail, Some(t(0))),
        // Failing for the first time now.
        finding("vpc-2", Status::Fail, Some(t(10))),
    ];
    let d = diff_findings(&old, &new, &scope_of_us_east_1(), t(10));
    assert_eq!(d[0].transition, Transition::StillFailing);
    assert_eq!(d[0].age_days, Some(10));
    assert_eq!(d[1].transition, Transition::NewFailure);
}
