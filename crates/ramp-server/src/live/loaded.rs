//! `Loaded`: one version of the live snapshot, as data (what SDKs receive) and compiled (what
//! the server evaluates with), plus what is derived from it on first request and shared.
//!
//! A change of some features makes the next `Loaded` by patching both forms
//! ([`Loaded::patched`]): only the changed features are compiled again.

use std::sync::OnceLock;
use std::time::SystemTime;

use axum::body::Bytes;
use ramp_core::{CompiledSnapshot, Feature, FeatureName, Snapshot};

use crate::ofrep_bulk::KeyPrefixes;

/// One snapshot, compiled, with when it was loaded.
#[derive(Debug)]
pub struct Loaded {
    /// The data, as SDKs receive it.
    pub snapshot: Snapshot,
    /// The same, ready to evaluate.
    pub compiled: CompiledSnapshot,
    /// When it was read from the store.
    pub loaded_at: SystemTime,
    /// The snapshot as JSON, made on first request and shared by every SDK that asks.
    json: OnceLock<Bytes>,
    /// Every user id the snapshot mentions, made on first request (for the web UI's coverage).
    known_users: OnceLock<Vec<String>>,
    /// The features' keys as OFREP's bulk answer writes them, made on first request.
    ofrep_keys: OnceLock<KeyPrefixes>,
}

impl Loaded {
    /// A snapshot read whole from the store, compiled whole.
    pub(super) fn new(snapshot: Snapshot) -> Self {
        let compiled = CompiledSnapshot::compile(&snapshot);
        Self::with_compiled(snapshot, compiled)
    }

    /// This snapshot with some features replaced, inserted or deleted, at `version`.
    pub(super) fn patched(
        &self,
        version: u64,
        features: &[Feature],
        deleted: &[FeatureName],
    ) -> Self {
        Self::with_compiled(
            self.snapshot
                .patched(version, features.iter().cloned(), deleted),
            self.compiled.patched(version, features, deleted),
        )
    }

    /// A snapshot with its compiled form (made by patching an older one's).
    pub(super) fn with_compiled(snapshot: Snapshot, compiled: CompiledSnapshot) -> Self {
        Self {
            snapshot,
            compiled,
            loaded_at: SystemTime::now(),
            json: OnceLock::new(),
            known_users: OnceLock::new(),
            ofrep_keys: OnceLock::new(),
        }
    }

    /// Every distinct user id on any feature's lists or in any stored group: the users the
    /// store knows of, for "this percentage reaches about N of them".
    pub fn known_users(&self) -> &[String] {
        self.known_users.get_or_init(|| {
            let mut ids = std::collections::HashSet::new();
            for feature in &self.snapshot.features {
                ids.extend(feature.users.iter().map(|id| id.as_str()));
                ids.extend(feature.excluded_users.iter().map(|id| id.as_str()));
            }
            for group in &self.snapshot.groups {
                ids.extend(group.members.iter().map(|id| id.as_str()));
            }
            ids.into_iter().map(str::to_owned).collect()
        })
    }

    /// The snapshot as JSON.
    pub fn json(&self) -> Bytes {
        self.json
            .get_or_init(|| {
                // Serializing plain data to memory does not fail.
                Bytes::from(serde_json::to_vec(&self.snapshot).unwrap_or_default())
            })
            .clone()
    }

    /// The features' keys as OFREP's bulk answer writes them (`ofrep_bulk.rs`).
    pub fn ofrep_keys(&self) -> &KeyPrefixes {
        self.ofrep_keys
            .get_or_init(|| KeyPrefixes::new(&self.compiled))
    }
}
