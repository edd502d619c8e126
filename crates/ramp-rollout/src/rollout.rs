//! `Rollout`: the handle an application holds, with the gem's vocabulary (`activate`,
//! `activate_percentage`, `activate_user`, `define_group`, `active?`...). Writes go to the store
//! as atomic changes attributed to the handle's actor.

use std::sync::{Arc, RwLock};

use ramp_core::{
    Attribution, Change, CodeGroups, Context, Feature, FeatureName, GroupName, Percentage, Stage,
    UserId,
};
use ramp_store::{Applied, Store};
use serde_json::{Map, Value};

use crate::{open_store, RolloutError};

/// A handle over one store. Cheap to clone; clones share the store and code groups.
#[derive(Clone)]
pub struct Rollout {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) attribution: Attribution,
    pub(crate) code_groups: Arc<RwLock<CodeGroups>>,
}

impl std::fmt::Debug for Rollout {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Rollout")
            .field("backend", &self.store.backend())
            .field("actor", &self.attribution.actor)
            .finish()
    }
}

impl Rollout {
    /// A handle over `store`; changes are attributed to `actor`.
    pub fn new(store: Arc<dyn Store>, actor: impl Into<String>) -> Self {
        Self {
            store,
            attribution: Attribution::new(actor),
            code_groups: Arc::default(),
        }
    }

    /// Opens the store a URL names (see [`open_store`]).
    pub async fn connect(url: &str, actor: impl Into<String>) -> Result<Self, RolloutError> {
        Ok(Self::new(open_store(url).await?, actor))
    }

    /// The same handle with a comment recorded on every change it makes.
    pub fn with_comment(mut self, comment: impl Into<String>) -> Self {
        self.attribution.comment = Some(comment.into());
        self
    }

    /// The store behind the handle.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Who changes are attributed to.
    pub fn attribution(&self) -> &Attribution {
        &self.attribution
    }

    /// Registers a code-defined group, like the gem's `define_group`.
    pub fn define_group(
        &self,
        name: impl Into<String>,
        predicate: impl Fn(&Context) -> bool + Send + Sync + 'static,
    ) {
        self.code_groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .define(name, predicate);
    }

    /// Applies one change to one feature (the general form of every write below).
    pub async fn change(&self, feature: &str, change: Change) -> Result<Applied, RolloutError> {
        let name = FeatureName::new(feature)?;
        Ok(self
            .store
            .apply(&name, &change, None, &self.attribution)
            .await?)
    }

    async fn changed(&self, feature: &str, change: Change) -> Result<Feature, RolloutError> {
        Ok(self.change(feature, change).await?.feature)
    }

    /// On for everyone (100 %).
    pub async fn activate(&self, feature: &str) -> Result<Feature, RolloutError> {
        self.changed(feature, Change::Activate).await
    }

    /// Off and empty: percentage 0, no users, exclusions or groups.
    pub async fn deactivate(&self, feature: &str) -> Result<Feature, RolloutError> {
        self.changed(feature, Change::Deactivate).await
    }

    /// Deletes the feature (an error if it does not exist).
    pub async fn delete(&self, feature: &str) -> Result<(), RolloutError> {
        let name = FeatureName::new(feature)?;
        self.store.delete(&name, None, &self.attribution).await?;
        Ok(())
    }

    /// Sets the percentage (0 to 100, decimals allowed).
    pub async fn activate_percentage(
        &self,
        feature: &str,
        percentage: f64,
    ) -> Result<Feature, RolloutError> {
        let percentage = Percentage::new(percentage)?;
        self.changed(feature, Change::SetPercentage { percentage })
            .await
    }

    /// Sets the percentage to 0, keeping users and groups.
    pub async fn deactivate_percentage(&self, feature: &str) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::SetPercentage {
                percentage: Percentage::ZERO,
            },
        )
        .await
    }

    /// Adds one user to the allow list.
    pub async fn activate_user(&self, feature: &str, user: &str) -> Result<Feature, RolloutError> {
        self.activate_users(feature, [user]).await
    }

    /// Adds users to the allow list.
    pub async fn activate_users<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        feature: &str,
        users: I,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::AddUsers {
                users: user_ids(users)?,
            },
        )
        .await
    }

    /// Removes one user from the allow list.
    pub async fn deactivate_user(
        &self,
        feature: &str,
        user: &str,
    ) -> Result<Feature, RolloutError> {
        self.deactivate_users(feature, [user]).await
    }

    /// Removes users from the allow list.
    pub async fn deactivate_users<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        feature: &str,
        users: I,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::RemoveUsers {
                users: user_ids(users)?,
            },
        )
        .await
    }

    /// Replaces the allow list.
    pub async fn set_users<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        feature: &str,
        users: I,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::SetUsers {
                users: user_ids(users)?,
            },
        )
        .await
    }

    /// Excludes one user: the feature is off for them whatever else says.
    pub async fn exclude_user(&self, feature: &str, user: &str) -> Result<Feature, RolloutError> {
        self.exclude_users(feature, [user]).await
    }

    /// Excludes users.
    pub async fn exclude_users<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        feature: &str,
        users: I,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::ExcludeUsers {
                users: user_ids(users)?,
            },
        )
        .await
    }

    /// Stops excluding one user.
    pub async fn include_user(&self, feature: &str, user: &str) -> Result<Feature, RolloutError> {
        self.include_users(feature, [user]).await
    }

    /// Stops excluding users.
    pub async fn include_users<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        feature: &str,
        users: I,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::IncludeUsers {
                users: user_ids(users)?,
            },
        )
        .await
    }

    /// Turns the feature on for a group's members.
    pub async fn activate_group(
        &self,
        feature: &str,
        group: &str,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::AddGroups {
                groups: vec![GroupName::new(group)?],
            },
        )
        .await
    }

    /// Removes a group from the feature.
    pub async fn deactivate_group(
        &self,
        feature: &str,
        group: &str,
    ) -> Result<Feature, RolloutError> {
        self.changed(
            feature,
            Change::RemoveGroups {
                groups: vec![GroupName::new(group)?],
            },
        )
        .await
    }

    /// Merges keys into the feature's data (`null` removes a key).
    pub async fn set_feature_data(
        &self,
        feature: &str,
        data: Map<String, Value>,
    ) -> Result<Feature, RolloutError> {
        self.changed(feature, Change::SetData { data }).await
    }

    /// Empties the feature's data.
    pub async fn clear_feature_data(&self, feature: &str) -> Result<Feature, RolloutError> {
        self.changed(feature, Change::ClearData).await
    }

    /// Moves the feature to a stage.
    pub async fn set_stage(&self, feature: &str, stage: Stage) -> Result<Feature, RolloutError> {
        self.changed(feature, Change::SetStage { stage }).await
    }
}

/// Validates ids; the first bad one fails the whole call.
pub(crate) fn user_ids<I: IntoIterator<Item = S>, S: Into<String>>(
    users: I,
) -> Result<Vec<UserId>, RolloutError> {
    users
        .into_iter()
        .map(|user| UserId::new(user).map_err(RolloutError::from))
        .collect()
}
