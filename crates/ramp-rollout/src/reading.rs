//! Reading features and evaluating them through the handle.
//!
//! Each call reads the store, like the gem does. Applications that check flags on every request
//! should evaluate a [`CompiledSnapshot`] they keep (or use the client SDK, which keeps one
//! fresh), not call the store per check.

use ramp_core::{CompiledSnapshot, Context, Decision, Feature, FeatureName, StoredGroup};

use crate::{Rollout, RolloutError};

impl Rollout {
    /// One feature, or `None` if it does not exist.
    pub async fn get(&self, feature: &str) -> Result<Option<Feature>, RolloutError> {
        let name = FeatureName::new(feature)?;
        Ok(self.store.feature(&name).await?)
    }

    /// Several features at once, in the order asked.
    pub async fn multi_get(&self, features: &[&str]) -> Result<Vec<Option<Feature>>, RolloutError> {
        let mut found = Vec::with_capacity(features.len());
        for feature in features {
            found.push(self.get(feature).await?);
        }
        Ok(found)
    }

    /// Every feature's name, sorted.
    pub async fn features(&self) -> Result<Vec<FeatureName>, RolloutError> {
        Ok(self
            .store
            .snapshot()
            .await?
            .features
            .into_iter()
            .map(|feature| feature.name)
            .collect())
    }

    /// Whether the feature exists.
    pub async fn exists(&self, feature: &str) -> Result<bool, RolloutError> {
        Ok(self.get(feature).await?.is_some())
    }

    /// The whole store, compiled for evaluation.
    pub async fn compiled_snapshot(&self) -> Result<CompiledSnapshot, RolloutError> {
        Ok(CompiledSnapshot::compile(&self.store.snapshot().await?))
    }

    /// Whether the feature is active for the context.
    pub async fn is_active(&self, feature: &str, context: &Context) -> Result<bool, RolloutError> {
        Ok(self.explain(feature, context).await?.active)
    }

    /// Whether the feature is active for the context, and why.
    pub async fn explain(
        &self,
        feature: &str,
        context: &Context,
    ) -> Result<Decision, RolloutError> {
        let name = FeatureName::new(feature)?;
        let snapshot = self.compiled_snapshot().await?;
        Ok(snapshot.evaluate(name.as_str(), context, &self.code_groups()))
    }

    /// Every feature's decision for the context, sorted by feature name.
    pub async fn feature_states(
        &self,
        context: &Context,
    ) -> Result<Vec<(FeatureName, Decision)>, RolloutError> {
        let snapshot = self.store.snapshot().await?;
        Ok(self.states_in(snapshot, context))
    }

    /// Every feature of `snapshot` with its decision for `context`, in snapshot order.
    pub(crate) fn states_in(
        &self,
        snapshot: ramp_core::Snapshot,
        context: &Context,
    ) -> Vec<(FeatureName, Decision)> {
        let compiled = CompiledSnapshot::compile(&snapshot);
        let code_groups = self.code_groups();
        snapshot
            .features
            .into_iter()
            .map(|feature| {
                let decision = compiled.evaluate(feature.name.as_str(), context, &code_groups);
                (feature.name, decision)
            })
            .collect()
    }

    /// The names of the features active for the context.
    pub async fn active_features(
        &self,
        context: &Context,
    ) -> Result<Vec<FeatureName>, RolloutError> {
        let states = self.feature_states(context).await?;
        Ok(states
            .into_iter()
            .filter(|(_, decision)| decision.active)
            .map(|(name, _)| name)
            .collect())
    }

    /// Every stored group (without the versions the store keeps for conditional writes).
    pub async fn stored_groups(&self) -> Result<Vec<StoredGroup>, RolloutError> {
        let groups = self.store.groups().await?;
        Ok(groups.into_iter().map(|stored| stored.group).collect())
    }

    /// Creates or replaces a stored group, whatever its version.
    pub async fn save_stored_group(&self, group: &StoredGroup) -> Result<(), RolloutError> {
        self.store.put_group(group, None, &self.attribution).await?;
        Ok(())
    }

    /// Deletes a stored group, whatever its version.
    pub async fn delete_stored_group(&self, name: &str) -> Result<(), RolloutError> {
        let name = ramp_core::GroupName::new(name)?;
        self.store
            .delete_group(&name, None, &self.attribution)
            .await?;
        Ok(())
    }

    pub(crate) fn code_groups(&self) -> ramp_core::CodeGroups {
        self.code_groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
