//! Durations written the way people write them: `90s`, `30m`, `1h`, `1h30m`, `2d`.
//! Parsed by hand: the workspace has no duration crate, and these four units are all the
//! daemon's settings need.

use std::time::Duration;

/// Parses `text` as one or more `<whole number><unit>` parts (`s`, `m`, `h`, `d`), e.g.
/// `1h30m`. Whitespace between parts is allowed. The error says what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("expected a duration such as \"90s\", \"30m\", \"1h\" or \"1h30m\"".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in compact.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "unknown unit {c:?}: write a duration such as \"90s\", \"30m\", \"1h\" or \"2d\" (units s, m, h, d)"
                ));
            }
        };
        if digits.is_empty() {
            return Err(format!(
                "{c:?} has no number before it: write a duration such as \"30m\" or \"1h\""
            ));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{digits} is too large"))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| "the duration is too large".to_owned())?;
    }
    if !digits.is_empty() {
        return Err(format!(
            "{digits} has no unit: write \"{digits}s\", \"{digits}m\", \"{digits}h\" or \"{digits}d\""
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_combinations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn malformed_durations_say_what_to_write() {
        assert!(
            parse_duration("")
                .unwrap_err()
                .contains("expected a duration")
        );
        assert!(parse_duration("60").unwrap_err().contains("\"60s\""));
        assert!(
            parse_duration("1w")
                .unwrap_err()
                .contains("unknown unit 'w'")
        );
        assert!(parse_duration("h").unwrap_err().contains("no number"));
        assert!(
            parse_duration("-1h")
                .unwrap_err()
                .contains("unknown unit '-'")
        );
        assert!(
            parse_duration("99999999999999999999d")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_duration("999999999999999999d")
                .unwrap_err()
                .contains("too large")
        );
    }
}
