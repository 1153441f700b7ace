//! What a trail's event selectors log: the one place the CloudTrail rules ask it.
//!
//! Semantics, as AWS documents them (`PutEventSelectors`, `AdvancedFieldSelector`, and the
//! CloudTrail User Guide's "Filtering data events by using advanced event selectors"):
//!
//! - A trail logs an event when any of its selectors matches it (selectors are ORed).
//! - Within an advanced selector every field selector must hold (AND). Within a field
//!   selector, the value must match one of the `Equals` / `StartsWith` / `EndsWith` values
//!   when there are any (OR), and none of the `NotEquals` / `NotStartsWith` / `NotEndsWith`
//!   values. `eventCategory`, `readOnly` and `resources.type` take only `Equals`; a
//!   selector without `readOnly` logs both read and write events.
//! - A basic selector logs management events when `IncludeManagementEvents` is set, except
//!   the sources in `ExcludeManagementEventSources`, and S3 object data events for the
//!   `DataResources` values of type `AWS::S3::Object`: `arn:aws:s3` (every bucket) or
//!   `arn:aws:s3:::bucket/` (one bucket, or a key prefix of it); `ReadWriteType` limits
//!   both.
//! - A trail with no selectors logs every management event and no data events.
//!
//! The questions are about *every* event of a kind ("all read data events on objects of
//! bucket X"): a selector narrowed by any other field (`eventName`, `userIdentity.arn`, a
//! `NotStartsWith` on some keys) does not answer yes. Field selectors collected without
//! their non-`Equals` operators (older collectors, stored bodies) answer `Unknown` where
//! those operators could matter, never yes or no.

use posture_model::Observed;
use posture_model::resources::{
    AdvancedEventSelector, BasicEventSelector, FieldSelector, Trail, TrailSelectors,
};

use super::trails::{Known, S3Events};

/// Which management events a trail logs, per direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ManagementEvents<'a> {
    /// Read-only management events.
    pub read: Sources<'a>,
    /// Write management events.
    pub write: Sources<'a>,
}

/// The event sources whose management events (of one direction) a trail logs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sources<'a> {
    /// Every source except these (empty: every source). Patterns read `prefix*` /
    /// `*suffix` for `NotStartsWith` / `NotEndsWith`.
    AllExcept(Vec<String>),
    /// Not every source (none, or only some named ones).
    NotAll,
    /// Could not tell.
    Unknown(&'a posture_model::Unavailable),
}

impl<'a> ManagementEvents<'a> {
    /// Whether every read and write management event of every source is logged.
    pub(crate) fn all(&self) -> Known<'a> {
        self.read.all().and(self.write.all())
    }

    /// The sources excluded in either direction, sorted.
    pub(crate) fn excluded_sources(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in [&self.read, &self.write] {
            if let Sources::AllExcept(x) = s {
                out.extend(x.iter().cloned());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

impl<'a> Sources<'a> {
    fn all(&self) -> Known<'a> {
        match self {
            Sources::AllExcept(x) if x.is_empty() => Known::Yes,
            Sources::AllExcept(_) | Sources::NotAll => Known::No,
            Sources::Unknown(u) => Known::Unknown(u),
        }
    }

    /// For the evidence: `true`, the excluded sources, `false` or `"unavailable"`.
    pub(crate) fn evidence(&self) -> serde_json::Value {
        match self {
            Sources::AllExcept(x) if x.is_empty() => serde_json::json!(true),
            Sources::AllExcept(x) => serde_json::json!({ "all_except": x }),
            Sources::NotAll => serde_json::json!(false),
            Sources::Unknown(_) => serde_json::json!("unavailable"),
        }
    }
}

/// Which management events `trail` logs (`GetEventSelectors`; `Absent` or no selectors is
/// CloudTrail's default: all of them).
pub(crate) fn management_events(trail: &Trail) -> ManagementEvents<'_> {
    let selectors = match &trail.selectors {
        Observed::Collected(s) => s,
        Observed::Absent => {
            return ManagementEvents {
                read: Sources::AllExcept(vec![]),
                write: Sources::AllExcept(vec![]),
            };
        }
        Observed::Unavailable(u) => {
            return ManagementEvents {
                read: Sources::Unknown(u),
                write: Sources::Unknown(u),
            };
        }
    };
    ManagementEvents {
        read: management_sources(selectors, "true"),
        write: management_sources(selectors, "false"),
    }
}

/// Whether `trail` logs every S3 object-level `events` data event on objects of `bucket`
/// (any region: the caller checks that the trail covers the bucket's region).
pub(crate) fn logs_s3_objects<'a>(trail: &'a Trail, bucket: &str, events: S3Events) -> Known<'a> {
    match &trail.selectors {
        Observed::Collected(s) => s3_objects(s, bucket, events),
        // No selectors: management events only.
        Observed::Absent => Known::No,
        Observed::Unavailable(u) => Known::Unknown(u),
    }
}

/// Whether `trail` logs some data events of a resource type `is_type` accepts (Bedrock:
/// any `AWS::Bedrock::*` type).
pub(crate) fn logs_some_data_events<'a>(
    trail: &'a Trail,
    is_type: impl Fn(&str) -> bool,
) -> Known<'a> {
    let selectors = match &trail.selectors {
        Observed::Collected(s) => s,
        Observed::Absent => return Known::No,
        Observed::Unavailable(u) => return Known::Unknown(u),
    };
    let basic = selectors
        .basic
        .iter()
        .any(|b| b.data_resources.iter().any(|(ty, _)| is_type(ty)));
    // `eventCategory` and `resources.type` take only `Equals`, so the pair form is whole.
    let advanced = selectors.advanced.iter().any(|a| {
        let admits = |field: &str, ok: &dyn Fn(&str) -> bool| {
            a.fields
                .iter()
                .filter(|f| f.field == field)
                .all(|f| f.equals.iter().any(|v| ok(v)))
        };
        admits("eventCategory", &|v| v == "Data") && admits("resources.type", &is_type)
    });
    Known::from_bool(basic || advanced)
}

fn read_only_value(events: S3Events) -> &'static str {
    match events {
        S3Events::Read => "true",
        S3Events::Write => "false",
    }
}

fn read_write_type_includes(read_write_type: &str, read_only: &str) -> bool {
    read_write_type == "All"
        || (read_only == "true" && read_write_type == "ReadOnly")
        || (read_only == "false" && read_write_type == "WriteOnly")
}

fn s3_objects<'a>(s: &'a TrailSelectors, bucket: &str, events: S3Events) -> Known<'a> {
    let read_only = read_only_value(events);
    let basic = s
        .basic
        .iter()
        .any(|b| basic_logs_bucket(b, bucket, read_only));
    if basic {
        return Known::Yes;
    }
    let prefix = format!("arn:aws:s3:::{bucket}/");
    any(s.advanced.iter().map(|a| {
        all(a.fields.iter().map(|f| match f.field.as_str() {
            "eventCategory" => admits_value(f, "Data"),
            "resources.type" => admits_value(f, "AWS::S3::Object"),
            "readOnly" => admits_value(f, read_only),
            "eventSource" => admits_value(f, "s3.amazonaws.com"),
            "resources.ARN" => admits_prefix(f, &prefix),
            // Any other field (eventName, userIdentity.arn, ...) narrows the selector.
            _ => Known::No,
        }))
    }))
}

/// A basic selector's `DataResources` value covering every object of `bucket`.
fn basic_logs_bucket(b: &BasicEventSelector, bucket: &str, read_only: &str) -> bool {
    read_write_type_includes(&b.read_write_type, read_only)
        && b.data_resources.iter().any(|(ty, values)| {
            ty == "AWS::S3::Object"
                && values.iter().any(|v| {
                    let Some(rest) = v
                        .strip_prefix("arn:")
                        .and_then(|r| r.split_once(':'))
                        .map(|(_partition, r)| r)
                    else {
                        return false;
                    };
                    rest == "s3"
                        || rest == "s3:::"
                        || rest.strip_prefix("s3:::").map(|b| b.trim_end_matches('/'))
                            == Some(bucket)
                })
        })
}

fn management_sources<'a>(s: &'a TrailSelectors, read_only: &str) -> Sources<'a> {
    if s.basic.is_empty() && s.advanced.is_empty() {
        return Sources::AllExcept(vec![]);
    }
    let mut each: Vec<Sources<'a>> = Vec::new();
    // Only some sources, each named exactly: they can fill another selector's exclusion.
    let mut named: Vec<&str> = Vec::new();
    for b in &s.basic {
        if b.include_management_events && read_write_type_includes(&b.read_write_type, read_only) {
            each.push(basic_excluded_sources(b));
        }
    }
    for a in &s.advanced {
        match advanced_management_sources(a, read_only) {
            Advanced::Sources(x) => each.push(x),
            Advanced::Only(names) => named.extend(names),
            Advanced::None => {}
        }
    }
    let mut excluded: Option<Vec<String>> = None;
    let mut unknown = None;
    for x in each {
        match x {
            Sources::AllExcept(e) => {
                excluded = Some(match excluded {
                    None => e,
                    Some(prev) => prev.into_iter().filter(|p| e.contains(p)).collect(),
                });
            }
            Sources::Unknown(u) => {
                unknown.get_or_insert(u);
            }
            Sources::NotAll => {}
        }
    }
    match (excluded, unknown) {
        (Some(mut e), unknown) => {
            e.retain(|x| !named.contains(&x.as_str()));
            e.sort();
            match unknown {
                // Another selector, unread, may log the excluded sources.
                Some(u) if !e.is_empty() => Sources::Unknown(u),
                _ => Sources::AllExcept(e),
            }
        }
        (None, Some(u)) => Sources::Unknown(u),
        (None, None) => Sources::NotAll,
    }
}

/// The management events of every source but a basic selector's
/// `ExcludeManagementEventSources`. Not recorded (a body stored before the collector read
/// it) is unknown, never "none excluded": the selector may exclude KMS's events.
fn basic_excluded_sources(b: &BasicEventSelector) -> Sources<'_> {
    match &b.exclude_management_event_sources {
        Observed::Collected(x) => Sources::AllExcept(x.clone()),
        Observed::Absent => Sources::AllExcept(vec![]),
        Observed::Unavailable(u) => Sources::Unknown(u),
    }
}

/// What one advanced selector logs of one direction of management events.
enum Advanced<'a> {
    /// Nothing of it.
    None,
    /// Exactly these sources (a positive `eventSource` condition).
    Only(Vec<&'a str>),
    /// Every source but some, or unknown.
    Sources(Sources<'a>),
}

fn advanced_management_sources<'a>(a: &'a AdvancedEventSelector, read_only: &str) -> Advanced<'a> {
    let mut gate = Known::Yes;
    let mut excluded = Vec::new();
    let mut only: Option<Vec<&'a str>> = None;
    for f in a.fields.iter() {
        match f.field.as_str() {
            "eventCategory" => gate = gate.and(admits_value(f, "Management")),
            "readOnly" => gate = gate.and(admits_value(f, read_only)),
            "eventSource" => {
                let others = match &f.others {
                    Observed::Collected(o) => o,
                    Observed::Unavailable(u) => {
                        gate = gate.and(if f.equals.is_empty() {
                            // Some non-Equals operator was used and not recorded.
                            Known::Unknown(u)
                        } else {
                            Known::Yes
                        });
                        if !f.equals.is_empty() {
                            only = Some(f.equals.iter().map(String::as_str).collect());
                        }
                        continue;
                    }
                    Observed::Absent => continue,
                };
                if !f.equals.is_empty()
                    || !others.starts_with.is_empty()
                    || !others.ends_with.is_empty()
                {
                    // Only some sources. Exact ones may fill another selector's gap.
                    if others.starts_with.is_empty() && others.ends_with.is_empty() {
                        only = Some(f.equals.iter().map(String::as_str).collect());
                    } else {
                        only = Some(Vec::new());
                    }
                }
                excluded.extend(others.not_equals.iter().cloned());
                excluded.extend(others.not_starts_with.iter().map(|p| format!("{p}*")));
                excluded.extend(others.not_ends_with.iter().map(|p| format!("*{p}")));
            }
            // Another field (eventName, ...) with a condition: only some events.
            _ => gate = gate.and(Known::No),
        }
    }
    match gate {
        Known::No => Advanced::None,
        Known::Unknown(u) => Advanced::Sources(Sources::Unknown(u)),
        Known::Yes => match only {
            Some(names) => Advanced::Only(names),
            None => Advanced::Sources(Sources::AllExcept(excluded)),
        },
    }
}

/// Fields whose only valid operator is `Equals`: their pair form is whole.
fn equals_only(field: &str) -> bool {
    matches!(field, "eventCategory" | "readOnly" | "resources.type")
}

/// Whether the field selector admits the value `v`.
fn admits_value<'a>(f: &'a FieldSelector, v: &str) -> Known<'a> {
    let others = match &f.others {
        Observed::Collected(o) => o,
        _ if equals_only(&f.field) => return Known::from_bool(f.equals.iter().any(|e| e == v)),
        Observed::Unavailable(u) => return Known::Unknown(u),
        Observed::Absent => return Known::from_bool(f.equals.iter().any(|e| e == v)),
    };
    let positive =
        f.equals.is_empty() && others.starts_with.is_empty() && others.ends_with.is_empty()
            || f.equals.iter().any(|e| e == v)
            || others.starts_with.iter().any(|p| v.starts_with(p.as_str()))
            || others.ends_with.iter().any(|s| v.ends_with(s.as_str()));
    let negative = others.not_equals.iter().any(|e| e == v)
        || others
            .not_starts_with
            .iter()
            .any(|p| v.starts_with(p.as_str()))
        || others.not_ends_with.iter().any(|s| v.ends_with(s.as_str()));
    Known::from_bool(positive && !negative)
}

/// Whether the field selector admits every value that starts with `prefix` (every object
/// ARN of a bucket: `arn:aws:s3:::bucket/` and any key).
fn admits_prefix<'a>(f: &'a FieldSelector, prefix: &str) -> Known<'a> {
    let others = match &f.others {
        Observed::Collected(o) => o,
        Observed::Unavailable(u) => return Known::Unknown(u),
        Observed::Absent => return Known::No,
    };
    // Equals and EndsWith match some keys only; StartsWith covers them all when the bucket's
    // prefix starts with it.
    let positive =
        f.equals.is_empty() && others.starts_with.is_empty() && others.ends_with.is_empty()
            || others
                .starts_with
                .iter()
                .any(|p| prefix.starts_with(p.as_str()));
    let negative = others
        .not_equals
        .iter()
        .any(|e| e.starts_with(prefix) && e.len() > prefix.len())
        || others
            .not_starts_with
            .iter()
            .any(|p| p.starts_with(prefix) || prefix.starts_with(p.as_str()))
        // Some key ends with any suffix.
        || !others.not_ends_with.is_empty();
    Known::from_bool(positive && !negative)
}

/// All must hold: a definite no wins over an unknown.
fn all<'a>(items: impl Iterator<Item = Known<'a>>) -> Known<'a> {
    items.fold(Known::Yes, Known::and)
}

/// One must hold: a yes wins over an unknown.
fn any<'a>(items: impl Iterator<Item = Known<'a>>) -> Known<'a> {
    let mut out = Known::No;
    for k in items {
        match k {
            Known::Yes => return Known::Yes,
            Known::Unknown(u) => out = Known::Unknown(u),
            Known::No => {}
        }
    }
    out
}

// In a sibling file: the rules directory holds only files (see `rules::tests`).
#[cfg(test)]
#[path = "selectors_tests.rs"]
mod tests;
