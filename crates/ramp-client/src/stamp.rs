//! `Client::stamp`: check a feature and get, with the answer, a short value to store on the
//! record the answer shaped (see `ramp_core::Stamp`); the server resolves it back to the
//! feature's state at that version (`GET /api/v1/stamps/{stamp}`).

use ramp_core::{Context, FeatureName, Stamp};

use crate::Client;

impl Client {
    /// Checks `feature` for `context` (counted like `is_active`) and returns the answer with
    /// the version of the feature that gave it. `None` when `feature` is not a valid name;
    /// a valid name that is no feature gives an inactive stamp of version 0.
    pub fn stamp(&self, feature: &str, context: &Context) -> Option<Stamp> {
        let name = FeatureName::new(feature).ok()?;
        // One snapshot for both the answer and the version, so a change between them cannot
        // pair an answer with the wrong version.
        Some(self.shared.current.with(|loaded| {
            let check = match &loaded.counters {
                Some(counters) => loaded.counted_check(counters, feature, context),
                None => loaded.compiled.check(feature, context, &loaded.code_groups),
            };
            let features = &loaded.snapshot.features;
            match features.binary_search_by(|stored| stored.name.as_str().cmp(feature)) {
                Ok(index) => Stamp::of(&features[index], check.is_active()),
                Err(_) => Stamp::not_found(name.clone()),
            }
        }))
    }
}
