//! The HTML report: one self-contained file (inline CSS, no script, no external asset),
//! rendered with minijinja with autoescape (every template is `.html`, so every value is
//! escaped; no template marks anything safe). Expandable per-rule details are
//! `<details>`/`<summary>`, readable without JavaScript; the print stylesheet opens them
//! and starts each standard on a new page. Each section's page of rows is rendered and
//! written as soon as it is read.

use std::io::Write;

use minijinja::{Environment, context};
use serde::Serialize;

use crate::ReportError;
use crate::model::{AttestationRow, DriftRow, FailingRow, GapRow, Head, RuleGroup, WaiverRow};
use crate::sink::{Section, Sink};

type R = Result<(), ReportError>;

const TEMPLATES: [(&str, &str); 8] = [
    ("head.html", include_str!("../templates/head.html")),
    (
        "rule_open.html",
        include_str!("../templates/rule_open.html"),
    ),
    ("failing.html", include_str!("../templates/failing.html")),
    (
        "section_open.html",
        include_str!("../templates/section_open.html"),
    ),
    ("waivers.html", include_str!("../templates/waivers.html")),
    (
        "attestations.html",
        include_str!("../templates/attestations.html"),
    ),
    ("rows.html", include_str!("../templates/rows.html")),
    ("finish.html", include_str!("../templates/finish.html")),
];

pub(crate) struct Html<'a> {
    out: &'a mut dyn Write,
    env: Environment<'static>,
    rows: u64,
}

impl<'a> Html<'a> {
    pub(crate) fn new(out: &'a mut dyn Write) -> Result<Self, ReportError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Html { out, env, rows: 0 })
    }

    fn render(&mut self, name: &str, ctx: minijinja::Value) -> R {
        self.env
            .get_template(name)?
            .render_captured_to(ctx, &mut *self.out)?;
        Ok(())
    }
}

/// A value of the evidence or a tag, as text: strings as they are, anything else as
/// compact JSON.
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Serialize)]
struct Row<'r> {
    arn: &'r str,
    account: &'r str,
    region: &'r str,
    phi: bool,
    reason: &'r str,
    evidence: Vec<(&'r str, String)>,
    tags: Vec<(&'r str, &'r str)>,
    first_seen: Option<String>,
}

#[derive(Serialize)]
struct Standard<'h> {
    #[serde(flatten)]
    summary: &'h crate::model::StandardSummary,
    chart: crate::svg::Chart,
}

impl Sink for Html<'_> {
    fn head(&mut self, head: &Head) -> R {
        let standards: Vec<Standard<'_>> = head
            .standards
            .iter()
            .map(|s| Standard {
                summary: s,
                chart: crate::svg::chart(&s.trend),
            })
            .collect();
        self.render("head.html", context! { h => head, standards => standards })
    }

    fn open(&mut self, section: Section, head: &Head) -> R {
        self.rows = 0;
        let name = match section {
            Section::Rules => "rules",
            Section::Waivers => "waivers",
            Section::Attestations => "attestations",
            Section::Gaps => "gaps",
            Section::Drift => "drift",
        };
        self.render("section_open.html", context! { section => name, h => head })
    }

    fn close(&mut self, section: Section) -> R {
        let empty = self.rows == 0 && section != Section::Rules;
        let end = match section {
            Section::Rules => "</section>\n",
            _ => "</tbody></table>\n</section>\n",
        };
        if empty {
            self.out
                .write_all(b"<p class=\"none\">None in this report.</p>\n")?;
        }
        self.out.write_all(end.as_bytes())?;
        Ok(())
    }

    fn rule_open(&mut self, rule: &RuleGroup) -> R {
        self.render("rule_open.html", context! { r => rule })
    }

    fn failing(&mut self, rows: &[FailingRow]) -> R {
        let rows: Vec<Row<'_>> = rows
            .iter()
            .map(|r| {
                let f = &r.finding;
                Row {
                    arn: f.resource.arn.as_str(),
                    account: f.resource.account.as_str(),
                    region: f.resource.region.as_str(),
                    phi: f.phi,
                    reason: &f.reason,
                    evidence: f
                        .evidence
                        .iter()
                        .map(|(k, v)| (k.as_str(), text(v)))
                        .collect(),
                    tags: f
                        .resource
                        .tags
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect(),
                    first_seen: f.first_seen.map(|t| t.to_rfc3339()),
                }
            })
            .collect();
        self.rows += rows.len() as u64;
        self.render("failing.html", context! { rows => rows })
    }

    fn rule_close(&mut self, _: &RuleGroup) -> R {
        self.out.write_all(b"</tbody></table>\n</details>\n")?;
        Ok(())
    }

    fn waivers(&mut self, rows: &[WaiverRow]) -> R {
        self.rows += rows.len() as u64;
        self.render("waivers.html", context! { rows => rows })
    }

    fn attestations(&mut self, rows: &[AttestationRow]) -> R {
        self.rows += rows.len() as u64;
        self.render("attestations.html", context! { rows => rows })
    }

    fn gaps(&mut self, rows: &[GapRow]) -> R {
        self.rows += rows.len() as u64;
        self.render("rows.html", context! { kind => "gaps", rows => rows })
    }

    fn drift(&mut self, rows: &[DriftRow]) -> R {
        self.rows += rows.len() as u64;
        self.render("rows.html", context! { kind => "drift", rows => rows })
    }

    fn finish(&mut self, head: &Head) -> R {
        self.render("finish.html", context! { h => head })
    }
}
