//! The JSON report: one document, written as it is read (the head's fields, then each
//! section an array of its rows). Field names are `posture scan --format json`'s.

use std::io::Write;

use serde::Serialize;

use crate::ReportError;
use crate::model::{AttestationRow, DriftRow, FailingRow, GapRow, Head, RuleGroup, WaiverRow};
use crate::sink::{Section, Sink};

type R = Result<(), ReportError>;

pub(crate) struct Json<'a> {
    out: &'a mut dyn Write,
    /// No element written yet in the array being written.
    first: bool,
    /// No rule group written yet.
    first_rule: bool,
}

impl<'a> Json<'a> {
    pub(crate) fn new(out: &'a mut dyn Write) -> Self {
        Json {
            out,
            first: true,
            first_rule: true,
        }
    }

    fn field(&mut self, name: &str, value: &impl Serialize) -> R {
        write!(self.out, ",\n\"{name}\": ")?;
        serde_json::to_writer_pretty(&mut *self.out, value)?;
        Ok(())
    }

    fn rows<T: Serialize>(&mut self, rows: &[T]) -> R {
        for row in rows {
            if !self.first {
                self.out.write_all(b",\n")?;
            }
            self.first = false;
            serde_json::to_writer_pretty(&mut *self.out, row)?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct About<'h> {
    baseline: &'h str,
    baseline_version: &'h str,
    as_of: &'h str,
    since: &'h str,
    account_filter: &'h [String],
}

impl Sink for Json<'_> {
    fn head(&mut self, head: &Head) -> R {
        self.out.write_all(b"{\n\"report\": ")?;
        serde_json::to_writer_pretty(
            &mut *self.out,
            &About {
                baseline: &head.baseline,
                baseline_version: &head.baseline_version,
                as_of: &head.as_of,
                since: &head.since,
                account_filter: &head.account_filter,
            },
        )?;
        self.field("snapshot", &head.snapshot)?;
        self.field("summary", &head.totals)?;
        self.field("standards", &head.standards)?;
        self.field("citations", &head.citations)?;
        self.field("period", &head.period)?;
        self.field("coverage", &head.coverage)?;
        self.field("chain", &head.chain)
    }

    fn open(&mut self, section: Section, _: &Head) -> R {
        let name = match section {
            Section::Rules => "rules",
            Section::Waivers => "waivers",
            Section::Attestations => "attestations",
            Section::Gaps => "gaps",
            Section::Drift => "drift",
        };
        write!(self.out, ",\n\"{name}\": [\n")?;
        self.first = true;
        self.first_rule = true;
        Ok(())
    }

    fn close(&mut self, _: Section) -> R {
        self.out.write_all(b"\n]")?;
        Ok(())
    }

    fn rule_open(&mut self, rule: &RuleGroup) -> R {
        if !self.first_rule {
            self.out.write_all(b",\n")?;
        }
        self.first_rule = false;
        let text = serde_json::to_string_pretty(rule)?;
        // The group's fields, then its findings.
        let open = text.strip_suffix('}').unwrap_or(&text).trim_end();
        write!(self.out, "{open},\n  \"findings\": [\n")?;
        self.first = true;
        Ok(())
    }

    fn failing(&mut self, rows: &[FailingRow]) -> R {
        self.rows(rows)
    }

    fn rule_close(&mut self, _: &RuleGroup) -> R {
        self.out.write_all(b"\n]}")?;
        Ok(())
    }

    fn waivers(&mut self, rows: &[WaiverRow]) -> R {
        self.rows(rows)
    }

    fn attestations(&mut self, rows: &[AttestationRow]) -> R {
        self.rows(rows)
    }

    fn gaps(&mut self, rows: &[GapRow]) -> R {
        self.rows(rows)
    }

    fn drift(&mut self, rows: &[DriftRow]) -> R {
        self.rows(rows)
    }

    fn finish(&mut self, _: &Head) -> R {
        self.out.write_all(b"\n}\n")?;
        Ok(())
    }
}
