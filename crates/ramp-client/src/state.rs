//! The state every check reads and the background task writes: one atomically swapped
//! [`Loaded`] (compiled snapshot, its data, the code groups and where it came from).
//!
//! Readers never lock and never allocate: they read through `current.rs` (an `ArcSwap` with a
//! per-thread cache in front). Writers (the background task, `define_group`) are rare and take
//! a mutex among themselves so that neither overwrites the other's swap. Callbacks run after a
//! swap, outside every lock, and a panicking callback is contained, never taking the
//! background task down.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ramp_core::{
    user_hash, Check, CodeGroups, CompiledSnapshot, Context, Decision, Feature, FeatureName,
    Snapshot, SnapshotDiff,
};

use crate::backup;
use crate::current::Current;
use crate::exposure::{CounterTable, ExposureSettings, Exposures};

/// Where the client's snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The Ramp server (snapshot and stream).
    Server,
    /// The store itself (direct mode).
    Store,
    /// The backup file: the server or store has not answered since the client started.
    Backup,
    /// Nothing yet: every feature is inactive.
    None,
}

/// What an `on_change` callback is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The snapshot version now.
    pub version: u64,
    /// Where the new snapshot came from.
    pub source: Source,
    /// Features created, changed or deleted, sorted.
    pub features: Vec<String>,
    /// Stored groups (or the bucketing setting) changed, so any feature may answer differently.
    pub groups_changed: bool,
}

/// A callback registered with `on_change`.
pub(crate) type Callback = Arc<dyn Fn(&ChangeEvent) + Send + Sync>;

/// One consistent view: what `is_active` reads.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// Inline rather than behind an `Arc`: one pointer fewer between a check and the data.
    /// The rare swaps that keep the data (`define_group`, `confirm`) clone it.
    pub compiled: CompiledSnapshot,
    pub snapshot: Arc<Snapshot>,
    pub code_groups: Arc<CodeGroups>,
    pub source: Source,
    /// The counts of checks of `compiled`'s features (`None` when counting is off). Swapped
    /// with `compiled`; kept when only the code groups or the source change.
    pub counters: Option<Arc<CounterTable>>,
}

impl Loaded {
    /// One check, counted unless counting is off: the body of `Client::is_active`.
    ///
    /// Out of line on purpose. Inlined, the check became part of `Current::with`'s closure,
    /// whose captures (the name's pointer and length, the context) are built on the stack: a
    /// caller's freshly stored `&str` was reloaded there as one 16-byte word, which the store
    /// buffer cannot forward, and each check waited for it (30 ns a check in the benchmark,
    /// against 13–16 ns this way; BENCHMARKS.md). As a call of its own, its arguments travel
    /// in registers.
    #[inline(never)]
    pub fn is_active(&self, feature: &str, context: &Context) -> bool {
        match &self.counters {
            Some(counters) => self.counted_check(counters, feature, context).is_active(),
            None => self.compiled.is_active(feature, context, &self.code_groups),
        }
    }

    /// A check by name, counted. When distinct users are counted, the user id is hashed once
    /// here and the hash serves both the count and the feature's lists (a listed text id
    /// would otherwise be hashed twice per check).
    #[inline(always)]
    pub fn counted_check(
        &self,
        counters: &CounterTable,
        feature: &str,
        context: &Context,
    ) -> Check {
        if let (true, Some(user)) = (counters.counts_users(), context.user_id()) {
            let hash = user_hash(user);
            let check = self
                .compiled
                .check_hashed(feature, context, &self.code_groups, hash);
            counters.record(check, feature, Some(hash));
            return check;
        }
        let check = self.compiled.check(feature, context, &self.code_groups);
        counters.record(check, feature, None);
        check
    }

    /// A check of the feature at `position` (as a feature handle resolved it; `feature` is
    /// its name, for counting it if the position is past the end), counted unless counting
    /// is off. Out of line for the same reason as `is_active`.
    #[inline(never)]
    pub fn check_at(&self, position: usize, feature: &str, context: &Context) -> Check {
        let Some(counters) = &self.counters else {
            return self
                .compiled
                .check_at(position, context, &self.code_groups, None);
        };
        let hash = match (counters.counts_users(), context.user_id()) {
            (true, Some(user)) => Some(user_hash(user)),
            _ => None,
        };
        let check = self
            .compiled
            .check_at(position, context, &self.code_groups, hash);
        counters.record(check, feature, hash);
        check
    }

    /// The body of `Client::explain`: the decision with its reason, counted like `is_active`.
    #[inline(never)]
    pub fn explain(&self, feature: &str, context: &Context) -> Decision {
        if let Some(counters) = &self.counters {
            self.counted_check(counters, feature, context);
        }
        self.compiled.evaluate(feature, context, &self.code_groups)
    }
}

/// Shared between the `Client` handles and the background task.
pub(crate) struct Shared {
    pub current: Current,
    /// Serializes writers (read-modify-swap of `current`); readers never touch it.
    writer: Mutex<()>,
    callbacks: Mutex<Vec<Callback>>,
    backup_path: Option<PathBuf>,
    /// A backup write is queued; it will write whatever is current when it runs, so further
    /// changes need not queue another (bursts coalesce into one write).
    backup_queued: AtomicBool,
    /// Serializes backup writes and remembers the version last written.
    backup_written: Mutex<Option<u64>>,
    /// The version of the snapshot last loaded from the backup file, which need not be
    /// written back.
    backup_loaded: AtomicU64,
    /// Whether the background task is connected, and its failed attempts.
    pub sync: crate::sync_status::SyncCounters,
    /// Counting checks: settings and the tables of replaced snapshots.
    pub exposures: Exposures,
}

impl Shared {
    pub fn new(
        code_groups: CodeGroups,
        backup_path: Option<PathBuf>,
        exposure_settings: ExposureSettings,
    ) -> Self {
        let exposures = Exposures::new(exposure_settings);
        let compiled = CompiledSnapshot::default();
        Self {
            current: Current::new(Loaded {
                counters: exposures.table(&compiled),
                compiled,
                snapshot: Arc::new(Snapshot::default()),
                code_groups: Arc::new(code_groups),
                source: Source::None,
            }),
            exposures,
            writer: Mutex::new(()),
            callbacks: Mutex::new(Vec::new()),
            backup_path,
            backup_queued: AtomicBool::new(false),
            backup_written: Mutex::new(None),
            backup_loaded: AtomicU64::new(u64::MAX),
            sync: crate::sync_status::SyncCounters::default(),
        }
    }

    pub fn backup_path(&self) -> Option<&PathBuf> {
        self.backup_path.as_ref()
    }

    pub fn add_callback(&self, callback: Callback) {
        lock(&self.callbacks).push(callback);
    }

    /// Adds (or replaces) a code group, keeping the snapshot.
    pub fn define_group(&self, name: String, predicate: ramp_core::GroupPredicate) {
        let _writer = lock(&self.writer);
        let old = self.current.load();
        let mut code_groups = CodeGroups::clone(&old.code_groups);
        code_groups.define(name, move |context| predicate(context));
        self.current.store(Loaded {
            compiled: old.compiled.clone(),
            snapshot: old.snapshot.clone(),
            code_groups: Arc::new(code_groups),
            source: old.source,
            counters: old.counters.clone(),
        });
    }

    /// Starts from the backup file's snapshot (before anything fresher is known).
    pub fn load_backup(self: &Arc<Self>, snapshot: Snapshot) {
        self.backup_loaded
            .store(snapshot.version, Ordering::Relaxed);
        self.replace(snapshot, Source::Backup);
    }

    /// Installs a whole snapshot (from the server or store). Returns whether anything changed.
    pub fn replace(self: &Arc<Self>, snapshot: Snapshot, source: Source) -> bool {
        let event = {
            let _writer = lock(&self.writer);
            let old = self.current.load();
            if old.snapshot.as_ref() == &snapshot {
                // Same data (a backup the server confirms): only the source changes.
                self.set_source(&old, source);
                None
            } else {
                let diff = SnapshotDiff::between(&old.snapshot, &snapshot);
                let event = change_event(&diff, source);
                let compiled = old.compiled.updated(&diff, &snapshot);
                self.swap(&old, snapshot, compiled, source);
                Some(event)
            }
        };
        self.schedule_backup();
        match event {
            Some(event) => {
                self.notify(&event);
                true
            }
            None => false,
        }
    }

    /// Marks the current snapshot as confirmed by `source` (a 304: the backup is up to date).
    pub fn confirm(self: &Arc<Self>, source: Source) {
        {
            let _writer = lock(&self.writer);
            self.set_source(&self.current.load(), source);
        }
        self.schedule_backup();
    }

    /// Applies a `changed` event: deleted features removed, features replaced or inserted by
    /// name (kept sorted), the version set; only those features are compiled again. Events at
    /// or below the current version are ignored.
    pub fn patch(
        self: &Arc<Self>,
        version: u64,
        features: Vec<Feature>,
        deleted: Vec<FeatureName>,
    ) -> bool {
        let event = {
            let _writer = lock(&self.writer);
            let old = self.current.load();
            if version <= old.snapshot.version {
                return false;
            }
            let mut names: BTreeSet<String> = deleted.iter().map(|name| name.to_string()).collect();
            names.extend(features.iter().map(|feature| feature.name.to_string()));
            let compiled = old.compiled.patched(version, &features, &deleted);
            let snapshot = old.snapshot.patched(version, features, &deleted);
            self.swap(&old, snapshot, compiled, Source::Server);
            ChangeEvent {
                version,
                source: Source::Server,
                features: names.into_iter().collect(),
                groups_changed: false,
            }
        };
        self.schedule_backup();
        self.notify(&event);
        true
    }

    fn set_source(&self, old: &Loaded, source: Source) {
        if old.source != source {
            self.current.store(Loaded {
                compiled: old.compiled.clone(),
                snapshot: old.snapshot.clone(),
                code_groups: old.code_groups.clone(),
                source,
                counters: old.counters.clone(),
            });
        }
    }

    /// Installs a newly compiled snapshot with a new counter table; the old table is kept
    /// until drained, so no count recorded against the old snapshot is lost.
    fn swap(&self, old: &Loaded, snapshot: Snapshot, compiled: CompiledSnapshot, source: Source) {
        if let Some(table) = &old.counters {
            self.exposures.retire(table.clone());
        }
        self.current.store(Loaded {
            counters: self.exposures.table(&compiled),
            compiled,
            snapshot: Arc::new(snapshot),
            code_groups: old.code_groups.clone(),
            source,
        });
    }

    fn notify(&self, event: &ChangeEvent) {
        let callbacks: Vec<Callback> = lock(&self.callbacks).clone();
        for callback in callbacks {
            // An application's bug must not stop the client from following changes.
            if catch_unwind(AssertUnwindSafe(|| callback(event))).is_err() {
                tracing::error!("a Ramp on_change callback panicked");
            }
        }
    }

    /// Queues a write of the current snapshot to the backup file, off the async threads.
    pub fn schedule_backup(self: &Arc<Self>) {
        if self.backup_path.is_none() || self.backup_queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let shared = Arc::clone(self);
        let spawned = tokio::runtime::Handle::try_current().map(|runtime| {
            runtime.spawn_blocking(move || shared.write_backup());
        });
        if spawned.is_err() {
            self.backup_queued.store(false, Ordering::Release);
        }
    }

    fn write_backup(&self) {
        let Some(path) = &self.backup_path else {
            return;
        };
        let mut written = lock(&self.backup_written);
        // Cleared before reading `current`: a change after this point queues another write.
        self.backup_queued.store(false, Ordering::Release);
        let loaded = self.current.load();
        let version = loaded.snapshot.version;
        let fresh = matches!(loaded.source, Source::Server | Source::Store);
        let from_backup = self.backup_loaded.load(Ordering::Relaxed) == version;
        if !fresh || *written == Some(version) || (from_backup && written.is_none()) {
            return;
        }
        match backup::save(path, &loaded.snapshot) {
            Ok(()) => *written = Some(version),
            Err(error) => tracing::warn!(error = %error, "could not write the Ramp backup file"),
        }
    }
}

/// What an `on_change` callback is told about a new snapshot.
fn change_event(diff: &SnapshotDiff<'_>, source: Source) -> ChangeEvent {
    ChangeEvent {
        version: diff.version,
        source,
        features: diff
            .feature_names()
            .into_iter()
            .map(ToString::to_string)
            .collect(),
        groups_changed: diff.groups_changed,
    }
}

/// Locks a mutex, recovering from poisoning (a panicking callback must not wedge the client).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|error| error.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn feature(name: &str, percentage: f64) -> Feature {
        let mut feature = Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
        feature.percentage = ramp_core::Percentage::new(percentage).unwrap();
        feature
    }

    fn snapshot(features: Vec<Feature>) -> Snapshot {
        Snapshot {
            version: 1,
            features,
            ..Snapshot::default()
        }
    }

    #[test]
    fn changes_name_created_changed_and_deleted_features() {
        let old = snapshot(vec![
            feature("a", 1.0),
            feature("b", 2.0),
            feature("c", 3.0),
        ]);
        let new = snapshot(vec![
            feature("b", 20.0),
            feature("c", 3.0),
            feature("d", 4.0),
        ]);
        let event = change_event(&SnapshotDiff::between(&old, &new), Source::Server);
        assert_eq!(event.features, ["a", "b", "d"]);
        assert!(!event.groups_changed);
    }

    #[test]
    fn stale_patches_are_ignored_and_callbacks_survive_panics() {
        let shared = Arc::new(Shared::new(
            CodeGroups::new(),
            None,
            ExposureSettings::default(),
        ));
        let seen = Arc::new(Mutex::new(Vec::new()));
        shared.add_callback(Arc::new(|_| panic!("an application bug")));
        let recorder = seen.clone();
        shared.add_callback(Arc::new(move |event: &ChangeEvent| {
            lock(&recorder).push(event.version)
        }));
        assert!(shared.replace(snapshot(vec![feature("a", 1.0)]), Source::Server));
        assert!(!shared.patch(1, vec![feature("a", 50.0)], vec![]));
        assert!(shared.patch(2, vec![feature("a", 50.0)], vec![]));
        assert_eq!(*lock(&seen), [1, 2]);
        assert_eq!(
            shared.current.load().snapshot.features[0]
                .percentage
                .value(),
            50.0
        );
    }
}
