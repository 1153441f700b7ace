//! Every field path the configuration file accepts, read from the serde structs
//! themselves (the field names each one's `Deserialize` asks for), so the list cannot drift
//! from the types. `config/posture.example.toml` must document exactly these (a test).

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::{
    AccountsConfig, AlertsConfig, ApiConfig, AwsConfig, CheckConfig, Config, DaemonConfig,
    LimitsConfig, RateLimitConfig, RouteConfig, ScanConfig, StoreConfig,
};

/// Stops deserialisation at the first struct and keeps its field names.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("introspection")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

struct Introspect<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Introspect<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// The field names `T`'s `Deserialize` accepts (empty when `T` is not a struct).
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // Always `Err(Stop)`: the point is the names recorded on the way.
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

/// The sections of the file (`[aws]` …) with their fields.
fn sections() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("aws", fields_of::<AwsConfig>()),
        ("store", fields_of::<StoreConfig>()),
        ("check", fields_of::<CheckConfig>()),
        ("scan", fields_of::<ScanConfig>()),
        ("accounts", fields_of::<AccountsConfig>()),
        ("limits", fields_of::<LimitsConfig>()),
        ("daemon", fields_of::<DaemonConfig>()),
        ("api", fields_of::<ApiConfig>()),
        ("alerts", fields_of::<AlertsConfig>()),
    ]
}

/// Every field path of the file, `*` standing for a name the user chooses (a service, a
/// route, a severity, a tag): `aws.regions`, `limits.services.*.per_second`,
/// `alerts.routes.*.url_env`, `alerts.deadlines.*`, `check.phi_tags.*`.
pub fn field_paths() -> Vec<String> {
    let mut paths = Vec::new();
    for (section, fields) in sections() {
        for field in fields {
            match (section, *field) {
                ("limits", "services") => paths.extend(
                    fields_of::<RateLimitConfig>()
                        .iter()
                        .map(|f| format!("limits.services.*.{f}")),
                ),
                ("alerts", "routes") => paths.extend(
                    fields_of::<RouteConfig>()
                        .iter()
                        .map(|f| format!("alerts.routes.*.{f}")),
                ),
                // Maps of plain values: one entry per name.
                ("alerts", "deadlines") | ("check", "phi_tags") => {
                    paths.push(format!("{section}.{field}.*"));
                }
                _ => paths.push(format!("{section}.{field}")),
            }
        }
    }
    paths
}

/// The sections `field_paths` covers, to check against `Config`'s own fields.
pub fn section_names() -> Vec<&'static str> {
    sections().into_iter().map(|(s, _)| s).collect()
}

/// `Config`'s fields (the sections, as serde reads them).
pub fn config_sections() -> &'static [&'static str] {
    fields_of::<Config>()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "test code: a failed step is a failed test"
    )]

    use std::cell::RefCell;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use super::*;

    const EXAMPLE: &str = include_str!("../../../config/posture.example.toml");

    /// A setting line, commented out (`# key = …`) or not; `##` lines are prose.
    fn setting(line: &str) -> Option<(&str, &str)> {
        let body = line.strip_prefix("# ").unwrap_or(line);
        if body.starts_with('#') || body.starts_with(' ') {
            return None;
        }
        let (key, value) = body.split_once('=')?;
        let key = key.trim();
        let ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        ok.then_some((key, value.trim()))
    }

    /// A table header, commented out or not.
    fn header(line: &str) -> Option<&str> {
        let body = line.strip_prefix("# ").unwrap_or(line).trim_end();
        body.strip_prefix('[')?.strip_suffix(']')
    }

    fn matches(pattern: &str, path: &str) -> bool {
        let p: Vec<&str> = pattern.split('.').collect();
        let q: Vec<&str> = path.split('.').collect();
        p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
    }

    /// Each setting of the example: its full path (inline tables of a map expanded) and the
    /// `##` lines just above it.
    fn documented(paths: &[String]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut section = String::new();
        let mut prose: Vec<&str> = Vec::new();
        for line in EXAMPLE.lines() {
            if let Some(h) = header(line) {
                section = h.to_owned();
                prose.clear();
            } else if let Some(p) = line.strip_prefix("##") {
                prose.push(p);
            } else if let Some((key, value)) = setting(line) {
                let raw = format!("{section}.{key}");
                let doc = prose.join("\n");
                if paths.iter().any(|p| matches(p, &raw)) || !value.starts_with('{') {
                    out.push((raw, doc));
                } else {
                    let table: toml::Table = toml::from_str(&format!("x = {value}")).unwrap();
                    let inner = table["x"].as_table().unwrap();
                    for k in inner.keys() {
                        out.push((format!("{raw}.{k}"), doc.clone()));
                    }
                }
                prose.clear();
            } else {
                prose.clear();
            }
        }
        out
    }

    /// The environment variables `apply_env` reads, by name.
    fn variables() -> BTreeSet<String> {
        let asked = RefCell::new(BTreeSet::new());
        let mut c = Config::default();
        c.apply_env(|name| {
            asked.borrow_mut().insert(name.to_owned());
            None
        })
        .unwrap();
        asked.into_inner()
    }

    #[test]
    fn the_paths_cover_every_section_of_the_config() {
        assert_eq!(config_sections(), section_names().as_slice());
        let paths = field_paths();
        for p in [
            "aws.regions",
            "limits.services.*.per_second",
            "alerts.routes.*.url_env",
            "alerts.deadlines.*",
            "alerts.slack_webhook_url_file",
            "check.phi_tags.*",
        ] {
            assert!(paths.iter().any(|x| x == p), "{p} in {paths:?}");
        }
        assert!(!paths.iter().any(|x| x == "limits.services"));
    }

    #[test]
    fn the_example_documents_exactly_the_fields_the_configuration_accepts() {
        let paths = field_paths();
        let docs = documented(&paths);
        let unknown: Vec<&String> = docs
            .iter()
            .map(|(raw, _)| raw)
            .filter(|raw| !paths.iter().any(|p| matches(p, raw)))
            .collect();
        assert!(
            unknown.is_empty(),
            "config/posture.example.toml documents fields the configuration does not \
             accept: {unknown:?}"
        );
        // The first setting of each path carries its documentation.
        let mut first: BTreeMap<&str, &str> = BTreeMap::new();
        for p in &paths {
            if let Some((_, doc)) = docs.iter().find(|(raw, _)| matches(p, raw)) {
                first.insert(p, doc);
            }
        }
        let missing: Vec<&String> = paths
            .iter()
            .filter(|p| !first.contains_key(p.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "config/posture.example.toml does not document {missing:?}"
        );
        let variables = variables();
        for (path, doc) in &first {
            assert!(doc.contains("Default:"), "{path}: no `Default:` in {doc:?}");
            assert!(
                doc.contains("Environment:"),
                "{path}: no `Environment:` in {doc:?}"
            );
            let conventional = format!("POSTURE_{}", path.replace('.', "_").to_uppercase());
            if variables.contains(&conventional) {
                assert!(
                    doc.contains(&conventional),
                    "{path}: {conventional} not named"
                );
            } else {
                assert!(
                    !doc.contains(&conventional),
                    "{path}: names {conventional}, which the configuration does not read"
                );
            }
        }
        for v in &variables {
            assert!(
                EXAMPLE.contains(v.as_str()),
                "{v} is read but not documented"
            );
        }
    }

    #[test]
    fn the_example_parses_as_is_and_with_every_setting_uncommented() {
        Config::from_toml(EXAMPLE, Path::new("posture.example.toml")).unwrap();
        let all: String = EXAMPLE
            .lines()
            .map(|l| match (setting(l), header(l)) {
                (Some(_), _) | (_, Some(_)) => l.strip_prefix("# ").unwrap_or(l),
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = Config::from_toml(&all, Path::new("uncommented.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{all}"));
        assert_eq!(c.alerts.routes.len(), 1);
        assert_eq!(c.alerts.deadlines.len(), 2);
        assert_eq!(c.limits.services.len(), 1);
    }

    #[test]
    fn the_documentation_check_sees_a_missing_or_unknown_field() {
        let paths = field_paths();
        assert!(!paths.iter().any(|p| matches(p, "aws.region")));
        assert!(paths.iter().any(|p| matches(p, "alerts.routes.x.sink")));
        assert!(!paths.iter().any(|p| matches(p, "alerts.routes.x.y.sink")));
        assert_eq!(setting("# profile = \"x\""), Some(("profile", "\"x\"")));
        assert_eq!(setting("## Default: a = b"), None);
        assert_eq!(setting("#   indented = 1"), None);
        assert_eq!(header("# [alerts.routes.a]"), Some("alerts.routes.a"));
        assert_eq!(header("# [alerts.routes.NAME]: more"), None);
    }
}
