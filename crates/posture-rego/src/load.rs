//! Loading and linting rules directories: one folder per rule holding `rule.toml` and
//! `rule.rego` (and `tests/`, read by [`crate::test`]).

use std::path::{Path, PathBuf};

use posture_check::{Baseline, CustomRule, CustomRuleError, Params};

use crate::broken::BrokenRule;
use crate::meta::{self, RuleDef};
use crate::rule::{LIB_FILE, LIB_REGO, RegoRule, TIME_LIMIT, condense};

/// One problem with a rule, at a file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file at fault (a folder when the problem is the folder's layout).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is the whole file.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file.display(), self.message),
            (l, 0) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.file.display(), self.message),
        }
    }
}

impl Diagnostic {
    /// A problem with the whole of `file`.
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// A problem at byte `offset` of `text` (read from `file`).
    pub(crate) fn at_offset(
        file: &Path,
        text: &str,
        offset: Option<usize>,
        message: String,
    ) -> Self {
        let (line, column) = match offset {
            Some(o) => {
                let before = &text[..o.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (line, column)
            }
            None => (0, 0),
        };
        Self {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }

    /// A regorus error about `file`: its `--> file:line:col` location, and its last line as
    /// the message.
    fn rego(file: &Path, error: &str) -> Self {
        let location = error
            .lines()
            .find_map(|l| l.trim().strip_prefix("--> "))
            .and_then(|at| {
                let mut parts = at.trim().rsplitn(3, ':');
                let column = parts.next()?.parse().ok()?;
                let line = parts.next()?.parse().ok()?;
                Some((line, column))
            });
        let message = error
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(error)
            .trim()
            .to_owned();
        let (line, column) = location.unwrap_or((0, 0));
        Self {
            file: file.to_owned(),
            line,
            column,
            message: if location.is_some() {
                message
            } else {
                condense(error)
            },
        }
    }
}

/// Custom rules loaded from rules directories, ready to join a baseline.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<&'static RegoRule>,
    /// Rules whose metadata is valid but whose policy does not compile ([`load_lenient`]).
    broken: Vec<&'static BrokenRule>,
}

impl RuleSet {
    /// A set of loaded rules, leaked (see [`load`]).
    pub(crate) fn of(rules: Vec<RegoRule>) -> Self {
        // The rules of a load share the resources they convert (see `rule::Converted`).
        let converted = std::sync::Arc::default();
        Self {
            rules: rules
                .into_iter()
                .map(|mut r| {
                    r.share(std::sync::Arc::clone(&converted));
                    &*Box::leak(Box::new(r))
                })
                .collect(),
            broken: Vec::new(),
        }
    }

    /// The rules that do not compile and answer `error` ([`load_lenient`]).
    pub fn broken(&self) -> &[&'static BrokenRule] {
        &self.broken
    }

    /// The rules, sorted by id.
    pub fn rules(&self) -> &[&'static RegoRule] {
        &self.rules
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.broken.is_empty()
    }

    /// The rules as [`CustomRule`]s for [`Baseline::add_custom_rules`].
    pub fn custom_rules(&self) -> Vec<CustomRule> {
        let custom = |rule: &'static dyn posture_check::Rule, def: &RuleDef| CustomRule {
            rule,
            citations: def.citations.clone(),
            scope: def.scope,
            params: Params::default(),
            source: def.dir.display().to_string(),
        };
        self.rules
            .iter()
            .map(|r| custom(*r, r.def()))
            .chain(self.broken.iter().map(|r| custom(*r, r.def())))
            .collect()
    }

    /// Adds the rules to `baseline` (see [`Baseline::add_custom_rules`]).
    pub fn add_to(&self, baseline: &mut Baseline) -> Result<(), Vec<CustomRuleError>> {
        baseline.add_custom_rules(self.custom_rules())
    }
}

/// Loads every rule of `dirs` (each a rules directory holding one folder per rule, or one
/// rule's folder). Every problem of every rule is reported (the same as [`lint`]'s); nothing
/// is returned unless there is none. Each rule's metadata is leaked (`&'static`, as the
/// evaluator's registry wants it): load once per process.
pub fn load<P: AsRef<Path>>(dirs: &[P]) -> Result<RuleSet, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut loaded: Vec<RegoRule> = Vec::new();
    for dir in dirs {
        for folder in rule_folders(dir.as_ref(), &mut problems) {
            match load_rule(&folder) {
                Ok(rule) => loaded.push(rule),
                Err(mut p) => problems.append(&mut p),
            }
        }
    }
    loaded.sort_by(|a, b| a.def().id.cmp(&b.def().id));
    problems.extend(duplicate_ids(loaded.iter().map(RegoRule::def)));
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(RuleSet::of(loaded))
}

/// Like [`load`], for a scan or the daemon, where a bad rule must not stop the work: a rule
/// whose `rule.toml` is valid but whose policy does not compile joins the set as a
/// [`BrokenRule`] (its subjects get `error` naming the rule and the cause), and its problems
/// are returned beside the set as warnings. Problems that leave no rule to report on (a
/// missing or invalid `rule.toml`, a duplicate id, an unreadable directory) are still an
/// `Err`: without an id and a subject kind, there is nothing to put the error on.
pub fn load_lenient<P: AsRef<Path>>(
    dirs: &[P],
) -> Result<(RuleSet, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut loaded: Vec<RegoRule> = Vec::new();
    let mut broken: Vec<BrokenRule> = Vec::new();
    for dir in dirs {
        for folder in rule_folders(dir.as_ref(), &mut problems) {
            match load_rule(&folder) {
                Ok(rule) => loaded.push(rule),
                Err(p) => match parse_def(&folder) {
                    Some(def) => {
                        broken.push(BrokenRule::new(def, &p));
                        warnings.extend(p);
                    }
                    None => problems.extend(p),
                },
            }
        }
    }
    problems.extend(duplicate_ids(
        loaded
            .iter()
            .map(RegoRule::def)
            .chain(broken.iter().map(BrokenRule::def)),
    ));
    if !problems.is_empty() {
        return Err(problems);
    }
    loaded.sort_by(|a, b| a.def().id.cmp(&b.def().id));
    broken.sort_by(|a, b| a.def().id.cmp(&b.def().id));
    let mut set = RuleSet::of(loaded);
    set.broken = broken
        .into_iter()
        .map(|r| &*Box::leak(Box::new(r)))
        .collect();
    Ok((set, warnings))
}

/// A lint message for each rule whose id another rule of `defs` already has.
fn duplicate_ids<'a>(defs: impl Iterator<Item = &'a RuleDef>) -> Vec<Diagnostic> {
    let mut defs: Vec<&RuleDef> = defs.collect();
    defs.sort_by(|a, b| a.id.cmp(&b.id));
    defs.windows(2)
        .filter(|pair| pair[0].id == pair[1].id)
        .map(|pair| {
            Diagnostic::file(
                &pair[1].dir.join("rule.toml"),
                format!(
                    "rule id {} is already defined by {}; rule ids must be unique",
                    pair[1].id,
                    pair[0].dir.display()
                ),
            )
        })
        .collect()
}

/// The rule's metadata when `rule.toml` is readable and valid.
fn parse_def(folder: &Path) -> Option<RuleDef> {
    let toml_path = folder.join("rule.toml");
    let text = read(&toml_path).ok()?;
    meta::parse(&toml_path, &text, folder).ok()
}

/// Every problem of the rules in `dir` (a rules directory or one rule's folder): TOML and
/// metadata errors, Rego syntax and compile errors with file and line, unknown resource
/// kinds and services, a missing `results`, a fixture folder that is missing or unreadable,
/// duplicate ids. Empty when the rules load.
pub fn lint(dir: &Path) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let folders = rule_folders(dir, &mut problems);
    let mut rules: Vec<RegoRule> = Vec::new();
    for folder in folders {
        match load_rule(&folder) {
            Ok(rule) => {
                let tests = folder.join("tests");
                if !tests.is_dir() {
                    problems.push(Diagnostic::file(
                        &folder,
                        "no tests/ folder: add fixtures (resources and expected results) so \
                         `posture rules test` can check the rule",
                    ));
                }
                rules.push(rule);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    problems.extend(duplicate_ids(rules.iter().map(RegoRule::def)));
    problems
}

pub(crate) fn rule_folders_of(dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    rule_folders(dir, problems)
}

/// The rule folders of `dir`: `dir` itself when it holds a `rule.toml` or `rule.rego`, else
/// its subfolders, sorted.
fn rule_folders(dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let is_rule = |d: &Path| d.join("rule.toml").exists() || d.join("rule.rego").exists();
    if is_rule(dir) {
        return vec![dir.to_owned()];
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Diagnostic::file(
                dir,
                format!("cannot read the rules directory: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for f in &folders {
        if !is_rule(f) {
            problems.push(Diagnostic::file(
                f,
                "not a rule folder: a rule folder holds rule.toml and rule.rego",
            ));
        }
    }
    folders.retain(|f| is_rule(f));
    folders
}

fn read(path: &Path) -> Result<String, Diagnostic> {
    std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::file(path, format!("cannot read it: {e}")))
}

/// Loads one rule folder: metadata, then the policy, then one evaluation over an empty
/// input (which finds the compile errors regorus reports only when it evaluates).
pub(crate) fn load_rule(folder: &Path) -> Result<RegoRule, Vec<Diagnostic>> {
    let toml_path = folder.join("rule.toml");
    let rego_path = folder.join("rule.rego");
    let mut problems = Vec::new();
    let def = match read(&toml_path) {
        Ok(text) => match meta::parse(&toml_path, &text, folder) {
            Ok(def) => Some(def),
            Err(mut p) => {
                problems.append(&mut p);
                None
            }
        },
        Err(d) => {
            problems.push(d);
            None
        }
    };
    let rego = match read(&rego_path) {
        Ok(text) => Some(text),
        Err(d) => {
            problems.push(d);
            None
        }
    };
    let (Some(def), Some(rego)) = (def, rego) else {
        return Err(problems);
    };
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: TIME_LIMIT,
        check_interval: std::num::NonZeroU32::MIN.saturating_add(999),
    });
    if let Err(e) = engine.add_policy(LIB_FILE.to_owned(), LIB_REGO.to_owned()) {
        // The library is part of this crate and tested; a failure here is a bug in it.
        return Err(vec![Diagnostic::file(
            Path::new(LIB_FILE),
            condense(&e.to_string()),
        )]);
    }
    let file = rego_path.display().to_string();
    let package = match engine.add_policy(file.clone(), rego) {
        Ok(p) => p,
        Err(e) => return Err(vec![Diagnostic::rego(&rego_path, &e.to_string())]),
    };
    if package == "data.posture.lib" {
        return Err(vec![Diagnostic::file(
            &rego_path,
            "the package posture.lib is the library's; name the rule's package after its id",
        )]);
    }
    match engine.has_declared_rule_rooted_at(&file, "results") {
        Ok(true) => {}
        Ok(false) => {
            return Err(vec![Diagnostic::file(
                &rego_path,
                format!(
                    "the policy defines no `results` (package {package}): a rule returns a set \
                     of {{arn, status, reason, evidence}} as `results`"
                ),
            )]);
        }
        Err(e) => return Err(vec![Diagnostic::rego(&rego_path, &e.to_string())]),
    }
    let mut probe = engine.clone();
    probe.set_input(regorus::Value::from(serde_json::json!({
        "rule": def.id, "account": "000000000000", "now": "2026-01-01T00:00:00Z",
        "params": def.params, "subjects": [], "resources": {}, "all_accounts": {},
    })));
    if let Err(e) = probe.eval_rule(format!("{package}.results")) {
        return Err(vec![Diagnostic::rego(&rego_path, &e.to_string())]);
    }
    // The probe is the engine prepared (regorus analyzes the policy at the first
    // evaluation): the rule keeps it, so that neither its evaluations nor a copy of it
    // analyze the policy again.
    drop(engine);
    Ok(RegoRule::new(def, probe, &package))
}
