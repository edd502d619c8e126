//! The current snapshot as checks read it: an `ArcSwap` with a per-thread cache in front.
//!
//! `ArcSwap::load` alone costs about as much as the evaluation itself (a thread-local debt
//! slot claimed and released with atomic read-modify-writes). So each thread keeps the last
//! snapshot it read, tagged with a generation number that every swap increments: a check is
//! one atomic load of that number, and only after a change does a thread load the new
//! snapshot. No lock, no allocation, no reference-count traffic between threads on the hot
//! path.
//!
//! The cost of the cache: a thread that stops checking keeps the snapshot it last read alive
//! (one per thread at most) until it checks again or exits. Old snapshots are freed by the
//! writer (`retired`), not by whichever application thread happens to let go of one last, so
//! a check never pays for freeing ten thousand features.
//!
//! Re-entrancy is safe: a code-group predicate that itself checks a feature borrows the cache
//! again (shared borrows nest); only refreshing it needs it unborrowed, and is skipped then.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::state::{lock, Loaded};

/// Tells the caches of different clients apart (a client's address could be reused).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One thread's cached snapshot: whose, and of which generation.
struct Cached {
    owner: u64,
    generation: u64,
    loaded: Option<Arc<Loaded>>,
}

thread_local! {
    static CACHED: RefCell<Cached> = const {
        RefCell::new(Cached { owner: 0, generation: 0, loaded: None })
    };
}

/// The snapshot checks read, and the ones replaced but perhaps still cached by some thread.
pub(crate) struct Current {
    id: u64,
    /// Incremented after every swap; a thread's cache is current while they match.
    generation: AtomicU64,
    swap: ArcSwap<Loaded>,
    /// Replaced snapshots that some thread's cache may still hold; freed by a later swap once
    /// no thread does.
    retired: Mutex<Vec<Arc<Loaded>>>,
}

impl Current {
    pub fn new(loaded: Loaded) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            swap: ArcSwap::from_pointee(loaded),
            retired: Mutex::new(Vec::new()),
        }
    }

    /// The snapshot now, as a reference of its own (for the background task).
    pub fn load(&self) -> Arc<Loaded> {
        self.swap.load_full()
    }

    /// Runs `read` on the snapshot now: the hot path of every check. The cached snapshot is
    /// only borrowed (no reference count is touched); a read inside a read borrows it again.
    #[inline(always)]
    pub fn with<R>(&self, read: impl Fn(&Loaded) -> R) -> R {
        // Read before the snapshot, so a swap in between is seen as a newer generation next
        // time rather than missed.
        let generation = self.generation.load(Ordering::Acquire);
        let cached = CACHED.try_with(|cell| {
            let cached = cell.try_borrow().ok()?;
            if cached.owner != self.id || cached.generation != generation {
                return None;
            }
            cached.loaded.as_deref().map(&read)
        });
        match cached {
            Ok(Some(result)) => result,
            _ => self.refresh(generation, read),
        }
    }

    /// The slow path, once per thread after each change: load the snapshot and cache it.
    #[cold]
    fn refresh<R>(&self, generation: u64, read: impl Fn(&Loaded) -> R) -> R {
        let loaded = self.swap.load_full();
        let result = read(&loaded);
        // Fails while the thread exits, or inside a read (the cache is borrowed): then the
        // snapshot is simply not cached.
        let _ = CACHED.try_with(|cell| {
            if let Ok(mut cached) = cell.try_borrow_mut() {
                *cached = Cached {
                    owner: self.id,
                    generation,
                    loaded: Some(loaded),
                };
            }
        });
        result
    }

    /// Installs a new snapshot. Callers serialize their calls (the writer lock).
    pub fn store(&self, loaded: Loaded) {
        let old = self.swap.swap(Arc::new(loaded));
        self.generation.fetch_add(1, Ordering::Release);
        let mut retired = lock(&self.retired);
        retired.push(old);
        // Held only here: no thread's cache has it any more, so free it now, on this thread.
        retired.retain(|loaded| Arc::strong_count(loaded) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramp_core::{CodeGroups, CompiledSnapshot, Snapshot};

    use crate::state::Source;

    fn loaded(version: u64) -> Loaded {
        let snapshot = Snapshot {
            version,
            ..Snapshot::default()
        };
        Loaded {
            compiled: CompiledSnapshot::compile(&snapshot),
            snapshot: Arc::new(snapshot),
            code_groups: Arc::new(CodeGroups::new()),
            source: Source::Server,
            counters: None,
        }
    }

    fn version(current: &Current) -> u64 {
        current.with(|loaded| loaded.snapshot.version)
    }

    #[test]
    fn a_store_is_seen_by_the_next_read_on_every_thread() {
        let current = Arc::new(Current::new(loaded(1)));
        assert_eq!(version(&current), 1);
        let other = current.clone();
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let cached = barrier.clone();
        let reader = std::thread::spawn(move || {
            assert_eq!(version(&other), 1);
            cached.wait();
            while version(&other) != 2 {
                std::thread::yield_now();
            }
        });
        barrier.wait(); // the reader's thread caches version 1
        current.store(loaded(2));
        assert_eq!(version(&current), 2);
        reader.join().unwrap();
    }

    #[test]
    fn two_clients_on_one_thread_do_not_share_a_cache() {
        let (first, second) = (Current::new(loaded(1)), Current::new(loaded(7)));
        for _ in 0..3 {
            assert_eq!(version(&first), 1);
            assert_eq!(version(&second), 7);
        }
    }

    #[test]
    fn a_read_inside_a_read_takes_the_slow_path() {
        let current = Current::new(loaded(3));
        let nested = current.with(|outer| (outer.snapshot.version, version(&current)));
        assert_eq!(nested, (3, 3));
        assert_eq!(version(&current), 3);
    }

    #[test]
    fn replaced_snapshots_are_freed_once_no_thread_caches_them() {
        let current = Current::new(loaded(1));
        assert_eq!(version(&current), 1); // this thread now caches version 1
        current.store(loaded(2));
        assert_eq!(lock(&current.retired).len(), 1); // still cached here
        assert_eq!(version(&current), 2); // the cache moves on
        current.store(loaded(3));
        // Version 1 was freed; version 2 is cached by this thread.
        let retired: Vec<u64> = lock(&current.retired)
            .iter()
            .map(|loaded| loaded.snapshot.version)
            .collect();
        assert_eq!(retired, [2]);
    }
}
