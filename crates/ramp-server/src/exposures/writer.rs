//! `ExposureWriter`: hands batches of counts to the store, many at a time.
//!
//! Each batch is answered only once the store has committed it, so an application that got its
//! answer may forget its counts, and one that did not retries with the same batch id (counted
//! once). One task writes: while the store commits one group of batches, the next group
//! gathers, so 100 applications reporting together cost a few transactions, not 100. What
//! waits is bounded by its number of counts; past that a batch is refused at once (503) and
//! the application keeps its counts for the next try.
//!
//! Sketches of distinct users ride along: after a group's counts are committed, its sketches
//! (merged per feature, day and answer first) are merged into the store's, and only then is the
//! group answered. Merging is idempotent, so a retry after a failure there adds nothing twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use ramp_core::UserSketch;
use ramp_store::daily_users::DailyUsers;
use ramp_store::exposure::ExposureBatch;
use ramp_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

/// At most this many counts (over all batches) are written in one call to the store.
const MAX_COUNTS_PER_WRITE: usize = 200_000;
/// At most this many batches are written in one call to the store.
const MAX_BATCHES_PER_WRITE: usize = 256;
/// What one sketch weighs against the bounds on counts (up to 1 KiB, as much as ~16 counts).
const SKETCH_WEIGHT: usize = 16;

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteRefused {
    /// Too many counts are waiting already.
    #[error("the server is busy writing exposure counts; try again shortly")]
    Busy,
    /// The store refused or failed (shared by every batch of the failed write).
    #[error("{0}")]
    Store(Arc<StoreError>),
    /// The writer has stopped (the server is shutting down).
    #[error("the server is shutting down")]
    Stopped,
}

struct Waiting {
    batch: ExposureBatch,
    users: Vec<DailyUsers>,
    _room: OwnedSemaphorePermit,
    answer: oneshot::Sender<Result<bool, Arc<StoreError>>>,
}

/// The sending side; the writing task ends when every clone is dropped.
#[derive(Clone)]
pub struct ExposureWriter {
    waiting: mpsc::UnboundedSender<Waiting>,
    room: Arc<Semaphore>,
}

impl std::fmt::Debug for ExposureWriter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ExposureWriter")
            .field("room", &self.room.available_permits())
            .finish()
    }
}

impl ExposureWriter {
    /// Starts the writing task; at most `max_waiting_counts` counts wait at once.
    pub fn start(store: Arc<dyn Store>, max_waiting_counts: usize) -> Self {
        let (waiting, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_groups(store, receiver));
        Self {
            waiting,
            room: Arc::new(Semaphore::new(max_waiting_counts)),
        }
    }

    /// Writes one batch and its users' sketches; `Ok(false)` when the batch's id was recorded
    /// before (its sketches are merged all the same: that changes nothing).
    pub async fn write(
        &self,
        batch: ExposureBatch,
        users: Vec<DailyUsers>,
    ) -> Result<bool, WriteRefused> {
        // A batch holds room for its counts, plus one so that empty batches are bounded too.
        let size = u32::try_from(weight(&batch, &users)).map_err(|_| WriteRefused::Busy)?;
        let room = Arc::clone(&self.room)
            .try_acquire_many_owned(size)
            .map_err(|_| WriteRefused::Busy)?;
        let (answer, answered) = oneshot::channel();
        self.waiting
            .send(Waiting {
                batch,
                users,
                _room: room,
                answer,
            })
            .map_err(|_| WriteRefused::Stopped)?;
        answered
            .await
            .map_err(|_| WriteRefused::Stopped)?
            .map_err(WriteRefused::Store)
    }
}

async fn write_groups(store: Arc<dyn Store>, mut receiver: mpsc::UnboundedReceiver<Waiting>) {
    while let Some(first) = receiver.recv().await {
        let mut counts = weight(&first.batch, &first.users);
        let mut group = vec![first];
        while counts < MAX_COUNTS_PER_WRITE && group.len() < MAX_BATCHES_PER_WRITE {
            match receiver.try_recv() {
                Ok(next) => {
                    counts += weight(&next.batch, &next.users);
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let batches: Vec<ExposureBatch> = group
            .iter_mut()
            .map(|waiting| std::mem::replace(&mut waiting.batch, empty_batch()))
            .collect();
        let users = merge_users(group.iter_mut().flat_map(|waiting| waiting.users.drain(..)));
        let written = match store.record_exposures(&batches).await {
            Ok(counted) if users.is_empty() => Ok(counted),
            Ok(counted) => store.merge_user_sketches(&users).await.map(|()| counted),
            Err(error) => Err(error),
        };
        match written {
            Ok(counted) => {
                for (waiting, counted) in group.into_iter().zip(counted) {
                    let _ = waiting.answer.send(Ok(counted));
                }
            }
            Err(error) => {
                tracing::warn!(%error, batches = batches.len(), "exposure counts not stored");
                let error = Arc::new(error);
                for waiting in group {
                    let _ = waiting.answer.send(Err(Arc::clone(&error)));
                }
            }
        }
    }
}

/// Room a batch takes while it waits.
fn weight(batch: &ExposureBatch, users: &[DailyUsers]) -> usize {
    batch.counts.len() + users.len() * SKETCH_WEIGHT + 1
}

/// One sketch per (feature, day, answer).
fn merge_users(users: impl Iterator<Item = DailyUsers>) -> Vec<DailyUsers> {
    let mut merged: BTreeMap<(String, NaiveDate, bool), UserSketch> = BTreeMap::new();
    for daily in users {
        match merged.entry((daily.feature, daily.day, daily.active)) {
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                entry.get_mut().merge(&daily.sketch)
            }
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(daily.sketch);
            }
        }
    }
    merged
        .into_iter()
        .map(|((feature, day, active), sketch)| DailyUsers {
            feature,
            day,
            active,
            sketch,
        })
        .collect()
}

fn empty_batch() -> ExposureBatch {
    ExposureBatch {
        batch_id: String::new(),
        application: String::new(),
        instance: String::new(),
        minute: chrono::DateTime::UNIX_EPOCH,
        received: chrono::DateTime::UNIX_EPOCH,
        counts: Vec::new(),
        unnamed: 0,
        dropped: 0,
    }
}
