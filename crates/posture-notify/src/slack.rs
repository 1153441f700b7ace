//! Alerts as Slack incoming-webhook messages (Block Kit).
//!
//! [`message`] renders one [`Alert`] as one payload: a `text` fallback for notifications
//! (kind, count, worst severity) and `blocks`: a header, a one-line summary, what the
//! kind needs said first (e.g. that a collection failure is *not* a regression), counts
//! per rule and account when not every item is shown, the items worst first, an explicit
//! "and N more" for whatever did not fit, and where to see everything.
//!
//! Invariants, asserted by the golden and property tests:
//!
//! - Slack's limits hold for any alert: at most [`MAX_BLOCKS`] blocks, [`MAX_SECTION_TEXT`]
//!   characters per section text, [`MAX_FIELDS`] fields of [`MAX_FIELD_TEXT`] each,
//!   [`MAX_HEADER_TEXT`] for the header, [`MAX_CONTEXT_ELEMENTS`] per context, and
//!   [`MESSAGE_TEXT_BUDGET`] for all block text together. Lengths are counted in UTF-16
//!   units, which is never less than Slack's character count.
//! - Nothing is cut silently: an item that does not fit is counted in an "and N more"
//!   line (N = the alert's total minus the items shown), a changed field that does not fit
//!   in "and N more fields", and a cut text ends in "…".
//! - Every user-derived text (names, ARNs, reasons, values, tickets, owners, routes) has
//!   `&`, `<` and `>` escaped, so it can neither mention `@channel` nor forge a link, and
//!   control characters flattened to spaces; in code spans backticks become `ˋ`.
//! - Pure and deterministic: the same alert gives the same bytes (`serde_json` objects are
//!   sorted maps; times are the alert's own).

use chrono::{DateTime, Utc};
use posture_model::alert::{Alert, AlertItem, AlertKind, AttestationNotice, WaiverNotice};
use posture_model::{AccountId, Citation, Severity};
use serde_json::{Value, json};

/// The most blocks in one message.
pub const MAX_BLOCKS: usize = 50;
/// The longest text of a section block.
pub const MAX_SECTION_TEXT: usize = 3000;
/// The most fields in a section block.
pub const MAX_FIELDS: usize = 10;
/// The longest text of one field of a section block.
pub const MAX_FIELD_TEXT: usize = 2000;
/// The longest text of a header block (plain text).
pub const MAX_HEADER_TEXT: usize = 150;
/// The most elements in a context block.
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
/// The longest text of one context element (any text object).
pub const MAX_CONTEXT_TEXT: usize = 3000;
/// The most text all blocks of one message carry together. Slack documents no such limit,
/// but rejects messages with `msg_blocks_too_long` from about 13,000 characters of block
/// text; this stays under it, and a channel reader would not scroll further anyway.
pub const MESSAGE_TEXT_BUDGET: usize = 12_000;
/// The longest `text` fallback (notifications show its first line).
pub const MAX_FALLBACK_TEXT: usize = 500;

/// Caps on the parts of an item, in UTF-16 units after escaping. Chosen so an item's
/// fixed lines stay under 2,700 units and leave room for at least one changed field.
const NAME_MAX: usize = 150;
const ARN_MAX: usize = 300;
const RULE_MAX: usize = 80;
const TITLE_MAX: usize = 150;
const CITATIONS_SHOWN: usize = 3;
const CITATION_TITLE_MAX: usize = 100;
const REASON_MAX: usize = 500;
const POINTER_MAX: usize = 150;
const VALUE_MAX: usize = 300;
const COMMAND_MAX: usize = 250;
const SHORT_MAX: usize = 80;
/// The most rules and accounts listed in the counts.
const RULES_LISTED: usize = 15;
const ACCOUNTS_LISTED: usize = 10;
/// The transition of a finding whose data could not be collected.
const NEW_ERROR: &str = "new_error";
/// The most failures a first-scan summary lists.
const FIRST_SCAN_ITEMS: usize = 10;

/// The Slack incoming-webhook payload for `alert`: `{"text": ..., "blocks": [...]}`.
pub fn message(alert: &Alert) -> Value {
    let plan = Plan::of(alert);
    let counts = match plan.counts {
        CountsPolicy::Always => true,
        CountsPolicy::WhenOmitted => false,
    };
    let (mut builder, everything_shown) = assemble(alert, &plan, counts);
    if !everything_shown && !counts {
        // Something did not fit: say how it is spread before the worst of it.
        builder = assemble(alert, &plan, true).0;
    }
    json!({
        "text": mrkdwn_cut(&plan.fallback, MAX_FALLBACK_TEXT),
        "blocks": builder.blocks,
    })
}

/// What a message says, before it is fitted into blocks.
struct Plan {
    /// Plain-text header, with its emoji.
    header: String,
    /// The notification fallback (mrkdwn, escaped).
    fallback: String,
    /// The summary context's elements (mrkdwn, escaped).
    summary: Vec<String>,
    /// Sections before the items (mrkdwn, escaped), each short.
    intro: Vec<Intro>,
    /// When to show counts per rule and account.
    counts: CountsPolicy,
    /// The lists of entries, filled in order as far as they fit.
    lists: Vec<List>,
}

enum Intro {
    Text(String),
    Fields(Vec<String>),
}

#[derive(Clone, Copy)]
enum CountsPolicy {
    Always,
    WhenOmitted,
}

/// Entries of one list, worst first, and how many there are in all.
struct List {
    /// A heading put at the top of the list's first section, if any entry is shown.
    heading: Option<String>,
    /// Rendered entries (mrkdwn, escaped), each at most [`MAX_SECTION_TEXT`].
    entries: Vec<String>,
    /// How many there are in all (at least `entries.len()`).
    total: usize,
    /// The plural noun for the "and N more" line.
    noun: &'static str,
    /// One section per entry (full items), or entries packed into sections.
    layout: Layout,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    SectionEach,
    Packed(&'static str),
}

impl Plan {
    fn of(alert: &Alert) -> Plan {
        let where_ = accounts_label(&alert.accounts);
        let in_where = where_
            .as_deref()
            .map(|w| format!(" in {w}"))
            .unwrap_or_default();
        let dash_where = where_
            .as_deref()
            .map(|w| format!(" — {w}"))
            .unwrap_or_default();
        let total = alert.total.max(alert.items.len());
        let worst = worst_severity(alert)
            .map(|s| format!(" (worst: {}{})", s.as_str(), phi_note(alert.phi)))
            .unwrap_or_default();
        let items_list = |noun, layout, heading, entry: &dyn Fn(&AlertItem) -> String| List {
            heading,
            entries: alert.items.iter().map(entry).collect(),
            total,
            noun,
            layout,
        };
        let mut summary = severity_summary(alert);
        summary.push(meta_line(alert));

        match alert.kind {
            AlertKind::Regressions => Plan {
                header: format!(":rotating_light: {}{dash_where}", count(total, "new HIPAA failure", "new HIPAA failures")),
                fallback: format!("{}{in_where}{worst}", count(total, "new HIPAA failure", "new HIPAA failures")),
                summary,
                intro: vec![],
                counts: CountsPolicy::WhenOmitted,
                lists: vec![items_list("new failures", Layout::SectionEach, None, &|i| full_item(i, ItemStyle::Failure))],
            },
            AlertKind::CollectionFailed => Plan {
                header: format!(":grey_question: {} could not be checked{dash_where}", count(total, "finding", "findings")),
                fallback: format!(
                    "{} could not be checked{in_where}: the data could not be collected, so their status is unknown",
                    count(total, "finding", "findings")
                ),
                summary,
                intro: vec![Intro::Text(
                    ":grey_question: *Could not be checked.* Posture could not collect the data these checks need \
                     (the reason is under each), so their status is *unknown* until collection works again. \
                     This is not a new failure, and not a fix."
                        .to_owned(),
                )],
                counts: CountsPolicy::WhenOmitted,
                lists: vec![items_list("findings that could not be checked", Layout::SectionEach, None, &|i| {
                    full_item(i, ItemStyle::NotCollected)
                })],
            },
            AlertKind::Resolved => Plan {
                header: format!(":white_check_mark: {} resolved{dash_where}", count(total, "HIPAA failure", "HIPAA failures")),
                fallback: format!("{} resolved{in_where}", count(total, "HIPAA failure", "HIPAA failures")),
                summary,
                intro: vec![Intro::Text("These failures pass now, or their resource is gone.".to_owned())],
                counts: CountsPolicy::WhenOmitted,
                lists: vec![items_list("resolved failures", Layout::Packed("\n"), None, &|i| {
                    compact_item(i, ":white_check_mark:")
                })],
            },
            AlertKind::FirstScan => Plan {
                header: format!(":clipboard: First scan: {}{dash_where}", count(total, "HIPAA failure", "HIPAA failures")),
                fallback: format!("First scan{in_where}: {}{worst}", count(total, "HIPAA failure", "HIPAA failures")),
                summary,
                intro: first_scan_intro(alert),
                counts: CountsPolicy::Always,
                lists: vec![{
                    // A summary: the worst few, not every failure.
                    let mut list = items_list("failures", Layout::Packed("\n"), Some("*Worst failures*".to_owned()), &|i| {
                        compact_item(i, severity_emoji(i.severity))
                    });
                    list.entries.truncate(FIRST_SCAN_ITEMS);
                    list
                }],
            },
            AlertKind::WaiversExpired => {
                let n = alert.waivers.len();
                let mut lists = vec![List {
                    heading: None,
                    entries: alert.waivers.iter().map(waiver_entry).collect(),
                    total: n,
                    noun: "expired waivers",
                    layout: Layout::Packed("\n"),
                }];
                if !alert.items.is_empty() {
                    lists.push(items_list("reopened failures", Layout::Packed("\n"), Some("*Failures open again*".to_owned()), &|i| {
                        compact_item(i, severity_emoji(i.severity))
                    }));
                }
                Plan {
                    header: format!(":hourglass: {} expired{dash_where}", count(n, "waiver", "waivers")),
                    fallback: format!("{} expired{in_where}", count(n, "waiver", "waivers")),
                    summary,
                    intro: vec![Intro::Text(
                        "These risk acceptances ended; the failures they covered count again.".to_owned(),
                    )],
                    counts: CountsPolicy::WhenOmitted,
                    lists,
                }
            }
            AlertKind::AttestationsStale => {
                let n = alert.attestations.len();
                let mut lists = vec![List {
                    heading: None,
                    entries: alert.attestations.iter().map(attestation_entry).collect(),
                    total: n,
                    noun: "expired attestations",
                    layout: Layout::Packed("\n\n"),
                }];
                if !alert.items.is_empty() {
                    lists.push(items_list("items", Layout::Packed("\n"), None, &|i| {
                        compact_item(i, severity_emoji(i.severity))
                    }));
                }
                Plan {
                    header: format!(":memo: {} expired{dash_where}", count(n, "attestation", "attestations")),
                    fallback: format!("{} of manual controls expired{in_where}", count(n, "attestation", "attestations")),
                    summary,
                    intro: vec![Intro::Text(
                        "These manual controls need a new attestation: until then they do not count as met.".to_owned(),
                    )],
                    counts: CountsPolicy::WhenOmitted,
                    lists,
                }
            }
            AlertKind::OverdueDigest => Plan {
                header: format!(":alarm_clock: {} past deadline{dash_where}", count(total, "HIPAA failure", "HIPAA failures")),
                fallback: format!("{} past their remediation deadline{in_where}{worst}", count(total, "HIPAA failure", "HIPAA failures")),
                summary,
                intro: vec![Intro::Text(format!(
                    "Failures past their remediation deadline on {}, most severe first.",
                    alert.at.format("%Y-%m-%d")
                ))],
                counts: CountsPolicy::WhenOmitted,
                lists: vec![items_list("overdue failures", Layout::Packed("\n\n"), None, &|i| overdue_entry(i, alert.at))],
            },
            AlertKind::Test => {
                let mut lists = vec![];
                if !alert.items.is_empty() {
                    lists.push(items_list("sample items", Layout::SectionEach, None, &|i| full_item(i, ItemStyle::Failure)));
                }
                let sample = if alert.items.is_empty() { "" } else { " A real alert looks like the sample below." };
                Plan {
                    header: ":wave: Posture test message".to_owned(),
                    fallback: format!("Posture test message for route {}", inline(&alert.route, SHORT_MAX)),
                    summary: vec![meta_line(alert)],
                    intro: vec![Intro::Text(format!(
                        "This is a test from Posture for route {}. If you can read it, alerts on this route reach this channel.{sample}",
                        code(&alert.route, SHORT_MAX)
                    ))],
                    counts: CountsPolicy::WhenOmitted,
                    lists,
                }
            }
        }
    }
}

/// Lays the plan out within the limits; says whether every entry of every list is shown.
fn assemble(alert: &Alert, plan: &Plan, with_counts: bool) -> (Builder, bool) {
    let mut b = Builder::default();
    b.header(&plan.header);
    b.context(&plan.summary);
    for intro in &plan.intro {
        match intro {
            Intro::Text(text) => b.section(text),
            Intro::Fields(fields) => b.fields(fields),
        }
    }
    if with_counts {
        if let Some(text) = rule_counts(alert) {
            b.section(&text);
        }
        if let Some(text) = account_counts(alert) {
            b.section(&text);
        }
    }
    let has_entries = plan.lists.iter().any(|l| !l.entries.is_empty());
    if has_entries {
        b.divider();
    }

    // Reserve room for the closing lines at their longest (every entry omitted).
    let footer = footer_line(alert);
    let longest_more = more_lines(plan.lists.iter().map(|l| (l, 0)));
    let reserve = Reserve {
        blocks: 2,
        chars: len16(&footer) + longest_more.as_deref().map_or(0, len16),
    };
    let mut shown = Vec::with_capacity(plan.lists.len());
    for list in &plan.lists {
        shown.push(fill(&mut b, list, reserve));
    }
    let more = more_lines(plan.lists.iter().zip(shown.iter().copied()));
    let everything = more.is_none();
    if let Some(text) = more {
        b.section(&text);
    }
    b.context(&[footer]);
    (b, everything)
}

/// Room kept free while filling lists.
#[derive(Clone, Copy)]
struct Reserve {
    blocks: usize,
    chars: usize,
}

/// Adds as many of `list`'s entries as fit, in order; returns how many.
fn fill(b: &mut Builder, list: &List, reserve: Reserve) -> usize {
    let fits = |b: &Builder, text: &str| {
        b.blocks.len() + 1 + reserve.blocks <= MAX_BLOCKS
            && len16(text) <= MAX_SECTION_TEXT
            && b.chars + len16(text) + reserve.chars <= MESSAGE_TEXT_BUDGET
    };
    let mut shown = 0;
    match list.layout {
        Layout::SectionEach => {
            for (i, entry) in list.entries.iter().enumerate() {
                let text = match (&list.heading, i) {
                    (Some(h), 0) => format!("{h}\n{entry}"),
                    _ => entry.clone(),
                };
                if !fits(b, &text) {
                    break;
                }
                b.section(&text);
                shown += 1;
            }
        }
        Layout::Packed(sep) => {
            // `current` is the section being packed; `in_current` how many entries it holds.
            let mut current = list.heading.clone().unwrap_or_default();
            let mut in_current = 0;
            for entry in &list.entries {
                let candidate = if current.is_empty() {
                    entry.clone()
                } else {
                    format!("{current}{sep}{entry}")
                };
                if fits(b, &candidate) {
                    current = candidate;
                    in_current += 1;
                    shown += 1;
                    continue;
                }
                if in_current == 0 {
                    break;
                }
                b.section(&current);
                in_current = 0;
                current.clear();
                if !fits(b, entry) {
                    break;
                }
                current = entry.clone();
                in_current = 1;
                shown += 1;
            }
            if in_current > 0 {
                b.section(&current);
            }
        }
    }
    shown
}

/// The "and N more" lines of the lists not shown in full, given how many each showed.
fn more_lines<'a>(lists: impl Iterator<Item = (&'a List, usize)>) -> Option<String> {
    let lines: Vec<String> = lists
        .filter_map(|(list, shown)| {
            let rest = list.total.saturating_sub(shown);
            (rest > 0).then(|| format!("*…and {rest} more {}* not shown here.", list.noun))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The blocks of one message, with the text they carry so far.
#[derive(Default)]
struct Builder {
    blocks: Vec<Value>,
    chars: usize,
}

impl Builder {
    fn header(&mut self, text: &str) {
        let text = plain_cut(text, MAX_HEADER_TEXT);
        self.chars += len16(&text);
        self.blocks.push(json!({
            "type": "header",
            "text": {"type": "plain_text", "text": text, "emoji": true},
        }));
    }

    fn section(&mut self, text: &str) {
        let text = mrkdwn_cut(text, MAX_SECTION_TEXT);
        self.chars += len16(&text);
        self.blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": text},
        }));
    }

    fn fields(&mut self, fields: &[String]) {
        let fields: Vec<Value> = fields
            .iter()
            .take(MAX_FIELDS)
            .map(|f| {
                let text = mrkdwn_cut(f, MAX_FIELD_TEXT);
                self.chars += len16(&text);
                json!({"type": "mrkdwn", "text": text})
            })
            .collect();
        if !fields.is_empty() {
            self.blocks
                .push(json!({"type": "section", "fields": fields}));
        }
    }

    fn context(&mut self, elements: &[String]) {
        let elements: Vec<Value> = elements
            .iter()
            .take(MAX_CONTEXT_ELEMENTS)
            .map(|e| {
                let text = mrkdwn_cut(e, MAX_CONTEXT_TEXT);
                self.chars += len16(&text);
                json!({"type": "mrkdwn", "text": text})
            })
            .collect();
        if !elements.is_empty() {
            self.blocks
                .push(json!({"type": "context", "elements": elements}));
        }
    }

    fn divider(&mut self) {
        self.blocks.push(json!({"type": "divider"}));
    }
}

// ----- entries -----

#[derive(Clone, Copy, PartialEq, Eq)]
enum ItemStyle {
    /// A failure: severity first, "Why".
    Failure,
    /// A finding whose data could not be collected: no severity colour, "Could not collect".
    NotCollected,
}

/// One item in full: what a responder needs to act without opening a console.
fn full_item(item: &AlertItem, style: ItemStyle) -> String {
    // Whatever alert it is in, a finding that could not be decided reads as unknown.
    let style = if item.transition == NEW_ERROR {
        ItemStyle::NotCollected
    } else {
        style
    };
    let mut lines = Vec::new();
    let phi = if item.phi { " · :warning: *PHI*" } else { "" };
    let transition = match item.transition.as_str() {
        "new_failure" | "new_error" | "failing" | "overdue" | "resolved" => String::new(),
        "waiver_expired" => " · _waiver expired_".to_owned(),
        other => format!(" · _{}_", inline(other, SHORT_MAX)),
    };
    lines.push(match style {
        ItemStyle::Failure => format!(
            "{} *{}* · {}{phi}{transition}",
            severity_emoji(item.severity),
            severity_label(item.severity),
            strong(&item.name, NAME_MAX)
        ),
        ItemStyle::NotCollected => format!(
            ":grey_question: {}{phi} · status unknown ({} rule)",
            strong(&item.name, NAME_MAX),
            item.severity.as_str()
        ),
    });
    lines.push(code(item.resource.arn.as_str(), ARN_MAX));
    lines.push(format!(
        "Account {} · {} · {}",
        code(item.resource.account.as_str(), SHORT_MAX),
        inline(item.resource.region.as_str(), SHORT_MAX),
        inline(item.resource.kind.as_str(), SHORT_MAX)
    ));
    lines.push(format!(
        "*Rule* {} {}",
        code(item.rule_id.as_str(), RULE_MAX),
        inline(&item.title, TITLE_MAX)
    ));
    if let Some(cites) = citations(&item.citations) {
        lines.push(format!("*HIPAA* {cites}"));
    }
    let why = match style {
        ItemStyle::Failure => "*Why*",
        ItemStyle::NotCollected => "*Could not collect*",
    };
    lines.push(format!("{why} {}", inline(&item.reason, REASON_MAX)));
    let head = lines.join("\n");
    let tail = format!("*More* {}", more_refs(&item.more));

    // Changed fields, as many as fit; the rest counted with those the composer dropped.
    let mut text = head;
    if !item.changes.is_empty() || item.more_changes > 0 {
        let all = item.changes.len() + item.more_changes;
        let more_line = |n: usize| {
            format!(
                "• …and {n} more {}",
                if n == 1 { "field" } else { "fields" }
            )
        };
        let room = MAX_SECTION_TEXT
            .saturating_sub(len16(&text) + len16(&tail) + 2)
            .saturating_sub(len16("\n*Changed in this scan*"))
            .saturating_sub(len16(&more_line(all)) + 1);
        let mut changes = String::new();
        let mut shown = 0;
        for change in &item.changes {
            let line = format!(
                "\n• {}: {} → {}",
                code(&change.pointer, POINTER_MAX),
                value(change.old.as_deref()),
                value(change.new.as_deref())
            );
            if len16(&changes) + len16(&line) > room {
                break;
            }
            changes.push_str(&line);
            shown += 1;
        }
        text.push_str("\n*Changed in this scan*");
        text.push_str(&changes);
        let rest = all - shown;
        if rest > 0 {
            text.push('\n');
            text.push_str(&more_line(rest));
        }
    }
    text.push('\n');
    text.push_str(&tail);
    text
}

/// One item on two lines: who, which rule, where, why.
fn compact_item(item: &AlertItem, emoji: &str) -> String {
    let phi = if item.phi { " · :warning: *PHI*" } else { "" };
    // Never a check mark (or a failure's colour) on a finding that could not be decided.
    let (emoji, unknown) = if item.transition == NEW_ERROR {
        (":grey_question:", "could not be checked: ")
    } else {
        (emoji, "")
    };
    format!(
        "{emoji} {}{phi} — {} {}\n{} · {} {} — {unknown}{}",
        strong(&item.name, 100),
        code(item.rule_id.as_str(), RULE_MAX),
        inline(&item.title, 100),
        code(item.resource.arn.as_str(), 200),
        inline(item.resource.account.as_str(), SHORT_MAX),
        inline(item.resource.region.as_str(), SHORT_MAX),
        inline(&item.reason, 200)
    )
}

/// One overdue item: the resource, the rule, the deadline and who owns it.
fn overdue_entry(item: &AlertItem, at: DateTime<Utc>) -> String {
    let phi = if item.phi { " · :warning: *PHI*" } else { "" };
    let due = match item.due {
        Some(due) => {
            let late = (at.date_naive() - due.date_naive()).num_days();
            let late = match late {
                i64::MIN..=0 => "due today".to_owned(),
                1 => "1 day overdue".to_owned(),
                n => format!("{n} days overdue"),
            };
            format!("*Due* {} (*{late}*)", due.format("%Y-%m-%d"))
        }
        None => "*Due* _no deadline recorded_".to_owned(),
    };
    let owner = match item.owner.as_deref() {
        Some(owner) => format!("*Owner* {}", inline(owner, SHORT_MAX)),
        None => "*Owner* _none tagged_".to_owned(),
    };
    let since = item
        .failing_since
        .map(|s| format!(" · failing since {}", s.format("%Y-%m-%d")))
        .unwrap_or_default();
    format!(
        "{} *{}* · {}{phi}\n{} · {} {}\n*Rule* {} {}\n{due} · {owner}{since}",
        severity_emoji(item.severity),
        severity_label(item.severity),
        strong(&item.name, NAME_MAX),
        code(item.resource.arn.as_str(), ARN_MAX),
        inline(item.resource.account.as_str(), SHORT_MAX),
        inline(item.resource.region.as_str(), SHORT_MAX),
        code(item.rule_id.as_str(), RULE_MAX),
        inline(&item.title, TITLE_MAX),
    )
}

fn waiver_entry(w: &WaiverNotice) -> String {
    format!(
        "• {} · rule {} · owner {} · last day {} · reopens *{}*",
        strong(&w.ticket, SHORT_MAX),
        code(&w.rule_id, RULE_MAX),
        inline(&w.owner, SHORT_MAX),
        w.expires.format("%Y-%m-%d"),
        count(w.reopened, "failure", "failures")
    )
}

fn attestation_entry(a: &AttestationNotice) -> String {
    let mut text = format!(
        ":memo: {} {} · account {}\n{}",
        strong(&a.title, TITLE_MAX),
        code(a.rule_id.as_str(), RULE_MAX),
        code(a.account.as_str(), SHORT_MAX),
        inline(&a.reason, REASON_MAX)
    );
    if let Some(cites) = citations(&a.citations) {
        text.push_str("\n*HIPAA* ");
        text.push_str(&cites);
    }
    text
}

// ----- summaries and counts -----

fn first_scan_intro(alert: &Alert) -> Vec<Intro> {
    let what = accounts_label(&alert.accounts).unwrap_or_else(|| "this account".to_owned());
    let mut fields: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = alert.by_severity.get(s).copied().unwrap_or(0);
            (n > 0).then(|| format!("{} *{}*\n{n}", severity_emoji(*s), severity_label(*s)))
        })
        .collect();
    if alert.phi > 0 {
        fields.push(format!(":warning: *On PHI resources*\n{}", alert.phi));
    }
    let mut intro = vec![Intro::Text(format!(
        "First scan of {what}: one summary of what fails now, instead of a message per failure. \
         From the next scan on, only changes are sent."
    ))];
    if !fields.is_empty() {
        intro.push(Intro::Fields(fields));
    }
    intro
}

/// Counts per rule, most first, as many as fit.
fn rule_counts(alert: &Alert) -> Option<String> {
    if alert.by_rule.is_empty() {
        return None;
    }
    let lines = alert.by_rule.iter().take(RULES_LISTED).map(|r| {
        format!(
            "• {} {} {} — *{}*",
            severity_emoji(r.severity),
            code(r.rule_id.as_str(), 60),
            inline(&r.title, 90),
            r.count
        )
    });
    Some(bulleted(
        &format!(
            "*By rule* ({})",
            count(alert.by_rule.len(), "rule", "rules")
        ),
        lines,
        alert.by_rule.len(),
        "rules",
        2000,
    ))
}

/// Counts per account, most first, when there is more than one.
fn account_counts(alert: &Alert) -> Option<String> {
    if alert.by_account.len() < 2 {
        return None;
    }
    let lines = alert
        .by_account
        .iter()
        .take(ACCOUNTS_LISTED)
        .map(|a| format!("• {} — *{}*", code(a.account.as_str(), SHORT_MAX), a.count));
    Some(bulleted(
        &format!(
            "*By account* ({})",
            count(alert.by_account.len(), "account", "accounts")
        ),
        lines,
        alert.by_account.len(),
        "accounts",
        1000,
    ))
}

/// `heading` and as many `lines` as fit in `max`, then "…and K more {noun}" for the rest of
/// `total`.
fn bulleted(
    heading: &str,
    lines: impl Iterator<Item = String>,
    total: usize,
    noun: &str,
    max: usize,
) -> String {
    let more = |k: usize| format!("\n• …and {k} more {noun}");
    let mut text = heading.to_owned();
    let mut shown = 0;
    for line in lines {
        if len16(&text) + 1 + len16(&line) + len16(&more(total)) > max {
            break;
        }
        text.push('\n');
        text.push_str(&line);
        shown += 1;
    }
    if total > shown {
        text.push_str(&more(total - shown));
    }
    text
}

/// ":red_circle: 1 critical · :large_orange_circle: 2 high", and the PHI count.
fn severity_summary(alert: &Alert) -> Vec<String> {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = alert.by_severity.get(s).copied().unwrap_or(0);
            (n > 0).then(|| format!("{} {n} {}", severity_emoji(*s), s.as_str()))
        })
        .collect();
    let mut out = Vec::new();
    if !parts.is_empty() {
        out.push(parts.join(" · "));
    }
    if alert.phi > 0 {
        out.push(format!(":warning: *{} on PHI resources*", alert.phi));
    }
    out
}

/// "Route `x` · scan `id` · 2024-05-02 03:00 UTC".
fn meta_line(alert: &Alert) -> String {
    let scan = alert
        .snapshot_id
        .as_deref()
        .map(|s| format!(" · scan {}", code(s, SHORT_MAX)))
        .unwrap_or_default();
    format!(
        "Route {}{scan} · {}",
        code(&alert.route, SHORT_MAX),
        alert.at.format("%Y-%m-%d %H:%M UTC")
    )
}

fn footer_line(alert: &Alert) -> String {
    format!(":mag: Everything: {}", more_refs(&alert.more))
}

/// The command (when there is one) and the API path.
fn more_refs(more: &posture_model::alert::More) -> String {
    let api = format!("API {}", code(&more.api, COMMAND_MAX));
    if more.command.is_empty() {
        api
    } else {
        format!("{} · {api}", code(&more.command, COMMAND_MAX))
    }
}

fn citations(cites: &[Citation]) -> Option<String> {
    if cites.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = cites
        .iter()
        .take(CITATIONS_SHOWN)
        .map(|c| {
            format!(
                "{} {}",
                code(&c.id, 40),
                inline(&c.title, CITATION_TITLE_MAX)
            )
        })
        .collect();
    if cites.len() > CITATIONS_SHOWN {
        parts.push(format!("and {} more", cites.len() - CITATIONS_SHOWN));
    }
    Some(parts.join("; "))
}

fn worst_severity(alert: &Alert) -> Option<Severity> {
    alert
        .by_severity
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, _)| *s)
        .max()
        .or_else(|| alert.items.iter().map(|i| i.severity).max())
}

fn phi_note(phi: usize) -> String {
    if phi > 0 {
        format!(", {phi} on PHI")
    } else {
        String::new()
    }
}

fn accounts_label(accounts: &[AccountId]) -> Option<String> {
    match accounts {
        [] => None,
        [a] => Some(a.to_string()),
        [a, b] => Some(format!("{a}, {b}")),
        many => Some(format!("{} accounts", many.len())),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn severity_emoji(s: Severity) -> &'static str {
    match s {
        Severity::Critical => ":red_circle:",
        Severity::High => ":large_orange_circle:",
        Severity::Medium => ":large_yellow_circle:",
        Severity::Low => ":large_blue_circle:",
        Severity::Info => ":white_circle:",
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

// ----- text -----

/// Length as Slack may count it: UTF-16 units, never less than characters.
fn len16(s: &str) -> usize {
    s.encode_utf16().count()
}

/// User text for mrkdwn: `&`, `<`, `>` escaped, control characters as spaces, at most
/// `max` units, ending in "…" when cut.
fn inline(s: &str, max: usize) -> String {
    escape_cut(s, max, false)
}

/// User text in a code span; backticks, which would end it, become `ˋ`.
fn code(s: &str, max: usize) -> String {
    if s.is_empty() {
        return "_(empty)_".to_owned();
    }
    format!("`{}`", escape_cut(s, max, true))
}

/// User text in bold, or in a code span when it holds mrkdwn markers that would break bold.
fn strong(s: &str, max: usize) -> String {
    if s.is_empty() || s.contains(['*', '_', '~', '`']) {
        code(s, max)
    } else {
        format!("*{}*", escape_cut(s, max, false))
    }
}

/// A changed field's value: compact JSON in a code span, or "absent".
fn value(v: Option<&str>) -> String {
    match v {
        Some(v) => code(v, VALUE_MAX),
        None => "_absent_".to_owned(),
    }
}

fn escape_piece(c: char, in_code: bool) -> std::borrow::Cow<'static, str> {
    use std::borrow::Cow;
    match c {
        '&' => Cow::Borrowed("&amp;"),
        '<' => Cow::Borrowed("&lt;"),
        '>' => Cow::Borrowed("&gt;"),
        '`' if in_code => Cow::Borrowed("ˋ"),
        c if c.is_control() => Cow::Borrowed(" "),
        c => Cow::Owned(c.to_string()),
    }
}

fn escape_cut(s: &str, max: usize, in_code: bool) -> String {
    let mut out = String::with_capacity(s.len().min(max * 2));
    let mut used = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let piece = escape_piece(c, in_code);
        let n = len16(&piece);
        // Keep one unit for "…" unless this is the last character and it fits.
        let last = chars.peek().is_none();
        let limit = if last { max } else { max.saturating_sub(1) };
        if used + n > limit {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        used += n;
    }
    out
}

/// A last guard for text already escaped: at most `max` units, never ending inside an
/// entity, "…" when cut. Entries are built to fit, so this rarely cuts anything.
fn mrkdwn_cut(s: &str, max: usize) -> String {
    if len16(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        out.push(c);
        used += c.len_utf16();
    }
    if let Some(amp) = out.rfind('&')
        && !out[amp..].contains(';')
    {
        out.truncate(amp);
    }
    out.push('…');
    out
}

/// Plain text (the header): control characters as spaces, at most `max` units.
fn plain_cut(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    mrkdwn_cut(&flat, max)
}
