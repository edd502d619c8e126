//! Exposure counts on the server: what applications report (`admission`, then `writer` to the
//! store), the server's own evaluations (`own`), and the upkeep that flushes those and rolls
//! old minutes into hours and days (`maintain`).

pub mod admission;
pub mod own;
pub mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use ramp_store::daily_users::first_day_kept;
use ramp_store::exposure::{ExposureRetention, Resolution};
use ramp_store::Store;

use crate::state::AppState;
use admission::{Admission, Report};
use own::OwnCounts;
use writer::{ExposureWriter, WriteRefused};

/// The application name the server's own evaluations are recorded under.
pub const SERVER_APPLICATION: &str = "ramp-server";

/// How exposure counts are kept.
#[derive(Debug, Clone, Copy)]
pub struct ExposureSettings {
    /// How long each resolution is kept.
    pub retention: ExposureRetention,
    /// Names of features that do not exist, kept per server process.
    pub max_unknown_names: usize,
    /// Application instances kept per server process (more are recorded as `(other)`).
    pub max_instances: usize,
    /// Counts waiting to be written, over all batches; past it batches are refused (503).
    pub max_waiting_counts: usize,
    /// Seconds between writes of the server's own counts.
    pub flush_seconds: u64,
    /// Seconds between compactions.
    pub compact_seconds: u64,
    /// UTC days of distinct-user sketches kept (today included).
    pub user_sketch_days: u64,
}

impl Default for ExposureSettings {
    fn default() -> Self {
        Self {
            retention: ExposureRetention::default(),
            max_unknown_names: 1_000,
            max_instances: 10_000,
            max_waiting_counts: 2_000_000,
            flush_seconds: 10,
            compact_seconds: 60,
            user_sketch_days: ramp_store::daily_users::DEFAULT_USER_SKETCH_DAYS,
        }
    }
}

/// The server's exposure machinery, shared by every request.
#[derive(Debug)]
pub struct Exposures {
    /// Writes batches to the store.
    pub writer: ExposureWriter,
    /// Bounds names and instances.
    pub admission: Admission,
    /// The server's own evaluations since the last flush.
    pub own: OwnCounts,
    /// The settings.
    pub settings: ExposureSettings,
    /// Turns for reads that go over every feature's counts (two at a time).
    pub heavy_reads: tokio::sync::Semaphore,
    instance: String,
    flushes: AtomicU64,
}

impl Exposures {
    /// Starts the writer for `store`.
    pub fn new(store: Arc<dyn Store>, settings: ExposureSettings) -> Self {
        Self {
            writer: ExposureWriter::start(store, settings.max_waiting_counts),
            admission: Admission::new(settings.max_unknown_names, settings.max_instances),
            own: OwnCounts::new(settings.max_unknown_names + 100_000),
            settings,
            heavy_reads: tokio::sync::Semaphore::new(2),
            instance: server_instance(),
            flushes: AtomicU64::new(0),
        }
    }

    /// The start of the oldest minute bucket still kept at `now`: counts for earlier minutes
    /// are reported as dropped rather than stored.
    pub fn oldest_minute(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        Resolution::Minute.start_of(now - self.settings.retention.minutes_for)
    }
}

/// Writes the server's own counts as one batch (put back if the write fails).
pub async fn flush_own(state: &AppState) -> Result<(), WriteRefused> {
    let exposures = &state.exposures;
    let taken = exposures.own.take();
    if taken.counts.is_empty() && taken.unnamed == 0 && taken.users.is_empty() {
        return Ok(());
    }
    let now = state.clock.now();
    let sequence = exposures.flushes.fetch_add(1, Ordering::Relaxed);
    let batch_id = format!(
        "{}:{}:{sequence}",
        exposures.instance,
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let counts = taken
        .counts
        .iter()
        .flat_map(|(name, counts)| {
            ramp_core::ReasonKind::ALL
                .into_iter()
                .zip(counts)
                .filter(|(_, count)| **count > 0)
                .map(move |(reason, count)| (name.as_str(), reason, *count))
        })
        .collect();
    let report = Report {
        batch_id: &batch_id,
        application: SERVER_APPLICATION,
        instance: &exposures.instance,
        to: now,
        counts,
        unnamed: taken.unnamed,
        dropped: 0,
        users: taken
            .users
            .iter()
            .map(|((name, active), sketch)| (name.as_str(), *active, sketch))
            .collect(),
    };
    let loaded = state.live.current();
    let exists = |name: &str| loaded.compiled.contains(name);
    let oldest_minute = exposures.oldest_minute(now);
    let batch = exposures
        .admission
        .batch(&report, exists, now, oldest_minute);
    let users = exposures
        .admission
        .users(&report, exists, now, oldest_minute);
    drop(report);
    let tally = state.metrics.exposure_tally(&batch);
    match exposures.writer.write(batch, users).await {
        Ok(_) => {
            state.metrics.exposures_stored(tally);
            Ok(())
        }
        Err(refused) => {
            exposures.own.put_back(taken);
            Err(refused)
        }
    }
}

/// Flushes the server's own counts and compacts the store's, on their intervals, until the
/// server stops (then flushes once more).
pub async fn maintain(state: AppState) {
    let settings = state.exposures.settings;
    let mut flushes = tokio::time::interval(StdDuration::from_secs(settings.flush_seconds.max(1)));
    let mut compactions =
        tokio::time::interval(StdDuration::from_secs(settings.compact_seconds.max(1)));
    flushes.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    compactions.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = flushes.tick() => {
                if let Err(error) = flush_own(&state).await {
                    tracing::warn!(%error, "the server's own exposure counts wait for the next flush");
                }
            }
            _ = compactions.tick() => {
                let now = state.clock.now();
                match state.store.compact_exposures(&settings.retention, now).await {
                    Ok(compacted) => tracing::debug!(?compacted, "exposure counts compacted"),
                    Err(error) => tracing::warn!(%error, "exposure counts not compacted"),
                }
                let first_kept = first_day_kept(now, settings.user_sketch_days);
                match state.store.forget_user_sketches(first_kept).await {
                    Ok(forgotten) => tracing::debug!(forgotten, "old user sketches forgotten"),
                    Err(error) => tracing::warn!(%error, "old user sketches not forgotten"),
                }
            }
        }
    }
    if let Err(error) = flush_own(&state).await {
        tracing::warn!(%error, "the server's last exposure counts were not stored");
    }
}

/// `HOSTNAME-PID`, like an SDK's default instance.
fn server_instance() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}-{}", std::process::id())
}
