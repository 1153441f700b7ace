//! Over the whole registry: a rule whose declared inputs were not collected answers
//! `Error` (naming them) and is never called, and a rule that reads a service the user left
//! out of the scan gives no finding at all.

use posture_model::resources::{RegionInfo, account_arn, region_arn};
use posture_model::{CollectionRecord, Observed, ResourceBody, ResourceKind, Status};
use serde_json::json;

use super::*;
use crate::rules::{self, RULES};
use crate::testing::{account, bucket, bucket_resource, now, region, resource};

/// A subject of `kind` in the fixture account (and region, for regional kinds).
fn subject_of(kind: ResourceKind) -> Resource {
    use rules::{acm, backup, cloudtrail, ec2, efs, elb, guardduty, iam, kms, rds, s3};
    let ec2_arn = "arn:aws:ec2:us-east-1:111122223333";
    // Kinds with no shared fixture builder: a minimal body from its JSON form.
    let from_json = |arn: &str, region: Region, body: serde_json::Value| {
        let body: ResourceBody = serde_json::from_value(json!({
            "kind": kind.as_str(),
            "config": body,
        }))
        .unwrap_or_else(|e| panic!("fixture body of {kind}: {e}"));
        resource(arn, region, body)
    };
    let absent = json!({"state": "absent"});
    match kind {
        ResourceKind::Account => cloudtrail::fixtures::account_subject(),
        ResourceKind::Region => cloudtrail::fixtures::region_subject("us-east-1"),
        ResourceKind::S3Bucket => bucket_resource(bucket("subject")),
        ResourceKind::S3AccountPublicAccessBlock => s3::fixtures::account_block(Observed::Absent),
        ResourceKind::S3AccessPoint => from_json(
            "arn:aws:s3:us-east-1:111122223333:accesspoint/ap",
            region(),
            json!({"name": "ap", "bucket": "b", "network_origin": null,
                   "public_access_block": absent}),
        ),
        ResourceKind::AcmCertificate => {
            acm::fixtures::certificate_resource(acm::fixtures::certificate(90))
        }
        ResourceKind::LoadBalancer => elb::fixtures::lb_resource(elb::fixtures::alb()),
        ResourceKind::BackupPlan => {
            backup::fixtures::plan_resource(backup::fixtures::plan("p", vec![]))
        }
        ResourceKind::BackupVault => backup::fixtures::vault_resource(backup::fixtures::vault("v")),
        ResourceKind::BackupRecoveryPoint => {
            backup::fixtures::recovery_point_resource(backup::fixtures::recovery_point())
        }
        ResourceKind::Trail => {
            cloudtrail::fixtures::trail_resource(cloudtrail::fixtures::trail("t"))
        }
        ResourceKind::MetricAlarm => rules::cloudwatch::metric_alarm::fixtures::alarm_resource(
            rules::cloudwatch::metric_alarm::fixtures::alarm(
                "a",
                "m",
                "arn:aws:sns:us-east-1:111122223333:t",
            ),
        ),
        ResourceKind::LogGroup => rules::cloudwatch::metric_alarm::fixtures::log_group("g", vec![]),
        ResourceKind::EbsEncryptionByDefault => {
            ec2::fixtures::ebs_default_resource(Observed::Collected(true))
        }
        ResourceKind::EbsSnapshotBlockPublicAccess => from_json(
            &format!("{ec2_arn}:snapshot-block-public-access"),
            region(),
            json!({"state": absent}),
        ),
        ResourceKind::EbsSnapshot => {
            ec2::fixtures::snapshot_resource(ec2::fixtures::snapshot(true))
        }
        ResourceKind::Volume => ec2::fixtures::volume_resource(true),
        ResourceKind::InstanceMetadataDefaults => from_json(
            &format!("{ec2_arn}:instance-metadata-defaults"),
            region(),
            json!({"defaults": absent}),
        ),
        ResourceKind::Image => from_json(
            "arn:aws:ec2:us-east-1::image/ami-1",
            region(),
            json!({"image_id": "ami-1", "name": null, "public": false, "state": null,
                   "creation_date": null}),
        ),
        ResourceKind::Instance => ec2::fixtures::instance_resource(ec2::fixtures::instance()),
        ResourceKind::LaunchConfiguration => from_json(
            "arn:aws:autoscaling:us-east-1:111122223333:launchConfiguration:1:launchConfigurationName/lc",
            region(),
            json!({"name": "lc", "image_id": null, "instance_type": null,
                   "associate_public_ip_address": null, "http_tokens": null, "created": null,
                   "used_by": absent}),
        ),
        ResourceKind::LaunchTemplate => ec2::fixtures::launch_template_resource(None, None),
        ResourceKind::EfsFileSystem => efs::fixtures::fs_resource(efs::fixtures::fs()),
        ResourceKind::GuardDutyDetector => {
            guardduty::fixtures::detector_resource(guardduty::fixtures::detector())
        }
        ResourceKind::IamUser => iam::fixtures::user_resource(iam::fixtures::user("u")),
        ResourceKind::IamRole => iam::fixtures::role_resource(iam::fixtures::role("r", &[])),
        ResourceKind::IamPolicy => iam::fixtures::policy_resource(iam::fixtures::policy(
            "p",
            iam::fixtures::narrow_document(),
        )),
        ResourceKind::IamGroup => from_json(
            "arn:aws:iam::111122223333:group/g",
            Region::global(),
            json!({"name": "g", "attached_policies": [], "inline_policies": []}),
        ),
        ResourceKind::IamServerCertificate => from_json(
            "arn:aws:iam::111122223333:server-certificate/c",
            Region::global(),
            json!({"name": "c", "path": "/", "id": "c", "upload_date": null,
                   "expiration": null}),
        ),
        ResourceKind::IamPasswordPolicy => {
            iam::fixtures::password_policy_resource(Observed::Absent)
        }
        ResourceKind::IamAccountSummary => iam::fixtures::summary_resource(&[]),
        ResourceKind::IamCredentialReport => from_json(
            "arn:aws:iam::111122223333:credential-report",
            Region::global(),
            json!({"generated_at": null, "rows": absent}),
        ),
        ResourceKind::InternetGateway => from_json(
            &format!("{ec2_arn}:internet-gateway/igw-1"),
            region(),
            json!({"internet_gateway_id": "igw-1", "attachments": []}),
        ),
        ResourceKind::KmsKey => kms::fixtures::key_resource(kms::fixtures::customer_key()),
        ResourceKind::NetworkAcl => ec2::fixtures::nacl_resource(vec![]),
        ResourceKind::RouteTable => from_json(
            &format!("{ec2_arn}:route-table/rtb-1"),
            region(),
            json!({"route_table_id": "rtb-1", "vpc_id": "vpc-1", "routes": [],
                   "associations": []}),
        ),
        ResourceKind::RdsInstance => {
            rds::fixtures::instance_resource(rds::fixtures::instance("db"))
        }
        ResourceKind::RdsCluster => rds::fixtures::cluster_resource(rds::fixtures::cluster("c")),
        ResourceKind::RdsSnapshot => rds::fixtures::snapshot_resource(rds::fixtures::snapshot("s")),
        ResourceKind::MacieSession => from_json(
            "arn:aws:macie2:us-east-1:111122223333:session",
            region(),
            json!({"status": "ENABLED", "automated_discovery": absent,
                   "classification_jobs": absent}),
        ),
        ResourceKind::Secret => rules::secretsmanager::fixtures::secret_resource(
            rules::secretsmanager::fixtures::secret(),
        ),
        ResourceKind::SecurityGroup => ec2::fixtures::sg_resource(ec2::fixtures::sg("sg")),
        ResourceKind::Subnet => ec2::fixtures::subnet_resource(false),
        ResourceKind::Vpc => ec2::fixtures::vpc_resource(),
        ResourceKind::VpnConnection => from_json(
            &format!("{ec2_arn}:vpn-connection/vpn-1"),
            region(),
            json!({"vpn_connection_id": "vpn-1", "state": null, "vpn_gateway_id": null,
                   "transit_gateway_id": null, "tunnels": []}),
        ),
        other => panic!("no subject fixture for {other}: add one here for the new rule"),
    }
}

/// The fixture account with its one scanned region, and `subject`.
fn estate(subject: Resource) -> Vec<Resource> {
    let mut all = vec![subject];
    for extra in [
        cloudtrail_account(),
        resource(
            region_arn(&account(), &region()).as_str(),
            region(),
            ResourceBody::Region(RegionInfo { name: region() }),
        ),
    ] {
        if all.iter().all(|r| r.arn != extra.arn) {
            all.push(extra);
        }
    }
    all
}

fn cloudtrail_account() -> Resource {
    rules::cloudtrail::fixtures::account_subject()
}

/// A coverage record of `services` collected in the fixture account, in the fixture region
/// and in `global`; `other` is always collected, so that collections are recorded.
fn collected(services: &[&str]) -> Coverage {
    let mut records = Vec::new();
    for region in [region(), Region::global()] {
        for service in services.iter().chain(&["other"]) {
            records.push(CollectionRecord {
                account: account(),
                region: region.clone(),
                service: (*service).to_owned(),
                resources: 0,
                complete: true,
            });
        }
    }
    Coverage {
        collected: records,
        ..Coverage::default()
    }
}

/// The finding of `rule` about `subject`, evaluated alone, with `excluded` left out.
fn finding_of(
    rule: &'static dyn crate::Rule,
    subject: &Resource,
    coverage: &Coverage,
    excluded: &[&str],
) -> Option<Finding> {
    let resources = estate(subject.clone());
    let baseline = crate::testing::baseline_of(rule);
    let phi = PhiScope::default();
    let index = SnapshotIndex::new(&resources, coverage);
    let mut evaluator = Evaluator::new(Settings {
        baseline: &baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: now(),
    })
    .excluding(excluded.iter().copied());
    let findings = evaluator
        .evaluate(&index)
        .expect("a whole-snapshot index wants nothing");
    let mut about: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.resource.arn == subject.arn)
        .collect();
    assert!(about.len() <= 1, "{}: {about:?}", rule.meta().id);
    about.pop()
}

#[test]
fn every_api_call_of_every_rule_is_made_by_a_known_collection() {
    for rule in RULES.iter() {
        let m = rule.meta();
        for call in m.api_calls {
            assert!(
                posture_model::services::collection_of(call).is_some(),
                "{}: no collection makes {call}",
                m.id
            );
        }
        assert!(!m.input_services().is_empty(), "{}", m.id);
    }
}

#[test]
fn every_rule_with_its_inputs_uncollected_is_an_error_naming_them() {
    for rule in RULES.iter() {
        let m = rule.meta();
        let subject = subject_of(m.subject);
        let inputs = m.input_services();
        let f = finding_of(*rule, &subject, &collected(&[]), &[])
            .unwrap_or_else(|| panic!("{}: no finding about its subject", m.id));
        assert_eq!(f.status, Status::Error, "{}: {f:?}", m.id);
        assert_eq!(
            f.evidence["not_collected"],
            json!(inputs),
            "{}: {:?}",
            m.id,
            f.evidence
        );
        for service in &inputs {
            assert!(
                f.reason.contains(&format!("{service} was not collected")),
                "{}: {}",
                m.id,
                f.reason
            );
        }
    }
}

#[test]
fn every_rule_missing_one_input_names_that_one_and_is_called_when_none_is_missing() {
    for rule in RULES.iter() {
        let m = rule.meta();
        let subject = subject_of(m.subject);
        let inputs = m.input_services();
        for missing in &inputs {
            let others: Vec<&str> = inputs.iter().copied().filter(|s| s != missing).collect();
            let f = finding_of(*rule, &subject, &collected(&others), &[])
                .unwrap_or_else(|| panic!("{}: no finding", m.id));
            assert_eq!(f.status, Status::Error, "{} without {missing}: {f:?}", m.id);
            assert_eq!(f.evidence["not_collected"], json!([missing]), "{}", m.id);
        }
        // Every input collected: the rule itself answers.
        let f = finding_of(*rule, &subject, &collected(&inputs), &[])
            .unwrap_or_else(|| panic!("{}: no finding", m.id));
        assert!(
            !f.evidence.contains_key("not_collected"),
            "{} with every input collected: {f:?}",
            m.id
        );
    }
}

#[test]
fn every_rule_reading_an_excluded_service_gives_no_finding() {
    for rule in RULES.iter() {
        let m = rule.meta();
        let subject = subject_of(m.subject);
        for excluded in m.input_services() {
            // Whether or not the other inputs ran: the rule is not part of this scan.
            for coverage in [collected(&[]), collected(&m.input_services())] {
                assert_eq!(
                    finding_of(*rule, &subject, &coverage, &[excluded]),
                    None,
                    "{} with {excluded} excluded",
                    m.id
                );
            }
        }
        // Excluding a service the rule does not read changes nothing.
        let f = finding_of(*rule, &subject, &collected(&[]), &["not-an-input"]);
        assert_eq!(f.map(|f| f.status), Some(Status::Error), "{}", m.id);
    }
}

#[test]
fn account_subjects_are_in_the_fixture_account() {
    // The estate's account subject is the one `account_arn` documents.
    assert_eq!(cloudtrail_account().arn, account_arn(&account()));
}
