//! Bodies written by earlier versions of Posture must still load: the store keeps years of
//! snapshots, and drift and history read them back into today's types. A field added to an
//! existing kind therefore carries a serde default (`None`, empty, or
//! [`Observed::not_recorded`]). These are bodies exactly as the previous version wrote them.

use super::*;
use crate::{NOT_RECORDED_OPERATION, Observed};

fn load(kind: &str, config: &str) -> ResourceBody {
    let text = format!(r#"{{"kind":"{kind}","config":{config}}}"#);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a stored {kind} body no longer loads: {e}\n{text}"))
}

fn not_recorded<T: std::fmt::Debug>(o: &Observed<T>) {
    match o {
        Observed::Unavailable(u) => assert_eq!(u.operation, NOT_RECORDED_OPERATION),
        other => panic!("expected not recorded, got {other:?}"),
    }
}

#[test]
fn instance_of_the_previous_version_loads() {
    let ResourceBody::Instance(i) = load(
        "aws_ec2_instance",
        r#"{"instance_id": "i-1", "state": "running", "public_ip_address": null,
            "subnet_id": null, "vpc_id": null, "iam_instance_profile": null,
            "metadata_http_tokens": "required", "metadata_http_endpoint": null,
            "security_groups": [], "launch_time": null}"#,
    ) else {
        panic!("not an instance")
    };
    assert_eq!(i.monitoring_state, None);
    assert_eq!(i.ebs_optimized, None);
    assert_eq!(i.enclave_enabled, None);
    assert_eq!(i.instance_type, None);
    not_recorded(&i.ebs_optimized_support);
    not_recorded(&i.user_data);
}

#[test]
fn bucket_trail_summary_and_db_instance_of_the_previous_version_load() {
    let ResourceBody::S3Bucket(b) = load(
        "aws_s3_bucket",
        r#"{"name": "phi", "creation_date": null, "encryption": {"state": "absent"},
            "public_access_block": {"state": "absent"}, "policy": {"state": "absent"},
            "acl": {"state": "absent"}, "versioning": {"state": "absent"},
            "object_lock": {"state": "absent"}, "logging": {"state": "absent"},
            "replication": {"state": "absent"}}"#,
    ) else {
        panic!("not a bucket")
    };
    not_recorded(&b.object_ownership);
    not_recorded(&b.lifecycle);
    not_recorded(&b.notifications);

    let ResourceBody::Trail(t) = load(
        "aws_cloudtrail_trail",
        r#"{"name": "t", "home_region": "us-east-1", "is_multi_region": true,
            "is_organization_trail": false, "log_file_validation_enabled": true,
            "kms_key_id": null, "s3_bucket_name": "logs",
            "cloudwatch_logs_log_group_arn": null, "status": {"state": "absent"},
            "selectors": {"state": "absent"}}"#,
    ) else {
        panic!("not a trail")
    };
    not_recorded(&t.insight_selectors);

    let ResourceBody::IamAccountSummary(s) = load(
        "aws_iam_account_summary",
        r#"{"summary": {"state": "absent"}}"#,
    ) else {
        panic!("not an account summary")
    };
    not_recorded(&s.virtual_mfa_devices);

    let ResourceBody::RdsInstance(db) = load(
        "aws_rds_db_instance",
        r#"{"identifier": "db", "engine": "postgres", "engine_version": null,
            "instance_class": null, "cluster_identifier": null, "storage_encrypted": true,
            "kms_key_id": null, "publicly_accessible": false, "backup_retention_period": 7,
            "deletion_protection": true, "multi_az": true, "auto_minor_version_upgrade": true,
            "iam_database_authentication_enabled": false, "enabled_cloudwatch_logs_exports": [],
            "parameter_groups": [], "db_subnet_group": null, "vpc_id": null,
            "monitoring_interval": null, "ca_certificate_identifier": null,
            "created_at": null}"#,
    ) else {
        panic!("not a DB instance")
    };
    assert!(db.subnet_ids.is_empty());
    not_recorded(&db.ca_certificate);
}

#[test]
fn iam_role_of_the_previous_version_loads() {
    let ResourceBody::IamRole(r) = load(
        "aws_iam_role",
        r#"{"name": "app", "path": "/", "assume_role_policy": null,
            "attached_policies": [], "inline_policies": [], "last_used": null}"#,
    ) else {
        panic!("not a role")
    };
    assert_eq!(r.permissions_boundary, None);
}

#[test]
fn advanced_selector_fields_of_the_previous_version_load_with_only_equals_recorded() {
    let ResourceBody::Trail(t) = load(
        "aws_cloudtrail_trail",
        r#"{"name": "t", "home_region": "us-east-1", "is_multi_region": true,
            "is_organization_trail": false, "log_file_validation_enabled": true,
            "kms_key_id": null, "s3_bucket_name": "logs",
            "cloudwatch_logs_log_group_arn": null, "status": {"state": "absent"},
            "selectors": {"state": "collected", "value": {"basic": [], "advanced": [
                {"name": "mgmt", "fields": [["eventCategory", ["Management"]],
                                            ["eventSource", []]]}]}}}"#,
    ) else {
        panic!("not a trail")
    };
    let Observed::Collected(s) = &t.selectors else {
        panic!("selectors not collected: {:?}", t.selectors)
    };
    let fields: Vec<_> = s.advanced[0].fields.iter().collect();
    assert_eq!(fields[0].field, "eventCategory");
    assert_eq!(fields[0].equals, vec!["Management".to_owned()]);
    not_recorded(&fields[0].others);
    assert_eq!(fields[1].field, "eventSource");
    assert!(fields[1].equals.is_empty());
    not_recorded(&fields[1].others);
    // Written back in the pair form, so the stored body (and its hash) is unchanged.
    assert_eq!(
        serde_json::to_value(&s.advanced[0].fields).expect("serialises"),
        serde_json::json!([["eventCategory", ["Management"]], ["eventSource", []]])
    );
}

#[test]
fn basic_selectors_of_the_previous_version_load_with_exclusions_not_recorded() {
    let ResourceBody::Trail(t) = load(
        "aws_cloudtrail_trail",
        r#"{"name": "t", "home_region": "us-east-1", "is_multi_region": true,
            "is_organization_trail": false, "log_file_validation_enabled": true,
            "kms_key_id": null, "s3_bucket_name": "logs",
            "cloudwatch_logs_log_group_arn": null, "status": {"state": "absent"},
            "selectors": {"state": "collected", "value": {"basic": [
                {"read_write_type": "All", "include_management_events": true,
                 "data_resources": [["AWS::S3::Object", ["arn:aws:s3"]]]}],
                "advanced": []}}}"#,
    ) else {
        panic!("not a trail")
    };
    let Observed::Collected(s) = &t.selectors else {
        panic!("selectors not collected: {:?}", t.selectors)
    };
    assert_eq!(s.basic[0].read_write_type, "All");
    assert!(s.basic[0].include_management_events);
    not_recorded(&s.basic[0].exclude_management_event_sources);
}

#[test]
fn whole_field_selectors_round_trip() {
    let fields: FieldSelectors = [FieldSelector {
        field: "eventSource".into(),
        equals: vec![],
        others: Observed::Collected(FieldOperators {
            not_equals: vec!["kms.amazonaws.com".into()],
            ..Default::default()
        }),
    }]
    .into_iter()
    .collect();
    let text = serde_json::to_string(&fields).expect("serialises");
    assert_eq!(
        text,
        r#"[{"field":"eventSource","equals":[],"starts_with":[],"ends_with":[],"not_equals":["kms.amazonaws.com"],"not_starts_with":[],"not_ends_with":[]}]"#
    );
    let back: FieldSelectors = serde_json::from_str(&text).expect("loads");
    assert_eq!(back, fields);
    // An object with only some operators loads with the rest empty.
    let sparse: FieldSelectors =
        serde_json::from_str(r#"[{"field":"resources.ARN","starts_with":["arn:aws:s3:::b/"]}]"#)
            .expect("loads");
    let f = sparse.iter().next().expect("one selector");
    assert!(f.equals.is_empty());
    let Observed::Collected(o) = &f.others else {
        panic!("operators recorded")
    };
    assert_eq!(o.starts_with, vec!["arn:aws:s3:::b/".to_owned()]);
    assert!(o.not_equals.is_empty());
}
