//! The memory store's exposure counts: the reference the other backends' queries follow.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use ramp_core::UserSketch;

use crate::daily_users::DailyUsers;
use crate::exposure::{
    add_counts, ApplicationSeen, Compacted, ExposureBatch, ExposureBin, ExposureBucket,
    ExposureRetention, ExposureTotals, FeatureActivity, FeatureSeen, ReasonCounts, Resolution,
    MAX_COUNT,
};

/// (application, instance) -> last seen.
type Applications = BTreeMap<(String, String), DateTime<Utc>>;

#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryExposures {
    /// (feature, resolution, start) -> counts.
    buckets: BTreeMap<(String, Resolution, DateTime<Utc>), ReasonCounts>,
    applications: BTreeMap<String, Applications>,
    batch_ids: HashMap<String, DateTime<Utc>>,
    totals: ExposureTotals,
    /// (feature, day, active) -> distinct users.
    users: BTreeMap<(String, NaiveDate, bool), UserSketch>,
}

impl MemoryExposures {
    pub(crate) fn merge_users(&mut self, sketches: &[DailyUsers]) {
        for daily in sketches {
            self.users
                .entry((daily.feature.clone(), daily.day, daily.active))
                .or_default()
                .merge(&daily.sketch);
        }
    }

    pub(crate) fn users(&self, feature: &str, from: NaiveDate, to: NaiveDate) -> Vec<DailyUsers> {
        if from > to {
            return Vec::new();
        }
        self.users
            .range((feature.to_owned(), from, false)..=(feature.to_owned(), to, true))
            .map(|((feature, day, active), sketch)| DailyUsers {
                feature: feature.clone(),
                day: *day,
                active: *active,
                sketch: sketch.clone(),
            })
            .collect()
    }

    pub(crate) fn forget_users(&mut self, before: NaiveDate) -> u64 {
        let count = self.users.len();
        self.users.retain(|(_, day, _), _| *day >= before);
        (count - self.users.len()) as u64
    }

    pub(crate) fn record(&mut self, batches: &[ExposureBatch]) -> Vec<bool> {
        batches.iter().map(|batch| self.record_one(batch)).collect()
    }

    fn record_one(&mut self, batch: &ExposureBatch) -> bool {
        if self.batch_ids.contains_key(&batch.batch_id) {
            return false;
        }
        self.batch_ids
            .insert(batch.batch_id.clone(), batch.received);
        for (feature, counts) in &batch.counts {
            let key = (feature.clone(), Resolution::Minute, batch.minute);
            add_counts(
                self.buckets
                    .entry(key)
                    .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
                counts,
            );
            let seen = self
                .applications
                .entry(feature.clone())
                .or_default()
                .entry((batch.application.clone(), batch.instance.clone()))
                .or_insert(batch.received);
            *seen = (*seen).max(batch.received);
        }
        self.totals.unnamed = self
            .totals
            .unnamed
            .saturating_add(batch.unnamed)
            .min(MAX_COUNT);
        self.totals.dropped = self
            .totals
            .dropped
            .saturating_add(batch.dropped)
            .min(MAX_COUNT);
        true
    }

    pub(crate) fn buckets(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<ExposureBucket> {
        let mut buckets: Vec<ExposureBucket> = self
            .buckets
            .iter()
            .filter(|((name, _, start), _)| name == feature && *start >= from && *start < to)
            .map(|((_, resolution, start), counts)| ExposureBucket {
                resolution: *resolution,
                start: *start,
                counts: *counts,
            })
            .collect();
        buckets.sort_by_key(|bucket| (bucket.start, bucket.resolution));
        buckets
    }

    pub(crate) fn activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bin: Resolution,
    ) -> Vec<FeatureActivity> {
        let mut sums: BTreeMap<(&str, DateTime<Utc>), ReasonCounts> = BTreeMap::new();
        for ((feature, _, start), counts) in &self.buckets {
            if *start >= from && *start < to {
                let key = (feature.as_str(), bin.start_of(*start));
                add_counts(
                    sums.entry(key)
                        .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
                    counts,
                );
            }
        }
        let mut activity: Vec<FeatureActivity> = Vec::new();
        for ((feature, start), counts) in sums {
            let bin = ExposureBin { start, counts };
            match activity.last_mut() {
                Some(last) if last.feature == feature => last.bins.push(bin),
                _ => activity.push(FeatureActivity {
                    feature: feature.to_owned(),
                    bins: vec![bin],
                }),
            }
        }
        activity
    }

    pub(crate) fn features(&self) -> Vec<FeatureSeen> {
        self.applications
            .iter()
            .filter_map(|(feature, applications)| {
                let last_seen = applications.values().max()?;
                Some(FeatureSeen {
                    feature: feature.clone(),
                    last_seen: *last_seen,
                })
            })
            .collect()
    }

    pub(crate) fn applications(&self, feature: &str) -> Vec<ApplicationSeen> {
        let mut seen: Vec<ApplicationSeen> = self
            .applications
            .get(feature)
            .into_iter()
            .flatten()
            .map(|((application, instance), last_seen)| ApplicationSeen {
                application: application.clone(),
                instance: instance.clone(),
                last_seen: *last_seen,
            })
            .collect();
        // Already by (application, instance): a stable sort keeps that order among ties.
        seen.sort_by_key(|seen| std::cmp::Reverse(seen.last_seen));
        seen
    }

    /// Moves the `from` buckets starting before `before` into the next coarser resolution.
    fn roll(&mut self, from: Resolution, before: DateTime<Utc>) -> u64 {
        let coarser = match from {
            Resolution::Minute => Resolution::Hour,
            _ => Resolution::Day,
        };
        let moving: Vec<_> = self
            .buckets
            .keys()
            .filter(|(_, resolution, start)| *resolution == from && *start < before)
            .cloned()
            .collect();
        for key in &moving {
            if let Some(counts) = self.buckets.remove(key) {
                let target = (key.0.clone(), coarser, coarser.start_of(key.2));
                add_counts(
                    self.buckets
                        .entry(target)
                        .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
                    &counts,
                );
            }
        }
        moving.len() as u64
    }

    pub(crate) fn totals(&self) -> ExposureTotals {
        self.totals
    }

    pub(crate) fn compact(
        &mut self,
        retention: &ExposureRetention,
        now: DateTime<Utc>,
    ) -> Compacted {
        let cutoffs = retention.cutoffs(now);
        // Three passes in order, as the SQL stores do them: minutes into hours, hours (those
        // just made too) into days, then old days go.
        let mut compacted = Compacted {
            minutes_rolled: self.roll(Resolution::Minute, cutoffs.minutes_before),
            hours_rolled: self.roll(Resolution::Hour, cutoffs.hours_before),
            ..Compacted::default()
        };
        let before = self.buckets.len();
        self.buckets.retain(|(_, resolution, start), _| {
            *resolution != Resolution::Day || *start >= cutoffs.days_before
        });
        compacted.days_deleted = (before - self.buckets.len()) as u64;
        let before = self.batch_ids.len();
        self.batch_ids
            .retain(|_, received| *received >= cutoffs.batch_ids_before);
        compacted.batch_ids_forgotten = (before - self.batch_ids.len()) as u64;
        for applications in self.applications.values_mut() {
            let before = applications.len();
            applications.retain(|_, seen| *seen >= cutoffs.days_before);
            compacted.applications_forgotten += (before - applications.len()) as u64;
        }
        self.applications
            .retain(|_, applications| !applications.is_empty());
        compacted
    }
}
