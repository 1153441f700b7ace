//! The shape of the input's resources, described from real serialized resources, so that the
//! documented schema (`docs/custom-rules.md`) is generated from the model's own serde output
//! and a test fails when the two differ.

use std::collections::{BTreeMap, BTreeSet};

use posture_model::{Resource, ResourceKind};
use serde_json::Value;

/// A Markdown description of the JSON shape of `resources`, one section per kind (sorted by
/// kind): every field path with the JSON types seen there. An observed field (a value that
/// may not have been collected) reads `observed<T>`: `{"state": "collected", "value": T}`,
/// `{"state": "absent"}` or `{"state": "unavailable", "value": {kind, operation, code,
/// message}}`.
pub fn input_schema(resources: &[Resource]) -> String {
    let mut by_kind: BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for r in resources {
        let paths = by_kind.entry(r.kind().as_str()).or_default();
        // A model resource always serializes (see `rule::to_json`).
        let json = serde_json::to_value(r).unwrap_or(Value::Null);
        walk(&json, "", paths);
    }
    let mut out = String::new();
    for (kind, paths) in by_kind {
        out.push_str(&format!("#### `{kind}`\n\n```text\n"));
        for (path, types) in paths {
            let types: Vec<&str> = types.iter().map(String::as_str).collect();
            out.push_str(&format!("{path}: {}\n", types.join(" | ")));
        }
        out.push_str("```\n\n");
    }
    out
}

/// The kinds `input_schema` describes in `resources`.
pub fn kinds(resources: &[Resource]) -> BTreeSet<ResourceKind> {
    resources.iter().map(Resource::kind).collect()
}

fn is_observed(map: &serde_json::Map<String, Value>) -> bool {
    matches!(
        map.get("state").and_then(Value::as_str),
        Some("collected" | "absent" | "unavailable")
    ) && map.keys().all(|k| k == "state" || k == "value")
}

fn walk(value: &Value, path: &str, paths: &mut BTreeMap<String, BTreeSet<String>>) {
    let mut note = |t: String| {
        paths.entry(path.to_owned()).or_default().insert(t);
    };
    match value {
        Value::Null => note("null".into()),
        Value::Bool(_) => note("boolean".into()),
        Value::Number(_) => note("number".into()),
        Value::String(_) => note("string".into()),
        Value::Array(items) => {
            note("array".into());
            for item in items {
                walk(item, &format!("{path}[]"), paths);
            }
        }
        Value::Object(map) if is_observed(map) => {
            note("observed".into());
            if map.get("state").and_then(Value::as_str) == Some("collected")
                && let Some(v) = map.get("value")
            {
                walk(v, &format!("{path}.value"), paths);
            }
        }
        // Tags: keyed by data, not by field name.
        Value::Object(_) if path == "tags.value" => note("object<string, string>".into()),
        Value::Object(map) => {
            if !path.is_empty() {
                note("object".into());
            }
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &child, paths);
            }
        }
    }
}
