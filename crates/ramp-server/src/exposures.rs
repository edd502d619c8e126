//! `ExposureAggregate`: the counts of checks that SDKs report, per feature and minute, in this
//! server's memory.
//!
//! NOT persisted: a restart forgets it, and servers sharing a store each hold only what was
//! sent to them. A later step moves this aggregate behind the `Store` trait.
//!
//! Everything is bounded: minutes (the last 48 hours by default, and at most `max_cells`
//! feature-minutes in all, the oldest minutes going first), feature names (`max_features`;
//! names past it are counted only in `unnamed`), applications per feature (the least recently
//! seen go first), and the batch ids remembered to ignore a retried batch (`max_batch_ids`,
//! the oldest forgotten first).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use ramp_core::ReasonKind;

/// The bounds of an aggregate.
#[derive(Debug, Clone, Copy)]
pub struct ExposureLimits {
    /// Minutes kept (older ones are forgotten, and counts for them ignored).
    pub minutes: i64,
    /// Feature-minutes kept in all.
    pub max_cells: usize,
    /// Feature names held.
    pub max_features: usize,
    /// Applications (name, instance) remembered per feature.
    pub max_applications: usize,
    /// Recent batch ids remembered.
    pub max_batch_ids: usize,
}

impl Default for ExposureLimits {
    fn default() -> Self {
        Self {
            minutes: 48 * 60,
            max_cells: 500_000,
            max_features: 20_000,
            max_applications: 100,
            max_batch_ids: 100_000,
        }
    }
}

/// Counts per reason (indexed by `ReasonKind::index`) in one minute.
pub type ReasonCounts = [u64; 7];

/// One count of a batch: feature, reason, checks.
pub type Count<'a> = (&'a str, ReasonKind, u64);

/// What one batch says.
#[derive(Debug)]
pub struct Report<'a> {
    /// The batch's unique id (a retry repeats it).
    pub batch_id: &'a str,
    /// The application's name.
    pub application: &'a str,
    /// Its running instance.
    pub instance: &'a str,
    /// The end of the batch's period: its counts are added to this minute.
    pub to: DateTime<Utc>,
    /// The counts.
    pub counts: Vec<Count<'a>>,
    /// Checks the client counted without a name, and checks it dropped.
    pub unknown_overflow: u64,
    /// Checks the client dropped.
    pub dropped: u64,
}

/// What `add` did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Counted.
    Counted,
    /// Its id was seen before: ignored.
    Duplicate,
}

#[derive(Debug, Default)]
struct FeatureInfo {
    /// The last time a batch named the feature (names unseen for the whole window go).
    last_seen: DateTime<Utc>,
    applications: BTreeMap<(String, String), DateTime<Utc>>,
}

/// The aggregate; the server keeps one behind a mutex.
#[derive(Debug, Default)]
pub struct ExposureAggregate {
    limits: ExposureLimits,
    /// Minute (start) -> feature -> counts per reason.
    minutes: BTreeMap<DateTime<Utc>, HashMap<Arc<str>, ReasonCounts>>,
    cells: usize,
    features: HashMap<Arc<str>, FeatureInfo>,
    batch_ids: HashSet<String>,
    batch_order: VecDeque<String>,
    /// Checks not counted by name: the clients' own overflow, and names past `max_features`.
    pub unnamed: u64,
    /// Checks clients reported dropping.
    pub dropped: u64,
}

/// The minute a time falls in.
pub fn minute_of(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(Duration::minutes(1)).unwrap_or(time)
}

impl ExposureAggregate {
    /// An empty aggregate with these bounds.
    pub fn new(limits: ExposureLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Adds a batch received at `now`, unless its id was seen before.
    pub fn add(&mut self, report: &Report<'_>, now: DateTime<Utc>) -> Added {
        if self.batch_ids.contains(report.batch_id) {
            return Added::Duplicate;
        }
        self.remember(report.batch_id);
        self.forget_before(now);
        // Counts come from clients: saturate rather than overflow (a panic here would poison
        // the aggregate's lock for every later request).
        self.unnamed = self.unnamed.saturating_add(report.unknown_overflow);
        self.dropped = self.dropped.saturating_add(report.dropped);
        // A client's clock may be off: counts land no later than now and no earlier than the
        // window (older ones are ignored rather than kept).
        let minute = minute_of(report.to.min(now));
        let oldest = minute_of(now) - Duration::minutes(self.limits.minutes - 1);
        if minute < oldest {
            return Added::Counted;
        }
        for &(feature, reason, count) in &report.counts {
            let Some(name) = self.feature(feature, report, now) else {
                self.unnamed = self.unnamed.saturating_add(count);
                continue;
            };
            let cells = self.minutes.entry(minute).or_default();
            let counts = cells.entry(name).or_insert_with(|| {
                self.cells += 1;
                [0; 7]
            });
            counts[reason.index()] = counts[reason.index()].saturating_add(count);
        }
        while self.cells > self.limits.max_cells {
            let Some((_, cells)) = self.minutes.pop_first() else {
                break;
            };
            self.cells -= cells.len();
        }
        Added::Counted
    }

    /// The feature's interned name, its application recorded; `None` past `max_features`.
    fn feature(&mut self, name: &str, report: &Report<'_>, now: DateTime<Utc>) -> Option<Arc<str>> {
        let full = self.features.len() >= self.limits.max_features;
        let (name, info) = match self.features.get_key_value(name) {
            Some((name, _)) => {
                let name = name.clone();
                let info = self.features.get_mut(&name)?;
                (name, info)
            }
            None if full => return None,
            None => {
                let name: Arc<str> = name.into();
                (name.clone(), self.features.entry(name).or_default())
            }
        };
        info.last_seen = now;
        let key = (report.application.to_owned(), report.instance.to_owned());
        if !info.applications.contains_key(&key)
            && info.applications.len() >= self.limits.max_applications
        {
            let stalest = info
                .applications
                .iter()
                .min_by_key(|(_, seen)| **seen)
                .map(|(key, _)| key.clone());
            if let Some(stalest) = stalest {
                info.applications.remove(&stalest);
            }
        }
        info.applications.insert(key, now);
        Some(name)
    }

    fn remember(&mut self, batch_id: &str) {
        self.batch_ids.insert(batch_id.to_owned());
        self.batch_order.push_back(batch_id.to_owned());
        while self.batch_order.len() > self.limits.max_batch_ids {
            if let Some(oldest) = self.batch_order.pop_front() {
                self.batch_ids.remove(&oldest);
            }
        }
    }

    /// Forgets minutes, and names, older than the window.
    fn forget_before(&mut self, now: DateTime<Utc>) {
        let oldest = minute_of(now) - Duration::minutes(self.limits.minutes - 1);
        while let Some(entry) = self.minutes.first_entry() {
            if *entry.key() >= oldest {
                break;
            }
            self.cells -= entry.remove().len();
        }
        self.features.retain(|_, info| info.last_seen >= oldest);
    }

    /// The feature's counts per minute within `from..to` (minutes with none left out).
    pub fn series(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, ReasonCounts)> {
        self.minutes
            .range(minute_of(from)..to)
            .filter_map(|(minute, cells)| cells.get(feature).map(|counts| (*minute, *counts)))
            .collect()
    }

    /// The applications that reported the feature: (name, instance, last seen), most recent
    /// first.
    pub fn applications(&self, feature: &str) -> Vec<(String, String, DateTime<Utc>)> {
        let mut applications: Vec<_> = self
            .features
            .get(feature)
            .map(|info| {
                info.applications
                    .iter()
                    .map(|((name, instance), seen)| (name.clone(), instance.clone(), *seen))
                    .collect()
            })
            .unwrap_or_default();
        applications.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        applications
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
    }

    fn report<'a>(id: &'a str, to: DateTime<Utc>, counts: Vec<Count<'a>>) -> Report<'a> {
        Report {
            batch_id: id,
            application: "shop",
            instance: "web-1",
            to,
            counts,
            unknown_overflow: 0,
            dropped: 0,
        }
    }

    #[test]
    fn counts_add_up_per_minute_and_a_repeated_batch_is_ignored() {
        let mut aggregate = ExposureAggregate::new(ExposureLimits::default());
        let first = report("a:1", time(0), vec![("chat", ReasonKind::Percentage, 3)]);
        assert_eq!(aggregate.add(&first, time(0)), Added::Counted);
        assert_eq!(aggregate.add(&first, time(1)), Added::Duplicate);
        let second = report(
            "a:2",
            time(0) + Duration::seconds(30),
            vec![
                ("chat", ReasonKind::Off, 2),
                ("chat", ReasonKind::Percentage, 1),
            ],
        );
        aggregate.add(&second, time(1));
        aggregate.add(
            &report("a:3", time(1), vec![("chat", ReasonKind::Off, 5)]),
            time(1),
        );
        let series = aggregate.series("chat", time(0), time(2));
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].0, time(0));
        assert_eq!(series[0].1[ReasonKind::Percentage.index()], 4);
        assert_eq!(series[0].1[ReasonKind::Off.index()], 2);
        assert_eq!(series[1].1[ReasonKind::Off.index()], 5);
        assert_eq!(aggregate.series("chat", time(1), time(2)).len(), 1);
        assert_eq!(
            aggregate.applications("chat"),
            [("shop".to_owned(), "web-1".to_owned(), time(1))]
        );
    }

    #[test]
    fn huge_reported_numbers_saturate_instead_of_overflowing() {
        let mut aggregate = ExposureAggregate::new(ExposureLimits::default());
        for id in ["a:1", "a:2"] {
            let mut huge = report(id, time(0), vec![("chat", ReasonKind::Off, u64::MAX)]);
            huge.unknown_overflow = u64::MAX;
            huge.dropped = u64::MAX;
            assert_eq!(aggregate.add(&huge, time(0)), Added::Counted);
        }
        assert_eq!((aggregate.unnamed, aggregate.dropped), (u64::MAX, u64::MAX));
        let series = aggregate.series("chat", time(0), time(1));
        assert_eq!(series[0].1[ReasonKind::Off.index()], u64::MAX);
    }

    #[test]
    fn minutes_features_applications_and_ids_are_bounded() {
        let limits = ExposureLimits {
            minutes: 10,
            max_cells: 4,
            max_features: 2,
            max_applications: 1,
            max_batch_ids: 2,
        };
        let mut aggregate = ExposureAggregate::new(limits);
        for minute in 0..3 {
            let id = format!("b:{minute}");
            let counts = vec![("a", ReasonKind::User, 1), ("b", ReasonKind::User, 1)];
            aggregate.add(&report(&id, time(minute), counts), time(minute));
        }
        // Six cells were written; the oldest minute went to keep four.
        assert_eq!(aggregate.series("a", time(0), time(3)).len(), 2);
        // A third name does not fit; its checks are counted without a name.
        aggregate.add(
            &report("b:9", time(3), vec![("c", ReasonKind::Off, 7)]),
            time(3),
        );
        assert!(aggregate.series("c", time(0), time(4)).is_empty());
        assert_eq!(aggregate.unnamed, 7);
        // Only two ids are remembered: the first is forgotten, so it counts again.
        assert_eq!(
            aggregate.add(&report("b:0", time(3), vec![]), time(3)),
            Added::Counted
        );
        // One application per feature: the newest replaces the stalest.
        let mut other = report("c:1", time(3), vec![("a", ReasonKind::User, 1)]);
        other.instance = "web-2";
        aggregate.add(&other, time(3));
        assert_eq!(aggregate.applications("a")[0].1, "web-2");
        assert_eq!(aggregate.applications("a").len(), 1);
        // Past the window, old minutes and names are forgotten; late counts are ignored.
        aggregate.add(
            &report("d:1", time(1), vec![("a", ReasonKind::User, 1)]),
            time(30),
        );
        assert!(aggregate.series("a", time(0), time(31)).is_empty());
        assert!(aggregate.applications("b").is_empty());
    }
}
