//! Hostile input (issue 12, item 8): policy documents, condition values and names come
//! from accounts an attacker may control. Property tests that parsing never panics on
//! any JSON, that every public analysis of a parsed policy never panics and keeps its
//! own invariants, and that the wildcard matcher agrees with a reference; plus the huge
//! inputs (a 10 MB policy, 10,000 statements, 1,000-deep JSON) as plain tests, where
//! passing without a stack overflow or an allocation failure is the check.
//!
//! Case counts are chosen so the suite adds well under 20 s to a debug
//! `cargo test -p posture-check`; `docs/testing.md` ("Hostile input") lists them.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

use super::glob::{self, Case};
use super::*;

/// A proptest configuration with `cases` cases and no regression files written into
/// the source tree (a failure found is pinned as a named test instead).
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/// Pieces hostile strings are made of: wildcards, policy variables (whole and broken),
/// separators, multi-byte and case-changing characters, control characters.
const FRAGMENTS: &[&str] = &[
    "*",
    "?",
    "**",
    "*?",
    "${aws:username}",
    "${aws:ResourceAccount}",
    "${",
    "}",
    ":",
    "::",
    "/",
    "/0",
    "arn",
    "aws",
    "s3",
    "iam",
    "*:*",
    "o-abc123",
    "111122223333",
    "é",
    "\u{0}",
    "\u{202e}",
    "💥",
    "İ",
    "ß",
    "\u{feff}",
    "Ǆ",
    "true",
    "false",
    "IfExists",
    "ForAnyValue:",
    " ",
    "\\",
    "\"",
    "%",
    "\n",
];

fn weird_string() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(FRAGMENTS), 0..8)
            .prop_map(|parts| parts.concat()),
        2 => any::<String>(),
        1 => (prop::sample::select(&["a", "*", "*a", "é", "?"][..]), 0usize..3000)
            .prop_map(|(s, n)| s.repeat(n)),
    ]
    .boxed()
}

/// A value of the wrong type where a string or list was expected.
fn wrong_type() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        Just(json!({})),
        Just(json!([[1], {"a": null}])),
        Just(json!([])),
    ]
    .boxed()
}

/// `choices` (mostly) or a hostile string, as one string, a list, or a wrong type.
fn element(choices: &'static [&'static str]) -> BoxedStrategy<Value> {
    let one = prop_oneof![
        6 => prop::sample::select(choices).prop_map(str::to_owned),
        1 => weird_string(),
    ];
    prop_oneof![
        4 => one.clone().prop_map(Value::String),
        3 => prop::collection::vec(one, 0..4)
            .prop_map(|v| Value::Array(v.into_iter().map(Value::String).collect())),
        1 => wrong_type(),
    ]
    .boxed()
}

const ACTIONS: &[&str] = &[
    "*",
    "*:*",
    "s3:*",
    "s3:GetObject",
    "S3:GETOBJECT",
    "s3:Get*",
    "s3:?etObject",
    "iam:PassRole",
    "iam:*",
    "kms:Decrypt",
    "kms:*",
    "sts:AssumeRole",
    "ec2:RunInstances",
    "*Object",
    "s3:Delete*",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:*",
    "arn:aws:s3:::phi",
    "arn:aws:s3:::phi/*",
    "arn:aws:s3:::PHI/*",
    "arn:aws:s3:::phi/${aws:username}/*",
    "arn:aws:s3:::ph?/*",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:s3:::phi/public/*",
];

const PRINCIPALS: &[&str] = &[
    "*",
    "111122223333",
    "444455556666",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:role/x",
    "arn:aws:iam::*:root",
    "AROAEXAMPLE",
    "arn:aws:sts::444455556666:assumed-role/a/b",
    "s3.amazonaws.com",
    "1234",
    "arn:aws:iam:",
];

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
    "Fuzzy",
    "",
    "IfExists",
];

const KEYS: &[&str] = &[
    "aws:SecureTransport",
    "aws:PrincipalOrgID",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:SourceIp",
    "aws:PrincipalArn",
    "aws:userid",
    "aws:username",
    "aws:PrincipalAccount",
    "kms:CallerAccount",
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "s3:TlsVersion",
    "AWS:SOURCEIP",
    "aws:MultiFactorAuthPresent",
    "s3:DataAccessPointArn",
];

const VALUES: &[&str] = &[
    "true",
    "false",
    "TRUE",
    "o-abc123",
    "o-*",
    "o-abc123/r-1/*",
    "vpce-1",
    "vpce-*",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "::/0",
    "1.2.3.4/",
    "/x",
    "10.0.0.0/300",
    "${aws:ResourceAccount}",
    "${aws:PrincipalAccount}",
    "${",
    "arn:aws:iam::111122223333:role/x",
    "arn:aws:iam::*:role/x",
    "arn:aws:s3:::b",
    "AROA:*",
    ":*",
    "111122223333",
    "444455556666",
    ":",
    "",
];

fn operator() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (
            prop::sample::select(&["", "ForAnyValue:", "ForAllValues:", "forallvalues:", "ForAnyValue"][..]),
            prop::sample::select(OPERATORS),
            prop::sample::select(&["", "", "IfExists", "ifexists"][..]),
        )
            .prop_map(|(set, base, suffix)| format!("{set}{base}{suffix}")),
        1 => weird_string(),
    ]
    .boxed()
}

fn condition_values() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => element(VALUES),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        1 => prop::collection::vec(prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<u16>().prop_map(|n| json!(n)),
            prop::sample::select(VALUES).prop_map(|s| json!(s)),
        ], 0..4).prop_map(Value::Array),
    ]
    .boxed()
}

fn condition_block() -> BoxedStrategy<Value> {
    let keys = prop::collection::btree_map(
        prop_oneof![5 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => weird_string()],
        condition_values(),
        0..3,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()));
    prop_oneof![
        8 => prop::collection::btree_map(operator(), prop_oneof![8 => keys, 1 => wrong_type()], 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => wrong_type(),
    ]
    .boxed()
}

fn principal() -> BoxedStrategy<Value> {
    let kind = prop::sample::select(
        &[
            "AWS",
            "aws",
            "Service",
            "Federated",
            "CanonicalUser",
            "User",
            "",
        ][..],
    );
    prop_oneof![
        3 => Just(json!("*")),
        6 => prop::collection::btree_map(kind, element(PRINCIPALS), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        1 => element(PRINCIPALS),
    ]
    .boxed()
}

/// One statement: each element present or not, in its positive or `Not` form (or
/// both), mostly well-typed.
fn statement() -> BoxedStrategy<Value> {
    let effect = prop_oneof![
        8 => prop::sample::select(&["Allow", "Deny", "allow", "DENY"][..]).prop_map(|e| json!(e)),
        1 => weird_string().prop_map(Value::String),
        1 => wrong_type(),
    ];
    let pair = |choices: &'static [&'static str]| {
        (0u8..8, element(choices)).prop_map(|(form, v)| match form {
            0..=3 => vec![("", v)],
            4..=5 => vec![("Not", v)],
            6 => vec![("", v.clone()), ("Not", v)],
            _ => vec![],
        })
    };
    (
        prop::option::weighted(0.9, effect),
        prop::option::of(prop_oneof![
            weird_string().prop_map(Value::String),
            wrong_type()
        ]),
        (0u8..6, principal()),
        pair(ACTIONS),
        pair(RESOURCES),
        prop::option::weighted(0.6, condition_block()),
    )
        .prop_map(
            |(effect, sid, (pform, principal), actions, resources, condition)| {
                let mut st = Map::new();
                if let Some(e) = effect {
                    st.insert("Effect".into(), e);
                }
                if let Some(s) = sid {
                    st.insert("Sid".into(), s);
                }
                match pform {
                    0..=2 => {
                        st.insert("Principal".into(), principal);
                    }
                    3 => {
                        st.insert("NotPrincipal".into(), principal);
                    }
                    4 => {
                        st.insert("Principal".into(), principal.clone());
                        st.insert("NotPrincipal".into(), principal);
                    }
                    _ => {}
                }
                for (prefix, v) in actions {
                    st.insert(format!("{prefix}Action"), v);
                }
                for (prefix, v) in resources {
                    st.insert(format!("{prefix}Resource"), v);
                }
                if let Some(c) = condition {
                    st.insert("Condition".into(), c);
                }
                Value::Object(st)
            },
        )
        .boxed()
}

/// A structurally plausible policy document.
fn policy_document() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => prop::collection::vec(statement(), 0..6).prop_map(Value::Array),
        2 => statement(),
        1 => wrong_type(),
    ]
    .prop_map(|statements| json!({"Version": "2012-10-17", "Statement": statements}))
    .boxed()
}

/// Any JSON at all, with object keys that are often policy element names.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![wrong_type(), weird_string().prop_map(Value::String)];
    let key = prop_oneof![
        prop::sample::select(
            &[
                "Statement",
                "Effect",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Principal",
                "NotPrincipal",
                "Condition",
                "Sid",
                "AWS",
                "Service",
            ][..]
        )
        .prop_map(str::to_owned),
        weird_string(),
    ];
    leaf.prop_recursive(6, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Every public analysis, with the invariants each states
// ---------------------------------------------------------------------------------------

const CALLERS: &[Caller<'static>] = &[
    Caller::Anyone,
    Caller::Holder,
    Caller::Account("111122223333"),
    Caller::Account("444455556666"),
];

const REQUESTS: &[(&str, &str)] = &[
    ("*", "*"),
    ("s3:GetObject", "arn:aws:s3:::phi/*"),
    ("s3:*", "arn:aws:s3:::phi"),
    ("iam:PassRole", "*"),
    ("kms:Decrypt", "*"),
    ("*:*", "arn:*"),
];

/// Runs every public analysis of `policy`, asserting the invariants their docs state.
fn exercise(policy: &Policy) {
    for &caller in CALLERS {
        for &(action, resource) in REQUESTS {
            let d = policy.allows(&Request::new(caller, action, resource));
            assert_eq!(d.is_allowed(), !d.grants.is_empty(), "{d:?}");
            if d.verdict == Verdict::NotAllowed {
                assert!(d.overridden.is_empty() && d.denied_by.is_empty(), "{d:?}");
            }
            assert!(d.grants.iter().all(|g| g.statement.effect == Effect::Allow));
            assert!(
                d.limited
                    .iter()
                    .all(|l| l.statement.effect == Effect::Allow)
            );
            assert!(d.denied_by.iter().all(|s| s.effect == Effect::Deny));
            for o in &d.overridden {
                assert!(!o.by.is_empty() && o.by.iter().all(|s| s.effect == Effect::Deny));
            }
        }
    }

    let targets = [
        Target::new("s3:GetObject", "arn:aws:s3:::phi/*"),
        Target::new("s3:PutObject", "arn:aws:s3:::phi/*"),
        Target::new("s3:ListBucket", "arn:aws:s3:::phi"),
        Target::new("*", "*"),
    ];
    let exposure = policy.public_access(&targets);
    for e in &exposure.public {
        let _ = e.evidence(); // Evidence building must not panic; its content is not the point.
    }
    for e in &exposure.limited {
        let _ = e.evidence(); // As above.
    }
    for e in &exposure.denied {
        let _ = e.evidence(); // As above.
    }
    assert_eq!(
        policy.is_public(),
        policy
            .allows(&Request::new(Caller::Anyone, "*", "*"))
            .is_allowed()
    );
    assert!(exposure.actions().len() <= targets.len());

    let tls = policy.insecure_transport_denial("s3:*", "arn:aws:s3:::phi/*");
    if let Some(s) = tls.enforced_by {
        assert_eq!(s.effect, Effect::Deny);
    }
    for r in &tls.rejected {
        let _ = r.evidence(); // As above.
    }

    let admin = policy.admin_access();
    assert_eq!(
        admin.is_admin(),
        admin.grants().next().is_some(),
        "{admin:?}"
    );
    for g in admin.grants().chain(&admin.denied) {
        assert_eq!(g.statement.effect, Effect::Allow);
        let _ = (g.evidence(), g.describe()); // As above.
    }

    for g in policy.external_grants(&["111122223333"]) {
        assert_eq!(g.statement.effect, Effect::Allow);
        assert_ne!(g.account.as_deref(), Some("111122223333"));
    }

    for s in policy.statements() {
        let _ = (
            s.label(),
            s.principal_evidence(),
            s.condition_evidence(),
            s.actions.evidence("Action"),
            s.resources.to_string(),
        ); // As above.
        for c in &s.conditions {
            let _ = (
                classify_condition(c, s.effect),
                c.exposure_key(),
                c.named_accounts().count(),
                c.to_string(),
            ); // As above.
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    /// Any JSON value: parsing answers Ok or a `PolicyError`, never panics, and what
    /// parses can be analysed.
    #[test]
    fn parse_never_panics_on_any_json(doc in any_json()) {
        if let Ok(policy) = Policy::parse(&doc) {
            exercise(&policy);
        }
        // The same under a `Statement` key, where the parser looks first.
        if let Ok(policy) = Policy::parse(&json!({"Statement": doc})) {
            exercise(&policy);
        }
    }

    /// Any text: decoding either fails or gives a value the parser answers.
    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        if let Ok(doc) = serde_json::from_str::<Value>(&text) {
            let _ = Policy::parse(&doc); // Ok or Err are both fine; a panic is not.
        }
    }
}

proptest! {
    #![proptest_config(config(1024))]

    /// Structurally plausible documents (every element present or missing, positive or
    /// `Not`, wildcards, policy variables, odd operators and wrong types): parsing never
    /// panics, an error names the statement, and every analysis of what parses holds its
    /// invariants.
    #[test]
    fn plausible_policies_parse_and_evaluate_without_panic(doc in policy_document()) {
        match Policy::parse(&doc) {
            Ok(policy) => exercise(&policy),
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// A plausible document cut at any byte: a decode error or a parse answer.
    #[test]
    fn truncated_documents_are_errors(doc in policy_document(), cut in any::<prop::sample::Index>()) {
        let text = doc.to_string();
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if let Ok(doc) = serde_json::from_str::<Value>(&text[..at])
            && let Ok(policy) = Policy::parse(&doc)
        {
            exercise(&policy);
        }
    }

    /// Condition operators and keys of any spelling parse, and every answer about them
    /// is total.
    #[test]
    fn conditions_of_any_spelling_are_total(
        op in prop_oneof![operator(), any::<String>()],
        key in prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), weird_string()],
        values in prop::collection::vec(prop_oneof![prop::sample::select(VALUES).prop_map(str::to_owned), weird_string()], 0..4),
    ) {
        let c = Condition { operator: Operator::parse(&op), key, values };
        prop_assert_eq!(&c.operator.raw, &op);
        for &caller in CALLERS {
            let _ = c.holds_for(caller); // Total: any answer, no panic.
        }
        let _ = (classify_condition(&c, Effect::Allow), classify_condition(&c, Effect::Deny));
        let _ = (c.exposure_key(), c.named_accounts().count(), c.to_string());
    }
}

/// A small alphabet, with a multi-byte letter and a case pair, for wildcard patterns.
fn small_pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(&['a', 'b', 'A', 'é', '*', '?'][..]),
        0..8,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn small_name() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&['a', 'b', 'A', 'é'][..]), 0..10)
        .prop_map(|c| c.into_iter().collect())
}

/// IAM's wildcard semantics, by the book: `*` any run of characters, `?` exactly one
/// character (not one byte).
fn reference_matches(p: &[char], t: &[char], case: Case) -> bool {
    let same = |a: char, b: char| match case {
        Case::Insensitive => a.eq_ignore_ascii_case(&b),
        Case::Sensitive => a == b,
    };
    // ok[j]: p[i..] matches t[j..], row by row from the end of p.
    let mut next = vec![false; t.len() + 1];
    next[t.len()] = true;
    for i in (0..p.len()).rev() {
        let mut row = vec![false; t.len() + 1];
        for j in (0..=t.len()).rev() {
            row[j] = match p[i] {
                '*' => next[j] || (j < t.len() && row[j + 1]),
                '?' => j < t.len() && next[j + 1],
                c => j < t.len() && same(c, t[j]) && next[j + 1],
            };
        }
        next = row;
    }
    next[0]
}

/// `pattern` with each `*` replaced by a filler and each `?` by one character: a name
/// the pattern matches.
fn instantiate(pattern: &str, fillers: &[String]) -> String {
    let mut out = String::new();
    let mut fill = fillers.iter().cycle();
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(fill.next().map_or("", String::as_str)),
            '?' => out.push(fill.next().and_then(|f| f.chars().next()).unwrap_or('é')),
            c => out.push(c),
        }
    }
    out
}

proptest! {
    #![proptest_config(config(4096))]

    /// `matches` agrees with the reference on every case-sensitivity.
    #[test]
    fn glob_matches_agrees_with_reference(p in small_pattern(), t in small_name()) {
        let (pc, tc): (Vec<char>, Vec<char>) = (p.chars().collect(), t.chars().collect());
        for case in [Case::Sensitive, Case::Insensitive] {
            prop_assert_eq!(
                glob::matches(&p, &t, case),
                reference_matches(&pc, &tc, case),
                "{:?} against {:?} ({:?})", p, t, case
            );
        }
    }

    /// `intersects` and `covers` are sound against concrete names: a name both match
    /// makes them intersect; a pattern covering another matches every name of it.
    #[test]
    fn glob_set_questions_are_sound(
        a in small_pattern(),
        b in small_pattern(),
        fillers in prop::collection::vec(small_name(), 1..4),
    ) {
        let x = instantiate(&b, &fillers);
        for case in [Case::Sensitive, Case::Insensitive] {
            prop_assert!(glob::matches(&b, &x, case), "{b:?} must match {x:?}");
            prop_assert_eq!(glob::intersects(&a, &b, case), glob::intersects(&b, &a, case));
            prop_assert!(glob::covers(&a, &a, case), "{a:?} covers itself");
            if glob::matches(&a, &x, case) {
                prop_assert!(glob::intersects(&a, &b, case), "{a:?} and {b:?} share {x:?}");
            }
            if glob::covers(&a, &b, case) {
                prop_assert!(glob::matches(&a, &x, case), "{a:?} covers {b:?} but not {x:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Huge and deep inputs
// ---------------------------------------------------------------------------------------

/// A plausible statement, numbered so that no two are the same.
fn numbered_statement(i: usize) -> Value {
    let effect = if i % 3 == 2 { "Deny" } else { "Allow" };
    json!({
        "Sid": format!("S{i}"),
        "Effect": effect,
        "Principal": {"AWS": [format!("arn:aws:iam::{:012}:role/r{i}", i % 20), "*"]},
        "Action": [format!("s3:Get{i}*"), "kms:Decrypt", format!("svc{}:*", i % 50)],
        "Resource": [format!("arn:aws:s3:::phi/{i}/*"), "arn:aws:s3:::phi"],
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": format!("o-{i}")},
            "Bool": {"aws:SecureTransport": i.is_multiple_of(2)}
        }
    })
}

#[test]
fn ten_thousand_statements_parse_and_evaluate() {
    // Small statements, so that 10,000 stay under the size limit: one of three a `Deny`,
    // a few of those unconditional (every decision weighs them against every grant).
    let statements: Vec<Value> = (0..10_000usize)
        .map(|i| {
            let deny = i % 3 == 2;
            let mut st = json!({
                "Effect": if deny { "Deny" } else { "Allow" },
                "Principal": {"AWS": format!("{:012}", i % 20)},
                "Action": format!("s3:Get{i}*"),
                "Resource": format!("arn:aws:s3:::phi/{i}/*"),
            });
            if !(deny && (i / 3) % 300 == 0) {
                st["Condition"] = json!({"Bool": {"aws:SecureTransport": i.is_multiple_of(2)}});
            }
            st
        })
        .collect();
    let policy = Policy::parse(&json!({"Statement": statements}))
        .expect("10,000 statements under the size limit parse");
    assert_eq!(policy.statements().len(), 10_000);
    exercise(&policy);
}

#[test]
fn one_thousand_deep_json_is_a_decode_error_not_a_crash() {
    // As text: serde_json stops at its recursion limit (128) with an error.
    let text = format!(
        "{{\"Statement\": {}{}}}",
        "[".repeat(1_000),
        "]".repeat(1_000)
    );
    let err = serde_json::from_str::<Value>(&text).expect_err("past the recursion limit");
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // As a value built in memory (a collector that decoded without a limit): every
    // place a value can sit answers an error, without overflowing the stack.
    let mut deep = json!("x");
    for _ in 0..1_000 {
        deep = json!([deep]);
    }
    for (element, doc) in [
        ("document", deep.clone()),
        ("Statement", json!({"Statement": deep})),
        ("Statement[0]", json!({"Statement": [deep]})),
        (
            "Effect",
            json!({"Statement": {"Effect": deep, "Action": "*"}}),
        ),
        (
            "Action",
            json!({"Statement": {"Effect": "Allow", "Action": deep}}),
        ),
        (
            "Principal",
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Principal": deep}}),
        ),
        (
            "Principal.AWS",
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Principal": {"AWS": deep}}}),
        ),
        (
            "Condition",
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": deep}}}}),
        ),
    ] {
        let err = Policy::parse(&doc).expect_err(element);
        assert!(
            err.to_string().len() < 1_000,
            "{element}: the error quotes a bounded excerpt"
        );
    }
}

/// Regression: a 10 MB document (about 30,000 statements) parsed, and every analysis of it
/// is quadratic in its statements (each `Allow` against each `Deny`, each named account
/// against each statement), so one hostile policy stalled the scan. No policy AWS
/// stores is near [`MAX_DOCUMENT_BYTES`]; past it the document is an error the rule
/// reports, decided after one linear walk.
#[test]
fn ten_megabyte_policy_is_an_error_not_a_stalled_scan() {
    let mut statements = Vec::new();
    let mut bytes = 0;
    while bytes < 10_000_000 {
        let s = numbered_statement(statements.len());
        bytes += s.to_string().len() + 1;
        statements.push(s);
    }
    let doc = json!({"Statement": statements});
    let err = Policy::parse(&doc).expect_err("past the size limit");
    assert_eq!(
        err,
        PolicyError::TooLarge {
            limit: MAX_DOCUMENT_BYTES
        }
    );
    assert!(err.to_string().contains("2097152 bytes"), "{err}");

    // One 10 MB string in any element, or 10 MB of tiny list items, is the same.
    let huge = "*a".repeat(5_000_000);
    for doc in [
        json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": huge}}),
        json!({"Statement": {"Effect": "Allow", "Action": "*", "Sid": huge}}),
        json!({"Statement": {"Effect": "Allow", "Action": vec!["*"; 3_000_000]}}),
        json!({"Statement": {"Effect": "Allow", "Action": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": vec![1; 2_000_000]}}}}),
    ] {
        assert_eq!(
            Policy::parse(&doc).map(|_| ()),
            Err(PolicyError::TooLarge {
                limit: MAX_DOCUMENT_BYTES
            })
        );
    }

    // Under the limit, two 0.7 MB wildcard patterns parse and every analysis
    // answers (comparisons past the glob budget take the cautious side).
    let big = format!("arn:aws:s3:::phi/{}", "*a".repeat(350_000));
    let doc = json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": big},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": big},
    ]});
    let policy = Policy::parse(&doc).expect("under the limit");
    exercise(&policy);
}
