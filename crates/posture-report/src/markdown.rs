//! The Markdown report, for tickets: the summary per standard, the citation tree, then each
//! section as a table, written as it is read. Cells are escaped (`|`, line breaks and
//! angle brackets), so a value can neither break a table nor inject markup.

use std::io::Write;

use crate::ReportError;
use crate::model::{
    AttestationRow, DriftRow, FailingRow, GapRow, Head, RuleGroup, StatusCounts, WaiverRow,
};
use crate::sink::{Section, Sink};

type R = Result<(), ReportError>;

pub(crate) struct Markdown<'a> {
    out: &'a mut dyn Write,
    /// Rows written in the current section.
    rows: u64,
}

impl<'a> Markdown<'a> {
    pub(crate) fn new(out: &'a mut dyn Write) -> Self {
        Markdown { out, rows: 0 }
    }

    fn row(&mut self, cells: &[&str]) -> R {
        self.rows += 1;
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        writeln!(self.out, "| {} |", cells.join(" | "))?;
        Ok(())
    }

    fn header(&mut self, cells: &[&str]) -> R {
        writeln!(self.out, "| {} |", cells.join(" | "))?;
        writeln!(
            self.out,
            "|{}",
            cells.iter().map(|_| " --- |").collect::<String>()
        )?;
        Ok(())
    }
}

/// One table cell: no line break, no pipe, no markup.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

fn counts(c: &StatusCounts) -> [String; 6] {
    [
        c.pass,
        c.fail,
        c.error,
        c.waived,
        c.manual,
        c.not_applicable,
    ]
    .map(|n| n.to_string())
}

impl Sink for Markdown<'_> {
    fn head(&mut self, h: &Head) -> R {
        writeln!(self.out, "# HIPAA evidence report: {}\n", cell(&h.baseline))?;
        writeln!(
            self.out,
            "- Snapshot: `{}` (collected {} to {}), manifest hash `{}`",
            h.snapshot.snapshot_id,
            h.snapshot.started_at,
            h.snapshot.finished_at,
            h.snapshot.hash.as_deref().unwrap_or("none")
        )?;
        writeln!(
            self.out,
            "- Baseline: {} version {}",
            cell(&h.baseline),
            cell(&h.baseline_version)
        )?;
        writeln!(
            self.out,
            "- Accounts: {}",
            cell(&h.coverage.accounts.join(", "))
        )?;
        writeln!(
            self.out,
            "- Period: from {} ({} snapshots)",
            h.since,
            h.period.len()
        )?;
        writeln!(
            self.out,
            "- Hash chain: **{}** ({} snapshots checked, head `{}`)",
            if h.chain.intact {
                "intact"
            } else {
                "NOT intact"
            },
            h.chain.snapshots,
            h.chain.head.as_deref().unwrap_or("none")
        )?;
        writeln!(self.out, "- Report made: {}\n", h.as_of)?;

        writeln!(self.out, "## Summary per standard\n")?;
        self.header(&[
            "Standard",
            "Controls",
            "Failing",
            "Unverified",
            "pass",
            "fail",
            "error",
            "waived",
            "manual",
            "n/a",
        ])?;
        for s in &h.standards {
            let [p, f, e, w, m, n] = counts(&s.counts);
            self.row(&[
                &format!("{} {}", s.id, s.title),
                &s.controls.to_string(),
                &s.controls_failing.to_string(),
                &s.controls_unverified.to_string(),
                &p,
                &f,
                &e,
                &w,
                &m,
                &n,
            ])?;
        }
        writeln!(self.out, "\n## Citations\n")?;
        for s in &h.standards {
            writeln!(self.out, "### {} {}\n", s.id, cell(&s.title))?;
            for c in h.citations.iter().filter(|c| c.standard == s.id) {
                writeln!(
                    self.out,
                    "- **{}** {}: `{}`",
                    cell(&c.id),
                    cell(&c.title),
                    c.status
                )?;
                for r in &c.rules {
                    writeln!(
                        self.out,
                        "  - `{}` ({}): `{}` ({} pass, {} fail, {} error)",
                        r.rule_id, r.kind, r.status, r.counts.pass, r.counts.fail, r.counts.error
                    )?;
                }
            }
            writeln!(self.out)?;
        }
        Ok(())
    }

    fn open(&mut self, section: Section, h: &Head) -> R {
        self.rows = 0;
        match section {
            Section::Rules => writeln!(self.out, "## Failing resources by rule\n")?,
            Section::Waivers => {
                writeln!(self.out, "## Waiver register\n")?;
                self.header(&[
                    "Ticket",
                    "Owner",
                    "Justification",
                    "Expires",
                    "Rule",
                    "Resource",
                    "Account",
                ])?;
            }
            Section::Attestations => {
                writeln!(self.out, "## Manual attestations\n")?;
                self.header(&[
                    "Control",
                    "Account",
                    "State",
                    "Attested by",
                    "On",
                    "Expires",
                    "Evidence",
                ])?;
            }
            Section::Gaps => {
                writeln!(self.out, "## Coverage\n")?;
                writeln!(
                    self.out,
                    "Accounts: {}. Regions: {}. Services: {}. Failed calls: {}.\n",
                    cell(&h.coverage.accounts.join(", ")),
                    cell(&h.coverage.regions.join(", ")),
                    cell(&h.coverage.services.join(", ")),
                    h.coverage.failed_calls
                )?;
                self.header(&[
                    "Account",
                    "Region",
                    "Operation",
                    "Resource",
                    "Failure",
                    "Rules left unverified",
                ])?;
            }
            Section::Drift => {
                writeln!(self.out, "## Drift in the period\n")?;
                self.header(&["Scan", "Event", "Rule", "Resource", "Account"])?;
            }
        }
        Ok(())
    }

    fn close(&mut self, section: Section) -> R {
        if self.rows == 0 && section != Section::Rules {
            writeln!(self.out, "| (none) |")?;
        }
        writeln!(self.out)?;
        Ok(())
    }

    fn rule_open(&mut self, rule: &RuleGroup) -> R {
        writeln!(
            self.out,
            "### `{}` {} ({}, {} failing)\n\nCitations: {}\n",
            rule.rule_id,
            cell(&rule.title),
            rule.severity,
            rule.failing,
            cell(&rule.citations.join(", "))
        )?;
        self.header(&["Resource", "Account", "Region", "PHI", "Reason", "Evidence"])
    }

    fn failing(&mut self, rows: &[FailingRow]) -> R {
        for r in rows {
            let f = &r.finding;
            let evidence = serde_json::to_string(&f.evidence)?;
            self.row(&[
                f.resource.arn.as_str(),
                f.resource.account.as_str(),
                f.resource.region.as_str(),
                if f.phi { "yes" } else { "no" },
                &f.reason,
                &evidence,
            ])?;
        }
        Ok(())
    }

    fn rule_close(&mut self, _: &RuleGroup) -> R {
        writeln!(self.out)?;
        Ok(())
    }

    fn waivers(&mut self, rows: &[WaiverRow]) -> R {
        for w in rows {
            let expires = if w.expired {
                format!("{} (EXPIRED)", w.expires)
            } else {
                w.expires.clone()
            };
            self.row(&[
                &w.ticket,
                &w.owner,
                &w.justification,
                &expires,
                &w.rule_id,
                &w.arn,
                &w.account,
            ])?;
        }
        Ok(())
    }

    fn attestations(&mut self, rows: &[AttestationRow]) -> R {
        for a in rows {
            self.row(&[
                &a.rule_id,
                &a.account,
                &a.state,
                a.attested_by.as_deref().unwrap_or(""),
                a.attested_on.as_deref().unwrap_or(""),
                a.expires.as_deref().unwrap_or(""),
                a.evidence.as_deref().unwrap_or(""),
            ])?;
        }
        Ok(())
    }

    fn gaps(&mut self, rows: &[GapRow]) -> R {
        for g in rows {
            self.row(&[
                &g.account,
                &g.region,
                &g.operation,
                g.resource.as_deref().unwrap_or("(every resource)"),
                &format!("{} {}", g.kind, g.code.as_deref().unwrap_or("")),
                &g.rules.join(", "),
            ])?;
        }
        Ok(())
    }

    fn drift(&mut self, rows: &[DriftRow]) -> R {
        for d in rows {
            self.row(&[
                &d.started_at,
                &d.event,
                d.rule_id.as_deref().unwrap_or(""),
                &d.arn,
                &d.account,
            ])?;
        }
        Ok(())
    }

    fn finish(&mut self, h: &Head) -> R {
        writeln!(self.out, "## Hash chain\n")?;
        writeln!(
            self.out,
            "{} snapshots and {} resource bodies verified: **{}**; head `{}`.",
            h.chain.snapshots,
            h.chain.bodies,
            if h.chain.intact {
                "intact"
            } else {
                "NOT intact"
            },
            h.chain.head.as_deref().unwrap_or("none")
        )?;
        for p in &h.chain.problems {
            writeln!(self.out, "- ALTERED {}", cell(p))?;
        }
        Ok(())
    }
}
