//! `backup_plan_min_frequency_retention`: some rule of the backup plan backs up at least
//! every `max_hours_between_backups` hours and keeps recovery points at least
//! `min_retention_days` days (AWS Config's defaults: daily, 35 days). Every rule of a plan
//! applies to every resource the plan's selections assign, so one such rule protects them
//! all.
//!
//! The longest gap between runs is computed from the schedule: `rate(N unit)` is N units;
//! `cron(min hour day-of-month month day-of-week year)` runs on the listed hours of the
//! listed days, and its gap is the longest distance between consecutive listed hours
//! (within a day, and between the last run of one listed day and the first of the next).
//! Days of month are taken over a 31-day month, so `cron(0 5 1 * ? *)` (monthly) is 744
//! hours. A schedule restricted to some months, or one this reading does not cover
//! (`L`, `W`, `#`), counts as not meeting the frequency.

use posture_model::resources::BackupRule;
use posture_model::{Resource, ResourceBody, ResourceKind, Severity};
use serde_json::{Value, json};

use crate::{Ctx, Outcome, ParamSpec, ParamType, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct BackupPlanMinFrequencyRetention;

static META: RuleMeta = RuleMeta {
    id: "backup_plan_min_frequency_retention",
    title: "Backup plan backs up at least daily and retains recovery points at least 35 days",
    severity: Severity::Medium,
    subject: ResourceKind::BackupPlan,
    rationale: "Infrequent backups lose the ePHI written since the last one, and short \
                retention leaves no clean copy once corruption or ransomware is noticed late; \
                the data backup plan must keep retrievable exact copies (164.308(a)(7)(i), \
                164.308(a)(7)(ii)(A)-(C), 164.310(d)(2)(iv), 164.312(a)(2)(ii)).",
    remediation: "Edit the plan's rule (AWS Backup console > Backup plans > plan > rule > Edit, or \
                  UpdateBackupPlan): a schedule of at least daily (e.g. cron(0 5 ? * * *)) and \
                  Lifecycle DeleteAfterDays of at least 35 (or no expiry).",
    api_calls: &["backup:ListBackupPlans", "backup:GetBackupPlan"],
    params: &[
        ParamSpec {
            name: "max_hours_between_backups",
            ty: ParamType::Integer,
            default: "24",
            doc: "The longest allowed gap between scheduled backups, in hours.",
        },
        ParamSpec {
            name: "min_retention_days",
            ty: ParamType::Integer,
            default: "35",
            doc: "The shortest allowed retention (DeleteAfterDays) of a recovery point.",
        },
    ],
};

impl Rule for BackupPlanMinFrequencyRetention {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::BackupPlan(plan) = &subject.body else {
            return Outcome::not_applicable("not a backup plan");
        };
        let Some(rules) = try_observed!(plan.rules, "the backup plan's rules") else {
            return Outcome::error("GetBackupPlan returned no rules for the plan")
                .with("rules", "absent");
        };
        let max_hours = ctx.int("max_hours_between_backups");
        let min_days = ctx.int("min_retention_days");
        let mut evidence: Vec<Value> = Vec::new();
        let mut meeting = None;
        for r in rules {
            let (interval, ok_frequency) = match r.schedule_expression.as_deref() {
                None => (Err("no schedule: on demand only".to_owned()), false),
                Some(expr) => match max_interval_hours(expr) {
                    Ok(h) => (Ok(h), h <= max_hours),
                    Err(e) => (Err(e), false),
                },
            };
            let ok_retention = r.delete_after_days.is_none_or(|d| d >= min_days);
            evidence.push(rule_evidence(r, &interval, ok_frequency, ok_retention));
            if ok_frequency && ok_retention && meeting.is_none() {
                meeting = Some(r.rule_name.clone());
            }
        }
        let outcome = match &meeting {
            Some(name) => Outcome::pass(format!(
                "rule {name} backs up at least every {max_hours} hours and keeps recovery \
                 points at least {min_days} days"
            )),
            None if rules.is_empty() => Outcome::fail("the plan has no rules"),
            None => Outcome::fail(format!(
                "no rule of the plan both backs up at least every {max_hours} hours and keeps \
                 recovery points at least {min_days} days (see rules)"
            )),
        };
        outcome
            .with("meeting_rule", meeting)
            .with("rules", evidence)
            .with("max_hours_between_backups", max_hours)
            .with("min_retention_days", min_days)
    }
}

fn rule_evidence(
    r: &BackupRule,
    interval: &Result<i64, String>,
    ok_frequency: bool,
    ok_retention: bool,
) -> Value {
    json!({
        "rule": r.rule_name,
        "schedule_expression": r.schedule_expression,
        "max_hours_between_backups": interval.as_ref().ok(),
        "schedule_problem": interval.as_ref().err(),
        "delete_after_days": r.delete_after_days,
        "frequency_ok": ok_frequency,
        "retention_ok": ok_retention,
    })
}

/// The longest gap, in whole hours (rounded up), between two runs of a schedule.
pub(crate) fn max_interval_hours(expr: &str) -> Result<i64, String> {
    let expr = expr.trim();
    if let Some(body) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        let mut parts = body.split_whitespace();
        let n: i64 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("unreadable rate {expr}"))?;
        let unit = parts.next().unwrap_or_default().to_ascii_lowercase();
        return match unit.trim_end_matches('s') {
            "minute" => Ok((n + 59) / 60),
            "hour" => Ok(n),
            "day" => Ok(n * 24),
            _ => Err(format!("unreadable rate unit in {expr}")),
        };
    }
    let body = expr
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("{expr} is neither cron(...) nor rate(...)"))?;
    let f: Vec<&str> = body.split_whitespace().collect();
    let [_minute, hour, dom, month, dow, ..] = f[..] else {
        return Err(format!("{expr} does not have 6 cron fields"));
    };
    if !is_any(month) {
        return Err(format!("{expr} runs only in some months"));
    }
    let hours = values(hour, 0, 23, &[])?;
    // Days, as positions on a timeline of a 31-day month or a 7-day week.
    let (days, period) = match (is_any(dom), is_any(dow)) {
        (true, true) => (vec![0], 1),
        (false, true) => (values(dom, 1, 31, &[])?, 31),
        (true, false) => (
            values(
                dow,
                1,
                7,
                &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            )?,
            7,
        ),
        (false, false) => return Err(format!("{expr} sets both day fields")),
    };
    // Run times in hours from the start of the period, then the longest circular gap.
    let mut times: Vec<i64> = Vec::new();
    for d in &days {
        let day = if period == 1 { 0 } else { d - 1 };
        for h in &hours {
            times.push(day * 24 + h);
        }
    }
    times.sort_unstable();
    times.dedup();
    let span = period * 24;
    let mut max = 0;
    for (i, t) in times.iter().enumerate() {
        let next = times.get(i + 1).copied().unwrap_or(times[0] + span);
        max = max.max(next - t);
    }
    Ok(max)
}

fn is_any(field: &str) -> bool {
    field == "*" || field == "?"
}

/// The values a cron field selects within `lo..=hi` (`*`, `a`, `a-b`, `a/n`, `*/n`,
/// `a-b/n`, comma lists; `names` spell values from `lo`).
fn values(field: &str, lo: i64, hi: i64, names: &[&str]) -> Result<Vec<i64>, String> {
    let num = |s: &str| -> Result<i64, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(lo + i as i64);
        }
        s.parse::<i64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| format!("unsupported cron value {s}"))
    };
    let mut out = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<i64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("unsupported cron step {part}"))?,
            ),
            None => (part, 1),
        };
        let (from, to) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a)?, num(b)?)
        } else {
            let a = num(range)?;
            (a, if part.contains('/') { hi } else { a })
        };
        let mut v = from;
        while v <= to {
            out.push(v);
            v += step;
        }
    }
    if out.is_empty() {
        return Err(format!("cron field {field} selects nothing"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::backup::fixtures::*;
    use crate::testing::*;

    #[test]
    fn schedules() {
        assert_eq!(max_interval_hours("cron(0 5 ? * * *)"), Ok(24));
        assert_eq!(max_interval_hours("cron(0 */6 * * ? *)"), Ok(6));
        assert_eq!(max_interval_hours("cron(0 5,17 ? * * *)"), Ok(12));
        assert_eq!(max_interval_hours("cron(0 5 ? * SUN *)"), Ok(168));
        assert_eq!(max_interval_hours("cron(0 5 ? * MON-FRI *)"), Ok(72));
        assert_eq!(max_interval_hours("cron(0 5 1 * ? *)"), Ok(744));
        assert_eq!(max_interval_hours("rate(12 hours)"), Ok(12));
        assert_eq!(max_interval_hours("rate(1 day)"), Ok(24));
        assert!(max_interval_hours("cron(0 5 L * ? *)").is_err());
        assert!(max_interval_hours("cron(0 5 1 1 ? *)").is_err());
    }

    #[test]
    fn pass_with_a_daily_35_day_rule() {
        let o = expect(
            run(
                &BackupPlanMinFrequencyRetention,
                &plan_resource(plan("p", vec![])),
                &[],
            ),
            Status::Pass,
        );
        assert_eq!(o.evidence["meeting_rule"], "daily");
        assert_eq!(o.evidence["rules"][0]["max_hours_between_backups"], 24);
    }

    #[test]
    fn fail_when_weekly_or_short_retention() {
        let mut p = plan("p", vec![]);
        let mut weekly = daily_rule();
        weekly.schedule_expression = Some("cron(0 5 ? * SUN *)".into());
        let mut short = daily_rule();
        short.rule_name = "short".into();
        short.delete_after_days = Some(7);
        p.rules = Observed::Collected(vec![weekly, short]);
        let o = expect(
            run(&BackupPlanMinFrequencyRetention, &plan_resource(p), &[]),
            Status::Fail,
        );
        assert_eq!(o.evidence["rules"][0]["frequency_ok"], false);
        assert_eq!(o.evidence["rules"][1]["retention_ok"], false);
    }

    #[test]
    fn error_when_plan_unreadable() {
        let mut p = plan("p", vec![]);
        p.rules = denied("backup:GetBackupPlan");
        let o = expect(
            run(&BackupPlanMinFrequencyRetention, &plan_resource(p), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("backup:GetBackupPlan"), "{}", o.reason);
    }
}
