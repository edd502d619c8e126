//! Reading a time given on the command line (`--at`), and showing one back.
//!
//! People type times as they read them, so besides RFC 3339 (`2026-11-03T10:00:00+01:00`) a
//! plain `2026-11-03 10:00[:SS]` or a bare date is taken, both in UTC: a command line has no
//! reliable idea of which time zone its user means, and UTC is what history shows.

use anyhow::anyhow;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// The instant `text` names (see the module's documentation); the error says what is accepted.
pub fn parse(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(NaiveTime::MIN).and_utc());
    }
    Err(anyhow!(
        "invalid time {text:?}: expected RFC 3339 (2026-11-03T10:00:00Z), \
         YYYY-MM-DD HH:MM[:SS] in UTC, or YYYY-MM-DD"
    ))
}

/// `2026-11-03 10:00:00 UTC` (fractions of a second only when there are some).
pub fn show(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.f UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_form_names_the_same_instant() {
        let expected = parse("2026-11-03T10:00:00Z").unwrap();
        for text in [
            "2026-11-03T11:00:00+01:00",
            "2026-11-03 10:00:00",
            "2026-11-03 10:00",
            "2026-11-03T10:00",
            " 2026-11-03 10:00:00.000 ",
        ] {
            assert_eq!(parse(text).unwrap(), expected, "{text}");
        }
        assert_eq!(show(expected), "2026-11-03 10:00:00 UTC");
        assert_eq!(
            show(parse("2026-11-03").unwrap()),
            "2026-11-03 00:00:00 UTC"
        );
        let error = parse("yesterday").unwrap_err().to_string();
        assert!(error.contains("RFC 3339"), "{error}");
    }
}
