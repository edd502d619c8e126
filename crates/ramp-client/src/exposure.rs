//! Exposure counting: how often each feature was checked, and with what answer and reason.
//!
//! Checks count into the `CounterTable` beside the snapshot they read (`counters.rs`): one
//! relaxed atomic increment, no lock, no allocation. [`Exposures`] drains the tables (the
//! current one and replaced ones that some thread may still be writing to, until nothing can)
//! into an [`ExposureBatch`]; `sender.rs` sends batches to the server, keeping a bounded
//! backlog while it cannot (`pending.rs`).
//!
//! Times come from an [`ExposureClock`], a parameter, so tests never read the wall clock.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ramp_core::{ReasonKind, UserSketch};
use serde::{Deserialize, Serialize};

use crate::state::{lock, Loaded};

mod counters;
pub(crate) mod pending;
pub(crate) mod sender;
mod user_registers;

pub(crate) use counters::CounterTable;
use counters::Drained;

/// Where exposure batches take their times from.
pub type ExposureClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How checks are counted and reported; set through the [`ClientBuilder`](crate::ClientBuilder).
#[derive(Clone)]
pub(crate) struct ExposureSettings {
    pub enabled: bool,
    /// Whether checks with a user id also count distinct users (when `enabled`).
    pub count_users: bool,
    pub application: String,
    pub instance: String,
    pub interval: Duration,
    /// The most count entries kept while the server cannot be reached (a batch's header
    /// counts as one).
    pub pending_entries: usize,
    /// How long `close` may spend sending what is left.
    pub close_deadline: Duration,
    pub clock: ExposureClock,
}

impl Default for ExposureSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            count_users: true,
            application: default_application(),
            instance: default_instance(),
            interval: Duration::from_secs(10),
            pending_entries: 100_000,
            close_deadline: Duration::from_secs(2),
            clock: Arc::new(Utc::now),
        }
    }
}

/// The executable's file name, else `unknown`.
fn default_application() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// `HOSTNAME-PID`: the host from `$HOSTNAME`, else the kernel's (Linux), else `localhost`.
fn default_instance() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}-{}", std::process::id())
}

/// Counts of checks over a period, as sent to `POST /api/v1/exposures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureBatch {
    /// The application's name (by default the executable's file name).
    pub application: String,
    /// This running copy of it (by default `HOSTNAME-PID`).
    pub instance: String,
    /// Unique per client (instance, a random number drawn when the client was built, and a
    /// sequence number); a retried batch keeps it, so the server counts it once.
    pub batch_id: String,
    /// The period the counts cover.
    pub from: DateTime<Utc>,
    /// The end of the period.
    pub to: DateTime<Utc>,
    /// Per feature and reason; unknown names have the reason `not_found`.
    pub counts: Vec<ExposureCount>,
    /// Checks not counted by name: unknown names past the client's table of them (and, in a
    /// client nobody drained through many snapshot changes, keys past its bound).
    #[serde(default)]
    pub unknown_overflow: u64,
    /// Checks whose counts the client dropped (the server was unreachable for longer than
    /// its pending bound allowed) since the last batch that carried this number.
    #[serde(default)]
    pub dropped: u64,
    /// The users checked in the period, per feature and answer, as HyperLogLog sketches
    /// (never the ids): the server merges them into distinct users per day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<ExposureUsers>,
}

/// The users one feature answered one way in a batch's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureUsers {
    /// The feature name.
    pub feature: String,
    /// The answer.
    pub active: bool,
    /// The users, as a sketch of their hashed ids.
    pub sketch: UserSketch,
}

/// How many checks of one feature gave one answer for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureCount {
    /// The feature name as checked.
    pub feature: String,
    /// Whether the checks answered active (follows from the reason).
    pub active: bool,
    /// Why.
    pub reason: ReasonKind,
    /// How many checks.
    pub count: u64,
}

impl ExposureBatch {
    /// Every check the batch counts (by name and in the overflow).
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|count| count.count).sum::<u64>() + self.unknown_overflow
    }

    /// Whether it carries nothing at all.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
            && self.unknown_overflow == 0
            && self.dropped == 0
            && self.users.is_empty()
    }
}

/// Where sending counts stands (see [`Client::exposure_status`](crate::Client::exposure_status)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExposureStatus {
    /// Send rounds completed (each drains the counters and tries the pending batches).
    pub rounds: u64,
    /// Batches the server has accepted.
    pub sent_batches: u64,
    /// Batches waiting for the server.
    pub pending_batches: u64,
    /// Entries they hold (the bound is `exposure_pending_limit`).
    pub pending_entries: u64,
    /// Checks whose counts were dropped since the client started (the pending bound was
    /// reached, or the server refused a batch).
    pub dropped: u64,
}

/// The sender's progress, as `exposure_status` reads it.
#[derive(Debug, Default)]
pub(crate) struct StatusCounters {
    pub rounds: AtomicU64,
    pub sent_batches: AtomicU64,
    pub pending_batches: AtomicU64,
    pub pending_entries: AtomicU64,
    pub dropped: AtomicU64,
}

impl StatusCounters {
    pub fn read(&self) -> ExposureStatus {
        ExposureStatus {
            rounds: self.rounds.load(Ordering::Relaxed),
            sent_batches: self.sent_batches.load(Ordering::Relaxed),
            pending_batches: self.pending_batches.load(Ordering::Relaxed),
            pending_entries: self.pending_entries.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// The client's counting: settings, replaced tables still to drain, batch numbering.
pub(crate) struct Exposures {
    pub settings: ExposureSettings,
    /// Tables of replaced snapshots. A thread may still count into one until it notices the
    /// swap, so each is drained until this is its last reference, then once more and freed.
    replaced: Mutex<Vec<Arc<CounterTable>>>,
    /// Counts of tables freed at a swap before anyone drained them (a client that nobody
    /// drains, in direct mode, must not keep every old table): bounded by `CARRIED_KEYS`.
    carried: Mutex<Carried>,
    /// Serializes drains and holds the start of the next batch's period.
    since: Mutex<DateTime<Utc>>,
    /// A random number per client, so two clients (or a restart reusing a PID) never share a
    /// batch id.
    nonce: u64,
    sequence: AtomicU64,
    /// The sender's progress.
    pub status: StatusCounters,
    /// Wakes the sender for a round now (`Client::flush_exposures`).
    pub flush_now: tokio::sync::Notify,
}

impl Exposures {
    pub fn new(settings: ExposureSettings) -> Self {
        let start = (settings.clock)();
        Self {
            settings,
            replaced: Mutex::new(Vec::new()),
            carried: Mutex::new(Carried::default()),
            since: Mutex::new(start),
            nonce: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
            sequence: AtomicU64::new(0),
            status: StatusCounters::default(),
            flush_now: tokio::sync::Notify::new(),
        }
    }

    /// A new table for a newly compiled snapshot, or none when counting is off.
    pub fn table(&self, compiled: &ramp_core::CompiledSnapshot) -> Option<Arc<CounterTable>> {
        self.settings
            .enabled
            .then(|| Arc::new(CounterTable::new(compiled, self.settings.count_users)))
    }

    /// Keeps a replaced snapshot's table until it is drained for the last time.
    /// Tables nothing can count into any more are folded into `carried` and freed here.
    pub fn retire(&self, table: Arc<CounterTable>) {
        let mut replaced = lock(&self.replaced);
        replaced.push(table);
        let mut drained = Drained::default();
        let mut kept = Vec::new();
        for table in replaced.drain(..) {
            match Arc::try_unwrap(table) {
                Ok(table) => table.drain(&mut drained),
                Err(table) => kept.push(table),
            }
        }
        *replaced = kept;
        lock(&self.carried).add(drained);
    }

    /// A new batch id.
    pub fn next_id(&self) -> String {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        format!(
            "{}:{:08x}:{sequence}",
            self.settings.instance, self.nonce as u32
        )
    }

    /// A batch with no counts (to carry a drop count).
    pub fn empty_batch(&self) -> ExposureBatch {
        let now = (self.settings.clock)();
        ExposureBatch {
            application: self.settings.application.clone(),
            instance: self.settings.instance.clone(),
            batch_id: self.next_id(),
            from: now,
            to: now,
            counts: Vec::new(),
            unknown_overflow: 0,
            dropped: 0,
            users: Vec::new(),
        }
    }

    /// Takes every count recorded so far, from `current`'s table and every replaced one.
    pub fn drain(&self, current: &Loaded) -> ExposureBatch {
        let mut since = lock(&self.since);
        let mut drained = Drained::default();
        let replaced = std::mem::take(&mut *lock(&self.replaced));
        let mut kept = Vec::new();
        for table in replaced {
            table.drain(&mut drained);
            // The last reference: nothing can count into it any more (`into_inner` also
            // makes every earlier increment visible), so one more drain empties it for good.
            match Arc::try_unwrap(table) {
                Ok(table) => table.drain(&mut drained),
                Err(table) => kept.push(table),
            }
        }
        lock(&self.replaced).extend(kept);
        let carried = std::mem::take(&mut *lock(&self.carried));
        drained.overflow += carried.overflow;
        drained.counts.extend(
            carried
                .counts
                .into_iter()
                .map(|((feature, reason), count)| (feature, reason, count)),
        );
        drained.users.extend(
            carried
                .users
                .into_iter()
                .map(|((feature, active), sketch)| (feature, active, sketch)),
        );
        if let Some(table) = &current.counters {
            table.drain(&mut drained);
        }
        let to = (self.settings.clock)();
        let from = std::mem::replace(&mut *since, to);
        ExposureBatch {
            application: self.settings.application.clone(),
            instance: self.settings.instance.clone(),
            batch_id: self.next_id(),
            from,
            to,
            counts: merge(drained.counts),
            unknown_overflow: drained.overflow,
            dropped: 0,
            users: merge_users(drained.users),
        }
    }
}

/// The most (feature, reason) entries `Carried` holds; further checks only add to overflow.
const CARRIED_KEYS: usize = 100_000;
/// The most (feature, answer) sketches `Carried` holds (1 KiB each at most); users of further
/// ones are not counted.
const CARRIED_SKETCHES: usize = 4_096;

/// Counts of freed tables, merged per (feature, reason) so they take memory per key, not per
/// table.
#[derive(Debug, Default)]
struct Carried {
    counts: BTreeMap<(String, ReasonKind), u64>,
    overflow: u64,
    users: BTreeMap<(String, bool), UserSketch>,
}

impl Carried {
    fn add(&mut self, drained: Drained) {
        self.overflow += drained.overflow;
        for (feature, reason, count) in drained.counts {
            let key = (feature, reason);
            if let Some(total) = self.counts.get_mut(&key) {
                *total += count;
            } else if self.counts.len() < CARRIED_KEYS {
                self.counts.insert(key, count);
            } else {
                self.overflow += count;
            }
        }
        for (feature, active, sketch) in drained.users {
            let key = (feature, active);
            if let Some(users) = self.users.get_mut(&key) {
                users.merge(&sketch);
            } else if self.users.len() < CARRIED_SKETCHES {
                self.users.insert(key, sketch);
            }
        }
    }
}

/// One sketch per (feature, answer), sorted: a feature may appear in several tables.
fn merge_users(users: Vec<(String, bool, UserSketch)>) -> Vec<ExposureUsers> {
    let mut merged: BTreeMap<(String, bool), UserSketch> = BTreeMap::new();
    for (feature, active, sketch) in users {
        match merged.entry((feature, active)) {
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                entry.get_mut().merge(&sketch)
            }
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(sketch);
            }
        }
    }
    merged
        .into_iter()
        .map(|((feature, active), sketch)| ExposureUsers {
            feature,
            active,
            sketch,
        })
        .collect()
}

/// One entry per (feature, reason), sorted: a feature may appear in several tables.
fn merge(counts: Vec<(String, ReasonKind, u64)>) -> Vec<ExposureCount> {
    let mut merged: BTreeMap<(String, ReasonKind), u64> = BTreeMap::new();
    for (feature, reason, count) in counts {
        *merged.entry((feature, reason)).or_default() += count;
    }
    merged
        .into_iter()
        .map(|((feature, reason), count)| ExposureCount {
            feature,
            active: reason.is_active(),
            reason,
            count,
        })
        .collect()
}
