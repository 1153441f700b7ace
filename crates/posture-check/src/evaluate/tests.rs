//! The evaluation as a whole: PHI scoping, waivers, manual controls, order.

use chrono::{Duration, NaiveDate};
use posture_model::resources::{AccountInfo, BucketVersioning, account_arn};
use posture_model::{AccountId, Observed, ResourceBody, Severity};

use super::*;
use crate::testing::{account, bucket, bucket_resource, denied, list_gap, now, region};

const BASELINE: &str = r#"
name = "test"
version = "1"

[[citations]]
id = "164.312(c)(1)"
title = "Integrity"
rules = ["s3_bucket_object_lock", "s3_bucket_versioning"]

[[citations]]
id = "164.308(a)(7)(ii)(D)"
title = "Testing and revision procedures"

[scope]
phi_only = ["s3_bucket_object_lock"]

[[manual]]
id = "manual_restore_testing"
title = "Restores from backup are tested"
severity = "high"
citations = ["164.308(a)(7)(ii)(D)"]
expected_evidence = "the report of the last restore test"
"#;

fn baseline() -> Baseline {
    Baseline::from_toml("test.toml", BASELINE).expect("test baseline is valid")
}

fn account_resource(id: &str) -> Resource {
    let account = AccountId::new(id).unwrap();
    Resource {
        arn: account_arn(&account),
        account: account.clone(),
        region: posture_model::Region::global(),
        tags: Observed::Absent,
        body: ResourceBody::Account(AccountInfo {
            account_id: account,
            scanned_as: "arn:aws:sts::111122223333:assumed-role/posture/scan".into(),
        }),
    }
}

/// A bucket whose versioning was never enabled (fails `s3_bucket_versioning`) and without
/// Object Lock (fails `s3_bucket_object_lock` where it applies), with `tags`.
fn unversioned(name: &str, tags: Observed<Tags>) -> Resource {
    let mut r = bucket_resource(bucket(name));
    r.tags = tags;
    r
}

fn tags(pairs: &[(&str, &str)]) -> Observed<Tags> {
    Observed::Collected(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn versioned(name: &str) -> Resource {
    let mut b = bucket(name);
    b.versioning = Observed::Collected(BucketVersioning {
        status: Some("Enabled".into()),
        mfa_delete: None,
    });
    bucket_resource(b)
}

fn versioning_denied(name: &str) -> Resource {
    let mut b = bucket(name);
    b.versioning = denied("s3:GetBucketVersioning");
    bucket_resource(b)
}

fn estate() -> Vec<Resource> {
    vec![
        account_resource("111122223333"),
        unversioned(
            "phi-records",
            tags(&[("phi", "true"), ("owner", "records")]),
        ),
        unversioned("scratch-1", tags(&[("env", "dev")])),
        unversioned("tags-denied", denied("s3:GetBucketTagging")),
        versioning_denied("scratch-denied"),
        versioned("phi-versioned"),
    ]
}

struct Run {
    resources: Vec<Resource>,
    coverage: Coverage,
    baseline: Baseline,
    waivers: Option<Waivers>,
    attestations: Option<Attestations>,
    phi: PhiScope,
    now: DateTime<Utc>,
}

impl Run {
    fn new() -> Self {
        Self {
            resources: estate(),
            coverage: Coverage::default(),
            baseline: baseline(),
            waivers: None,
            attestations: None,
            phi: PhiScope::default(),
            now: now(),
        }
    }

    fn waivers(mut self, text: &str) -> Self {
        self.waivers = Some(Waivers::from_toml("waivers.toml", text).expect("valid waivers"));
        self
    }

    fn attestations(mut self, text: &str) -> Self {
        let a = Attestations::from_toml("attestations.toml", text, &self.baseline);
        self.attestations = Some(a.expect("valid attestations"));
        self
    }

    fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    fn eval(&self) -> Evaluation {
        evaluate(&Input {
            resources: &self.resources,
            coverage: &self.coverage,
            baseline: &self.baseline,
            waivers: self.waivers.as_ref(),
            attestations: self.attestations.as_ref(),
            phi: &self.phi,
            now: self.now,
        })
    }
}

#[track_caller]
fn finding<'e>(e: &'e Evaluation, rule: &str, arn: &str) -> &'e Finding {
    let found: Vec<_> = e
        .findings
        .iter()
        .filter(|f| f.rule_id.as_str() == rule && f.resource.arn.as_str() == arn)
        .collect();
    assert_eq!(found.len(), 1, "one finding of {rule} on {arn}: {found:?}");
    found[0]
}

fn waiver(rule: &str, selector: &str, ticket: &str, expires: &str) -> String {
    format!(
        "[[waiver]]\nrule = \"{rule}\"\n{selector}\nowner = \"platform@example.org\"\n\
         justification = \"scratch data, no PHI\"\nticket = \"{ticket}\"\nexpires = {expires}\n\n"
    )
}

// ---- PHI scope ----------------------------------------------------------------------------

#[test]
fn findings_carry_the_phi_flag_at_the_rules_severity() {
    let e = Run::new().eval();
    let phi = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::phi-records");
    assert!(phi.phi);
    assert_eq!(phi.status, Status::Fail);
    assert_eq!(phi.severity, Severity::Medium);
    let scratch = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
    assert!(!scratch.phi);
    assert_eq!(
        scratch.status,
        Status::Fail,
        "unscoped rules apply to every resource"
    );
    assert_eq!(scratch.severity, phi.severity);
    let unknown = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::tags-denied");
    assert!(!unknown.phi, "unknown tags are not known to hold PHI");
}

#[test]
fn a_phi_only_rule_applies_to_phi_resources_only() {
    let e = Run::new().eval();
    let phi = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::phi-records");
    assert_eq!(phi.status, Status::Fail);
    assert!(phi.phi);
    let scratch = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::scratch-1");
    assert_eq!(scratch.status, Status::NotApplicable);
    assert_eq!(scratch.reason, "not tagged as holding PHI");
}

#[test]
fn a_phi_only_rule_is_an_error_where_tags_could_not_be_collected() {
    let e = Run::new().eval();
    let f = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::tags-denied");
    assert_eq!(f.status, Status::Error);
    assert!(f.reason.contains("s3:GetBucketTagging"), "{}", f.reason);
}

#[test]
fn the_phi_scope_is_the_callers_configuration() {
    let mut run = Run::new();
    run.phi = PhiScope::new([("env".to_owned(), vec!["dev".to_owned()])].into()).unwrap();
    let e = run.eval();
    let scratch = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::scratch-1");
    assert_eq!(scratch.status, Status::Fail);
    assert!(scratch.phi);
    let phi = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::phi-records");
    assert_eq!(phi.status, Status::NotApplicable);
}

#[test]
fn a_list_gap_still_makes_a_phi_only_rule_an_error() {
    let mut run = Run::new();
    run.resources.retain(|r| r.kind() == ResourceKind::Account);
    run.coverage.failed = vec![list_gap("s3:ListBuckets", region())];
    let e = run.eval();
    let region_arn = posture_model::resources::region_arn(&account(), &region());
    let f = finding(&e, "s3_bucket_object_lock", region_arn.as_str());
    assert_eq!(f.status, Status::Error);
}

// ---- Waivers ------------------------------------------------------------------------------

#[test]
fn a_live_waiver_waives_a_failure_and_keeps_what_the_rule_said() {
    let plain = Run::new().eval();
    let before = finding(&plain, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
    let e = Run::new()
        .waivers(&waiver(
            "s3_bucket_versioning",
            "arn = \"arn:aws:s3:::scratch-*\"",
            "SEC-1",
            "2026-06-01",
        ))
        .eval();
    let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
    assert_eq!(f.status, Status::Waived);
    let w = f.waiver.as_ref().expect("the waiver is carried");
    assert_eq!(w.ticket, "SEC-1");
    assert_eq!(w.owner, "platform@example.org");
    assert_eq!(w.justification, "scratch data, no PHI");
    assert_eq!(w.expires, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    assert_eq!(w.waived_status, Status::Fail);
    assert_eq!(f.reason, before.reason);
    assert_eq!(f.evidence, before.evidence);
    // Other rules and other resources are untouched.
    let phi = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::phi-records");
    assert_eq!(phi.status, Status::Fail);
    assert!(phi.waiver.is_none());
    assert!(e.stale_waivers.is_empty() && e.expired_waivers.is_empty());
}

#[test]
fn a_waiver_can_select_by_tags_account_and_region() {
    for selector in [
        "tags = { env = \"dev\" }",
        "account = \"111122223333\"",
        "region = \"us-east-1\"",
    ] {
        let e = Run::new()
            .waivers(&waiver(
                "s3_bucket_versioning",
                selector,
                "SEC-2",
                "2026-12-31",
            ))
            .eval();
        let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
        assert_eq!(f.status, Status::Waived, "{selector}");
    }
    let e = Run::new()
        .waivers(&waiver(
            "s3_bucket_versioning",
            "account = \"444455556666\"",
            "SEC-3",
            "2026-12-31",
        ))
        .eval();
    let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
    assert_eq!(f.status, Status::Fail);
}

#[test]
fn the_day_after_expiry_the_waiver_no_longer_applies() {
    let text = waiver(
        "s3_bucket_versioning",
        "arn = \"arn:aws:s3:::scratch-1\"",
        "SEC-4",
        "2026-06-01",
    );
    let last_day = Run::new()
        .waivers(&text)
        .at(now() + Duration::hours(23))
        .eval();
    assert_eq!(
        finding(&last_day, "s3_bucket_versioning", "arn:aws:s3:::scratch-1").status,
        Status::Waived
    );
    let e = Run::new()
        .waivers(&text)
        .at(now() + Duration::days(1))
        .eval();
    let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
    assert_eq!(f.status, Status::Fail);
    assert!(f.waiver.is_none());
    let note = &f.evidence["expired_waivers"][0];
    assert_eq!(note["ticket"], "SEC-4");
    assert_eq!(note["note"], "waiver SEC-4 expired on 2026-06-01");
    let [expired] = e.expired_waivers.as_slice() else {
        panic!("one expired waiver: {:?}", e.expired_waivers)
    };
    assert_eq!(expired.waiver.ticket, "SEC-4");
    assert_eq!(expired.reopened, 1);
    assert!(
        e.stale_waivers.is_empty(),
        "an expired waiver is not also stale"
    );
}

#[test]
fn an_error_is_not_waivable() {
    let e = Run::new()
        .waivers(&waiver(
            "s3_bucket_versioning",
            "arn = \"arn:aws:s3:::scratch-denied\"",
            "SEC-5",
            "2026-12-31",
        ))
        .eval();
    let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-denied");
    assert_eq!(f.status, Status::Error);
    assert!(f.waiver.is_none());
    assert_eq!(f.evidence["waiver_not_applied"]["ticket"], "SEC-5");
    assert!(
        e.stale_waivers.is_empty(),
        "the failure it accepts may still be there: not stale"
    );
}

#[test]
fn waivers_that_cover_no_failure_are_stale() {
    let text = [
        waiver(
            "s3_bucket_versioning",
            "arn = \"arn:aws:s3:::deleted-bucket\"",
            "SEC-6",
            "2026-12-31",
        ),
        waiver(
            "s3_bucket_versioning",
            "arn = \"arn:aws:s3:::phi-versioned\"",
            "SEC-7",
            "2026-12-31",
        ),
        waiver(
            "s3_bucket_default_encryption",
            "region = \"us-east-1\"",
            "SEC-8",
            "2026-12-31",
        ),
        waiver(
            "s3_bucket_versioning",
            "arn = \"arn:aws:s3:::scratch-1\"",
            "SEC-9",
            "2026-12-31",
        ),
    ]
    .concat();
    let e = Run::new().waivers(&text).eval();
    let stale: Vec<(&str, usize)> = e
        .stale_waivers
        .iter()
        .map(|s| (s.waiver.ticket.as_str(), s.matched))
        .collect();
    // SEC-6 matches nothing; SEC-7 matches a bucket that passes; SEC-8's rule is not in
    // the baseline; SEC-9 waives a failure.
    assert_eq!(stale, [("SEC-6", 0), ("SEC-7", 1), ("SEC-8", 0)]);
}

#[test]
fn the_first_live_matching_waiver_in_file_order_applies() {
    let text = [
        waiver(
            "s3_bucket_versioning",
            "region = \"us-east-1\"",
            "SEC-10",
            "2026-01-01",
        ),
        waiver(
            "s3_bucket_versioning",
            "arn = \"arn:aws:s3:::scratch-*\"",
            "SEC-11",
            "2026-12-31",
        ),
        waiver(
            "s3_bucket_versioning",
            "tags = { env = \"dev\" }",
            "SEC-12",
            "2026-12-31",
        ),
    ]
    .concat();
    let e = Run::new().waivers(&text).eval();
    let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::scratch-1");
    assert_eq!(f.waiver.as_ref().unwrap().ticket, "SEC-11");
    let expired: Vec<_> = e
        .expired_waivers
        .iter()
        .map(|x| x.waiver.ticket.as_str())
        .collect();
    assert_eq!(expired, ["SEC-10"]);
    // SEC-10 expired and no live waiver covers phi-records: it is re-opened with a note.
    let phi = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::phi-records");
    assert_eq!(phi.status, Status::Fail);
    assert_eq!(phi.evidence["expired_waivers"][0]["ticket"], "SEC-10");
}

// ---- Manual controls ----------------------------------------------------------------------

const ATTESTATION: &str = "[[attestation]]\ncontrol = \"manual_restore_testing\"\nattested_by = \"Sam Ortiz, Infrastructure lead\"\nattested_on = 2026-03-02\nexpires = 2026-09-01\nevidence = \"https://wiki.example.org/dr/restore-test-2026-03\"\nnotes = \"RDS and S3 restores\"\n";

#[test]
fn a_manual_control_without_attestation_is_missing_on_every_account() {
    let mut run = Run::new();
    run.resources.push(account_resource("444455556666"));
    let e = run.eval();
    let manual: Vec<_> = e
        .findings
        .iter()
        .filter(|f| f.rule_id.as_str() == "manual_restore_testing")
        .collect();
    assert_eq!(manual.len(), 2, "one per scanned account");
    for f in manual {
        assert_eq!(f.status, Status::Manual);
        assert_eq!(f.reason, "no attestation");
        assert_eq!(f.evidence["attestation_state"], "missing");
        assert_eq!(
            f.evidence["expected_evidence"],
            "the report of the last restore test"
        );
        assert_eq!(f.resource.kind, ResourceKind::Account);
        assert_eq!(
            f.resource.arn.as_str(),
            format!("arn:aws:iam::{}:root", f.resource.account)
        );
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.citations[0].id, "164.308(a)(7)(ii)(D)");
        assert_eq!(f.citations[0].title, "Testing and revision procedures");
    }
}

#[test]
fn an_attested_manual_control_is_manual_with_the_attestation_never_pass() {
    let e = Run::new().attestations(ATTESTATION).eval();
    let f = finding(
        &e,
        "manual_restore_testing",
        "arn:aws:iam::111122223333:root",
    );
    assert_eq!(f.status, Status::Manual);
    assert_eq!(f.evidence["attestation_state"], "attested");
    assert_eq!(
        f.reason,
        "attested by Sam Ortiz, Infrastructure lead on 2026-03-02, valid through 2026-09-01"
    );
    let a = &f.evidence["attestation"];
    assert_eq!(
        a["evidence"],
        "https://wiki.example.org/dr/restore-test-2026-03"
    );
    assert_eq!(a["attested_on"], "2026-03-02");
    assert_eq!(a["notes"], "RDS and S3 restores");
}

#[test]
fn an_expired_attestation_is_manual_and_says_when_it_expired() {
    let e = Run::new()
        .attestations(ATTESTATION)
        .at(now() + Duration::days(100))
        .eval();
    let f = finding(
        &e,
        "manual_restore_testing",
        "arn:aws:iam::111122223333:root",
    );
    assert_eq!(f.status, Status::Manual);
    assert_eq!(f.evidence["attestation_state"], "expired");
    assert_eq!(f.reason, "attestation expired on 2026-09-01");
    assert_eq!(f.evidence["attestation"]["expires"], "2026-09-01");
}

#[test]
fn no_account_in_the_snapshot_means_no_manual_findings() {
    let mut run = Run::new();
    run.resources.retain(|r| r.kind() != ResourceKind::Account);
    let e = run.eval();
    assert!(e.findings.iter().all(|f| f.status != Status::Manual));
}

// ---- Order --------------------------------------------------------------------------------

#[test]
fn findings_are_sorted_and_the_evaluation_is_deterministic() {
    let mut run = Run::new().waivers(&waiver(
        "s3_bucket_versioning",
        "region = \"us-east-1\"",
        "SEC-13",
        "2026-12-31",
    ));
    let a = run.eval();
    run.resources.reverse();
    let b = run.eval();
    assert_eq!(a, b);
    let keys: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.resource.account.clone(),
                f.resource.region.clone(),
                f.resource.arn.clone(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn an_account_that_could_not_be_entered_reports_every_rule_as_error() {
    use posture_model::{AccountId, Coverage, Gap, Region, Status, UnavailableKind};

    let baseline = crate::Baseline::hipaa().unwrap();
    let other = AccountId::new("444455556666").unwrap();
    let coverage = Coverage {
        failed: vec![Gap {
            account: other.clone(),
            region: Region::global(),
            service: "sts".into(),
            operation: posture_model::ACCOUNT_UNREACHABLE_OPERATION.into(),
            resource: None,
            kind: UnavailableKind::Denied,
            code: None,
            message: "cannot assume arn:aws:iam::444455556666:role/PostureAudit: AccessDenied"
                .into(),
        }],
        ..Coverage::default()
    };
    let findings = crate::testing::evaluate(&[], &coverage, &baseline, crate::testing::now());
    let on_other: Vec<_> = findings
        .iter()
        .filter(|f| f.resource.account == other)
        .collect();
    assert_eq!(
        on_other.len(),
        baseline.rules.len(),
        "one finding per rule for the account"
    );
    for f in &on_other {
        assert_eq!(f.status, Status::Error, "{}", f.rule_id);
        assert_eq!(f.resource.arn.as_str(), "arn:aws:iam::444455556666:root");
        assert!(f.reason.contains("AccessDenied"), "{}", f.reason);
    }
}

/// The seeded account (a real scan of the end-to-end suite's moto account) copied into
/// `accounts` accounts.
fn seeded_estate(accounts: u64) -> Vec<Resource> {
    let templates = include_str!("../../benches/seeded-account.jsonl");
    let mut out = Vec::new();
    for copy in 0..accounts {
        let id = format!("{:012}", 100_000_000_000 + copy);
        for line in templates.lines() {
            let text = line.replace("123456789012", &id);
            out.push(serde_json::from_str(&text).expect("a template resource"));
        }
    }
    out
}

#[test]
fn evaluating_account_by_account_gives_exactly_the_whole_snapshots_findings() {
    let mut estate = seeded_estate(3);
    let [a0, a1, a2] = ["100000000000", "100000000001", "100000000002"]
        .map(|id| AccountId::new(id).expect("valid"));
    let east = posture_model::Region::new("us-east-1").expect("valid");
    // Two lookups that cross accounts: an organization analyzer in the first account covers
    // the others, and the third account's trail (as an organization trail appears in a
    // member account) delivers to a log group of the first.
    estate.push(Resource {
        arn: posture_model::Arn::new(format!(
            "arn:aws:access-analyzer:us-east-1:{a0}:analyzer/org"
        ))
        .expect("valid"),
        account: a0.clone(),
        region: east.clone(),
        tags: Observed::Absent,
        body: ResourceBody::AccessAnalyzer(posture_model::resources::AccessAnalyzer {
            name: "org".into(),
            analyzer_type: "ORGANIZATION".into(),
            status: "ACTIVE".into(),
        }),
    });
    let mut redirected = 0;
    for r in estate.iter_mut().filter(|r| r.account == a2) {
        if let ResourceBody::Trail(t) = &mut r.body
            && let Some(arn) = &mut t.cloudwatch_logs_log_group_arn
        {
            *arn = arn.replace(a2.as_str(), a0.as_str());
            redirected += 1;
        }
    }
    assert!(
        redirected > 0,
        "the seeded account has a trail with a log group"
    );

    let baseline = Baseline::hipaa().expect("shipped baseline");
    // Every service was collected everywhere, except that the first account could not
    // list its alarms in us-west-2 and did not collect CloudWatch in us-east-1: the third
    // account's alarm rules, which follow its trail into the first account's log group,
    // must see that.
    const SERVICES: [&str; 19] = [
        "s3",
        "rds",
        "iam",
        "ec2",
        "kms",
        "cloudtrail",
        "efs",
        "backup",
        "cloudwatch",
        "elb",
        "acm",
        "guardduty",
        "config",
        "secretsmanager",
        "accessanalyzer",
        "securityhub",
        "autoscaling",
        "ssm",
        "macie",
    ];
    let mut coverage = Coverage::default();
    for account in [&a0, &a1, &a2] {
        for region in ["us-east-1", "us-west-2", "global"] {
            for service in SERVICES {
                if account == &a0 && region == "us-east-1" && service == "cloudwatch" {
                    continue;
                }
                coverage.collected.push(posture_model::CollectionRecord {
                    account: account.clone(),
                    region: posture_model::Region::new(region).expect("valid"),
                    service: service.into(),
                    resources: 1,
                    complete: true,
                });
            }
        }
    }
    coverage.failed.push(posture_model::Gap {
        account: a0.clone(),
        region: posture_model::Region::new("us-west-2").expect("valid"),
        service: "cloudwatch".into(),
        operation: "cloudwatch:DescribeAlarms".into(),
        resource: None,
        kind: posture_model::UnavailableKind::Denied,
        code: Some("AccessDenied".into()),
        message: "denied by a service control policy".into(),
    });
    let coverage_of = |account: &AccountId| crate::AccountCoverage {
        account: account.clone(),
        collected: coverage
            .collected
            .iter()
            .filter(|c| &c.account == account)
            .map(|c| (c.region.clone(), c.service.clone()))
            .collect(),
        gaps: coverage
            .failed
            .iter()
            .filter(|g| &g.account == account)
            .cloned()
            .collect(),
    };
    let phi = PhiScope::default();
    let whole = evaluate(&Input {
        resources: &estate,
        coverage: &coverage,
        baseline: &baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: now(),
    });

    let mut evaluator = Evaluator::new(Settings {
        baseline: &baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: now(),
    });
    let mut foreign = Foreign::default();
    let mut loads = Vec::new();
    let mut piecewise = Vec::new();
    for account in [&a0, &a1, &a2] {
        let own: Vec<Resource> = estate
            .iter()
            .filter(|r| &r.account == account)
            .cloned()
            .collect();
        let findings = evaluator
            .evaluate_account(
                &own,
                &coverage_of(account),
                crate::Collections::Recorded,
                &mut foreign,
                |want| {
                    loads.push((account.clone(), want.clone()));
                    Ok::<_, ()>(match want {
                        crate::Want::Coverage(a) => crate::Loaded::Coverage(coverage_of(a)),
                        _ => crate::Loaded::Resources(
                            estate.iter().filter(|r| want.covers(r)).cloned().collect(),
                        ),
                    })
                },
            )
            .expect("loading cannot fail here");
        assert!(findings.iter().all(|f| &f.resource.account == account));
        piecewise.extend(findings);
    }
    assert_eq!(piecewise.len(), whole.findings.len());
    assert!(
        piecewise == whole.findings,
        "same findings in the same order"
    );

    // The cross-account lookups happened and were loaded once, for the first account that
    // needed them.
    assert!(
        loads.contains(&(a0.clone(), crate::Want::Kind(ResourceKind::AccessAnalyzer))),
        "{loads:?}"
    );
    assert!(
        loads
            .iter()
            .any(|(who, w)| who == &a2 && w.kind() == Some(ResourceKind::LogGroup)),
        "{loads:?}"
    );
    assert!(
        loads.contains(&(a2.clone(), crate::Want::Coverage(a0.clone()))),
        "the first account's coverage was loaded for the third: {loads:?}"
    );
    assert!(
        piecewise.iter().any(|f| f.resource.account == a2
            && f.status == Status::Error
            && f.reason.contains(a0.as_str())
            && (f.reason.contains("cloudwatch:DescribeAlarms failed")
                || f.reason.contains("cloudwatch was not collected"))),
        "the third account's alarm rules report what the first account's scan missed"
    );
    let analyzer_in_a1 = piecewise
        .iter()
        .find(|f| {
            f.rule_id.as_str() == "iam_access_analyzer_enabled"
                && f.resource.account == a1
                && f.resource.region == east
        })
        .expect("the rule ran on the second account's region");
    assert_eq!(
        analyzer_in_a1.status,
        Status::Pass,
        "{}",
        analyzer_in_a1.reason
    );
}

// ---- Declared inputs ----------------------------------------------------------------------

/// A baseline of the given rules.
fn baseline_of_rules(ids: &[&str]) -> Baseline {
    let list: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    let toml = format!(
        "name = \"t\"\nversion = \"1\"\n[[citations]]\nid = \"t\"\ntitle = \"t\"\nrules = [{}]\n",
        list.join(", ")
    );
    Baseline::from_toml("test.toml", &toml).expect("valid baseline")
}

fn region_resource(name: &str) -> Resource {
    let r = posture_model::Region::new(name).unwrap();
    Resource {
        arn: posture_model::resources::region_arn(&account(), &r),
        account: account(),
        region: r.clone(),
        tags: Observed::Absent,
        body: ResourceBody::Region(posture_model::resources::RegionInfo { name: r }),
    }
}

/// Collections of `service` in the fixture account, one per region named.
fn ran(service: &str, regions: &[&str]) -> Vec<posture_model::CollectionRecord> {
    regions
        .iter()
        .map(|r| posture_model::CollectionRecord {
            account: account(),
            region: posture_model::Region::new(*r).unwrap(),
            service: service.to_owned(),
            resources: 0,
            complete: true,
        })
        .collect()
}

fn eval_over(
    resources: Vec<Resource>,
    collected: Vec<posture_model::CollectionRecord>,
    rules: &[&str],
) -> Evaluation {
    let mut run = Run::new();
    run.resources = resources;
    run.coverage.collected = collected;
    run.baseline = baseline_of_rules(rules);
    run.eval()
}

#[test]
fn the_privilege_escalation_rule_is_an_error_not_a_pass_when_iam_was_not_collected() {
    // `--services s3`: IAM never ran, so "no policy grants escalation" proves nothing.
    let account_arn = account_arn(&account());
    let e = eval_over(
        vec![
            account_resource("111122223333"),
            region_resource("us-east-1"),
        ],
        ran("s3", &["global"]),
        &["iam_no_privilege_escalation"],
    );
    let f = finding(&e, "iam_no_privilege_escalation", account_arn.as_str());
    assert_eq!(f.status, Status::Error, "{f:?}");
    assert!(
        f.reason
            .contains("iam was not collected in 111122223333/global"),
        "{}",
        f.reason
    );
    assert_eq!(f.evidence["not_collected"], serde_json::json!(["iam"]));
    assert_eq!(f.evidence["regions"], serde_json::json!(["global"]));
    assert_eq!(f.evidence["account"], "111122223333");

    // Boundary: IAM collected (and nothing in it) -> the rule itself answers.
    let e = eval_over(
        vec![
            account_resource("111122223333"),
            region_resource("us-east-1"),
        ],
        ran("iam", &["global"]),
        &["iam_no_privilege_escalation"],
    );
    let f = finding(&e, "iam_no_privilege_escalation", account_arn.as_str());
    assert!(!f.evidence.contains_key("not_collected"), "{f:?}");
}

#[test]
fn an_account_rule_reading_a_regional_service_needs_it_in_every_scanned_region() {
    let account_arn = account_arn(&account());
    let estate = || {
        vec![
            account_resource("111122223333"),
            region_resource("us-east-1"),
            region_resource("us-west-2"),
        ]
    };
    let rule = "cloudtrail_multi_region_trail";
    // CloudTrail ran in us-east-1 only: a multi-region trail homed in us-west-2 may exist.
    let e = eval_over(estate(), ran("cloudtrail", &["us-east-1"]), &[rule]);
    let f = finding(&e, rule, account_arn.as_str());
    assert_eq!(f.status, Status::Error, "{f:?}");
    assert_eq!(
        f.evidence["not_collected"],
        serde_json::json!(["cloudtrail"])
    );
    assert_eq!(f.evidence["regions"], serde_json::json!(["us-west-2"]));
    assert!(
        f.reason
            .contains("cloudtrail was not collected in 111122223333/us-west-2"),
        "{}",
        f.reason
    );
    // Not at all: every region named.
    let e = eval_over(estate(), ran("s3", &["global"]), &[rule]);
    let f = finding(&e, rule, account_arn.as_str());
    assert_eq!(f.status, Status::Error, "{f:?}");
    assert_eq!(
        f.evidence["regions"],
        serde_json::json!(["us-east-1", "us-west-2"])
    );
    // In both: the rule answers (no trail at all is a failure).
    let e = eval_over(
        estate(),
        ran("cloudtrail", &["us-east-1", "us-west-2"]),
        &[rule],
    );
    assert_eq!(finding(&e, rule, account_arn.as_str()).status, Status::Fail);
}

#[test]
fn an_account_rule_with_no_region_subject_needs_its_regional_input_somewhere() {
    let account_arn = account_arn(&account());
    let rule = "cloudtrail_multi_region_trail";
    let e = eval_over(
        vec![account_resource("111122223333")],
        ran("s3", &["global"]),
        &[rule],
    );
    let f = finding(&e, rule, account_arn.as_str());
    assert_eq!(f.status, Status::Error, "{f:?}");
    assert!(
        f.reason
            .contains("cloudtrail was not collected in any region of account 111122223333"),
        "{}",
        f.reason
    );
    assert_eq!(f.evidence["regions"], serde_json::json!([]));
    let e = eval_over(
        vec![account_resource("111122223333")],
        ran("cloudtrail", &["eu-west-1"]),
        &[rule],
    );
    assert_eq!(finding(&e, rule, account_arn.as_str()).status, Status::Fail);
}

#[test]
fn alarm_rules_are_errors_when_cloudwatch_was_left_out() {
    let account_arn = account_arn(&account());
    let rule = "alarm_root_usage";
    let e = eval_over(
        vec![
            account_resource("111122223333"),
            region_resource("us-east-1"),
        ],
        ran("cloudtrail", &["us-east-1"]),
        &[rule],
    );
    let f = finding(&e, rule, account_arn.as_str());
    assert_eq!(f.status, Status::Error, "{f:?}");
    assert_eq!(
        f.evidence["not_collected"],
        serde_json::json!(["cloudwatch"])
    );
}

#[test]
fn rules_reading_an_excluded_service_are_omitted_and_the_others_still_answer() {
    let resources = vec![
        account_resource("111122223333"),
        region_resource("us-east-1"),
    ];
    let coverage = Coverage {
        collected: ran("iam", &["global"]),
        ..Coverage::default()
    };
    let baseline = baseline_of_rules(&[
        "iam_no_privilege_escalation",
        "cloudtrail_multi_region_trail",
        "alarm_root_usage",
        "guardduty_enabled",
    ]);
    let phi = PhiScope::default();
    let index = SnapshotIndex::new(&resources, &coverage);
    let mut evaluator = Evaluator::new(Settings {
        baseline: &baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: now(),
    })
    .excluding(["cloudtrail", "guardduty"]);
    let findings = evaluator.evaluate(&index).unwrap();
    let rules: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    // The alarm rule reads cloudtrail too: omitted, although cloudwatch was not excluded.
    assert_eq!(rules, vec!["iam_no_privilege_escalation"], "{findings:?}");
    assert_ne!(findings[0].status, Status::Error, "{findings:?}");

    // Not excluded, the same uncollected services are errors, never omitted.
    let mut evaluator = Evaluator::new(Settings {
        baseline: &baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: now(),
    });
    let findings = evaluator.evaluate(&index).unwrap();
    let errors: Vec<&str> = findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .map(|f| f.rule_id.as_str())
        .collect();
    assert_eq!(
        errors,
        vec![
            "alarm_root_usage",
            "cloudtrail_multi_region_trail",
            "guardduty_enabled"
        ]
    );
}

#[test]
fn collections_that_are_not_recorded_count_as_collected() {
    // Fixtures and benchmarks evaluate bare resources: no record at all is not "nothing ran".
    let account_arn = account_arn(&account());
    let e = eval_over(
        vec![account_resource("111122223333")],
        vec![],
        &["cloudtrail_multi_region_trail"],
    );
    let f = finding(&e, "cloudtrail_multi_region_trail", account_arn.as_str());
    assert_eq!(f.status, Status::Fail, "{f:?}");
}

// ---- PHI tags as observed -----------------------------------------------------------------

#[test]
fn unavailable_tags_make_a_phi_only_rule_an_error_with_the_lookup_as_evidence() {
    let e = Run::new().eval();
    let f = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::tags-denied");
    assert_eq!(f.status, Status::Error);
    assert!(f.reason.contains("holds PHI"), "{}", f.reason);
    assert_eq!(
        f.evidence["unavailable"]["operation"],
        "s3:GetBucketTagging"
    );
    assert_eq!(f.evidence["unavailable"]["kind"], "denied");
    assert_eq!(f.evidence["phi_only"], true);
    assert!(!f.phi);
}

#[test]
fn absent_tags_are_no_tags_so_a_phi_only_rule_does_not_apply() {
    // `Absent` is AWS saying there is no tag set (NoSuchTagSet), not a lookup that failed.
    let mut run = Run::new();
    run.resources = vec![unversioned("untagged", Observed::Absent)];
    let e = run.eval();
    let f = finding(&e, "s3_bucket_object_lock", "arn:aws:s3:::untagged");
    assert_eq!(f.status, Status::NotApplicable);
    assert_eq!(f.reason, "not tagged as holding PHI");
    assert_eq!(f.evidence["phi_only"], true);
    // Unscoped rules still apply.
    let f = finding(&e, "s3_bucket_versioning", "arn:aws:s3:::untagged");
    assert_eq!(f.status, Status::Fail);
}
