//! `posture rules test`: each rule over its own fixtures (`tests/*.json` in its folder),
//! through the real evaluator (PHI scope, uncollected inputs, result validation), with the
//! differences from the expected results per ARN.
//!
//! A fixture:
//!
//! ```json
//! {
//!   "description": "a PHI bucket replicating to another region passes",
//!   "now": "2026-06-01T00:00:00Z",
//!   "collected": ["s3"],
//!   "resources": [ { "arn": "...", "account": "...", "region": "...", "tags": {...}, "body": {...} } ],
//!   "expect": {
//!     "arn:aws:s3:::phi-records": {
//!       "status": "pass",
//!       "reason": "replicates to",
//!       "evidence": { "destination_region": "us-west-2" }
//!     }
//!   }
//! }
//! ```
//!
//! `resources` are the model's JSON (`posture scan --format json` resources, or
//! `serde_json` of `posture_model::Resource`). `collected` (optional) lists the collections
//! that ran, in every account and region of the resources; without it everything counts
//! as collected. Every finding of the rule must be expected: `status` exactly, `reason` as
//! a substring, and each `evidence` key listed equal (keys not listed are not compared).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use posture_check::{Baseline, Input, PhiScope, Rule};
use posture_model::{AccountId, CollectionRecord, Coverage, Region, Resource};
use serde::Deserialize;

use crate::load::{Diagnostic, RuleSet, load_rule};

/// The outcome of testing every rule of a directory.
#[derive(Debug, Default)]
pub struct Report {
    /// One entry per rule folder, sorted.
    pub rules: Vec<RuleReport>,
    /// Problems with the directory itself.
    pub problems: Vec<Diagnostic>,
}

/// The fixtures of one rule.
#[derive(Debug)]
pub struct RuleReport {
    /// The rule's folder.
    pub dir: PathBuf,
    /// Its id, when `rule.toml` could be read.
    pub id: Option<String>,
    /// Why the rule or a fixture could not be loaded (then it failed).
    pub problems: Vec<Diagnostic>,
    /// Each fixture, sorted by file name.
    pub cases: Vec<CaseReport>,
}

/// One fixture.
#[derive(Debug)]
pub struct CaseReport {
    /// The fixture file.
    pub file: PathBuf,
    /// Its `description`.
    pub description: String,
    /// The differences; empty when the fixture passed.
    pub mismatches: Vec<Mismatch>,
}

/// One difference between the expected and the actual result of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The resource.
    pub arn: String,
    /// What differs: `status`, `reason`, `evidence.<key>`, or `finding` (expected and none,
    /// or one that was not expected).
    pub field: String,
    /// What the fixture expects (JSON or text).
    pub expected: String,
    /// What the rule gave.
    pub actual: String,
}

impl Report {
    /// Whether every rule loaded and every fixture passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.rules.iter().all(RuleReport::passed)
    }

    /// (fixtures passed, fixtures failed); a rule that could not be loaded counts as one
    /// failure.
    pub fn counts(&self) -> (usize, usize) {
        let mut passed = 0;
        let mut failed = self.problems.len();
        for r in &self.rules {
            if !r.problems.is_empty() {
                failed += 1;
            }
            for c in &r.cases {
                if c.mismatches.is_empty() {
                    passed += 1;
                } else {
                    failed += 1;
                }
            }
        }
        (passed, failed)
    }
}

impl RuleReport {
    /// Whether the rule loaded, has fixtures, and all passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
            && !self.cases.is_empty()
            && self.cases.iter().all(|c| c.mismatches.is_empty())
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.problems {
            writeln!(f, "error: {p}")?;
        }
        for r in &self.rules {
            let name = r.id.clone().unwrap_or_else(|| r.dir.display().to_string());
            writeln!(
                f,
                "{} {name} ({})",
                if r.passed() { "ok  " } else { "FAIL" },
                r.dir.display()
            )?;
            for p in &r.problems {
                writeln!(f, "       error: {p}")?;
            }
            if r.problems.is_empty() && r.cases.is_empty() {
                writeln!(f, "       error: no fixtures in tests/")?;
            }
            for c in &r.cases {
                let mark = if c.mismatches.is_empty() {
                    "ok  "
                } else {
                    "FAIL"
                };
                writeln!(f, "  {mark} {}: {}", c.file.display(), c.description)?;
                for m in &c.mismatches {
                    writeln!(f, "         {} {}:", m.arn, m.field)?;
                    writeln!(f, "           expected: {}", m.expected)?;
                    writeln!(f, "           actual:   {}", m.actual)?;
                }
            }
        }
        let (passed, failed) = self.counts();
        writeln!(f, "fixtures: {passed} passed, {failed} failed")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(default)]
    description: String,
    now: Option<DateTime<Utc>>,
    collected: Option<Vec<String>>,
    resources: Vec<Resource>,
    expect: BTreeMap<String, Expected>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    evidence: BTreeMap<String, serde_json::Value>,
}

/// The evaluation time of a fixture without `now`: 2026-06-01T00:00:00Z.
fn default_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_272_000, 0).unwrap_or_default()
}

/// Runs every rule of `dir` (a rules directory or one rule's folder) over its fixtures.
/// Each rule is loaded afresh (and its metadata leaked): this is a command's work, not a
/// daemon's.
pub fn test(dir: &Path) -> Report {
    let mut report = Report::default();
    let folders = crate::load::rule_folders_of(dir, &mut report.problems);
    for folder in folders {
        report.rules.push(test_rule(&folder));
    }
    report
}

fn test_rule(folder: &Path) -> RuleReport {
    let mut out = RuleReport {
        dir: folder.to_owned(),
        id: None,
        problems: Vec::new(),
        cases: Vec::new(),
    };
    let rule = match load_rule(folder) {
        Ok(rule) => rule,
        Err(p) => {
            out.problems = p;
            return out;
        }
    };
    out.id = Some(rule.def().id.clone());
    let set = RuleSet::of(vec![rule]);
    let mut text = String::from("name = \"fixtures\"\nversion = \"1\"\n");
    for c in &set.rules()[0].def().citations {
        let quoted = toml::Value::String(c.clone()).to_string();
        text.push_str(&format!("[[citations]]\nid = {quoted}\ntitle = {quoted}\n"));
    }
    let mut baseline = match Baseline::from_toml("fixtures.toml", &text) {
        Ok(b) => b,
        Err(e) => {
            out.problems.push(Diagnostic::file(folder, e.to_string()));
            return out;
        }
    };
    if let Err(errors) = set.add_to(&mut baseline) {
        for e in errors {
            out.problems
                .push(Diagnostic::file(&folder.join("rule.toml"), e.to_string()));
        }
        return out;
    }
    let tests = folder.join("tests");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&tests) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) => {
            out.problems.push(Diagnostic::file(
                &tests,
                format!("cannot read the fixtures: {e}"),
            ));
            return out;
        }
    };
    files.sort();
    let rule: &dyn Rule = set.rules()[0];
    for file in files {
        match run_case(&file, rule.meta().id, &baseline) {
            Ok(case) => out.cases.push(case),
            Err(d) => out.problems.push(d),
        }
    }
    out
}

fn run_case(file: &Path, rule: &str, baseline: &Baseline) -> Result<CaseReport, Diagnostic> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Diagnostic::file(file, format!("cannot read it: {e}")))?;
    let fixture: Fixture = serde_json::from_str(&text).map_err(|e| Diagnostic {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message: format!("not a fixture: {e}"),
    })?;
    let coverage = coverage_of(&fixture);
    let evaluation = posture_check::evaluate(&Input {
        resources: &fixture.resources,
        coverage: &coverage,
        baseline,
        waivers: None,
        attestations: None,
        phi: &PhiScope::default(),
        now: fixture.now.unwrap_or_else(default_now),
    });
    let mut mismatches = Vec::new();
    let mut seen = BTreeSet::new();
    for f in evaluation
        .findings
        .iter()
        .filter(|f| f.rule_id.as_str() == rule)
    {
        let arn = f.resource.arn.as_str();
        seen.insert(arn.to_owned());
        let status = serde_json::to_value(f.status).unwrap_or_default();
        let status = status.as_str().unwrap_or_default();
        let Some(want) = fixture.expect.get(arn) else {
            mismatches.push(Mismatch {
                arn: arn.to_owned(),
                field: "finding".into(),
                expected: "no finding (not in `expect`)".into(),
                actual: format!("{status}: {}", f.reason),
            });
            continue;
        };
        if want.status != status {
            mismatches.push(Mismatch {
                arn: arn.to_owned(),
                field: "status".into(),
                expected: want.status.clone(),
                actual: format!("{status} (reason: {})", f.reason),
            });
        }
        if let Some(reason) = &want.reason
            && !f.reason.contains(reason.as_str())
        {
            mismatches.push(Mismatch {
                arn: arn.to_owned(),
                field: "reason".into(),
                expected: format!("contains {reason:?}"),
                actual: format!("{:?}", f.reason),
            });
        }
        for (key, value) in &want.evidence {
            let got = f.evidence.get(key);
            if got != Some(value) {
                mismatches.push(Mismatch {
                    arn: arn.to_owned(),
                    field: format!("evidence.{key}"),
                    expected: value.to_string(),
                    actual: got.map_or_else(|| "(absent)".to_owned(), ToString::to_string),
                });
            }
        }
    }
    for arn in fixture.expect.keys().filter(|a| !seen.contains(*a)) {
        mismatches.push(Mismatch {
            arn: arn.clone(),
            field: "finding".into(),
            expected: "a finding".into(),
            actual: "none (not a subject of the rule in this fixture)".into(),
        });
    }
    Ok(CaseReport {
        file: file.to_owned(),
        description: fixture.description,
        mismatches,
    })
}

fn coverage_of(fixture: &Fixture) -> Coverage {
    let Some(services) = &fixture.collected else {
        return Coverage::default();
    };
    let mut scopes: BTreeSet<(AccountId, Region)> = BTreeSet::new();
    for r in &fixture.resources {
        scopes.insert((r.account.clone(), r.region.clone()));
        scopes.insert((r.account.clone(), Region::global()));
    }
    let mut collected = Vec::new();
    for (account, region) in scopes {
        for s in services {
            collected.push(CollectionRecord {
                account: account.clone(),
                region: region.clone(),
                service: s.clone(),
                resources: 0,
                complete: true,
            });
        }
    }
    // A fixture that lists no collection at all still records one, so that "nothing
    // collected" is not read as "coverage not recorded".
    if collected.is_empty()
        && let Ok(account) = AccountId::new("000000000000")
    {
        collected.push(CollectionRecord {
            account,
            region: Region::global(),
            service: "none".into(),
            resources: 0,
            complete: true,
        });
    }
    Coverage {
        collected,
        ..Coverage::default()
    }
}
