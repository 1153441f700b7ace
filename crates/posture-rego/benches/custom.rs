//! Custom rules' speed: Rego rules against the built-in baseline over the same estate.
//!
//! `cargo bench -p posture-rego --bench custom -- [--resources N] [--rules N] [--runs N]
//! [--only builtin|custom|both]` (defaults 100,000 resources, 20 rules, 3 runs, all three)
//! evaluates, account by account as a scan does ([`Evaluator::evaluate_account`], the data
//! of other accounts loaded on demand into one [`Foreign`]):
//!
//! - `builtin`: the HIPAA baseline alone;
//! - `custom`: the custom rules alone (a baseline holding only them);
//! - `both`: the baseline with the custom rules added, as a scan with `--rules` runs it.
//!
//! The custom rules are copies of the four examples of `config/rules/` under distinct ids
//! (`<id>_<n>`), written to a temporary directory and loaded with [`posture_rego::load`].
//! The estate replicates posture-check's `benches/seeded-account.jsonl` (161 resources of 49
//! kinds, two regions, from a real scan of the seeded moto account) into as many accounts as
//! it takes to reach N resources; bucket names get the copy's number (S3 bucket names and
//! ARNs are global) and the first copy is the log-archive account the trail rule looks for,
//! so every example has subjects and every outcome it can give is exercised. Every rule is
//! timed through a wrapper around its `check_all`; the findings of each custom rule are
//! counted by status.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::Utc;
use posture_check::{
    AccountCoverage, Baseline, Collections, Ctx, Evaluator, Foreign, Loaded, Outcome, PhiScope,
    Rule, RuleMeta, RuleOrigin, Settings, Want,
};
use posture_model::{AccountId, Resource};

/// The account id of the seeded templates.
const SEEDED_ACCOUNT: &str = "123456789012";
/// The log-archive account of `org_trail_bucket_in_log_archive`'s parameters.
const LOG_ARCHIVE: &str = "999988887777";

/// `n` resources: copies of the seeded account, each under its own account id (the first
/// under the log-archive account's), each with its own bucket names.
fn seeded(n: usize) -> Vec<Resource> {
    let templates = include_str!("../../posture-check/benches/seeded-account.jsonl");
    let mut out = Vec::with_capacity(n);
    'copies: for copy in 0u64.. {
        let account = if copy == 0 {
            LOG_ARCHIVE.to_owned()
        } else {
            format!("{:012}", 100_000_000_000 + copy)
        };
        for line in templates.lines() {
            if out.len() >= n {
                break 'copies;
            }
            // The seeded buckets are all named `phi-...`: bucket ARNs, names, trail and
            // logging targets and replication destinations follow.
            let text = line
                .replace(SEEDED_ACCOUNT, &account)
                .replace(":::phi-", &format!(":::c{copy}-phi-"))
                .replace("\"phi-", &format!("\"c{copy}-phi-"));
            let mut json: serde_json::Value =
                serde_json::from_str(&text).expect("a template resource");
            tag_bucket(&mut json);
            out.push(serde_json::from_value(json).expect("a template resource"));
        }
    }
    out
}

/// Marks a bucket as holding PHI (the seeded buckets are PHI test buckets, tagged with a
/// key the default PHI scope does not read), and the `good` ones as created by a
/// CloudFormation stack, so that the PHI-scoped rules have subjects that pass and fail.
fn tag_bucket(resource: &mut serde_json::Value) {
    if resource["body"]["kind"] != "aws_s3_bucket" {
        return;
    }
    let good = resource["body"]["config"]["name"]
        .as_str()
        .is_some_and(|n| n.contains("-good"));
    if let Some(tags) = resource["tags"]["value"].as_object_mut() {
        tags.insert("data-classification".into(), "ephi".into());
        if good {
            tags.insert(
                "aws:cloudformation:stack-id".into(),
                "arn:aws:cloudformation:us-east-1:123456789012:stack/phi/1".into(),
            );
        }
    }
}

/// A rule and the time spent in it (its `check_all`, summed over accounts).
struct Timed {
    inner: &'static dyn Rule,
    nanos: AtomicU64,
    calls: AtomicU64,
}

impl Rule for Timed {
    fn meta(&self) -> &'static RuleMeta {
        self.inner.meta()
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let t = Instant::now();
        let out = self.inner.check(subject, ctx);
        self.add(t);
        out
    }

    fn check_all(&self, subjects: &[&Resource], ctx: &Ctx<'_>) -> Vec<Outcome> {
        let t = Instant::now();
        let out = self.inner.check_all(subjects, ctx);
        self.add(t);
        out
    }
}

impl Timed {
    fn add(&self, t: Instant) {
        let nanos = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn take(&self) -> (f64, u64) {
        let nanos = self.nanos.swap(0, Ordering::Relaxed);
        (nanos as f64 / 1e9, self.calls.swap(0, Ordering::Relaxed))
    }
}

/// Wraps every rule of `baseline` in a [`Timed`].
fn timed(mut baseline: Baseline) -> (Baseline, Vec<&'static Timed>) {
    let mut timers = Vec::new();
    for entry in &mut baseline.rules {
        let t: &'static Timed = Box::leak(Box::new(Timed {
            inner: entry.rule,
            nanos: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }));
        entry.rule = t;
        timers.push(t);
    }
    (baseline, timers)
}

/// `count` copies of the example rules of `examples`, under distinct ids, in `into`.
fn copy_examples(examples: &Path, into: &Path, count: usize) -> Vec<String> {
    let mut folders: Vec<_> = std::fs::read_dir(examples)
        .expect("config/rules")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("rule.toml").exists())
        .collect();
    folders.sort();
    assert!(
        !folders.is_empty(),
        "no example rule in {}",
        examples.display()
    );
    let mut ids = Vec::new();
    for i in 0..count {
        let folder = &folders[i % folders.len()];
        let id = folder
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a folder name")
            .to_owned();
        let copy_id = format!("{id}_{}", i / folders.len() + 1);
        let to = into.join(&copy_id);
        std::fs::create_dir_all(&to).expect("a rule folder");
        let toml = std::fs::read_to_string(folder.join("rule.toml")).expect("rule.toml");
        let rego = std::fs::read_to_string(folder.join("rule.rego")).expect("rule.rego");
        std::fs::write(
            to.join("rule.toml"),
            toml.replace(&format!("id = \"{id}\""), &format!("id = \"{copy_id}\"")),
        )
        .expect("write rule.toml");
        std::fs::write(
            to.join("rule.rego"),
            rego.replace(
                &format!("package posture.rules.{id}"),
                &format!("package posture.rules.{copy_id}"),
            ),
        )
        .expect("write rule.rego");
        ids.push(copy_id);
    }
    ids
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Findings of one run, by rule and status.
type Counts = BTreeMap<String, BTreeMap<&'static str, usize>>;

/// One evaluation of `accounts` with `baseline`, account by account: the wall time and the
/// findings counted by rule and status.
fn run(baseline: &Baseline, accounts: &BTreeMap<AccountId, Vec<Resource>>) -> (f64, Counts) {
    let all: Vec<&Resource> = accounts.values().flatten().collect();
    let phi = PhiScope::default();
    let t = Instant::now();
    let mut evaluator = Evaluator::new(Settings {
        baseline,
        waivers: None,
        attestations: None,
        phi: &phi,
        now: Utc::now(),
    });
    let mut foreign = Foreign::default();
    let mut counts = Counts::new();
    for (account, own) in accounts {
        let coverage = AccountCoverage {
            account: account.clone(),
            collected: Vec::new(),
            gaps: Vec::new(),
        };
        let findings = evaluator
            .evaluate_account(
                own,
                &coverage,
                Collections::Unrecorded,
                &mut foreign,
                |want: &Want| -> Result<Loaded, std::convert::Infallible> {
                    Ok(match want {
                        Want::Coverage(a) => Loaded::Coverage(AccountCoverage {
                            account: a.clone(),
                            collected: Vec::new(),
                            gaps: Vec::new(),
                        }),
                        _ => Loaded::Resources(
                            all.iter()
                                .filter(|r| want.covers(r))
                                .map(|r| (*r).clone())
                                .collect(),
                        ),
                    })
                },
            )
            .unwrap_or_else(|e| match e {});
        for f in findings {
            *counts
                .entry(f.rule_id.as_str().to_owned())
                .or_default()
                .entry(f.status.as_str())
                .or_default() += 1;
        }
    }
    (t.elapsed().as_secs_f64(), counts)
}

struct Scenario {
    name: &'static str,
    baseline: Baseline,
    timers: Vec<&'static Timed>,
}

fn main() {
    let n: usize = arg("--resources", "100000").parse().expect("--resources N");
    let rule_count: usize = arg("--rules", "20").parse().expect("--rules N");
    let runs: usize = arg("--runs", "3").parse().expect("--runs N");
    let only = arg("--only", "all");

    let t = Instant::now();
    let resources = seeded(n);
    let mut accounts: BTreeMap<AccountId, Vec<Resource>> = BTreeMap::new();
    for r in &resources {
        accounts
            .entry(r.account.clone())
            .or_default()
            .push(r.clone());
    }
    let kinds: std::collections::BTreeSet<_> = resources.iter().map(Resource::kind).collect();
    drop(resources);
    let built = t.elapsed().as_secs_f64();

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/rules");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ids = copy_examples(&examples, dir.path(), rule_count);
    let t = Instant::now();
    let custom = posture_rego::load(&[dir.path()]).unwrap_or_else(|problems| {
        panic!(
            "the copies load: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    });
    let loaded = t.elapsed().as_secs_f64();
    assert_eq!(custom.rules().len(), ids.len());

    let builtin = Baseline::hipaa().expect("shipped baseline");
    let builtin_rules = builtin.rules.len();
    let mut both = builtin.clone();
    custom
        .add_to(&mut both)
        .expect("the custom rules join the baseline");
    let mut only_custom = both.clone();
    only_custom
        .rules
        .retain(|r| matches!(r.origin, RuleOrigin::Custom { .. }));
    only_custom.manual.clear();

    println!(
        "estate: seeded; resources: {} of {} kinds in {} accounts (built in {built:.1} s); \
         built-in rules: {builtin_rules}; custom rules: {} (loaded in {loaded:.2} s); \
         runs: {runs} (median)",
        accounts.values().map(Vec::len).sum::<usize>(),
        kinds.len(),
        accounts.len(),
        ids.len(),
    );

    let mut scenarios = Vec::new();
    for (name, baseline) in [
        ("builtin", builtin),
        ("custom", only_custom),
        ("both", both),
    ] {
        if only != "all" && only != name {
            continue;
        }
        let (baseline, timers) = timed(baseline);
        scenarios.push(Scenario {
            name,
            baseline,
            timers,
        });
    }

    let mut medians: BTreeMap<&str, f64> = BTreeMap::new();
    for s in &scenarios {
        let mut times = Vec::new();
        let mut counts = Counts::new();
        let mut per_rule: BTreeMap<&'static str, (Vec<f64>, u64)> = BTreeMap::new();
        for _ in 0..runs.max(1) {
            let (time, c) = run(&s.baseline, &accounts);
            times.push(time);
            counts = c;
            for t in &s.timers {
                let (secs, calls) = t.take();
                let e = per_rule.entry(t.meta().id).or_default();
                e.0.push(secs);
                e.1 = calls;
            }
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        medians.insert(s.name, median);
        let findings: usize = counts.values().flat_map(BTreeMap::values).sum();
        let median_of = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let in_rules: f64 = per_rule.values().map(|(v, _)| median_of(v)).sum();
        println!(
            "\n{}: {} rules; findings: {findings}; evaluate: median {median:.2} s, min {:.2} s, \
             max {:.2} s; in the rules' checks: {in_rules:.2} s",
            s.name,
            s.baseline.rules.len(),
            times[0],
            times[times.len() - 1],
        );
        let is_custom = |id: &str| ids.iter().any(|c| c == id);
        let mut custom_rows: Vec<_> = per_rule.iter().filter(|(id, _)| is_custom(id)).collect();
        custom_rows.sort_by(|a, b| a.0.cmp(b.0));
        for (id, (secs, calls)) in &custom_rows {
            let by_status = counts
                .get(**id)
                .map(|m| {
                    m.iter()
                        .map(|(s, n)| format!("{s} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "none".to_owned());
            println!(
                "  {id:<46} {:>8.1} ms in {calls} evaluations; findings: {by_status}",
                median_of(secs) * 1e3,
            );
        }
        let mut builtin_rows: Vec<_> = per_rule
            .iter()
            .filter(|(id, _)| !is_custom(id))
            .map(|(id, (secs, _))| (*id, median_of(secs)))
            .collect();
        if !builtin_rows.is_empty() {
            builtin_rows.sort_by(|a, b| b.1.total_cmp(&a.1));
            let total: f64 = builtin_rows.iter().map(|r| r.1).sum();
            println!(
                "  built-in rules: {:.2} s in their checks, {:.2} ms per rule on average; \
                 slowest: {}",
                total,
                total / builtin_rows.len() as f64 * 1e3,
                builtin_rows
                    .iter()
                    .take(3)
                    .map(|(id, s)| format!("{id} {:.0} ms", s * 1e3))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let (Some(b), Some(c)) = (medians.get("builtin"), medians.get("custom")) {
        println!(
            "\ncustom / built-in: {:.2}x (target < 2x); {} custom rules: {:.1} ms per rule",
            c / b,
            ids.len(),
            c / ids.len().max(1) as f64 * 1e3
        );
    }
    if let (Some(b), Some(both)) = (medians.get("builtin"), medians.get("both")) {
        println!(
            "both / built-in: {:.2}x (the custom rules add {:.2} s)",
            both / b,
            both - b
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory of the process: {peak:.0} MiB");
    }
}
