//! `Client::feature`: a handle to one feature for hot paths, which skips the name lookup.
//!
//! A check by name hashes the name, probes the index and compares the name: a few
//! nanoseconds that a loop checking one feature for many users pays every time. A handle
//! resolves the name to the feature's position once per snapshot layout
//! (`CompiledSnapshot::layout`, which changes only when a feature is added or removed) and
//! then checks by position. Answers and counting are exactly those of `Client::is_active`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ramp_core::{Context, Decision};

use crate::state::Loaded;
use crate::Client;

/// Where the feature was found, packed in one word so a reader never pairs one layout with
/// another's position: the layout's low 40 bits above a 24-bit position. A layout is
/// numbered once per compile in the process, so two layouts 2^40 apart (over 30 years of a
/// thousand changes a second) would have to meet for a stale position to be trusted.
const POSITION_BITS: u32 = 24;
const POSITION_MASK: u64 = (1 << POSITION_BITS) - 1;
/// Resolved: no feature of this name in that layout.
const ABSENT: u64 = POSITION_MASK;

/// One feature of a [`Client`], checked without looking its name up each time. Cheap to
/// clone (clones share the resolved position); keep one per feature in a `static` or a
/// struct field for hot paths.
#[derive(Clone)]
pub struct FeatureHandle {
    client: Client,
    name: Arc<str>,
    resolved: Arc<AtomicU64>,
}

impl std::fmt::Debug for FeatureHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FeatureHandle")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A handle to the feature named `name` (which need not exist yet): its `is_active` and
    /// `explain` answer as `Client::is_active(name, ..)` and `Client::explain(name, ..)`
    /// would, through every later change, and are counted the same way.
    pub fn feature(&self, name: &str) -> FeatureHandle {
        FeatureHandle {
            client: self.clone(),
            name: name.into(),
            resolved: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }
}

impl FeatureHandle {
    /// The feature's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the feature is active for `context` (inactive while it does not exist).
    #[inline]
    pub fn is_active(&self, context: &Context) -> bool {
        self.client.shared.current.with(|loaded| {
            let position = self.position_in(loaded);
            loaded.check_at(position, &self.name, context).is_active()
        })
    }

    /// Whether the feature is active for `context`, and why.
    pub fn explain(&self, context: &Context) -> Decision {
        self.client.shared.current.with(|loaded| {
            let position = self.position_in(loaded);
            loaded.check_at(position, &self.name, context);
            loaded
                .compiled
                .evaluate_at(position, context, &loaded.code_groups)
        })
    }

    /// The feature's position in `loaded`, or a position past the end when it has none.
    #[inline(always)]
    fn position_in(&self, loaded: &Loaded) -> usize {
        let packed = self.resolved.load(Ordering::Relaxed);
        if packed >> POSITION_BITS == loaded.compiled.layout() & (u64::MAX >> POSITION_BITS) {
            return match packed & POSITION_MASK {
                ABSENT => usize::MAX,
                position => position as usize,
            };
        }
        self.resolve(loaded)
    }

    #[cold]
    #[inline(never)]
    fn resolve(&self, loaded: &Loaded) -> usize {
        let compiled = &loaded.compiled;
        let found = compiled.position(&self.name);
        let stored = match found {
            Some(position) if (position as u64) < ABSENT => position as u64,
            // Not found, or too far down a list of over 16 million features to pack: the
            // handle then resolves on every check, which stays correct.
            Some(_) => return found.unwrap_or(usize::MAX),
            None => ABSENT,
        };
        let layout = compiled.layout() & (u64::MAX >> POSITION_BITS);
        self.resolved
            .store(layout << POSITION_BITS | stored, Ordering::Relaxed);
        found.unwrap_or(usize::MAX)
    }
}
