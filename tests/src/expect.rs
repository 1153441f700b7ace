//! What a correct scan of the seeded account must report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use anyhow::Context;

/// A finding's status, as `posture scan --format json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// `pass`
    Pass,
    /// `fail`
    Fail,
    /// `error`: the rule could not decide.
    Error,
    /// `not_applicable`
    NotApplicable,
    /// `manual`: a process control a person attests to.
    Manual,
}

impl Status {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
            Status::Manual => "manual",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding's severity, as `posture scan --format json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// `info`
    Info,
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
    /// `critical`
    Critical,
}

impl Severity {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding the scan must produce: this rule, on this resource, with this status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    /// Rule id.
    pub rule_id: String,
    /// The resource's ARN.
    pub arn: String,
    /// The status.
    pub status: Status,
    /// Why this status is right (shown when it is not what the scan says).
    pub why: String,
}

/// A collection gap (`coverage.failed` entry) the scan must record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedGap {
    /// `service:Operation`.
    pub operation: String,
    /// Region the gap is recorded in (`global` for account-wide collections such as S3
    /// and IAM), or `None` to accept any.
    pub region: Option<String>,
    /// The resource the call was about, or `None` for a list call.
    pub resource: Option<String>,
    /// Why the gap is expected.
    pub why: String,
}

/// Everything the seed promises about a scan of the seeded account.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The seeded account id.
    pub account: String,
    /// The seeded regions, in the order to scan them.
    pub regions: Vec<String>,
    /// Findings the scan must produce, exactly.
    pub findings: Vec<Expected>,
    /// Gaps the scan must record.
    pub gaps: Vec<ExpectedGap>,
    /// Expected tags, by resource ARN (a subset of the finding's `resource.tags`).
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The region of resources whose ARN names none (S3 buckets), by ARN. Other resources
    /// are in the region their ARN names, or `global` when it names none.
    pub resource_regions: BTreeMap<String, String>,
    /// The severity some findings must be reported at, by (rule id, ARN). Asserted where
    /// the severity is the point of the case (an administrator hidden behind a condition
    /// or in a group must not be reported lower than the rule's own severity).
    pub severities: BTreeMap<(String, String), Severity>,
}

impl Expectations {
    /// Adds one expected finding.
    pub fn expect(
        &mut self,
        rule_id: &str,
        arn: impl Into<String>,
        status: Status,
        why: impl Into<String>,
    ) {
        self.findings.push(Expected {
            rule_id: rule_id.to_owned(),
            arn: arn.into(),
            status,
            why: why.into(),
        });
    }

    /// Requires the finding of `rule_id` on `arn` (expected with [`Self::expect`]) to be
    /// reported at `severity`.
    pub fn expect_severity(&mut self, rule_id: &str, arn: impl Into<String>, severity: Severity) {
        self.severities
            .insert((rule_id.to_owned(), arn.into()), severity);
    }

    /// Adds one expected gap.
    pub fn expect_gap(
        &mut self,
        operation: &str,
        region: Option<&str>,
        resource: Option<String>,
        why: impl Into<String>,
    ) {
        self.gaps.push(ExpectedGap {
            operation: operation.to_owned(),
            region: region.map(str::to_owned),
            resource,
            why: why.into(),
        });
    }

    /// The region a finding on `arn` must report.
    pub fn region_of(&self, arn: &str) -> String {
        if let Some(region) = self.resource_regions.get(arn) {
            return region.clone();
        }
        match arn.split(':').nth(3) {
            Some(region) if !region.is_empty() => region.to_owned(),
            _ => "global".to_owned(),
        }
    }

    /// Expected findings by status.
    pub fn count_by_status(&self) -> BTreeMap<Status, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.findings {
            *counts.entry(e.status).or_default() += 1;
        }
        counts
    }

    /// Rule ids with at least one expectation.
    pub fn rules(&self) -> BTreeSet<&str> {
        self.findings.iter().map(|e| e.rule_id.as_str()).collect()
    }

    /// The statuses expected for each rule.
    pub fn statuses_by_rule(&self) -> BTreeMap<&str, BTreeSet<Status>> {
        let mut out: BTreeMap<&str, BTreeSet<Status>> = BTreeMap::new();
        for e in &self.findings {
            out.entry(e.rule_id.as_str()).or_default().insert(e.status);
        }
        out
    }

    /// Expectations that name the same (rule, ARN) twice: a bug in the seed.
    pub fn duplicates(&self) -> Vec<(&str, &str)> {
        let mut seen = BTreeSet::new();
        self.findings
            .iter()
            .filter(|e| !seen.insert((e.rule_id.as_str(), e.arn.as_str())))
            .map(|e| (e.rule_id.as_str(), e.arn.as_str()))
            .collect()
    }

    /// A one-line summary, e.g. for `posture-seed`.
    pub fn summary(&self) -> String {
        let counts = self.count_by_status();
        let n = |s: Status| counts.get(&s).copied().unwrap_or(0);
        format!(
            "seeded account {} in {}: {} expected findings over {} rules ({} pass, {} fail, {} error, {} not applicable), {} expected coverage gap(s)",
            self.account,
            self.regions.join(", "),
            self.findings.len(),
            self.rules().len(),
            n(Status::Pass),
            n(Status::Fail),
            n(Status::Error),
            n(Status::NotApplicable),
            self.gaps.len(),
        )
    }
}

/// The rule ids a baseline file cites (every quoted id inside a `rules = [...]` list),
/// sorted and deduplicated. A deliberately small reader of the shipped file's layout, so
/// the test does not trust the binary it is testing for the list.
pub fn baseline_rule_ids(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let mut ids = BTreeSet::new();
    let mut in_rules = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if !in_rules {
            if let Some(rest) = line.strip_prefix("rules") {
                let rest = rest.trim_start();
                if let Some(list) = rest.strip_prefix('=').map(str::trim_start)
                    && let Some(list) = list.strip_prefix('[')
                {
                    in_rules = !list.contains(']');
                    ids.extend(quoted(list));
                }
            }
        } else {
            if line.contains(']') {
                in_rules = false;
            }
            ids.extend(quoted(line));
        }
    }
    anyhow::ensure!(
        !ids.is_empty(),
        "no rule ids found in {} (expected `rules = [\"...\", ...]` lists)",
        path.display()
    );
    Ok(ids)
}

/// The ids of the manual controls a baseline file declares (`id = "..."` in each
/// `[[manual]]` table), sorted.
pub fn baseline_manual_ids(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let mut ids = BTreeSet::new();
    let mut in_manual = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.starts_with('[') {
            in_manual = line == "[[manual]]";
        } else if in_manual
            && let Some(value) = line
                .strip_prefix("id")
                .map(str::trim_start)
                .and_then(|l| l.strip_prefix('='))
        {
            ids.extend(quoted(value));
        }
    }
    Ok(ids)
}

fn quoted(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rule_and_manual_ids_from_a_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.toml");
        std::fs::write(
            &path,
            r#"
name = "x"
[[citations]]
id = "164.312(b)"
title = "Audit controls"
rules = ["one_rule", "two_rule"] # trailing comment

[[citations]]
id = "164.312(c)(1)"
title = "Integrity"
rules = [
  "two_rule",
  # "commented_out",
  "three_rule",
]

[parameters.one_rule]
db_ports = [1, 2]

[[manual]]
id = "manual_a"
citations = ["164.312(b)"]

[[manual]]
title = "no id first"
id = "manual_b"
"#,
        )
        .unwrap();
        let rules: Vec<String> = baseline_rule_ids(&path).unwrap().into_iter().collect();
        assert_eq!(rules, ["one_rule", "three_rule", "two_rule"]);
        let manual: Vec<String> = baseline_manual_ids(&path).unwrap().into_iter().collect();
        assert_eq!(manual, ["manual_a", "manual_b"]);
    }

    #[test]
    fn the_shipped_baseline_has_rules() {
        let path = crate::workspace_root().join("config/baselines/hipaa-security-rule.toml");
        assert!(baseline_rule_ids(&path).unwrap().len() >= 40);
    }
}
