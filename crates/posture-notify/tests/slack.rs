//! The Slack renderer: golden files for every message kind, Slack's limits on every
//! fixture and on random alerts, the content a responder needs, and escaping.
//!
//! Golden files live in `tests/golden/<name>.json` (pretty-printed). After a deliberate
//! change of the rendering, rewrite them with
//! `UPDATE_GOLDEN=1 cargo test -p posture-notify --test slack` and review the diff.

#![allow(clippy::unwrap_used, reason = "test code")]

mod fixtures;

use std::path::PathBuf;

use posture_model::alert::{Alert, AlertKind, MAX_ITEMS};
use posture_notify::slack::{
    MAX_BLOCKS, MAX_CONTEXT_ELEMENTS, MAX_CONTEXT_TEXT, MAX_FALLBACK_TEXT, MAX_FIELD_TEXT,
    MAX_FIELDS, MAX_HEADER_TEXT, MAX_SECTION_TEXT, MESSAGE_TEXT_BUDGET, message,
};
use serde_json::Value;

// ----- golden files -----

#[test]
fn every_kind_matches_its_golden_file() {
    let mut failures = vec![];
    for (name, alert) in fixtures::all() {
        if let Err(why) = check_golden(name, &message(&alert)) {
            failures.push(why);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn fixtures_cover_every_kind() {
    let kinds: Vec<AlertKind> = fixtures::all().iter().map(|(_, a)| a.kind).collect();
    for kind in AlertKind::ALL {
        assert!(
            kinds.contains(&kind),
            "no fixture of kind {}",
            kind.as_str()
        );
    }
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"))
}

fn check_golden(name: &str, rendered: &Value) -> Result<(), String> {
    let path = golden_path(name);
    let text = serde_json::to_string_pretty(rendered).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return Ok(());
    }
    let hint = "if the change is deliberate, run `UPDATE_GOLDEN=1 cargo test -p posture-notify --test slack` and review `git diff tests/golden`";
    let expected = std::fs::read_to_string(&path)
        .map_err(|e| format!("{name}: cannot read {}: {e}; {hint}", path.display()))?;
    if expected == text {
        return Ok(());
    }
    let (line, want, got) = expected
        .lines()
        .zip(text.lines())
        .enumerate()
        .find(|(_, (e, g))| e != g)
        .map(|(i, (e, g))| (i + 1, e.to_owned(), g.to_owned()))
        .unwrap_or_else(|| {
            let n = expected.lines().count().min(text.lines().count());
            (
                n + 1,
                format!("({} lines)", expected.lines().count()),
                format!("({} lines)", text.lines().count()),
            )
        });
    // Long lines (a whole section's text): show where in the line they part.
    let col = want
        .chars()
        .zip(got.chars())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| want.chars().count().min(got.chars().count()));
    let around = |s: &str| -> String { s.chars().skip(col.saturating_sub(40)).take(100).collect() };
    Err(format!(
        "{name}: rendered message differs from {} at line {line}, column {}:\n  golden:   …{}…\n  rendered: …{}…\n{hint}",
        path.display(),
        col + 1,
        around(&want),
        around(&got)
    ))
}

// ----- limits -----

/// Length as Slack may count it (UTF-16 units, never less than characters).
fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Every text of the message's blocks.
fn texts(msg: &Value) -> Vec<String> {
    let mut out = vec![];
    for b in msg["blocks"].as_array().unwrap() {
        if let Some(t) = b["text"]["text"].as_str() {
            out.push(t.to_owned());
        }
        for key in ["fields", "elements"] {
            for f in b[key].as_array().into_iter().flatten() {
                out.push(f["text"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// All of the message's block text, one string.
fn all_text(msg: &Value) -> String {
    texts(msg).join("\n")
}

/// Slack's limits, our budget, and escaping: no raw `<` or `>` in any mrkdwn text (we make
/// no links or mentions), and every `&` starts one of the three entities.
fn assert_within_limits(name: &str, msg: &Value) {
    let reparsed: Value = serde_json::from_str(&serde_json::to_string(msg).unwrap()).unwrap();
    assert_eq!(&reparsed, msg, "{name}: JSON does not round-trip");
    let obj = msg.as_object().unwrap();
    assert_eq!(obj.len(), 2, "{name}: payload has only text and blocks");
    let fallback = msg["text"].as_str().expect("text fallback");
    assert!(
        !fallback.is_empty() && len(fallback) <= MAX_FALLBACK_TEXT,
        "{name}: fallback {fallback:?}"
    );
    assert_escaped(name, fallback);

    let blocks = msg["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty(), "{name}: no blocks");
    assert!(
        blocks.len() <= MAX_BLOCKS,
        "{name}: {} blocks",
        blocks.len()
    );
    let mut total = 0;
    for (i, b) in blocks.iter().enumerate() {
        let at = format!("{name} block {i}");
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text", "{at}");
                let t = b["text"]["text"].as_str().unwrap();
                assert!(
                    !t.is_empty() && len(t) <= MAX_HEADER_TEXT,
                    "{at}: header {} long",
                    len(t)
                );
                assert!(!t.contains(['\n', '\r']), "{at}: header has a line break");
                total += len(t);
            }
            "section" => {
                let text = b["text"]["text"].as_str();
                let fields = b["fields"].as_array();
                assert!(text.is_some() || fields.is_some(), "{at}: empty section");
                if let Some(t) = text {
                    assert_eq!(b["text"]["type"], "mrkdwn", "{at}");
                    assert!(
                        !t.is_empty() && len(t) <= MAX_SECTION_TEXT,
                        "{at}: section text {} long",
                        len(t)
                    );
                    assert_escaped(&at, t);
                    total += len(t);
                }
                if let Some(fields) = fields {
                    assert!(
                        !fields.is_empty() && fields.len() <= MAX_FIELDS,
                        "{at}: {} fields",
                        fields.len()
                    );
                    for f in fields {
                        let t = f["text"].as_str().unwrap();
                        assert!(
                            !t.is_empty() && len(t) <= MAX_FIELD_TEXT,
                            "{at}: field {} long",
                            len(t)
                        );
                        assert_escaped(&at, t);
                        total += len(t);
                    }
                }
            }
            "context" => {
                let elements = b["elements"].as_array().unwrap();
                assert!(
                    !elements.is_empty() && elements.len() <= MAX_CONTEXT_ELEMENTS,
                    "{at}: {} context elements",
                    elements.len()
                );
                for e in elements {
                    let t = e["text"].as_str().unwrap();
                    assert!(
                        !t.is_empty() && len(t) <= MAX_CONTEXT_TEXT,
                        "{at}: context {} long",
                        len(t)
                    );
                    assert_escaped(&at, t);
                    total += len(t);
                }
            }
            "divider" => {}
            other => panic!("{at}: unexpected block type {other}"),
        }
    }
    assert!(
        total <= MESSAGE_TEXT_BUDGET,
        "{name}: {total} units of block text"
    );
}

fn assert_escaped(at: &str, text: &str) {
    assert!(!text.contains(['<', '>']), "{at}: raw < or > in {text:?}");
    for (i, _) in text.match_indices('&') {
        let rest = &text[i..];
        assert!(
            rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;"),
            "{at}: bare & in {text:?}"
        );
    }
}

#[test]
fn every_fixture_is_within_slack_limits_and_deterministic() {
    for (name, alert) in fixtures::all() {
        let msg = message(&alert);
        assert_within_limits(name, &msg);
        let again = serde_json::to_vec(&message(&alert.clone())).unwrap();
        assert_eq!(
            serde_json::to_vec(&msg).unwrap(),
            again,
            "{name}: not deterministic"
        );
    }
}

// ----- content -----

/// Sections that render one item in full (they end in the item's "More" line).
fn item_sections(msg: &Value) -> Vec<String> {
    msg["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .filter(|t| t.contains("\n*More* "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn regression_names_resource_field_values_citation_and_phi() {
    let alert = fixtures::regressions();
    let msg = message(&alert);
    let header = msg["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(
        header,
        ":rotating_light: 2 new HIPAA failures — 111122223333"
    );
    let fallback = msg["text"].as_str().unwrap();
    assert_eq!(
        fallback,
        "2 new HIPAA failures in 111122223333 (worst: critical, 1 on PHI)"
    );

    let items = item_sections(&msg);
    assert_eq!(items.len(), 2, "one section per item");
    // Worst first: the critical security group, then the PHI bucket.
    assert!(
        items[0].contains("*Critical*") && items[0].contains("*claims-db*"),
        "{}",
        items[0]
    );
    let bucket = &items[1];
    assert!(
        bucket.starts_with(":large_orange_circle: *High* · *phi-claims-prod* · :warning: *PHI*"),
        "{bucket}"
    );
    assert!(
        bucket.contains("`arn:aws:s3:::phi-claims-prod`"),
        "ARN in code: {bucket}"
    );
    assert!(
        bucket.contains("Account `111122223333` · us-east-1 · aws_s3_bucket"),
        "{bucket}"
    );
    assert!(
        bucket.contains(
            "*Rule* `s3_bucket_tls_only` S3 bucket policy denies requests not made over TLS"
        ),
        "{bucket}"
    );
    assert!(
        bucket.contains("*HIPAA* `164.312(e)(1)` Transmission security; `164.312(e)(2)(ii)` Encryption (in transmission)"),
        "{bucket}"
    );
    assert!(
        bucket.contains("*Why* the bucket has no policy, so plain-HTTP requests are allowed"),
        "{bucket}"
    );
    // The removed policy: pointer, the old value (cut by the composer at 300) and "absent".
    assert!(bucket.contains("• `/body/policy`: `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\""), "{bucket}");
    assert!(
        bucket.contains("…` → _absent_"),
        "old value marked as cut, new absent: {bucket}"
    );
    // The API path's `&` is escaped.
    assert!(
        bucket.contains("*More* `posture snapshots show snap-0142 --rule s3_bucket_tls_only --resource arn:aws:s3:::phi-claims-prod` · API `/api/v1/snapshots/snap-0142/findings?rule=s3_bucket_tls_only&amp;arn=arn:aws:s3:::phi-claims-prod`"),
        "{bucket}"
    );
    // The security group: the added ingress rule, absent before.
    assert!(
        items[0].contains(
            "• `/body/ingress/1`: _absent_ → `{\"ip_protocol\":\"tcp\",\"from_port\":5432"
        ),
        "{}",
        items[0]
    );
    assert!(items[0].contains("0.0.0.0/0"), "{}", items[0]);
    assert!(
        !items[0].contains(":warning: *PHI*"),
        "not PHI: {}",
        items[0]
    );
    // Everything fits: no counts, no "and N more".
    let text = all_text(&msg);
    assert!(!text.contains("more new failures"), "{text}");
    assert!(!text.contains("*By rule*"), "{text}");
}

#[test]
fn mass_regression_gives_counts_worst_items_and_the_exact_rest() {
    let alert = fixtures::mass_regression();
    assert_eq!((alert.total, alert.items.len()), (1200, MAX_ITEMS));
    let msg = message(&alert);
    assert_within_limits("mass", &msg);
    let text = all_text(&msg);
    assert_eq!(
        msg["blocks"][0]["text"]["text"],
        ":rotating_light: 1200 new HIPAA failures — 3 accounts"
    );

    let shown = item_sections(&msg).len();
    assert!(shown >= 5, "shows the worst items, {shown}");
    assert_eq!(shown, 13, "as many as fit in the text budget");
    assert!(
        text.contains(&format!(
            "*…and {} more new failures* not shown here.",
            1200 - shown
        )),
        "{text}"
    );
    assert!(text.contains("*…and 1187 more new failures*"), "{text}");

    // Every rule and account with its count.
    assert!(text.contains("*By rule* (12 rules)"), "{text}");
    assert!(
        text.contains(
            "• :red_circle: `s3_bucket_public_access_block` S3 bucket blocks public access — *100*"
        ),
        "{text}"
    );
    assert!(text.contains("• :large_blue_circle: `log_group_retention_min` Log group keeps events long enough — *100*"), "{text}");
    assert_eq!(text.matches(" — *100*").count(), 12, "{text}");
    assert!(text.contains("*By account* (3 accounts)"), "{text}");
    for acct in [fixtures::PROD, fixtures::STAGING, fixtures::DATA] {
        assert!(
            text.contains(&format!("• `{acct}` — *400*")),
            "{acct}: {text}"
        );
    }
    // The worst items are shown: critical and PHI first.
    let first = &item_sections(&msg)[0];
    assert!(
        first.starts_with(":red_circle: *Critical*") && first.contains(":warning: *PHI*"),
        "{first}"
    );
    // Changed fields beyond those carried are counted.
    assert!(first.contains("• …and 3 more fields"), "{first}");
    assert!(
        text.contains(":mag: Everything: `posture diff snap-0141 snap-0142`"),
        "{text}"
    );
}

#[test]
fn items_that_do_not_fit_are_counted_even_when_all_are_carried() {
    // 50 items, all carried, with long reasons: not all fit; the rest is still counted.
    let mut alert = fixtures::mass_regression();
    alert.total = alert.items.len();
    let msg = message(&alert);
    let shown = item_sections(&msg).len();
    assert!(shown < MAX_ITEMS);
    let text = all_text(&msg);
    assert!(
        text.contains(&format!("*…and {} more new failures*", MAX_ITEMS - shown)),
        "{text}"
    );
    assert!(
        text.contains("*By rule*"),
        "counts shown when items are left out: {text}"
    );
}

#[test]
fn collection_failure_reads_as_unknown_never_as_failure_or_fix() {
    let msg = message(&fixtures::collection_failed());
    let header = msg["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(
        header,
        ":grey_question: 2 findings could not be checked — 111122223333"
    );
    let fallback = msg["text"].as_str().unwrap();
    assert!(
        fallback.contains("could not be checked") && fallback.contains("could not be collected"),
        "{fallback}"
    );
    let text = all_text(&msg);
    assert!(
        text.contains("*Could not be checked.*") && text.contains("status is *unknown*"),
        "{text}"
    );
    assert!(
        text.contains(
            "*Could not collect* the bucket policy cannot be read: AccessDenied: s3:GetBucketPolicy"
        ),
        "{text}"
    );
    assert!(
        text.contains("This is not a new failure, and not a fix."),
        "{text}"
    );
    let lower = format!("{fallback}\n{header}\n{text}").to_lowercase();
    for word in [
        "resolved",
        "new hipaa failure",
        ":rotating_light:",
        "*why*",
        ":white_check_mark:",
    ] {
        assert!(
            !lower.contains(word),
            "collection failure mentions {word:?}: {text}"
        );
    }
    // No severity colour on an item whose status is unknown.
    for item in item_sections(&msg) {
        assert!(
            item.starts_with(
                ":grey_question: *phi-claims-prod* · :warning: *PHI* · status unknown (high rule)"
            ),
            "{item}"
        );
    }
}

#[test]
fn an_undecidable_finding_never_reads_as_resolved_or_failing() {
    // Should a composer ever put a `new_error` item in another kind of alert, it still
    // reads as unknown: no check mark, no severity colour, no "Why".
    let mut resolved = fixtures::resolved();
    resolved.items[0].transition = "new_error".into();
    let text = all_text(&message(&resolved));
    assert!(
        text.contains(":grey_question: *claims-db* — `sg_no_world_db_ports`")
            && text.contains("— could not be checked: the resource is gone"),
        "{text}"
    );
    assert_eq!(text.matches(":white_check_mark: *").count(), 1, "{text}");

    let mut regressions = fixtures::regressions();
    regressions.items[0].transition = "new_error".into();
    let items = item_sections(&message(&regressions));
    assert!(
        items[0].starts_with(":grey_question: *claims-db* · status unknown (critical rule)"),
        "{}",
        items[0]
    );
    assert!(
        items[0].contains("*Could not collect*") && !items[0].contains("*Why*"),
        "{}",
        items[0]
    );
}

#[test]
fn first_scan_is_one_summary() {
    let alert = fixtures::first_scan();
    let msg = message(&alert);
    let text = all_text(&msg);
    assert_eq!(
        msg["blocks"][0]["text"]["text"],
        ":clipboard: First scan: 37 HIPAA failures — 444455556666"
    );
    assert!(
        text.contains("First scan of 444455556666: one summary"),
        "{text}"
    );
    assert!(
        text.contains(":red_circle: *Critical*\n3"),
        "severity counts: {text}"
    );
    assert!(text.contains(":large_orange_circle: *High*\n25"), "{text}");
    assert!(
        text.contains("*By rule* (6 rules)"),
        "top rules even when all fit: {text}"
    );
    assert!(
        text.contains(
            "`s3_bucket_tls_only` S3 bucket policy denies requests not made over TLS — *12*"
        ),
        "{text}"
    );
    assert!(
        text.contains("*Worst failures*\n:red_circle: *bucket-00* · :warning: *PHI* — `s3_bucket_public_access_block`"),
        "{text}"
    );
    // The ten worst as compact lines in one section, and the rest counted.
    assert_eq!(text.matches("\n`arn:aws:s3:::").count(), 10, "{text}");
    assert!(
        text.contains("*…and 27 more failures* not shown here."),
        "{text}"
    );
    assert!(msg["blocks"].as_array().unwrap().len() <= 10);
}

#[test]
fn overdue_digest_shows_due_date_and_owner() {
    let text = all_text(&message(&fixtures::overdue_digest()));
    assert!(
        text.contains(
            "*Due* 2025-03-10 (*4 days overdue*) · *Owner* platform-team · failing since 2025-03-07"
        ),
        "{text}"
    );
    assert!(
        text.contains("*Due* 2025-03-13 (*1 day overdue*) · *Owner* claims-team"),
        "{text}"
    );
    assert!(
        text.contains("*Due* 2025-03-02 (*12 days overdue*) · *Owner* _none tagged_"),
        "{text}"
    );
}

#[test]
fn waivers_and_attestations_are_listed_with_owner_and_reason() {
    let text = all_text(&message(&fixtures::waivers_expired()));
    assert!(text.contains("• *SEC-1042* · rule `s3_bucket_versioning` · owner claims-team@example.com · last day 2025-03-13 · reopens *4 failures*"), "{text}");
    assert!(
        text.contains("*RISK-7 &lt;legacy &amp; vendor&gt;*"),
        "ticket escaped: {text}"
    );
    let text = all_text(&message(&fixtures::attestations_stale()));
    assert!(text.contains(":memo: *Contingency plan was tested* `manual_contingency_plan_tested` · account `111122223333`"), "{text}");
    assert!(text.contains("*HIPAA* `164.308(a)(7)(ii)(D)` Testing and revision procedures; `164.308(a)(7)(i)` Contingency plan"), "{text}");
}

#[test]
fn test_message_names_its_route() {
    let msg = message(&fixtures::test_message());
    assert_eq!(msg["text"], "Posture test message for route payments");
    let text = all_text(&msg);
    assert!(
        text.contains("This is a test from Posture for route `payments`."),
        "{text}"
    );
    assert_eq!(item_sections(&msg).len(), 1, "one sample item");
}

#[test]
fn user_text_cannot_mention_link_or_break_code() {
    let mut alert = fixtures::regressions();
    let item = &mut alert.items[1];
    item.name = "<!channel> & <https://evil.example|click>".into();
    item.reason = "policy `x` <b>bold</b>\nsecond line".into();
    item.changes[0].new = Some("\"a`b<c>&d\"".into());
    alert.route = "<@U123>".into();
    let msg = message(&alert);
    assert_within_limits("hostile", &msg);
    let text = all_text(&msg);
    assert!(
        text.contains("*&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;*"),
        "{text}"
    );
    assert!(
        text.contains("*Why* policy `x` &lt;b&gt;bold&lt;/b&gt; second line"),
        "newline flattened: {text}"
    );
    assert!(
        text.contains("→ `\"aˋb&lt;c&gt;&amp;d\"`"),
        "backtick cannot end the code span: {text}"
    );
    assert!(text.contains("Route `&lt;@U123&gt;`"), "{text}");
}

#[test]
fn long_values_are_cut_visibly() {
    let mut alert = fixtures::regressions();
    alert.items[1].name = "n".repeat(10_000);
    alert.items[1].changes[0].old = Some("&".repeat(10_000));
    let msg = message(&alert);
    assert_within_limits("long", &msg);
    let bucket = &item_sections(&msg)[1];
    assert!(
        bucket.contains(&format!("*{}…*", "n".repeat(149))),
        "{bucket}"
    );
    // 59 entities of 5 units and "…" fit in 300; no entity is split.
    assert!(
        bucket.contains(&format!("`{}…` → _absent_", "&amp;".repeat(59))),
        "{bucket}"
    );
}

#[test]
fn changed_fields_that_do_not_fit_are_counted() {
    let mut alert = fixtures::regressions();
    let it = &mut alert.items[1];
    it.changes = (0..10)
        .map(|i| {
            fixtures::change(
                &format!("/body/field_{i}"),
                Some(&"o".repeat(300)),
                Some(&"n".repeat(300)),
            )
        })
        .collect();
    it.more_changes = 5;
    let msg = message(&alert);
    assert_within_limits("fields", &msg);
    let bucket = &item_sections(&msg)[1];
    let shown = bucket.matches("• `/body/field_").count();
    assert!((1..10).contains(&shown), "{shown} fields");
    assert!(
        bucket.contains(&format!("• …and {} more fields", 15 - shown)),
        "{bucket}"
    );
}

// ----- property: limits hold for any alert -----

mod random {
    use std::collections::BTreeMap;

    use posture_model::alert::{
        AccountCount, AttestationNotice, FieldChange, RuleCount, WaiverNotice,
    };
    use posture_model::{AccountId, Citation, ResourceKind, RuleId, Severity};
    use proptest::prelude::*;

    use super::*;

    /// Characters that stress escaping, code spans, bold, UTF-16 counting and lines.
    const POOL: &[char] = &[
        'a', 'Z', '0', ' ', '&', '<', '>', '`', '*', '_', '~', '\n', '\t', 'é', '🚨', '"', '|', '…',
    ];

    /// A deterministic string of `len` characters from the pool.
    fn text(len: usize, seed: u64) -> String {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                POOL[(x % POOL.len() as u64) as usize]
            })
            .collect()
    }

    #[derive(Debug, Clone)]
    struct Shape {
        kind: usize,
        total: usize,
        rules: usize,
        accounts: usize,
        waivers: usize,
        long: usize,
        seed: u64,
        changes: usize,
        citations: usize,
    }

    fn shape() -> impl Strategy<Value = Shape> {
        (
            0..8usize,
            0..2000usize,
            0..40usize,
            1..25usize,
            0..300usize,
            0..10_000usize,
            any::<u64>(),
            0..=10usize,
            0..6usize,
        )
            .prop_map(
                |(kind, total, rules, accounts, waivers, long, seed, changes, citations)| Shape {
                    kind,
                    total,
                    rules,
                    accounts,
                    waivers,
                    long,
                    seed,
                    changes,
                    citations,
                },
            )
    }

    fn build(s: &Shape) -> Alert {
        let t = |n: usize, k: u64| text(n, s.seed.wrapping_add(k));
        let accounts: Vec<AccountId> = (0..s.accounts)
            .map(|i| AccountId::new(format!("{:012}", 100_000_000_000 + i)).unwrap())
            .collect();
        let rule = |i: usize| RuleId::new(format!("r{}_{}", i, "x".repeat(s.long % 300))).unwrap();
        let mut items = vec![];
        for i in 0..s.total.min(MAX_ITEMS) {
            let mut it = fixtures::item(
                ["new_failure", "new_error", "waiver_expired", "overdue"][i % 4],
                &fixtures::tls_only(),
                fixtures::resource(
                    &format!("arn:aws:s3:::{}", t(s.long, i as u64)),
                    ResourceKind::S3Bucket,
                    accounts[i % accounts.len()].as_str(),
                    "us-east-1",
                    &[],
                ),
                &t(s.long, 1 + i as u64),
                i % 2 == 0,
                &t(s.long, 2 + i as u64),
            );
            it.rule_id = rule(i);
            it.title = t(s.long / 3, 3);
            it.citations = (0..s.citations)
                .map(|c| Citation {
                    id: t(s.long / 10, c as u64),
                    title: t(s.long, 4 + c as u64),
                })
                .collect();
            // Values up to 10k, beyond the composer's cut, to stress the renderer.
            it.changes = (0..s.changes)
                .map(|c| FieldChange {
                    pointer: t(s.long / 2, 5 + c as u64),
                    old: (c % 3 != 1).then(|| t(s.long, 6 + c as u64)),
                    new: (c % 3 != 0).then(|| t(s.long, 7)),
                })
                .collect();
            it.more_changes = s.seed as usize % 100;
            it.more.command = t(s.long, 9);
            it.more.api = t(s.long, 10);
            it.owner = Some(t(s.long, 11));
            it.due = Some(fixtures::at());
            items.push(it);
        }
        Alert {
            kind: AlertKind::ALL[s.kind],
            route: t(s.long, 12),
            snapshot_id: Some(t(s.long, 13)),
            at: fixtures::at(),
            accounts: accounts.clone(),
            total: s.total,
            phi: s.total / 2,
            by_severity: Severity::ALL
                .iter()
                .map(|sev| (*sev, s.total / 5))
                .collect::<BTreeMap<_, _>>(),
            by_rule: (0..s.rules)
                .map(|i| RuleCount {
                    rule_id: rule(i),
                    title: t(s.long, 14 + i as u64),
                    severity: Severity::High,
                    count: s.total / (i + 1),
                })
                .collect(),
            by_account: accounts
                .iter()
                .map(|a| AccountCount {
                    account: a.clone(),
                    count: s.total / s.accounts,
                })
                .collect(),
            items,
            waivers: (0..s.waivers)
                .map(|i| WaiverNotice {
                    ticket: t(s.long, 15 + i as u64),
                    rule_id: t(s.long, 16),
                    owner: t(s.long, 17),
                    expires: fixtures::at().date_naive(),
                    reopened: i,
                })
                .collect(),
            attestations: (0..s.waivers)
                .map(|i| AttestationNotice {
                    rule_id: rule(i),
                    title: t(s.long, 18),
                    account: accounts[0].clone(),
                    reason: t(s.long, 19 + i as u64),
                    citations: vec![],
                })
                .collect(),
            more: posture_model::alert::More {
                command: t(s.long, 20),
                api: t(s.long, 21),
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn any_alert_stays_within_limits_and_counts_the_rest(s in shape()) {
            let alert = build(&s);
            let msg = message(&alert);
            assert_within_limits(&format!("{s:?}"), &msg);
            let text = all_text(&msg);
            if matches!(alert.kind, AlertKind::Regressions | AlertKind::CollectionFailed) {
                let shown = item_sections(&msg).len();
                let rest = alert.total - shown;
                if rest > 0 {
                    let noun = if alert.kind == AlertKind::Regressions { "new failures" } else { "findings that could not be checked" };
                    prop_assert!(text.contains(&format!("*…and {rest} more {noun}*")), "missing and {} more", rest);
                } else {
                    prop_assert!(!text.contains("*…and "));
                }
            }
        }
    }
}
