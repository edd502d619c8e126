//! Distinct users as stores keep them: per feature, UTC day and answer, one HyperLogLog
//! sketch ([`UserSketch`]) that applications' and servers' sketches are merged into.
//!
//! Merging takes each register's maximum, so it is idempotent and order does not matter: a
//! retried batch or two servers merging at once lose nothing and add nothing twice, which the
//! conformance suite checks on every backend. Stores keep [`UserSketch::encode`]'s bytes (a
//! few bytes for a quiet feature, 1 KiB at most); sketches of days past retention are deleted
//! by [`Store::forget_user_sketches`](crate::Store::forget_user_sketches).

use chrono::{DateTime, Days, NaiveDate, Utc};
use ramp_core::UserSketch;
use serde::{Deserialize, Serialize};

/// How many days of sketches the server keeps by default.
pub const DEFAULT_USER_SKETCH_DAYS: u64 = 90;

/// The users one feature answered one way on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyUsers {
    /// The feature name as checked.
    pub feature: String,
    /// The UTC day.
    pub day: NaiveDate,
    /// Whether the checks answered active.
    pub active: bool,
    /// Who, as a sketch.
    pub sketch: UserSketch,
}

/// The UTC day `time` falls in.
pub fn day_of(time: DateTime<Utc>) -> NaiveDate {
    time.date_naive()
}

/// The first day kept when keeping `days` days up to `now`'s (everything before it goes).
pub fn first_day_kept(now: DateTime<Utc>, days: u64) -> NaiveDate {
    let today = day_of(now);
    today
        .checked_sub_days(Days::new(days.saturating_sub(1)))
        .unwrap_or(NaiveDate::MIN)
}

/// Days as SQL stores keep them: days since 1970-01-01.
pub fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}

/// The day `number` days after 1970-01-01 (what [`day_number`] gave), or that day itself for a
/// number no date has.
pub fn day_from_number(number: i64) -> NaiveDate {
    chrono::Duration::try_days(number)
        .and_then(|days| NaiveDate::default().checked_add_signed(days))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::time_from_seconds;

    #[test]
    fn days_number_from_the_epoch_and_retention_counts_today() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(day_from_number(day_number(day)), day);
        assert_eq!(day_number(NaiveDate::default()), 0);
        let before_1970 = NaiveDate::from_ymd_opt(1969, 12, 30).unwrap();
        assert_eq!(day_number(before_1970), -2);
        assert_eq!(day_from_number(-2), before_1970);
        let now = time_from_seconds(20_000 * 86_400 + 3_600);
        assert_eq!(day_number(first_day_kept(now, 1)), 20_000);
        assert_eq!(day_number(first_day_kept(now, 90)), 19_911);
    }
}
