//! `Admission`: turns what an application reports into the batch the store keeps, within the
//! server's bounds.
//!
//! Anyone with a reader's token may report, so what reaches the store is bounded: names of
//! features that exist are always kept; other names (typos, flags deleted but still checked)
//! only up to `max_unknown_names` per server, the rest counted without a name; application
//! instances up to `max_instances`, the rest recorded as instance `(other)`. Counts for a
//! minute older than the minute buckets' window are not stored but reported as dropped.
//! Sketches of distinct users are kept for features that exist only (a sketch is up to 1 KiB
//! a day, a count a few bytes), on the UTC day of the batch's minute.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ramp_core::{ReasonKind, UserSketch};
use ramp_store::daily_users::{day_of, DailyUsers};
use ramp_store::exposure::{add_counts, ExposureBatch, ReasonCounts, Resolution, MAX_COUNT};

/// The instance recorded once `max_instances` are known.
pub const OTHER_INSTANCE: &str = "(other)";

/// One count of a report: feature name as checked, reason, checks.
pub type Count<'a> = (&'a str, ReasonKind, u64);

/// What one application reports.
#[derive(Debug)]
pub struct Report<'a> {
    /// The batch's unique id (a retry repeats it).
    pub batch_id: &'a str,
    /// The application's name.
    pub application: &'a str,
    /// Its running instance.
    pub instance: &'a str,
    /// The end of the period counted: its minute gets the counts.
    pub to: DateTime<Utc>,
    /// The counts.
    pub counts: Vec<Count<'a>>,
    /// Checks the application counted without a name.
    pub unnamed: u64,
    /// Checks the application dropped.
    pub dropped: u64,
    /// Users per feature name and answer.
    pub users: Vec<(&'a str, bool, &'a UserSketch)>,
}

/// The server's bounds on names and instances.
#[derive(Debug)]
pub struct Admission {
    max_unknown_names: usize,
    max_instances: usize,
    unknown_names: Mutex<HashSet<String>>,
    instances: Mutex<HashSet<(String, String)>>,
}

impl Admission {
    /// Empty sets with these bounds.
    pub fn new(max_unknown_names: usize, max_instances: usize) -> Self {
        Self {
            max_unknown_names,
            max_instances,
            unknown_names: Mutex::default(),
            instances: Mutex::default(),
        }
    }

    /// The batch to store for `report`, received at `now`. `exists` says whether a feature
    /// of that name exists; `oldest_minute` is the start of the oldest minute still kept.
    pub fn batch(
        &self,
        report: &Report<'_>,
        exists: impl Fn(&str) -> bool,
        now: DateTime<Utc>,
        oldest_minute: DateTime<Utc>,
    ) -> ExposureBatch {
        // A client's clock may run ahead: its counts land no later than now.
        let minute = Resolution::Minute.start_of(report.to.min(now));
        let mut batch = ExposureBatch {
            batch_id: report.batch_id.to_owned(),
            application: report.application.to_owned(),
            instance: self.instance(report.application, report.instance),
            minute,
            received: now,
            counts: Vec::new(),
            unnamed: report.unnamed.min(MAX_COUNT),
            dropped: report.dropped.min(MAX_COUNT),
        };
        let late = minute < oldest_minute;
        let mut merged: std::collections::BTreeMap<&str, ReasonCounts> = Default::default();
        for &(feature, reason, count) in &report.counts {
            let count = count.min(MAX_COUNT);
            if late {
                batch.dropped = batch.dropped.saturating_add(count).min(MAX_COUNT);
            } else if exists(feature) || self.admit_unknown(feature) {
                let mut one = [0; ramp_core::ReasonKind::ALL.len()];
                one[reason.index()] = count;
                add_counts(
                    merged
                        .entry(feature)
                        .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
                    &one,
                );
            } else {
                batch.unnamed = batch.unnamed.saturating_add(count).min(MAX_COUNT);
            }
        }
        batch.counts = merged
            .into_iter()
            .map(|(feature, counts)| (feature.to_owned(), counts))
            .collect();
        batch
    }

    /// The sketches to merge for `report` (received at `now`): features that exist only, on
    /// the day of the batch's minute, none when that minute is past the window.
    pub fn users(
        &self,
        report: &Report<'_>,
        exists: impl Fn(&str) -> bool,
        now: DateTime<Utc>,
        oldest_minute: DateTime<Utc>,
    ) -> Vec<DailyUsers> {
        let minute = Resolution::Minute.start_of(report.to.min(now));
        if minute < oldest_minute {
            return Vec::new();
        }
        let mut merged: std::collections::BTreeMap<(&str, bool), UserSketch> = Default::default();
        for &(feature, active, sketch) in &report.users {
            if exists(feature) {
                merged.entry((feature, active)).or_default().merge(sketch);
            }
        }
        merged
            .into_iter()
            .map(|((feature, active), sketch)| DailyUsers {
                feature: feature.to_owned(),
                day: day_of(minute),
                active,
                sketch,
            })
            .collect()
    }

    fn admit_unknown(&self, name: &str) -> bool {
        let mut names = self
            .unknown_names
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        if names.contains(name) {
            return true;
        }
        if names.len() >= self.max_unknown_names {
            return false;
        }
        names.insert(name.to_owned());
        true
    }

    fn instance(&self, application: &str, instance: &str) -> String {
        let mut instances = self
            .instances
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        let key = (application.to_owned(), instance.to_owned());
        if instances.contains(&key) {
            return key.1;
        }
        if instances.len() >= self.max_instances {
            return OTHER_INSTANCE.to_owned();
        }
        instances.insert(key);
        instance.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn time(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
    }

    fn report<'a>(instance: &'a str, to: DateTime<Utc>, counts: Vec<Count<'a>>) -> Report<'a> {
        Report {
            batch_id: "b",
            application: "shop",
            instance,
            to,
            counts,
            unnamed: 1,
            dropped: 2,
            users: Vec::new(),
        }
    }

    #[test]
    fn known_names_are_kept_and_unknown_ones_up_to_the_bound() {
        let admission = Admission::new(1, 10);
        let counts = vec![
            ("chat", ReasonKind::Off, 2),
            ("chat", ReasonKind::Percentage, 3),
            ("typo", ReasonKind::NotFound, 4),
            ("other-typo", ReasonKind::NotFound, 5),
        ];
        let batch = admission.batch(
            &report("web-1", time(5) + Duration::seconds(7), counts),
            |name| name == "chat",
            time(6),
            time(0),
        );
        assert_eq!(batch.minute, time(5));
        assert_eq!(batch.received, time(6));
        let names: Vec<_> = batch.counts.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["chat", "typo"]);
        assert_eq!(batch.counts[0].1[ReasonKind::Off.index()], 2);
        assert_eq!(batch.counts[0].1[ReasonKind::Percentage.index()], 3);
        assert_eq!(
            batch.unnamed,
            1 + 5,
            "the second unknown name is past the bound"
        );
        assert_eq!(batch.dropped, 2);
    }

    #[test]
    fn a_clock_ahead_lands_now_and_late_counts_are_dropped() {
        let admission = Admission::new(10, 10);
        let ahead = admission.batch(
            &report("web-1", time(90), vec![("chat", ReasonKind::Off, 1)]),
            |_| true,
            time(6),
            time(0),
        );
        assert_eq!(ahead.minute, time(6));
        let late = admission.batch(
            &report("web-1", time(-1), vec![("chat", ReasonKind::Off, 7)]),
            |_| true,
            time(6),
            time(0),
        );
        assert!(late.counts.is_empty());
        assert_eq!(late.dropped, 2 + 7);
    }

    #[test]
    fn users_of_existing_features_go_to_the_batch_day_and_late_ones_nowhere() {
        let admission = Admission::new(10, 10);
        let mut one = UserSketch::new();
        one.insert_user("1");
        let mut two = UserSketch::new();
        two.insert_user("2");
        let mut report = report("web-1", time(5), vec![]);
        report.users = vec![
            ("chat", true, &one),
            ("chat", true, &two),
            ("typo", true, &one),
        ];
        let users = admission.users(&report, |name| name == "chat", time(6), time(0));
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].feature, "chat");
        assert_eq!(users[0].day, day_of(time(5)));
        assert_eq!(users[0].sketch.estimate(), 2);
        report.to = time(-1);
        assert!(admission
            .users(&report, |_| true, time(6), time(0))
            .is_empty());
    }

    #[test]
    fn instances_past_the_bound_are_recorded_as_other() {
        let admission = Admission::new(10, 2);
        let instance =
            |name| admission.batch(&report(name, time(0), vec![]), |_| true, time(0), time(0));
        assert_eq!(instance("web-1").instance, "web-1");
        assert_eq!(instance("web-2").instance, "web-2");
        assert_eq!(instance("web-3").instance, OTHER_INSTANCE);
        assert_eq!(instance("web-1").instance, "web-1", "known ones stay");
    }
}
