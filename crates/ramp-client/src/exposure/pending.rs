//! `Pending`: the batches waiting to reach the server, bounded in entries.
//!
//! Batches are sent oldest first. Once a batch has been tried it is frozen (same id, same
//! content), because the server may have stored it even if its answer was lost: a retry under
//! the same id is then ignored there, and a changed one would be lost or counted twice. While
//! the server stays unreachable, new batches queue up to the bound; past it the oldest are
//! dropped and the checks they counted are added to `dropped`, which the next batch tried for
//! the first time carries to the server (so nothing is lost silently, even a drop count).

use std::collections::VecDeque;

use super::{ExposureBatch, Exposures};

/// The most entries one batch holds: 2,000 entries of the longest feature names (200 bytes)
/// stay under the server's default 1 MiB body limit.
pub(crate) const BATCH_ENTRIES: usize = 2_000;

/// The most user sketches one batch holds: 200 dense sketches (about 2 KiB of JSON each) stay
/// well under the server's 1 MiB body limit.
pub(crate) const BATCH_SKETCHES: usize = 200;
/// What one sketch weighs against the bound on entries (about as many bytes as 8 counts).
pub(crate) const SKETCH_ENTRIES: usize = 8;

/// Entries a batch holds against the bound: its counts, its sketches, one for its header.
fn entries_of(batch: &ExposureBatch) -> usize {
    batch.counts.len() + batch.users.len() * SKETCH_ENTRIES + 1
}

/// Batches not yet accepted by the server.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    queue: VecDeque<ExposureBatch>,
    /// Whether the front batch has been tried (and so may not change).
    front_tried: bool,
    /// Entries held (each batch's counts plus one for its header).
    entries: usize,
    /// The most entries to hold.
    bound: usize,
    /// Checks dropped and not yet carried by a batch.
    dropped: u64,
    /// Checks dropped since the start, for the status (a re-dropped drop count not again).
    dropped_total: u64,
    /// User sketches let go for want of room, since the start.
    sketches_dropped: u64,
}

impl Pending {
    pub fn new(bound: usize) -> Self {
        Self {
            bound: bound.max(2),
            ..Self::default()
        }
    }

    /// Queues a drained batch, split so no batch exceeds `BATCH_ENTRIES` (nor the bound),
    /// then drops the oldest batches while the bound is exceeded. Its user sketches follow in
    /// batches of their own, only into room left free: sketches never push counts out, and
    /// those that find no room are let go (distinct users then read a little low).
    pub fn push(&mut self, mut batch: ExposureBatch, exposures: &Exposures) {
        let users = std::mem::take(&mut batch.users);
        let counts = std::mem::take(&mut batch.counts);
        let header = batch.clone();
        batch.counts = counts;
        let chunk = BATCH_ENTRIES.min(self.bound - 1);
        while batch.counts.len() > chunk {
            let rest = batch.counts.split_off(chunk);
            let next = ExposureBatch {
                batch_id: exposures.next_id(),
                counts: rest,
                unknown_overflow: 0,
                dropped: 0,
                ..batch.clone()
            };
            self.enqueue(batch);
            batch = next;
        }
        if !batch.is_empty() {
            self.enqueue(batch);
        }
        while self.entries > self.bound {
            self.drop_front();
        }
        let sketches = BATCH_SKETCHES.min((self.bound - 1) / SKETCH_ENTRIES).max(1);
        for chunk in users.chunks(sketches) {
            let sketch_batch = ExposureBatch {
                batch_id: exposures.next_id(),
                unknown_overflow: 0,
                dropped: 0,
                users: chunk.to_vec(),
                ..header.clone()
            };
            if self.entries + entries_of(&sketch_batch) <= self.bound {
                self.enqueue(sketch_batch);
            } else {
                self.sketches_dropped += chunk.len() as u64;
            }
        }
    }

    fn enqueue(&mut self, batch: ExposureBatch) {
        self.entries += entries_of(&batch);
        self.queue.push_back(batch);
    }

    fn drop_front(&mut self) {
        if let Some(batch) = self.queue.pop_front() {
            self.entries -= entries_of(&batch);
            self.dropped += batch.total() + batch.dropped;
            self.dropped_total += batch.total();
            self.front_tried = false;
        }
    }

    /// The batch to send next, with the drop count added if it was never tried; `None`
    /// when nothing waits. A drop count with no batch to carry it gets a batch of its own.
    pub fn next(&mut self, exposures: &Exposures) -> Option<&ExposureBatch> {
        if self.queue.is_empty() && self.dropped > 0 {
            self.enqueue(exposures.empty_batch());
        }
        let front = self.queue.front_mut()?;
        if !self.front_tried {
            front.dropped += std::mem::take(&mut self.dropped);
            self.front_tried = true;
        }
        Some(front)
    }

    /// The front batch reached the server.
    pub fn sent(&mut self) {
        if let Some(batch) = self.queue.pop_front() {
            self.entries -= entries_of(&batch);
        }
        self.front_tried = false;
    }

    /// The server refused the front batch for good (a 4xx): its checks count as dropped.
    pub fn refused(&mut self) {
        self.drop_front();
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Entries held.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Checks dropped since the start (carried or not).
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// User sketches let go for want of room (tests).
    #[cfg(test)]
    pub fn sketches_dropped(&self) -> u64 {
        self.sketches_dropped
    }

    /// Checks dropped and not yet carried by a batch (tests).
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::{ExposureCount, ExposureSettings};
    use chrono::DateTime;
    use ramp_core::ReasonKind;
    use std::sync::Arc;

    fn exposures() -> Exposures {
        Exposures::new(ExposureSettings {
            clock: Arc::new(|| DateTime::UNIX_EPOCH),
            ..ExposureSettings::default()
        })
    }

    fn batch(exposures: &Exposures, features: usize) -> ExposureBatch {
        let mut batch = exposures.empty_batch();
        batch.counts = (0..features)
            .map(|index| ExposureCount {
                feature: format!("feature-{index}"),
                active: true,
                reason: ReasonKind::Percentage,
                count: 2,
            })
            .collect();
        batch
    }

    #[test]
    fn past_the_bound_the_oldest_go_and_the_next_new_batch_carries_the_count() {
        let exposures = exposures();
        let mut pending = Pending::new(25);
        pending.push(batch(&exposures, 10), &exposures); // 11 entries
        let first_id = pending.next(&exposures).unwrap().batch_id.clone();
        pending.push(batch(&exposures, 10), &exposures); // 22
        assert_eq!(pending.len(), 2);
        pending.push(batch(&exposures, 10), &exposures); // 33: the tried first one goes
        assert_eq!(pending.len(), 2);
        assert_eq!(pending.dropped(), 20);
        let next = pending.next(&exposures).unwrap();
        assert_ne!(next.batch_id, first_id);
        assert_eq!(next.dropped, 20);
        // A retry is the same batch, carrying nothing more.
        let retried = pending.next(&exposures).unwrap().clone();
        assert_eq!(retried.dropped, 20);
        pending.sent();
        assert_eq!(pending.next(&exposures).unwrap().dropped, 0);
    }

    #[test]
    fn sketches_travel_apart_and_never_push_counts_out() {
        let exposures = exposures();
        let users = |count: usize| {
            (0..count)
                .map(|index| crate::exposure::ExposureUsers {
                    feature: format!("feature-{index}"),
                    active: true,
                    sketch: ramp_core::UserSketch::new(),
                })
                .collect::<Vec<_>>()
        };
        let mut pending = Pending::new(40);
        let mut first = batch(&exposures, 5);
        first.users = users(3);
        // 6 entries for the counts, then one batch of 3 sketches: 3 × 8 + 1, 31 in all.
        pending.push(first, &exposures);
        assert_eq!((pending.len(), pending.entries()), (2, 31));
        assert!(pending.queue[0].users.is_empty() && pending.queue[0].counts.len() == 5);
        assert!(pending
            .queue
            .iter()
            .skip(1)
            .all(|batch| batch.counts.is_empty()));
        let mut second = batch(&exposures, 5);
        second.users = users(2);
        // The counts fit (37); the sketches would need 17 more and are let go rather than
        // pushing the first counts out.
        pending.push(second, &exposures);
        assert_eq!(pending.sketches_dropped(), 2);
        assert_eq!((pending.len(), pending.entries()), (3, 37));
        assert_eq!(pending.queue[0].counts.len(), 5);
        assert_eq!(pending.queue.back().unwrap().counts.len(), 5);

        let mut big = Pending::new(1_000_000);
        let mut many = batch(&exposures, 0);
        many.users = users(BATCH_SKETCHES + 1);
        big.push(many, &exposures);
        assert_eq!(big.len(), 2, "sketches split by BATCH_SKETCHES");
    }

    #[test]
    fn large_batches_are_split_and_a_lone_drop_count_is_sent() {
        let exposures = exposures();
        let mut pending = Pending::new(1_000_000);
        pending.push(batch(&exposures, BATCH_ENTRIES * 2 + 1), &exposures);
        assert_eq!(pending.len(), 3);
        let mut ids = std::collections::BTreeSet::new();
        for _ in 0..3 {
            let batch = pending.next(&exposures).unwrap();
            assert!(batch.counts.len() <= BATCH_ENTRIES);
            ids.insert(batch.batch_id.clone());
            pending.refused();
        }
        assert_eq!(ids.len(), 3);
        // Every refused check is reported by a batch of its own.
        let carrier = pending.next(&exposures).unwrap();
        assert!(carrier.counts.is_empty());
        assert_eq!(carrier.dropped, 2 * (BATCH_ENTRIES as u64 * 2 + 1));
    }
}
