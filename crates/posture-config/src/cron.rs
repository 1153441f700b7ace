//! Shape checks of a cron expression, without a cron crate: five fields (minute, hour,
//! day of month, month, day of week) of numbers, `*`, ranges `a-b`, steps `/n` and lists
//! `a,b`. The daemon that will run the schedule is not built yet; this makes a typo fail
//! when the configuration is read rather than when the daemon starts.

/// (name, lowest, highest) of each field.
const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

/// Checks `expr`; the error names the field and what it accepts.
pub fn check_cron(expr: &str) -> Result<(), String> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != FIELDS.len() {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 * * * *\" for hourly; found {}",
            parts.len()
        ));
    }
    for (part, (name, lo, hi)) in parts.iter().zip(FIELDS) {
        for item in part.split(',') {
            check_item(item, lo, hi).map_err(|why| {
                format!("{name} field {part:?}: {why} (numbers {lo} to {hi}, *, a-b, */n, a-b/n, lists a,b)")
            })?;
        }
    }
    Ok(())
}

fn check_item(item: &str, lo: u32, hi: u32) -> Result<(), String> {
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if let Some(step) = step {
        let n = number(step)?;
        if n == 0 {
            return Err("a step of 0".into());
        }
    }
    if range == "*" {
        return Ok(());
    }
    let (a, b) = match range.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let a = number(range)?;
            (a, a)
        }
    };
    for n in [a, b] {
        if n < lo || n > hi {
            return Err(format!("{n} is out of range"));
        }
    }
    if a > b {
        return Err(format!("the range {a}-{b} runs backwards"));
    }
    Ok(())
}

fn number(s: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a number"));
    }
    s.parse().map_err(|_| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_schedules_pass() {
        for ok in [
            "0 * * * *",
            "*/15 * * * *",
            "30 2 * * 1-5",
            "0 0,12 1 */2 *",
            "59 23 31 12 7",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn malformed_schedules_name_the_field() {
        assert!(
            check_cron("0 * * *")
                .unwrap_err()
                .contains("expected 5 fields")
        );
        assert!(
            check_cron("60 * * * *")
                .unwrap_err()
                .starts_with("minute field \"60\": 60 is out of range")
        );
        assert!(
            check_cron("0 24 * * *")
                .unwrap_err()
                .starts_with("hour field")
        );
        assert!(
            check_cron("0 * 0 * *")
                .unwrap_err()
                .starts_with("day of month field")
        );
        assert!(
            check_cron("0 * * 13 *")
                .unwrap_err()
                .starts_with("month field")
        );
        assert!(
            check_cron("0 * * * 8")
                .unwrap_err()
                .starts_with("day of week field")
        );
        assert!(
            check_cron("*/0 * * * *")
                .unwrap_err()
                .contains("a step of 0")
        );
        assert!(
            check_cron("5-1 * * * *")
                .unwrap_err()
                .contains("runs backwards")
        );
        assert!(
            check_cron("0 * * * MON")
                .unwrap_err()
                .contains("\"MON\" is not a number")
        );
    }
}
