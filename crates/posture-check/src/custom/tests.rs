//! Custom rules in a baseline: one batch call per evaluation with the subjects the
//! pre-checks left, citations, PHI scope, waivers, uncollected inputs and id collisions.

use std::sync::Mutex;

use posture_model::{Coverage, Observed, Resource, Severity, Status, Tags};

use super::*;
use crate::testing::{account, bucket, bucket_resource, declared_coverage, denied, now};
use crate::{Ctx, Input, Outcome, PhiScope, RuleMeta, Waivers, evaluate};

const BASELINE: &str = r#"
name = "test"
version = "1"

[[citations]]
id = "164.312(c)(1)"
title = "Integrity"
rules = ["s3_bucket_versioning"]

[[citations]]
id = "164.312(a)(2)(iv)"
title = "Encryption and decryption"
"#;

fn baseline() -> Baseline {
    Baseline::from_toml("test.toml", BASELINE).expect("valid")
}

static META: RuleMeta = RuleMeta {
    id: "org_bucket_named_well",
    title: "Buckets are named well",
    severity: Severity::High,
    subject: ResourceKind::S3Bucket,
    rationale: "r",
    remediation: "m",
    api_calls: &["s3:ListBuckets"],
    params: &[],
};

/// A batch rule that fails buckets whose name starts with `bad-` and records every call.
struct Batch {
    calls: Mutex<Vec<Vec<String>>>,
    /// How many outcomes to drop from the end of each answer.
    short: usize,
}

impl Rule for Batch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _: &Resource, _: &Ctx<'_>) -> Outcome {
        unreachable!("the evaluator asks custom rules through check_all")
    }

    fn check_all(&self, subjects: &[&Resource], _: &Ctx<'_>) -> Vec<Outcome> {
        let names: Vec<String> = subjects.iter().map(|s| s.arn.to_string()).collect();
        self.calls.lock().expect("not poisoned").push(names);
        let mut out: Vec<Outcome> = subjects
            .iter()
            .map(|s| {
                if s.arn.as_str().starts_with("arn:aws:s3:::bad-") {
                    Outcome::fail("named badly").with("name", s.arn.as_str())
                } else {
                    Outcome::pass("named well")
                }
            })
            .collect();
        out.truncate(out.len().saturating_sub(self.short));
        out
    }
}

fn leaked(short: usize) -> &'static Batch {
    Box::leak(Box::new(Batch {
        calls: Mutex::new(Vec::new()),
        short,
    }))
}

fn custom(rule: &'static dyn Rule, scope: RuleScope, citations: &[&str]) -> CustomRule {
    CustomRule {
        rule,
        citations: citations.iter().map(|c| (*c).to_owned()).collect(),
        scope,
        params: Params::default(),
        source: "rules/org_bucket_named_well".to_owned(),
    }
}

fn tagged(name: &str, tags: Observed<Tags>) -> Resource {
    let mut r = bucket_resource(bucket(name));
    r.tags = tags;
    r
}

fn phi() -> Observed<Tags> {
    Observed::Collected([("phi".to_owned(), "true".to_owned())].into())
}

fn estate() -> Vec<Resource> {
    vec![
        tagged("bad-phi", phi()),
        tagged("good-phi", phi()),
        tagged("bad-scratch", Observed::Collected(Tags::new())),
        tagged("bad-tags-denied", denied("s3:GetBucketTagging")),
    ]
}

fn run(
    baseline: &Baseline,
    resources: &[Resource],
    coverage: &Coverage,
    waivers: Option<&Waivers>,
) -> Vec<posture_model::Finding> {
    evaluate(&Input {
        resources,
        coverage,
        baseline,
        waivers,
        attestations: None,
        phi: &PhiScope::default(),
        now: now(),
    })
    .findings
}

fn of<'f>(
    findings: &'f [posture_model::Finding],
    rule: &str,
    arn: &str,
) -> &'f posture_model::Finding {
    let found: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id.as_str() == rule && f.resource.arn.as_str() == arn)
        .collect();
    assert_eq!(found.len(), 1, "one finding of {rule} on {arn}: {found:?}");
    found[0]
}

#[test]
fn a_custom_rule_is_asked_once_with_the_subjects_the_pre_checks_left() {
    let rule = leaked(0);
    let mut b = baseline();
    b.add_custom_rules([custom(rule, RuleScope::PhiOnly, &["164.312(a)(2)(iv)"])])
        .expect("valid custom rule");
    let resources = estate();
    let coverage = declared_coverage(&[rule], &resources);
    let findings = run(&b, &resources, &coverage, None);

    let calls = rule.calls.lock().expect("not poisoned").clone();
    assert_eq!(
        calls,
        vec![vec![
            "arn:aws:s3:::bad-phi".to_owned(),
            "arn:aws:s3:::good-phi".to_owned()
        ]],
        "one call, with the PHI buckets only"
    );
    let bad = of(&findings, META.id, "arn:aws:s3:::bad-phi");
    assert_eq!(bad.status, Status::Fail);
    assert_eq!(bad.reason, "named badly");
    assert_eq!(bad.evidence["name"], "arn:aws:s3:::bad-phi");
    assert!(bad.phi);
    assert_eq!(bad.severity, Severity::High);
    assert_eq!(bad.title, "Buckets are named well");
    assert_eq!(bad.citations.len(), 1);
    assert_eq!(bad.citations[0].id, "164.312(a)(2)(iv)");
    assert_eq!(bad.citations[0].title, "Encryption and decryption");
    assert_eq!(
        of(&findings, META.id, "arn:aws:s3:::good-phi").status,
        Status::Pass
    );
    let scratch = of(&findings, META.id, "arn:aws:s3:::bad-scratch");
    assert_eq!(scratch.status, Status::NotApplicable);
    assert_eq!(scratch.reason, "not tagged as holding PHI");
    let unknown = of(&findings, META.id, "arn:aws:s3:::bad-tags-denied");
    assert_eq!(unknown.status, Status::Error);
    assert!(unknown.reason.contains("PHI"), "{}", unknown.reason);
    // The built-in rule is untouched beside it.
    assert_eq!(
        of(&findings, "s3_bucket_versioning", "arn:aws:s3:::bad-phi").status,
        Status::Fail
    );
    // Listed under its citation, found by id.
    let entry = b
        .citations
        .iter()
        .find(|c| c.citation.id == "164.312(a)(2)(iv)")
        .expect("citation");
    assert_eq!(entry.rules, vec![META.id.to_owned()]);
    let listed = b.rule(META.id).expect("in the baseline");
    assert_eq!(
        listed.origin,
        RuleOrigin::Custom {
            source: "rules/org_bucket_named_well".into()
        }
    );
    assert_eq!(
        b.rule("s3_bucket_versioning").expect("built-in").origin,
        RuleOrigin::Builtin
    );
}

#[test]
fn a_custom_rule_is_not_asked_when_its_inputs_were_not_collected() {
    let rule = leaked(0);
    let mut b = baseline();
    b.add_custom_rules([custom(rule, RuleScope::All, &["164.312(c)(1)"])])
        .expect("valid");
    let resources = estate();
    // Nothing collected: the built-in and the custom rule both answer Error.
    let coverage = Coverage {
        collected: vec![posture_model::CollectionRecord {
            account: account(),
            region: posture_model::Region::global(),
            service: "kms".into(),
            resources: 0,
            complete: true,
        }],
        ..Coverage::default()
    };
    let findings = run(&b, &resources, &coverage, None);
    assert!(
        rule.calls.lock().expect("not poisoned").is_empty(),
        "the rule is never asked"
    );
    let f = of(&findings, META.id, "arn:aws:s3:::bad-scratch");
    assert_eq!(f.status, Status::Error);
    assert_eq!(f.evidence["not_collected"], serde_json::json!(["s3"]));
}

fn waiver_text() -> String {
    "[[waiver]]\nrule = \"org_bucket_named_well\"\narn = \"arn:aws:s3:::bad-scratch\"\n\
     owner = \"o@example.org\"\njustification = \"legacy name\"\nticket = \"SEC-1\"\n\
     expires = 2026-12-31\n"
        .to_owned()
}

#[test]
fn a_custom_rules_failure_is_waivable() {
    let rule = leaked(0);
    let mut b = baseline();
    b.add_custom_rules([custom(rule, RuleScope::All, &["164.312(c)(1)"])])
        .expect("valid");
    let resources = estate();
    let coverage = declared_coverage(&[rule], &resources);
    assert!(
        Waivers::from_toml("waivers.toml", &waiver_text()).is_err(),
        "unknown without the baseline"
    );
    let waivers = Waivers::from_toml_for("waivers.toml", &waiver_text(), &b).expect("valid");
    let findings = run(&b, &resources, &coverage, Some(&waivers));
    let waived = of(&findings, META.id, "arn:aws:s3:::bad-scratch");
    assert_eq!(waived.status, Status::Waived);
    assert_eq!(waived.waiver.as_ref().expect("waiver").ticket, "SEC-1");
    assert_eq!(
        of(&findings, META.id, "arn:aws:s3:::bad-phi").status,
        Status::Fail,
        "only the waived ARN"
    );
}

#[test]
fn a_short_answer_leaves_the_rest_error_never_pass() {
    let rule = leaked(1);
    let mut b = baseline();
    b.add_custom_rules([custom(rule, RuleScope::All, &["164.312(c)(1)"])])
        .expect("valid");
    let resources = estate();
    let coverage = declared_coverage(&[rule], &resources);
    let findings = run(&b, &resources, &coverage, None);
    let statuses: Vec<Status> = findings
        .iter()
        .filter(|f| f.rule_id.as_str() == META.id)
        .map(|f| f.status)
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == Status::Error).count(), 1);
    let last = findings
        .iter()
        .rfind(|f| f.rule_id.as_str() == META.id && f.status == Status::Error)
        .expect("an error");
    assert!(last.reason.contains("gave no outcome"), "{}", last.reason);
}

#[test]
fn custom_rule_errors_name_the_rule_and_what_it_collides_with() {
    static BUILTIN_ID: RuleMeta = RuleMeta {
        id: "s3_bucket_versioning",
        ..META
    };
    struct Named(&'static RuleMeta);
    impl Rule for Named {
        fn meta(&self) -> &'static RuleMeta {
            self.0
        }
        fn check(&self, _: &Resource, _: &Ctx<'_>) -> Outcome {
            Outcome::pass("x")
        }
    }
    static BUILTIN: Named = Named(&BUILTIN_ID);
    let mut b = baseline();
    let err = b
        .add_custom_rules([custom(&BUILTIN, RuleScope::All, &["164.312(c)(1)"])])
        .expect_err("collides");
    let text = err[0].to_string();
    assert!(
        text.contains("rules/org_bucket_named_well")
            && text.contains("built-in rule s3_bucket_versioning")
            && text.contains("S3 bucket has versioning enabled"),
        "{text}"
    );

    let first = leaked(0);
    b.add_custom_rules([custom(first, RuleScope::All, &["164.312(c)(1)"])])
        .expect("valid");
    let mut again = custom(leaked(0), RuleScope::All, &["164.312(c)(1)"]);
    again.source = "other/org_bucket_named_well".into();
    let err = b.add_custom_rules([again]).expect_err("duplicate");
    assert_eq!(
        err[0].to_string(),
        "other/org_bucket_named_well: custom rule org_bucket_named_well is already defined by \
         rules/org_bucket_named_well; rule ids must be unique"
    );

    let mut b = baseline();
    let err = b
        .add_custom_rules([custom(leaked(0), RuleScope::All, &["164.999"])])
        .expect_err("unknown citation");
    let text = err[0].to_string();
    assert!(
        text.contains("\"164.999\"") && text.contains("164.312(c)(1), 164.312(a)(2)(iv)"),
        "{text}"
    );
    let err = b
        .add_custom_rules([custom(leaked(0), RuleScope::All, &[])])
        .expect_err("no citation");
    assert!(err[0].to_string().contains("cites \"\""), "{}", err[0]);
    assert!(b.rule(META.id).is_none(), "nothing added on error");
}
