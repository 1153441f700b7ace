//! From a JSON policy document to typed statements. Anything IAM itself would refuse to
//! store (no `Statement`, a statement without `Effect` or `Action`, a principal or
//! condition of the wrong shape) is a [`PolicyError`]: the collector handed us something
//! that is not the policy in force, and a rule must say it could not decide rather than
//! read it as harmless.

use serde_json::{Map, Value};

use super::condition::{Condition, Operator};
use super::glob::Case;
use super::statement::{Effect, Matcher, PrincipalId, Principals, Selection, Statement};

/// Why a document is not a policy this evaluator can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not a JSON object (an undecodable document is kept as its text).
    #[error("the document is not a JSON policy object (it is {found})")]
    NotAnObject {
        /// What it is instead.
        found: &'static str,
    },
    /// The document has no `Statement`.
    #[error("the document has no Statement")]
    NoStatement,
    /// `Statement` is neither an object nor an array.
    #[error("the document's Statement is {found}, not an object or array")]
    StatementsNotAList {
        /// What it is instead.
        found: &'static str,
    },
    /// The document is larger than any policy AWS stores (see [`MAX_DOCUMENT_BYTES`]).
    #[error(
        "the document is larger than {limit} bytes, past any policy AWS stores, and is not read"
    )]
    TooLarge {
        /// The limit, in bytes of compact JSON (approximately).
        limit: usize,
    },
    /// One statement is malformed.
    #[error("Statement[{index}]: {problem}")]
    Statement {
        /// Its position.
        index: usize,
        /// What is wrong with it.
        problem: String,
    },
}

/// The largest document read, in bytes of compact JSON (approximately). AWS stores no
/// single policy past 32 KB (KMS key policies; S3 bucket policies 20 KB, IAM managed
/// policies 6 KB), and one identity's policies merged into one document (user, groups,
/// managed and inline, at raised quotas) stay under 1.4 MB. Evaluation is quadratic in
/// the statements (each `Allow` against each `Deny`, each named account against each
/// statement), so a larger, hostile document could stall the scan.
pub const MAX_DOCUMENT_BYTES: usize = 2 << 20;

/// Parses a whole document.
pub(super) fn statements(document: &Value) -> Result<Vec<Statement>, PolicyError> {
    let Value::Object(doc) = document else {
        return Err(PolicyError::NotAnObject {
            found: json_type(document),
        });
    };
    if exceeds(document, MAX_DOCUMENT_BYTES) {
        return Err(PolicyError::TooLarge {
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let list: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(other) => {
            return Err(PolicyError::StatementsNotAList {
                found: json_type(other),
            });
        }
        None => return Err(PolicyError::NoStatement),
    };
    list.into_iter()
        .enumerate()
        .map(|(index, value)| {
            statement(index, value).map_err(|problem| PolicyError::Statement { index, problem })
        })
        .collect()
}

fn statement(index: usize, value: &Value) -> Result<Statement, String> {
    let Value::Object(st) = value else {
        return Err(format!("is {}, not an object", json_type(value)));
    };
    let sid = match st.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(other) => return Err(format!("Sid is {}, not a string", json_type(other))),
    };
    let effect = match st.get("Effect") {
        Some(Value::String(e)) if e.eq_ignore_ascii_case("Allow") => Effect::Allow,
        Some(Value::String(e)) if e.eq_ignore_ascii_case("Deny") => Effect::Deny,
        Some(other) => {
            return Err(format!(
                "Effect is {}, not \"Allow\" or \"Deny\"",
                excerpt(other)
            ));
        }
        None => return Err("has no Effect".to_owned()),
    };
    let principals = principals(st)?;
    let actions = pair(st, "Action", Case::Insensitive)?
        .ok_or_else(|| "has neither Action nor NotAction".to_owned())?;
    let resources = pair(st, "Resource", Case::Sensitive)?
        .unwrap_or_else(|| Matcher::everything(Case::Sensitive));
    let conditions = match st.get("Condition") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(block)) => conditions(block)?,
        Some(other) => return Err(format!("Condition is {}, not an object", json_type(other))),
    };
    Ok(Statement {
        index,
        sid,
        effect,
        principals,
        actions,
        resources,
        conditions,
    })
}

/// `Action`/`NotAction` or `Resource`/`NotResource` (`name` is the positive element).
fn pair(st: &Map<String, Value>, name: &str, case: Case) -> Result<Option<Matcher>, String> {
    let not_name = format!("Not{name}");
    let (selection, value) = match (st.get(name), st.get(&not_name)) {
        (Some(_), Some(_)) => return Err(format!("has both {name} and {not_name}")),
        (Some(v), None) => (Selection::Only, v),
        (None, Some(v)) => (Selection::AllExcept, v),
        (None, None) => return Ok(None),
    };
    let element = if selection == Selection::Only {
        name
    } else {
        &not_name
    };
    Ok(Some(Matcher {
        selection,
        patterns: string_list(value).map_err(|found| format!("{element} is {found}"))?,
        case,
    }))
}

fn principals(st: &Map<String, Value>) -> Result<Principals, String> {
    let (value, negated) = match (st.get("Principal"), st.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err("has both Principal and NotPrincipal".to_owned()),
        (Some(v), None) => (v, false),
        (None, Some(v)) => (v, true),
        (None, None) => return Ok(Principals::Unspecified),
    };
    let element = if negated { "NotPrincipal" } else { "Principal" };
    let ids = match value {
        Value::String(s) if s == "*" => vec![PrincipalId::Anyone],
        Value::Object(map) => {
            let mut ids = Vec::new();
            for (kind, v) in map {
                let names =
                    string_list(v).map_err(|found| format!("{element}.{kind} is {found}"))?;
                let make: fn(&str) -> PrincipalId = match kind.to_ascii_lowercase().as_str() {
                    "aws" => PrincipalId::aws,
                    "service" => |s| PrincipalId::Service(s.to_owned()),
                    "federated" => |s| PrincipalId::Federated(s.to_owned()),
                    "canonicaluser" => |s| PrincipalId::CanonicalUser(s.to_owned()),
                    _ => {
                        return Err(format!(
                            "{element} has an unknown principal type {kind:?} (expected AWS, \
                             Service, Federated or CanonicalUser)"
                        ));
                    }
                };
                ids.extend(names.iter().map(|n| make(n)));
            }
            ids
        }
        other => {
            return Err(format!(
                "{element} is {}, not \"*\" or an object of principal types",
                excerpt(other)
            ));
        }
    };
    let raw = value.clone();
    Ok(if negated {
        Principals::AllExcept { ids, raw }
    } else {
        Principals::Only { ids, raw }
    })
}

fn conditions(block: &Map<String, Value>) -> Result<Vec<Condition>, String> {
    let mut out = Vec::new();
    for (op, keys) in block {
        let Value::Object(keys) = keys else {
            return Err(format!(
                "Condition.{op} is {}, not an object of keys",
                json_type(keys)
            ));
        };
        let operator = Operator::parse(op);
        for (key, values) in keys {
            let values =
                scalar_list(values).map_err(|found| format!("Condition.{op}.{key} is {found}"))?;
            out.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

/// A string or an array of strings.
fn string_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("a list holding {}", json_type(other))),
            })
            .collect(),
        other => Err(format!(
            "{}, not a string or list of strings",
            json_type(other)
        )),
    }
}

/// A condition value: a string, boolean or number, or an array of them, as strings.
fn scalar_list(value: &Value) -> Result<Vec<String>, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("a list holding {}", json_type(other))),
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]).map_err(|_| {
            format!(
                "{}, not a string, boolean, number or list of them",
                json_type(other)
            )
        }),
    }
}

/// Whether `value` written as compact JSON would take more than `limit` bytes (numbers
/// are counted as 8). Walks with its own stack, not by recursion, and stops as soon as
/// the limit is passed, so neither depth nor size costs more than the limit.
fn exceeds(value: &Value, limit: usize) -> bool {
    let mut size = 0usize;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        let own = match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len().saturating_add(2),
            // A comma (or the brackets) per item, and per member its quoted key and colon.
            Value::Array(items) => items.len().saturating_add(2),
            Value::Object(map) => map
                .keys()
                .fold(2usize, |n, k| n.saturating_add(k.len()).saturating_add(4)),
        };
        size = size.saturating_add(own);
        if size > limit {
            return true;
        }
        // Each child is already counted (a byte at least), so the stack stays within
        // `limit` entries.
        match v {
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => pending.extend(map.values()),
            _ => {}
        }
    }
    false
}

/// How an error quotes a value of the document: a scalar as written (a string cut to
/// its first 64 characters), a list or object by its type, so that a hostile value
/// cannot make an error (and the finding's reason) as large as itself.
fn excerpt(v: &Value) -> String {
    const MAX_CHARS: usize = 64;
    match v {
        Value::String(s) if s.chars().count() > MAX_CHARS => {
            let head: String = s.chars().take(MAX_CHARS).collect();
            format!("{}… ({} bytes)", Value::String(head), s.len())
        }
        Value::Array(_) | Value::Object(_) => json_type(v).to_owned(),
        scalar => scalar.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn non_policies_are_errors() {
        for (doc, says) in [
            (json!("%7B%22Version%22"), "not a JSON policy object"),
            (json!(null), "not a JSON policy object"),
            (json!({"Version": "2012-10-17"}), "no Statement"),
            (json!({"Statement": "x"}), "not an object or array"),
            (json!({"Statement": ["x"]}), "Statement[0]: is a string"),
            (json!({"Statement": [{"Action": "*"}]}), "no Effect"),
            (
                json!({"Statement": [{"Effect": "Permit", "Action": "*"}]}),
                "Effect",
            ),
            (
                json!({"Statement": [{"Effect": "Allow"}]}),
                "neither Action nor NotAction",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "s3:*"}]}),
                "both Action and NotAction",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": 7}]}),
                "Action is a number",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": "arn:aws:iam::1:root"}]}),
                "Principal is",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Aws": 1}}]}),
                "Principal.Aws is a number",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"User": "x"}}]}),
                "unknown principal type",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": ["x"]}]}),
                "Condition is an array",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": "x"}}]}),
                "Condition.Bool is a string",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": {"a": 1}}}}]}),
                "Condition.Bool.k is an object",
            ),
        ] {
            let err = statements(&doc).expect_err("not a policy").to_string();
            assert!(err.contains(says), "{doc}: {err}");
        }
    }

    /// Regression: a wrong `Effect` or `Principal` was quoted whole in the error (and so
    /// in the finding's reason): a 1 MB string or a 1,000-deep array made a reason as
    /// large. The error now quotes a short excerpt.
    #[test]
    fn errors_quote_a_bounded_excerpt_of_hostile_values() {
        let mut deep = json!(1);
        for _ in 0..1_000 {
            deep = json!([deep]);
        }
        let huge = "A".repeat(1_000_000);
        for (doc, says) in [
            (
                json!({"Statement": {"Effect": huge, "Action": "*"}}),
                "Effect is \"AAAA",
            ),
            (
                json!({"Statement": {"Effect": deep, "Action": "*"}}),
                "Effect is an array",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Principal": huge}}),
                "Principal is \"AAAA",
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "NotPrincipal": deep}}),
                "NotPrincipal is an array",
            ),
        ] {
            let err = statements(&doc).expect_err("not a policy").to_string();
            assert!(err.contains(says), "{err:.200}");
            assert!(err.len() < 300, "{} bytes: {err:.200}", err.len());
        }
        // Short values are still quoted as written.
        let err = statements(&json!({"Statement": {"Effect": "Permit", "Action": "*"}}))
            .expect_err("not a policy");
        assert!(err.to_string().contains(r#"Effect is "Permit""#), "{err}");
    }

    #[test]
    fn statements_read_every_element() {
        let doc = json!({"Statement": {
            "Sid": "S",
            "Effect": "Deny",
            "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:role/r"],
                             "Service": "s3.amazonaws.com"},
            "NotAction": "s3:Get*",
            "NotResource": ["arn:aws:s3:::b/public/*"],
            "Condition": {"Bool": {"aws:SecureTransport": false},
                          "NumericLessThan": {"s3:TlsVersion": [1.2]}}
        }});
        let list = statements(&doc).expect("a policy");
        let [st] = &list[..] else {
            panic!("one statement: {list:?}")
        };
        assert_eq!(st.label(), "S");
        assert_eq!(st.effect, Effect::Deny);
        let Principals::AllExcept { ids, .. } = &st.principals else {
            panic!("NotPrincipal: {st:?}")
        };
        assert_eq!(ids.len(), 3);
        assert_eq!(st.actions.selection, Selection::AllExcept);
        assert_eq!(st.resources.selection, Selection::AllExcept);
        let values: Vec<&str> = st
            .conditions
            .iter()
            .flat_map(|c| c.values.iter().map(String::as_str))
            .collect();
        assert_eq!(values, ["false", "1.2"]);
    }

    #[test]
    fn missing_resource_reads_as_everything_and_missing_sid_as_index() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole", "Sid": ""}
        ]});
        let list = statements(&doc).expect("a trust policy");
        assert_eq!(list[0].label(), "Statement[0]");
        assert!(list[0].resources.covers("*"));
    }

    /// The size estimate is compact JSON's: a string is its bytes and two quotes, and a
    /// document is only too large past the limit, counting what lists and objects hold.
    #[test]
    fn exceeds_counts_nested_values_up_to_the_limit() {
        assert!(!exceeds(&json!("abc"), 5));
        assert!(exceeds(&json!("abc"), 4));
        // ["abc"]: 3 for the list, 5 for the string.
        assert!(!exceeds(&json!(["abc"]), 8));
        assert!(exceeds(&json!(["abc"]), 7));
        // {"k":"abc"}: 2 + 1 + 4 for the object, 5 for the string.
        assert!(!exceeds(&json!({"k": "abc"}), 12));
        assert!(exceeds(&json!({"k": "abc"}), 11));
    }

    /// An error quotes a string value as written up to 64 characters, and past that only
    /// its first 64 and its length.
    #[test]
    fn errors_quote_at_most_64_characters() {
        let effect = |e: &str| {
            crate::policy::Policy::parse(&json!({"Statement": [{"Effect": e, "Action": "*"}]}))
                .expect_err("not an effect")
                .to_string()
        };
        let e = effect("Permit");
        assert!(e.contains("Effect is \"Permit\", not"), "{e}");
        let sixty_four = "x".repeat(64);
        let e = effect(&sixty_four);
        assert!(
            e.contains(&format!("Effect is \"{sixty_four}\", not")),
            "{e}"
        );
        let e = effect(&"y".repeat(65));
        assert!(
            e.contains(&format!(
                "Effect is \"{}\"… (65 bytes), not",
                "y".repeat(64)
            )),
            "{e}"
        );
    }
}
