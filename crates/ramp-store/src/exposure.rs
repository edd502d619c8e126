//! Exposure counts as stores keep them: how often each feature was checked, per reason, in
//! buckets of a minute, an hour or a day, and which applications checked it when.
//!
//! Applications count their checks and post batches; the server hands them to
//! [`Store::record_exposures`](crate::Store::record_exposures). A batch's id is remembered, so
//! a retried batch is counted once. [`Store::compact_exposures`](crate::Store::compact_exposures)
//! rolls minutes into hours and hours into days as they age, and forgets what is past
//! retention. Every backend stores the same numbers: the conformance suite checks it.

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use ramp_core::ReasonKind;
use serde::{Deserialize, Serialize};

/// Checks per reason, indexed by [`ReasonKind::index`].
pub type ReasonCounts = [u64; ReasonKind::ALL.len()];

/// The largest count a bucket holds (stores keep signed 64-bit integers); sums saturate here.
pub const MAX_COUNT: u64 = i64::MAX as u64;

/// Adds `more` to `counts`, each reason saturating at [`MAX_COUNT`].
pub fn add_counts(counts: &mut ReasonCounts, more: &ReasonCounts) {
    for (count, more) in counts.iter_mut().zip(more) {
        *count = count.saturating_add(*more).min(MAX_COUNT);
    }
}

/// The total of checks that answered active, and of those that answered inactive.
pub fn active_inactive(counts: &ReasonCounts) -> (u64, u64) {
    let mut active = 0u64;
    let mut inactive = 0u64;
    for (kind, count) in ReasonKind::ALL.into_iter().zip(counts) {
        let total = if kind.is_active() {
            &mut active
        } else {
            &mut inactive
        };
        *total = total.saturating_add(*count);
    }
    (active, inactive)
}

/// How much time one bucket covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// One minute: what ingest writes.
    Minute,
    /// One hour: minutes rolled up.
    Hour,
    /// One day (UTC): hours rolled up.
    Day,
}

impl Resolution {
    /// Every resolution, finest first.
    pub const ALL: [Resolution; 3] = [Resolution::Minute, Resolution::Hour, Resolution::Day];

    /// The bucket's length.
    pub fn length(self) -> Duration {
        match self {
            Resolution::Minute => Duration::minutes(1),
            Resolution::Hour => Duration::hours(1),
            Resolution::Day => Duration::days(1),
        }
    }

    /// The length in seconds (what SQL stores keep in their `resolution` column).
    pub fn seconds(self) -> i64 {
        self.length().num_seconds()
    }

    /// The resolution whose length is `seconds`.
    pub fn from_seconds(seconds: i64) -> Option<Resolution> {
        Resolution::ALL
            .into_iter()
            .find(|resolution| resolution.seconds() == seconds)
    }

    /// The start of the bucket `time` falls in.
    pub fn start_of(self, time: DateTime<Utc>) -> DateTime<Utc> {
        time.duration_trunc(self.length()).unwrap_or(time)
    }
}

/// The time `seconds` after the Unix epoch (how stores keep bucket starts and times), or the
/// epoch for a value no time can have.
pub fn time_from_seconds(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// One batch of counts from one application instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureBatch {
    /// Unique per batch; a retry repeats it and is then not counted again.
    pub batch_id: String,
    /// The application's name.
    pub application: String,
    /// Its running instance.
    pub instance: String,
    /// The minute the counts are added to (its start, whole seconds).
    pub minute: DateTime<Utc>,
    /// When the server received the batch: the applications' and features' "last seen".
    pub received: DateTime<Utc>,
    /// Per feature name as checked (at most one entry per name), its checks per reason.
    pub counts: Vec<(String, ReasonCounts)>,
    /// Checks counted without a name.
    pub unnamed: u64,
    /// Checks the application had to drop.
    pub dropped: u64,
}

/// A feature's checks in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureBucket {
    /// The bucket's length.
    pub resolution: Resolution,
    /// Its start.
    pub start: DateTime<Utc>,
    /// Checks per reason.
    pub counts: ReasonCounts,
}

/// A feature's checks over a period, in bins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureActivity {
    /// The feature name as checked.
    pub feature: String,
    /// Its bins with checks, oldest first.
    pub bins: Vec<ExposureBin>,
}

/// The checks of buckets starting within one bin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureBin {
    /// The bin's start.
    pub start: DateTime<Utc>,
    /// Checks per reason.
    pub counts: ReasonCounts,
}

impl FeatureActivity {
    /// All its checks per reason.
    pub fn counts(&self) -> ReasonCounts {
        let mut counts = [0; ramp_core::ReasonKind::ALL.len()];
        for bin in &self.bins {
            add_counts(&mut counts, &bin.counts);
        }
        counts
    }

    /// All its checks.
    pub fn total(&self) -> u64 {
        self.counts()
            .iter()
            .fold(0u64, |total, count| total.saturating_add(*count))
    }
}

/// When a feature was last reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSeen {
    /// The feature name as checked.
    pub feature: String,
    /// The latest `received` of a batch that counted it.
    pub last_seen: DateTime<Utc>,
}

/// An application instance that reported a feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSeen {
    /// The application's name.
    pub application: String,
    /// The instance.
    pub instance: String,
    /// The latest `received` of its batches that counted the feature.
    pub last_seen: DateTime<Utc>,
}

/// Checks reported without a feature: unnamed and dropped, since the store began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExposureTotals {
    /// Checks counted without a name.
    pub unnamed: u64,
    /// Checks applications dropped.
    pub dropped: u64,
}

/// How long each resolution is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExposureRetention {
    /// Minute buckets of hours that ended more than this long ago are rolled into hours.
    pub minutes_for: Duration,
    /// Hour buckets of days that ended more than this long ago are rolled into days.
    pub hours_for: Duration,
    /// Day buckets that ended more than this long ago are deleted, and so are applications
    /// last seen before then.
    pub days_for: Duration,
    /// Batch ids received more than this long ago are forgotten (a retry after that counts
    /// again).
    pub batch_ids_for: Duration,
}

impl Default for ExposureRetention {
    fn default() -> Self {
        Self {
            minutes_for: Duration::hours(48),
            hours_for: Duration::days(30),
            days_for: Duration::days(400),
            batch_ids_for: Duration::days(1),
        }
    }
}

/// The cutoffs a compaction at `now` uses: everything strictly before each is moved or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Minute buckets starting before this (an hour's start) roll into hours.
    pub minutes_before: DateTime<Utc>,
    /// Hour buckets starting before this (a day's start) roll into days.
    pub hours_before: DateTime<Utc>,
    /// Day buckets starting before this (a day's start), and applications last seen before
    /// it, are deleted.
    pub days_before: DateTime<Utc>,
    /// Batch ids received before this are forgotten.
    pub batch_ids_before: DateTime<Utc>,
}

impl ExposureRetention {
    /// The cutoffs at `now`. Each is aligned to the coarser bucket, so a bucket is moved only
    /// with all the others of its hour or day.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        Cutoffs {
            minutes_before: Resolution::Hour.start_of(now - self.minutes_for),
            hours_before: Resolution::Day.start_of(now - self.hours_for),
            days_before: Resolution::Day.start_of(now - self.days_for),
            batch_ids_before: now - self.batch_ids_for,
        }
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Compacted {
    /// Minute buckets rolled into hours.
    pub minutes_rolled: u64,
    /// Hour buckets rolled into days.
    pub hours_rolled: u64,
    /// Day buckets deleted.
    pub days_deleted: u64,
    /// Batch ids forgotten.
    pub batch_ids_forgotten: u64,
    /// Application records forgotten.
    pub applications_forgotten: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_align_to_the_coarser_bucket() {
        let now = time_from_seconds(20_000 * 86_400 + 5 * 3_600 + 17 * 60 + 3);
        let cutoffs = ExposureRetention::default().cutoffs(now);
        assert_eq!(
            cutoffs.minutes_before,
            time_from_seconds(19_998 * 86_400 + 5 * 3_600)
        );
        assert_eq!(cutoffs.hours_before, time_from_seconds(19_970 * 86_400));
        assert_eq!(cutoffs.days_before, time_from_seconds(19_600 * 86_400));
        assert_eq!(cutoffs.batch_ids_before, now - Duration::days(1));
    }

    #[test]
    fn counts_saturate_and_split_by_answer() {
        let mut counts = [0; ramp_core::ReasonKind::ALL.len()];
        counts[ReasonKind::Percentage.index()] = MAX_COUNT - 1;
        let mut more = [0; ramp_core::ReasonKind::ALL.len()];
        more[ReasonKind::Percentage.index()] = 5;
        more[ReasonKind::Off.index()] = 2;
        add_counts(&mut counts, &more);
        assert_eq!(counts[ReasonKind::Percentage.index()], MAX_COUNT);
        assert_eq!(active_inactive(&counts), (MAX_COUNT, 2));
        assert_eq!(
            Resolution::from_seconds(3_600),
            Some(Resolution::Hour),
            "SQL stores keep the resolution as seconds"
        );
    }
}
