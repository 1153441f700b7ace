//! Rendering results for people (tables) and programs (JSON).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;

use comfy_table::{
    ColumnConstraint, ContentArrangement, Table, Width, presets::UTF8_FULL_CONDENSED,
};
use posture_model::{Finding, SnapshotId, SnapshotMeta, Status};
use posture_pipeline::Drift;
use posture_store::{DriftPart, Store, for_each_page};
use serde::Serialize;

/// Findings read back from the store are fetched this many at a time.
const PAGE: usize = 2_000;

/// What the scan reports besides the findings, which are read back from the store.
pub struct Report<'a> {
    pub meta: &'a SnapshotMeta,
    pub counts: &'a BTreeMap<&'static str, usize>,
    pub drift: Option<&'a Drift>,
    pub stats: &'a Stats,
}

/// The JSON document `posture scan --format json` prints.
#[derive(Serialize)]
struct ScanReport<'a> {
    snapshot_id: &'a str,
    started_at: String,
    finished_at: String,
    accounts: &'a [posture_model::AccountId],
    regions: &'a [posture_model::Region],
    coverage: StoredCoverage<'a>,
    summary: &'a BTreeMap<&'static str, usize>,
    findings: StoredFindings<'a>,
    drift: Option<StoredDrift<'a>>,
    stats: &'a Stats,
}

/// A snapshot's findings, serialised as they are read from the store a page at a time.
struct StoredFindings<'a> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
}

impl Serialize for StoredFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        for_each_page(
            |after| {
                self.store
                    .borrow_mut()
                    .findings_page(self.id, after, PAGE)
                    .map_err(S::Error::custom)
            },
            |finding| {
                seq.serialize_element(&FindingJson {
                    finding: &finding,
                    snapshot_id: self.id.as_str(),
                })
            },
        )?;
        seq.end()
    }
}

/// A snapshot's coverage record (`collected`, `failed`, `api_calls`), serialised as it is
/// read from the store a page at a time: an organization has a collection record per
/// account, region and service; and `not_scanned`, the services left out of the scan.
struct StoredCoverage<'a> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
    api_calls: &'a BTreeMap<String, u64>,
    not_scanned: Vec<String>,
}

/// A page of records after a position: `(position, record)` pairs, empty at the end.
type ReadPage<T> =
    fn(&mut Store, &SnapshotId, Option<i64>) -> Result<Vec<(i64, T)>, posture_store::StoreError>;

/// One kind of coverage record, serialised a page at a time.
struct Paged<'a, T> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
    read: ReadPage<T>,
}

impl<T: Serialize> Serialize for Paged<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        for_each_page(
            |after| {
                (self.read)(&mut self.store.borrow_mut(), self.id, after).map_err(S::Error::custom)
            },
            |record| seq.serialize_element(&record),
        )?;
        seq.end()
    }
}

/// Drift against each account's previous scan (`since`: the newest of those snapshots,
/// `accounts` compared, `resources`, `findings`, `still_failing`): the counts come from the
/// evaluation, the events are read from the store a page at a time.
struct StoredDrift<'a> {
    store: &'a RefCell<&'a mut Store>,
    id: &'a SnapshotId,
    drift: &'a Drift,
}

impl Serialize for StoredDrift<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Drift", 5)?;
        s.serialize_field("since", &self.drift.since)?;
        s.serialize_field("accounts", &self.drift.accounts)?;
        s.serialize_field(
            "resources",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| drift_bodies(store, id, DriftPart::Resources, after),
            },
        )?;
        s.serialize_field(
            "findings",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| drift_bodies(store, id, DriftPart::Findings, after),
            },
        )?;
        s.serialize_field("still_failing", &self.drift.still_failing)?;
        s.end()
    }
}

/// A page of drift events as they were recorded (a resource change or a finding
/// transition).
fn drift_bodies(
    store: &mut Store,
    id: &SnapshotId,
    part: DriftPart,
    after: Option<i64>,
) -> Result<Vec<(i64, serde_json::Value)>, posture_store::StoreError> {
    Ok(store
        .drift_page(id, part, after, PAGE)?
        .into_iter()
        .map(|(seq, record)| (seq, record.body))
        .collect())
}

impl Serialize for StoredCoverage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Coverage", 4)?;
        s.serialize_field(
            "collected",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| store.collections_page(id, after, PAGE),
            },
        )?;
        s.serialize_field(
            "failed",
            &Paged {
                store: self.store,
                id: self.id,
                read: |store, id, after| store.gaps_page(id, after, PAGE),
            },
        )?;
        s.serialize_field("api_calls", self.api_calls)?;
        s.serialize_field("not_scanned", &self.not_scanned)?;
        s.end()
    }
}

/// Calls `each` with every finding of the snapshot, in stored order, a page at a time.
fn each_finding(
    store: &mut Store,
    id: &SnapshotId,
    mut each: impl FnMut(Finding),
) -> anyhow::Result<()> {
    for_each_page(
        |after| store.findings_page(id, after, PAGE),
        |f| {
            each(f);
            Ok(())
        },
    )?;
    Ok(())
}

/// How the scan went, for operators and benchmarks.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// Seconds from start to the snapshot being stored.
    pub wall_seconds: f64,
    /// API calls made (the sum of `coverage.api_calls`).
    pub api_calls: u64,
    /// HTTP attempts (calls plus retries).
    pub attempts: u64,
    /// Attempts AWS answered with throttling (retried with backoff).
    pub throttled: u64,
    /// Resources collected.
    pub resources: u64,
    /// Peak resident memory of the process, MiB (Linux only).
    pub peak_memory_mib: Option<f64>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    snapshot_id: &'a str,
}

pub fn print_scan_json(store: &mut Store, report: &Report<'_>) -> anyhow::Result<()> {
    let meta = report.meta;
    let store = RefCell::new(store);
    let document = ScanReport {
        snapshot_id: meta.id.as_str(),
        started_at: meta.started_at.to_rfc3339(),
        finished_at: meta.finished_at.to_rfc3339(),
        accounts: &meta.accounts,
        regions: &meta.regions,
        coverage: StoredCoverage {
            store: &store,
            id: &meta.id,
            api_calls: &meta.coverage.api_calls,
            not_scanned: posture_pipeline::excluded_services(&meta.services),
        },
        summary: report.counts,
        findings: StoredFindings {
            store: &store,
            id: &meta.id,
        },
        drift: report.drift.map(|drift| StoredDrift {
            store: &store,
            id: &meta.id,
            drift,
        }),
        stats: report.stats,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// One row of the findings table.
struct Row {
    status: Status,
    severity: posture_model::Severity,
    rule: String,
    arn: String,
    reason: String,
}

pub fn print_scan_table(
    store: &mut Store,
    report: &Report<'_>,
    all: bool,
    location: &str,
) -> anyhow::Result<()> {
    let (meta, stats) = (report.meta, report.stats);
    let mut shown = Vec::new();
    each_finding(store, &meta.id, |f| {
        if all || matches!(f.status, Status::Fail | Status::Error) {
            shown.push(Row {
                status: f.status,
                severity: f.severity,
                rule: f.rule_id.to_string(),
                arn: f.resource.arn.to_string(),
                reason: f.reason,
            });
        }
    })?;
    // Failures first, most severe first; then errors; stable within by rule and resource.
    let rank = |r: &Row| match r.status {
        Status::Fail => 0,
        Status::Error => 1,
        _ => 2,
    };
    shown.sort_by(|a, b| {
        (rank(a), std::cmp::Reverse(a.severity), &a.rule, &a.arn).cmp(&(
            rank(b),
            std::cmp::Reverse(b.severity),
            &b.rule,
            &b.arn,
        ))
    });
    let mut out = std::io::stdout().lock();
    if !shown.is_empty() {
        writeln!(out, "{}", render_table(&shown, table_width()))?;
    }
    let count = |s: Status| report.counts.get(s.as_str()).copied().unwrap_or(0);
    writeln!(
        out,
        "snapshot {} ({} resources, accounts {}, regions {}): {} pass, {} fail, {} error, {} not applicable",
        meta.id,
        meta.resource_count,
        meta.accounts
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(","),
        meta.regions
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(","),
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Error),
        count(Status::NotApplicable),
    )?;
    let calls = format!(
        "{} API calls ({} attempts, {} throttled) in {:.1} s",
        stats.api_calls, stats.attempts, stats.throttled, stats.wall_seconds
    );
    let not_scanned = posture_pipeline::excluded_services(&meta.services);
    if !not_scanned.is_empty() {
        writeln!(
            out,
            "not scanned (left out of scan.services; their rules are omitted): {}",
            not_scanned.join(", ")
        )?;
    }
    if meta.coverage.failed_calls == 0 {
        writeln!(out, "coverage: every collection complete; {calls}")?;
    } else {
        writeln!(
            out,
            "coverage: {} calls failed (findings that need them are errors); {calls}:",
            meta.coverage.failed_calls
        )?;
        // Grouped by (operation, region, error code): a handful of lines however many
        // resources a denied call hid.
        let mut by_op: BTreeMap<(String, String, Option<String>), usize> = BTreeMap::new();
        for_each_page(
            |after| store.gaps_page(&meta.id, after, PAGE),
            |g| {
                *by_op
                    .entry((g.operation, g.region.to_string(), g.code))
                    .or_default() += 1;
                Ok(())
            },
        )?;
        for ((op, region, code), n) in by_op {
            writeln!(
                out,
                "  {op} in {region}: {} x{n}",
                code.as_deref().unwrap_or("error")
            )?;
        }
    }
    if let Some(d) = report.drift {
        use posture_drift::Transition as T;
        writeln!(
            out,
            "since snapshot {}{}: {} resources changed; {} new failures, {} resolved, {} still failing, {} newly unverifiable",
            d.since,
            if d.accounts > 1 {
                format!(
                    " (the newest; each of {} accounts against its own last scan)",
                    d.accounts
                )
            } else {
                String::new()
            },
            d.resources,
            d.count(T::NewFailure) + d.count(T::WaiverExpired),
            d.count(T::Resolved),
            d.count(T::StillFailing),
            d.count(T::NewError),
        )?;
    }
    writeln!(out, "stored in {location}")?;
    Ok(())
}

/// The width tables are fitted to: `$COLUMNS` when set (as shells export it), else the
/// terminal's width when stdout is a terminal, else [`DEFAULT_WIDTH`]. Every table the
/// binary prints is fitted to it.
pub(crate) fn table_width() -> u16 {
    let columns = std::env::var("COLUMNS").ok();
    let terminal = Table::new().width(); // Some only when stdout is a terminal
    choose_width(columns.as_deref(), terminal)
}

/// Output that is not a terminal (a pipe, a file, a CI log) gets tables this wide.
const DEFAULT_WIDTH: u16 = 120;
/// Narrower than this, the table cannot show a finding usefully (a rule id alone can be 46
/// characters); it is laid out this wide and the terminal wraps it.
const MIN_WIDTH: u16 = 80;

fn choose_width(columns: Option<&str>, terminal: Option<u16>) -> u16 {
    columns
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w > 0)
        .or(terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// The findings table, at most `width` characters wide, two lines per finding: the rule
/// over its reason in one column, so the resource can have the room it needs. Status,
/// severity and the rule keep their full text; the resource (an identifier, which names
/// the region) wraps onto more lines when it must, never cut; the reason takes the rule
/// column's width and is cut to one line with '…' (`--format json` carries it whole).
fn render_table(rows: &[Row], width: u16) -> String {
    const HEADER: [&str; 4] = ["status", "severity", "rule / reason", "resource"];
    // Each column costs its content, one space of padding each side and one border.
    const PER_COLUMN: usize = 3;
    // The reason line is this wide when the width allows (and is at least the rule's).
    const REASON_WANTED: usize = 100;
    let natural = |i: usize, cell: fn(&Row) -> &str| {
        rows.iter()
            .map(|r| cell(r).chars().count())
            .chain([HEADER[i].len()])
            .max()
            .unwrap_or(0)
    };
    let fixed = natural(0, |r| r.status.as_str()) + natural(1, |r| r.severity.as_str());
    let rule = natural(2, |r| r.rule.as_str());
    let resource_natural = natural(3, |r| r.arn.as_str());
    // Left for the rule/reason and the resource once the borders and the fixed columns are in.
    let left = usize::from(width).saturating_sub(HEADER.len() * PER_COLUMN + 1 + fixed);
    // The resource gets its natural width when that leaves the reason what it wants; else
    // half of what is left, or less so the rule stays on one line.
    let resource = resource_natural
        .min((left / 2).max(left.saturating_sub(REASON_WANTED.max(rule))))
        .min(left.saturating_sub(rule))
        .max(HEADER[3].len());
    let finding = left.saturating_sub(resource).max(rule);
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(HEADER);
    for r in rows {
        table.add_row([
            r.status.as_str().to_owned(),
            r.severity.as_str().to_owned(),
            format!("{}\n{}", r.rule, cut(&r.reason, finding)),
            r.arn.clone(),
        ]);
    }
    // comfy-table's widths include the padding.
    let width_of = |n: usize| Width::Fixed(u16::try_from(n + 2).unwrap_or(u16::MAX));
    for (i, constraint) in [
        (0, ColumnConstraint::ContentWidth),
        (1, ColumnConstraint::ContentWidth),
        (2, ColumnConstraint::Absolute(width_of(finding))),
        (3, ColumnConstraint::UpperBoundary(width_of(resource))),
    ] {
        if let Some(column) = table.column_mut(i) {
            column.set_constraint(constraint);
        }
    }
    table.to_string()
}

/// `text` on one line of at most `max` characters: line breaks become spaces, and a longer
/// text is cut with '…'.
fn cut(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let kept: String = one_line.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use posture_model::Severity;

    const LONG_ARN: &str = "arn:aws:autoscaling:us-east-1:123456789012:launchConfiguration:\
        9dbbbf87-6141-428a-a409-0752edbe6cad:launchConfigurationName/phi-lc-bad-public-ip";

    fn row(status: Status, rule: &str, arn: &str, reason: &str) -> Row {
        Row {
            status,
            severity: Severity::Critical,
            rule: rule.to_owned(),
            arn: arn.to_owned(),
            reason: reason.to_owned(),
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            row(
                Status::Fail,
                "autoscaling_launch_config_no_public_ip",
                LONG_ARN,
                &format!(
                    "instances launched get a public IP address; {}",
                    "x".repeat(400)
                ),
            ),
            row(
                Status::Error,
                "s3_bucket_versioning",
                "arn:aws:s3:::phi-bad-plain",
                "versioning could not be collected:\nline two",
            ),
        ]
    }

    fn widest(table: &str) -> usize {
        table.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    /// The cells of column `i` (0-based) of every line after the header, in order, trimmed.
    fn column(table: &str, i: usize) -> Vec<String> {
        table
            .lines()
            .skip_while(|l| !l.starts_with('╞'))
            .filter(|l| l.starts_with('│'))
            .map(|l| {
                let inner = l.trim_start_matches('│').trim_end_matches('│');
                inner.split('┆').nth(i).unwrap_or("").trim().to_owned()
            })
            .collect()
    }

    /// The reason line of each finding: the line after its rule.
    fn reasons(table: &str) -> Vec<String> {
        let cells = column(table, 2);
        cells
            .iter()
            .zip(cells.iter().skip(1))
            .filter(|(rule, _)| {
                [
                    "autoscaling_launch_config_no_public_ip",
                    "s3_bucket_versioning",
                ]
                .contains(&rule.as_str())
            })
            .map(|(_, reason)| reason.clone())
            .collect()
    }

    #[test]
    fn the_table_fits_the_width_and_cuts_only_the_reason() {
        for width in [MIN_WIDTH, 120, 160, 200] {
            let table = render_table(&rows(), width);
            assert!(
                widest(&table) <= usize::from(width),
                "at {width} the widest line is {}:\n{table}",
                widest(&table)
            );
            // The resource is never cut: its wrapped pieces put together are the ARNs.
            assert_eq!(
                column(&table, 3).concat(),
                format!("{LONG_ARN}arn:aws:s3:::phi-bad-plain"),
                "at {width}:\n{table}"
            );
            // Each rule is whole on its line; the long reason is cut with '…' on the next.
            let reasons = reasons(&table);
            assert_eq!(reasons.len(), 2, "at {width}:\n{table}");
            assert!(
                reasons[0].starts_with("instances launched") && reasons[0].ends_with('…'),
                "at {width}: {reasons:?}\n{table}"
            );
            // A line break in a reason becomes a space; a short reason is whole when the
            // rule column holds it.
            let whole = "versioning could not be collected: line two";
            if width >= 120 {
                assert_eq!(reasons[1], whole, "at {width}:\n{table}");
            } else {
                let kept = reasons[1].trim_end_matches('…');
                assert!(whole.starts_with(kept), "at {width}: {reasons:?}");
            }
            // Two lines per finding from 120 columns on, more when the 146-character ARN needs them.
            let body = column(&table, 0).len();
            assert!(
                width < 120 || (4..=6).contains(&body),
                "at {width}: {body} lines\n{table}"
            );
        }
    }

    #[test]
    fn a_wide_terminal_shows_resources_on_one_line_and_longer_reasons() {
        let table = render_table(&rows(), 300);
        assert!(widest(&table) <= 300, "{table}");
        assert_eq!(column(&table, 3)[0], LONG_ARN, "{table}");
        let reasons = reasons(&table);
        assert!(
            reasons[0].ends_with('…') && reasons[0].chars().count() >= 100,
            "{reasons:?}"
        );
        // At 120 the reason gets less room, but never less than the rule's.
        let narrow = reasons_at(120);
        assert!(
            narrow[0].chars().count() >= "autoscaling_launch_config_no_public_ip".len(),
            "{narrow:?}"
        );
    }

    fn reasons_at(width: u16) -> Vec<String> {
        reasons(&render_table(&rows(), width))
    }

    #[test]
    fn width_comes_from_columns_then_the_terminal_then_the_default() {
        assert_eq!(choose_width(Some("200"), Some(90)), 200);
        assert_eq!(choose_width(None, Some(130)), 130);
        assert_eq!(choose_width(Some("wide"), Some(130)), 130);
        assert_eq!(choose_width(Some("0"), None), DEFAULT_WIDTH);
        assert_eq!(choose_width(None, None), 120);
        assert_eq!(choose_width(Some("20"), None), MIN_WIDTH);
        assert_eq!(choose_width(None, Some(70)), MIN_WIDTH);
    }

    #[test]
    fn cut_keeps_short_text_and_cuts_long_text_with_an_ellipsis() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        assert_eq!(cut("ab  cd", 4), "ab…");
        assert_eq!(cut("a\nb", 10), "a b");
    }
}
