//! What the TOML loaders (baseline, waivers, attestations) share: the error that names the
//! file and line, and the parsing of the values they all read (dates, non-empty text).
//!
//! Loaders take the file's name and text, never a path: reading the file is the caller's
//! IO, so this crate stays pure.

use std::ops::Range;

use chrono::NaiveDate;
use toml::Spanned;

/// A baseline, waiver or attestation file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LoadError {
    /// The file it came from.
    pub file: String,
    /// 1-based line number (0 when unknown).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Builds [`LoadError`]s for one file.
pub(crate) struct Source<'t> {
    pub file: &'t str,
    pub text: &'t str,
}

impl Source<'_> {
    /// An error at `span` (or at no particular line).
    pub fn err(&self, span: Option<Range<usize>>, message: impl Into<String>) -> LoadError {
        LoadError {
            file: self.file.to_owned(),
            line: span.map_or(0, |s| line_of(self.text, s.start)),
            message: message.into(),
        }
    }

    /// Parses the whole document, turning a TOML or shape error (unknown field, wrong type)
    /// into a `LoadError` at its line.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, LoadError> {
        toml::from_str(self.text).map_err(|e| self.err(e.span(), e.message().trim().to_owned()))
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }

    /// A required, non-empty text field of the entry at `entry`.
    pub fn required_text(
        &self,
        entry: &Range<usize>,
        value: Option<&Spanned<String>>,
        field: &str,
        what: &str,
        hint: &str,
    ) -> Result<String, LoadError> {
        match value {
            None => Err(self.err(
                Some(entry.clone()),
                format!("{what} has no `{field}`: add `{field} = \"…\"` ({hint})"),
            )),
            Some(v) if v.get_ref().trim().is_empty() => Err(self.err(
                Some(v.span()),
                format!("{what}: `{field}` is empty ({hint})"),
            )),
            Some(v) => Ok(v.get_ref().trim().to_owned()),
        }
    }

    /// A required date field: a TOML date (`2027-01-31`) or the same as a string.
    pub fn required_date(
        &self,
        entry: &Range<usize>,
        value: Option<&Spanned<toml::Value>>,
        field: &str,
        what: &str,
        hint: &str,
    ) -> Result<NaiveDate, LoadError> {
        let Some(value) = value else {
            return Err(self.err(
                Some(entry.clone()),
                format!("{what} has no `{field}`: add `{field} = YYYY-MM-DD` ({hint})"),
            ));
        };
        date(value.get_ref()).map_err(|why| {
            self.err(
                Some(value.span()),
                format!("{what}: `{field}` {why}; write a date like `{field} = 2027-01-31`"),
            )
        })
    }
}

/// The 1-based line of byte `offset` in `text` (0 when out of range).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |prefix| {
        prefix.bytes().filter(|b| *b == b'\n').count() + 1
    })
}

/// A calendar date from a TOML local date or a `YYYY-MM-DD` string.
fn date(value: &toml::Value) -> Result<NaiveDate, String> {
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(|| format!("{dt} is not a calendar date"))
            }
            _ => Err(format!("is {dt}, a time, not a date")),
        },
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| format!("is {s:?}, not a date in the form YYYY-MM-DD")),
        other => Err(format!("is {}, not a date", other.type_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_toml_dates_or_iso_strings() {
        let d = |t: &str| {
            let v: toml::Table = toml::from_str(&format!("d = {t}")).unwrap();
            date(&v["d"])
        };
        let want = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        assert_eq!(d("2027-01-31"), Ok(want));
        assert_eq!(d("\"2027-01-31\""), Ok(want));
        assert!(d("2027-01-31T10:00:00Z").unwrap_err().contains("a time"));
        assert!(d("\"31/01/2027\"").unwrap_err().contains("YYYY-MM-DD"));
        assert!(d("\"2027-02-30\"").is_err());
        assert!(d("20270131").unwrap_err().contains("not a date"));
    }
}
