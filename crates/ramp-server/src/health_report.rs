//! Health for many features at once (`ramp_core::health` for each): what the Cleanup screen,
//! the features list's `with=health`, a feature's own page and `ramp cleanup` show.
//!
//! The facts shared by every feature are read once per answer, whatever the number of
//! features: the lifecycle settings, every feature's last check (`exposure_features`) and the
//! code reference counts (`code_reference_summary`). Since when a feature is in its stage
//! costs history reads (see `stage_time.rs`), so it is only read for the features whose
//! health sentence uses it (safe to delete) or that an answer lists with it.
//!
//! Works over any `Store` (the server's, or the one `ramp` opens); it never reads a clock:
//! `now` is given.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use ramp_core::{health, Feature, Health, HealthInput, HealthState, LifecycleSettings};
use ramp_store::{CodeReferenceSummary, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::stage_time::stage_since;

/// What health is computed from besides each feature itself.
#[derive(Debug, Clone)]
pub struct HealthFacts {
    settings: LifecycleSettings,
    last_seen: HashMap<String, DateTime<Utc>>,
    code: CodeReferenceSummary,
}

impl HealthFacts {
    /// Reads the facts: three store calls, whatever the number of features.
    pub async fn read(store: &dyn Store) -> Result<Self, StoreError> {
        let settings = store.lifecycle_settings().await?.settings;
        let last_seen = store
            .exposure_features()
            .await?
            .into_iter()
            .map(|seen| (seen.feature, seen.last_seen))
            .collect();
        let code = store.code_reference_summary().await?;
        Ok(Self {
            settings,
            last_seen,
            code,
        })
    }

    /// One feature's health.
    pub fn health(
        &self,
        feature: &Feature,
        now: DateTime<Utc>,
        stage_since: DateTime<Utc>,
    ) -> Health {
        health(&HealthInput {
            feature,
            settings: &self.settings,
            now,
            last_checked: self.last_seen.get(feature.name.as_str()).copied(),
            // Any feature ever seen: the analytics is running, so silence means something.
            analytics_started: !self.last_seen.is_empty(),
            code: self.code.evidence(feature.name.as_str()),
            stage_since,
        })
    }
}

/// Each feature's health, in the order given. `since` is each one's stage time when the
/// caller has it; otherwise it is read only for the features whose sentence uses it.
pub async fn health_of(
    store: &dyn Store,
    facts: &HealthFacts,
    features: &[&Feature],
    now: DateTime<Utc>,
    since: Option<&[DateTime<Utc>]>,
) -> Result<Vec<Health>, StoreError> {
    let since_of = |index: usize| since.map_or(features[index].created_at, |times| times[index]);
    let mut healths: Vec<Health> = (0..features.len())
        .map(|index| facts.health(features[index], now, since_of(index)))
        .collect();
    if since.is_none() {
        let needing: Vec<usize> = (0..features.len())
            .filter(|index| healths[*index].has(HealthState::SafeToDelete))
            .collect();
        let listed: Vec<&Feature> = needing.iter().map(|index| features[*index]).collect();
        let times = stage_since(store, &listed).await?;
        for (index, time) in needing.into_iter().zip(times) {
            healths[index] = facts.health(features[index], now, time);
        }
    }
    Ok(healths)
}

/// A feature on the Cleanup screen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CleanupFeature {
    /// The feature's name.
    pub name: String,
    /// `data.description`, if set.
    pub description: Option<String>,
    /// Its kind (`release`, `kill_switch`...).
    pub kind: String,
    /// Its stage.
    pub stage: String,
    /// Its percentage.
    pub percentage: f64,
    /// Since when it has been in its stage (RFC 3339).
    pub stage_since: String,
    /// Its states with their evidence, and for a graduated feature not yet safe to delete,
    /// what is missing.
    #[schema(value_type = Object)]
    pub health: Health,
}

/// The Cleanup screen: every feature in at least one health state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CleanupReport {
    /// The server's time the states were measured at (RFC 3339).
    pub server_time: String,
    /// How many features are in each state (every state named, 0 included), before the
    /// `state` filter.
    #[schema(value_type = Object)]
    pub counts: BTreeMap<HealthState, usize>,
    /// The features, by name.
    pub features: Vec<CleanupFeature>,
}

/// The Cleanup report over `store`'s features at `now`, only those in `only` if given.
pub async fn cleanup_report(
    store: &dyn Store,
    now: DateTime<Utc>,
    only: Option<HealthState>,
) -> Result<CleanupReport, StoreError> {
    let snapshot = store.snapshot().await?;
    let facts = HealthFacts::read(store).await?;
    let mut counts: BTreeMap<HealthState, usize> = HealthState::ALL
        .into_iter()
        .map(|state| (state, 0))
        .collect();
    // Health does not depend on the stage time (only a sentence does), so first find who is
    // listed with the creation time standing in, then read the stage time of those alone.
    let mut listed: Vec<&Feature> = Vec::new();
    for feature in &snapshot.features {
        let health = facts.health(feature, now, feature.created_at);
        for finding in &health.states {
            *counts.entry(finding.state).or_default() += 1;
        }
        let shown = match only {
            Some(state) => health.has(state),
            None => !health.states.is_empty(),
        };
        if shown {
            listed.push(feature);
        }
    }
    let times = stage_since(store, &listed).await?;
    let features = listed
        .iter()
        .zip(times)
        .map(|(feature, since)| CleanupFeature {
            name: feature.name.to_string(),
            description: feature.description().map(str::to_owned),
            kind: feature.kind.to_string(),
            stage: feature.stage.to_string(),
            percentage: feature.percentage.value(),
            stage_since: since.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            health: facts.health(feature, now, since),
        })
        .collect();
    Ok(CleanupReport {
        server_time: now.to_rfc3339(),
        counts,
        features,
    })
}
