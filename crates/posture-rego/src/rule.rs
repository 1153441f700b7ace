//! A Rego rule as a [`posture_check::Rule`]: one evaluation of its policy per account per
//! evaluation, over every subject the evaluator's pre-checks left, and the validation of
//! what it returns.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use posture_check::{Ctx, Outcome, Rule, RuleMeta, SnapshotIndex};
use posture_model::{AccountId, Resource, ResourceKind, Status};
use regorus::Value;

use crate::RuleDef;

/// How long one evaluation of one rule over one account may run before it is stopped and
/// its subjects get `Error`: a guard against a runaway rule, far above what a rule over a
/// large account needs.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The Rego library every rule may import (`import data.posture.lib`).
pub const LIB_REGO: &str = include_str!("lib.rego");
/// The file name the library is loaded under.
pub const LIB_FILE: &str = "posture/lib.rego";

/// A loaded custom rule. Its metadata is leaked once per load (see
/// [`posture_check::CustomRule`]).
pub struct RegoRule {
    meta: &'static RuleMeta,
    def: RuleDef,
    /// The policy and the library, parsed: the engine evaluations reuse (`set_input`, then
    /// `eval_rule`, which resets regorus's evaluation state), and a pristine copy cloned
    /// for an evaluation that finds the first one busy (another thread) or poisoned.
    engine: Mutex<regorus::Engine>,
    template: regorus::Engine,
    /// `data.<package>.results`.
    query: String,
    /// `[params]`, as `input.params`.
    params: Value,
    /// The resources converted, shared by the rules of one load.
    converted: Arc<Mutex<Converted>>,
}

impl std::fmt::Debug for RegoRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoRule")
            .field("id", &self.meta.id)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

/// The evaluator's `&'static` metadata of a custom rule, leaked (rules are loaded once per
/// process).
pub(crate) fn leak_meta(def: &RuleDef) -> &'static RuleMeta {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let calls: &'static [&'static str] = Box::leak(def.api_calls().into_boxed_slice());
    Box::leak(Box::new(RuleMeta {
        id: leak(&def.id),
        title: leak(&def.title),
        severity: def.severity,
        subject: def.subject,
        rationale: leak(&def.rationale),
        remediation: leak(&def.remediation),
        api_calls: calls,
        params: &[],
    }))
}

impl RegoRule {
    /// A rule from its validated metadata and an engine holding its policy (package
    /// `package`, as `Engine::add_policy` returned it: `data.<package>`).
    pub(crate) fn new(def: RuleDef, engine: regorus::Engine, package: &str) -> Self {
        Self {
            meta: leak_meta(&def),
            params: Value::from(def.params.clone()),
            def,
            engine: Mutex::new(engine.clone()),
            template: engine,
            query: format!("{package}.results"),
            converted: Arc::default(),
        }
    }

    /// Shares `converted` with the other rules of a load.
    pub(crate) fn share(&mut self, converted: Arc<Mutex<Converted>>) {
        self.converted = converted;
    }

    /// Its metadata as `rule.toml` gave it.
    pub fn def(&self) -> &RuleDef {
        &self.def
    }

    /// The input of one evaluation: the subjects of one account and what the rule reads,
    /// built from the resources' values shared by the rules of the load (see [`Converted`]).
    fn input(&self, account: &AccountId, subjects: &[&Resource], ctx: &Ctx<'_>) -> Value {
        let mut converted = self.converted.lock().unwrap_or_else(|e| e.into_inner());
        let index = ctx.index;
        converted.enter(index);
        let mut resources = BTreeMap::new();
        for kind in &self.def.reads {
            let of_kind = converted.in_account(index, *kind, account);
            resources.insert(Value::from(kind.as_str()), of_kind);
        }
        let mut all_accounts = BTreeMap::new();
        for kind in &self.def.reads_all_accounts {
            let of_kind = converted.everywhere(index, *kind);
            all_accounts.insert(Value::from(kind.as_str()), of_kind);
        }
        let subjects = converted.subjects(index, self.meta.subject, subjects);
        drop(converted);
        let mut input = BTreeMap::new();
        input.insert(Value::from("rule"), Value::from(self.meta.id));
        input.insert(Value::from("account"), Value::from(account.as_str()));
        input.insert(
            Value::from("now"),
            Value::from(ctx.now.to_rfc3339_opts(chrono_secs(), true)),
        );
        input.insert(Value::from("params"), self.params.clone());
        input.insert(Value::from("subjects"), subjects);
        input.insert(Value::from("resources"), Value::from(resources));
        input.insert(Value::from("all_accounts"), Value::from(all_accounts));
        Value::from(input)
    }

    /// Evaluates the policy over one account's subjects: the outcomes in subject order.
    fn evaluate(&self, account: &AccountId, subjects: &[&Resource], ctx: &Ctx<'_>) -> Vec<Outcome> {
        let input = self.input(account, subjects, ctx);
        let evaluated = match self.engine.try_lock() {
            Ok(mut engine) => {
                engine.set_input(input);
                engine.eval_rule(self.query.clone())
            }
            // Busy (another thread evaluates the rule) or poisoned (an evaluation panicked
            // in it): a copy of the pristine engine.
            Err(_) => {
                let mut engine = self.template.clone();
                engine.set_input(input);
                engine.eval_rule(self.query.clone())
            }
        };
        match evaluated {
            Ok(value) => outcomes(self.meta.id, subjects, &value),
            Err(e) => {
                let why = condense(&e.to_string());
                subjects
                    .iter()
                    .map(|_| {
                        Outcome::error(format!(
                            "custom rule {} failed while evaluating: {why}",
                            self.meta.id
                        ))
                        .with("custom_rule", self.meta.id)
                        .with("rego_error", &why)
                    })
                    .collect()
            }
        }
    }
}

/// `SecondsFormat::Secs`, named here so the input's `now` reads `2026-06-01T00:00:00Z`.
fn chrono_secs() -> chrono::SecondsFormat {
    chrono::SecondsFormat::Secs
}

/// A resource as Rego reads it: the model's serde JSON.
fn to_value(resource: &Resource) -> Value {
    // A model resource always serializes (no map with non-string keys, no non-finite
    // float); `Null` would read as a malformed resource, never as a pass. Through JSON text,
    // which regorus parses straight into its values: faster than building a
    // `serde_json::Value` and converting it.
    serde_json::to_string(resource)
        .ok()
        .and_then(|text| Value::from_json_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// The resources of an evaluation converted to regorus values, shared by every rule of a
/// load: an account's resources are converted once per evaluation of the account, not once
/// per rule that reads them, and the resources of other accounts (`all_accounts`) once per
/// scan, not once per account. Conversion (serde JSON, then regorus's `Value`) is most of
/// a custom rule's cost, and the values are reference-counted, so sharing them is free.
///
/// `input.resources[kind]` and `input.all_accounts[kind]` are objects keyed by ARN (see
/// [`keyed`]), so that a rule looks a resource up in constant time. The `all_accounts`
/// object of a kind is built once per state of the [`posture_check::Foreign`] (its id and
/// length), from the resources it holds, and shared by every account whose own resources
/// of the kind are the same as the `Foreign`'s copy of them (a scan loads them from the
/// snapshot it writes); an account whose own differ gets an object of its own.
///
/// Keys never outlive what they name: a resource of the index is keyed by its address only
/// while that index ([`SnapshotIndex::id`], unique in the process) is the one evaluated,
/// and a resource of other accounts by its position in the [`posture_check::Foreign`] that
/// holds it (append-only, its id unique too). A subject the evaluator did not take from the
/// index (a direct call of `check`) is converted afresh.
#[derive(Default)]
pub(crate) struct Converted {
    /// The index whose resources `local`, `objects` and `members` describe.
    index: u64,
    /// Resources of the index, by address.
    local: HashMap<usize, Value>,
    /// The objects of `resources` (kind, account) and `all_accounts` (kind, `None`) of the
    /// index.
    objects: HashMap<(ResourceKind, Option<AccountId>), Value>,
    /// The addresses of the index's subjects of a kind.
    members: HashMap<ResourceKind, HashSet<usize>>,
    /// The `Foreign` whose resources `foreign_values` holds, by position.
    foreign: u64,
    foreign_values: Vec<Option<Value>>,
    /// The number of resources of the `Foreign` when `shared` was built.
    foreign_len: usize,
    /// The `all_accounts` objects built from the `Foreign`'s resources, by kind.
    shared: HashMap<ResourceKind, Shared>,
}

/// The `all_accounts` object of one kind built from a [`posture_check::Foreign`].
struct Shared {
    object: Value,
    /// Per account, its resources in the object: ARN -> position in the `Foreign`. Only
    /// ARNs that one account holds (keyed by their bare ARN).
    by_account: HashMap<AccountId, HashMap<String, usize>>,
}

impl Converted {
    /// Forgets what belongs to another index (or another `Foreign`) than `index`'s.
    fn enter(&mut self, index: &SnapshotIndex<'_>) {
        if self.index != index.id() {
            self.index = index.id();
            self.local.clear();
            self.objects.clear();
            self.members.clear();
        }
        if let Some((id, held)) = index.foreign() {
            if id != self.foreign {
                self.foreign = id;
                self.foreign_values.clear();
                self.shared.clear();
            }
            if held.len() != self.foreign_len {
                self.foreign_len = held.len();
                self.shared.clear();
            }
        }
    }

    /// The value of `r`, a resource of `index`.
    fn of(&mut self, index: &SnapshotIndex<'_>, r: &Resource) -> Value {
        let address = std::ptr::from_ref(r) as usize;
        if let Some((_, held)) = index.foreign() {
            let start = held.as_ptr() as usize;
            let size = std::mem::size_of::<Resource>();
            if size > 0 && address >= start && address < start + std::mem::size_of_val(held) {
                let position = (address - start) / size;
                return self.foreign_value(held, position);
            }
        }
        self.local
            .entry(address)
            .or_insert_with(|| to_value(r))
            .clone()
    }

    /// The value of `held[position]`, `held` the resources of the current `Foreign`.
    fn foreign_value(&mut self, held: &[Resource], position: usize) -> Value {
        if self.foreign_values.len() < held.len() {
            self.foreign_values.resize(held.len(), None);
        }
        self.foreign_values[position]
            .get_or_insert_with(|| to_value(&held[position]))
            .clone()
    }

    /// `input.resources[kind]`: the resources of `kind` in `account`, keyed by ARN, built
    /// once per index.
    fn in_account(
        &mut self,
        index: &SnapshotIndex<'_>,
        kind: ResourceKind,
        account: &AccountId,
    ) -> Value {
        let key = (kind, Some(account.clone()));
        if let Some(v) = self.objects.get(&key) {
            return v.clone();
        }
        let entries: Vec<(&Resource, Value)> = index
            .in_account(kind, account)
            .iter()
            .map(|r| (*r, self.of(index, r)))
            .collect();
        let object = keyed(entries);
        self.objects.insert(key, object.clone());
        object
    }

    /// `input.all_accounts[kind]`: the resources of `kind` in every account, keyed by ARN:
    /// the object built from the `Foreign` when the local account's own resources of the
    /// kind are the `Foreign`'s copy of them, else one built for this index.
    fn everywhere(&mut self, index: &SnapshotIndex<'_>, kind: ResourceKind) -> Value {
        let key = (kind, None);
        if let Some(v) = self.objects.get(&key) {
            return v.clone();
        }
        // Called for what it records (the read, and the want of every account's data).
        let all = index.everywhere(kind);
        let object = match (index.foreign(), index.local_account()) {
            (Some((_, held)), Some(local)) => {
                let shared = self.shared_of(held, kind);
                let own = index.subjects(kind);
                let same = {
                    let of_local = self.shared.get(&kind).and_then(|s| s.by_account.get(local));
                    let copies = of_local.map_or(0, HashMap::len);
                    copies == own.len()
                        && own.iter().all(|r| {
                            of_local
                                .and_then(|m| m.get(r.arn.as_str()))
                                .is_some_and(|&p| held[p] == **r)
                        })
                };
                if same {
                    shared
                } else {
                    let entries: Vec<(&Resource, Value)> =
                        all.iter().map(|r| (*r, self.of(index, r))).collect();
                    keyed(entries)
                }
            }
            _ => {
                let entries: Vec<(&Resource, Value)> =
                    all.iter().map(|r| (*r, self.of(index, r))).collect();
                keyed(entries)
            }
        };
        self.objects.insert(key, object.clone());
        object
    }

    /// The `all_accounts` object of `kind` built from `held` (the `Foreign`'s resources),
    /// once per state of the `Foreign`.
    fn shared_of(&mut self, held: &[Resource], kind: ResourceKind) -> Value {
        if let Some(s) = self.shared.get(&kind) {
            return s.object.clone();
        }
        let positions: Vec<usize> = (0..held.len())
            .filter(|&p| held[p].kind() == kind)
            .collect();
        let entries: Vec<(&Resource, Value)> = positions
            .iter()
            .map(|&p| (&held[p], self.foreign_value(held, p)))
            .collect();
        let accounts = accounts_of(entries.iter().map(|(r, _)| *r));
        let mut by_account: HashMap<AccountId, HashMap<String, usize>> = HashMap::new();
        for &p in &positions {
            let r = &held[p];
            if accounts.get(r.arn.as_str()).is_some_and(|a| a.len() == 1) {
                by_account
                    .entry(r.account.clone())
                    .or_default()
                    .insert(r.arn.as_str().to_owned(), p);
            }
        }
        let object = keyed(entries);
        self.shared.insert(
            kind,
            Shared {
                object: object.clone(),
                by_account,
            },
        );
        object
    }

    /// The array of `subjects`: those among the index's subjects of `kind` shared, any
    /// other converted afresh.
    fn subjects(
        &mut self,
        index: &SnapshotIndex<'_>,
        kind: ResourceKind,
        subjects: &[&Resource],
    ) -> Value {
        let members = self.members.entry(kind).or_insert_with(|| {
            index
                .subjects(kind)
                .iter()
                .map(|r| std::ptr::from_ref::<Resource>(r) as usize)
                .collect()
        });
        let of_index: Vec<bool> = subjects
            .iter()
            .map(|r| members.contains(&(std::ptr::from_ref::<Resource>(r) as usize)))
            .collect();
        let values: Vec<Value> = subjects
            .iter()
            .zip(of_index)
            .map(|(r, shared)| {
                if shared {
                    self.of(index, r)
                } else {
                    to_value(r)
                }
            })
            .collect();
        Value::from(values)
    }
}

/// The accounts holding each ARN among `resources`.
fn accounts_of<'r>(
    resources: impl Iterator<Item = &'r Resource>,
) -> HashMap<&'r str, HashSet<&'r AccountId>> {
    let mut accounts: HashMap<&str, HashSet<&AccountId>> = HashMap::new();
    for r in resources {
        accounts
            .entry(r.arn.as_str())
            .or_default()
            .insert(&r.account);
    }
    accounts
}

/// Resources as the object of `input.resources[kind]` and `input.all_accounts[kind]`: keyed
/// by ARN, so that a rule looks one up in constant time (`some r in object` still iterates
/// the resources, `count` still counts them). An ARN that several accounts hold (an AWS
/// managed IAM policy has one ARN in every account) is keyed `<arn>#<account>` for each of
/// them, so that none hides another; the same ARN twice in one account is one resource.
pub(crate) fn keyed(entries: Vec<(&Resource, Value)>) -> Value {
    let accounts = accounts_of(entries.iter().map(|(r, _)| *r));
    let mut object = BTreeMap::new();
    for (r, value) in entries {
        let arn = r.arn.as_str();
        let key = if accounts.get(arn).is_some_and(|a| a.len() > 1) {
            format!("{arn}#{}", r.account.as_str())
        } else {
            arn.to_owned()
        };
        object.insert(Value::from(key), value);
    }
    Value::from(object)
}

impl Rule for RegoRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        self.evaluate(&subject.account, &[subject], ctx)
            .pop()
            .unwrap_or_else(|| Outcome::error("the custom rule gave no outcome"))
    }

    /// One evaluation per account among `subjects` (one, when the evaluator runs account by
    /// account).
    fn check_all(&self, subjects: &[&Resource], ctx: &Ctx<'_>) -> Vec<Outcome> {
        let mut by_account: BTreeMap<&AccountId, Vec<usize>> = BTreeMap::new();
        for (i, s) in subjects.iter().enumerate() {
            by_account.entry(&s.account).or_default().push(i);
        }
        let mut out: Vec<Option<Outcome>> = vec![None; subjects.len()];
        for (account, positions) in by_account {
            let of_account: Vec<&Resource> = positions.iter().map(|&i| subjects[i]).collect();
            for (i, outcome) in positions
                .into_iter()
                .zip(self.evaluate(account, &of_account, ctx))
            {
                out[i] = Some(outcome);
            }
        }
        out.into_iter()
            .map(|o| o.unwrap_or_else(|| Outcome::error("the custom rule gave no outcome")))
            .collect()
    }
}

/// The outcome of each subject from the rule's `results`, validated: a subject without a
/// result, with a malformed one or with conflicting ones gets `Error` naming the rule and
/// the cause.
pub(crate) fn outcomes(rule: &str, subjects: &[&Resource], results: &Value) -> Vec<Outcome> {
    let entries: Vec<&Value> = match results {
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        Value::Undefined => {
            return all_error(
                rule,
                subjects,
                "`results` is undefined (no rule body matched, or the policy does not define \
                 `results`)",
            );
        }
        other => {
            let kind = type_name(other);
            return all_error(
                rule,
                subjects,
                &format!("`results` must be a set or an array of objects, not {kind}"),
            );
        }
    };
    let mut parsed: BTreeMap<String, Vec<Result<Outcome, String>>> = BTreeMap::new();
    let mut unattributed: Vec<String> = Vec::new();
    for entry in entries {
        match result_of(entry) {
            (Some(arn), result) => parsed.entry(arn).or_default().push(result),
            (None, Err(why)) => unattributed.push(why),
            (None, Ok(_)) => unattributed.push("a result without `arn`".to_owned()),
        }
    }
    subjects
        .iter()
        .map(|s| {
            let decided = match parsed.get(s.arn.as_str()).map(Vec::as_slice) {
                Some([one]) => one.clone(),
                Some(many) => {
                    let first = &many[0];
                    if many.iter().all(|r| r == first) {
                        first.clone()
                    } else {
                        Err(format!(
                            "{} different results for this resource; give exactly one",
                            many.len()
                        ))
                    }
                }
                None if unattributed.is_empty() => Err("no result for this resource".to_owned()),
                None => Err(format!(
                    "no result for this resource; {} result(s) were malformed, the first: {}",
                    unattributed.len(),
                    unattributed[0]
                )),
            };
            decided.unwrap_or_else(|why| {
                Outcome::error(format!("custom rule {rule}: {why}")).with("custom_rule", rule)
            })
        })
        .collect()
}

fn all_error(rule: &str, subjects: &[&Resource], why: &str) -> Vec<Outcome> {
    subjects
        .iter()
        .map(|_| Outcome::error(format!("custom rule {rule}: {why}")).with("custom_rule", rule))
        .collect()
}

/// One entry of `results`: its ARN (when it has a string one) and its outcome or why it is
/// malformed.
fn result_of(entry: &Value) -> (Option<String>, Result<Outcome, String>) {
    let Value::Object(fields) = entry else {
        return (
            None,
            Err(format!(
                "a result that is {}, not an object",
                type_name(entry)
            )),
        );
    };
    let field = |name: &str| fields.get(&Value::from(name));
    let arn = match field("arn") {
        Some(Value::String(s)) => s.to_string(),
        Some(other) => {
            return (
                None,
                Err(format!(
                    "a result whose `arn` is {}, not a string",
                    type_name(other)
                )),
            );
        }
        None => return (None, Err("a result without `arn`".to_owned())),
    };
    let result = (|| {
        for key in fields.keys() {
            match key {
                Value::String(k) if matches!(&**k, "arn" | "status" | "reason" | "evidence") => {}
                other => {
                    return Err(format!(
                        "the result has an unknown field {}; a result has arn, status, reason \
                         and evidence",
                        other.to_json_str().unwrap_or_default()
                    ));
                }
            }
        }
        let status = match field("status") {
            Some(Value::String(s)) => match &**s {
                "pass" => Status::Pass,
                "fail" => Status::Fail,
                "not_applicable" => Status::NotApplicable,
                "error" => Status::Error,
                other => {
                    return Err(format!(
                        "status {other:?} is not one of \"pass\", \"fail\", \"not_applicable\", \
                         \"error\""
                    ));
                }
            },
            Some(other) => return Err(format!("`status` is {}, not a string", type_name(other))),
            None => return Err("the result has no `status`".to_owned()),
        };
        let reason = match field("reason") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.to_string(),
            Some(Value::String(_)) => return Err("`reason` is empty".to_owned()),
            Some(other) => return Err(format!("`reason` is {}, not a string", type_name(other))),
            None => return Err("the result has no `reason`".to_owned()),
        };
        let evidence = match field("evidence") {
            None => BTreeMap::new(),
            Some(Value::Object(ev)) => {
                let mut out = BTreeMap::new();
                for (k, v) in ev.iter() {
                    let Value::String(k) = k else {
                        return Err("an `evidence` key is not a string".to_owned());
                    };
                    let json = serde_json::to_value(v)
                        .map_err(|e| format!("evidence `{k}` cannot be written as JSON: {e}"))?;
                    out.insert(k.to_string(), json);
                }
                out
            }
            Some(other) => {
                return Err(format!("`evidence` is {}, not an object", type_name(other)));
            }
        };
        let reason = if status == Status::Error {
            format!("the rule could not decide: {reason}")
        } else {
            reason
        };
        Ok(Outcome {
            status,
            reason,
            evidence,
        })
    })();
    (Some(arn), result)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Set(_) => "a set",
        Value::Object(_) => "an object",
        Value::Undefined => "undefined",
    }
}

/// A regorus error message on one line: `file:line:col: error: message` (its source excerpt
/// dropped).
pub(crate) fn condense(message: &str) -> String {
    let location = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .map(str::trim);
    let last = message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message)
        .trim();
    let text = match location {
        Some(at) => format!("{at}: {last}"),
        None => message.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    truncate(text)
}

/// At most [`MAX_MESSAGE`] characters: regorus quotes whole values in some messages, and a
/// finding's reason is one line.
fn truncate(text: String) -> String {
    if text.chars().count() <= MAX_MESSAGE {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE).collect();
    cut.push_str(" …");
    cut
}

/// The longest Rego error message a finding's reason quotes.
pub const MAX_MESSAGE: usize = 400;
