//! Building a `CompiledSnapshot`: from a whole snapshot, or from an older compiled snapshot and
//! a change of some features, recompiling only those.
//!
//! The two paths share `CompiledFeature::new`, so a feature compiles the same way in both; the
//! tests (`tests/incremental.rs`) check that they answer alike. A patch copies the feature list
//! (each entry a few words and a reference count) and keeps the name index unless a feature was
//! added or removed; a change of stored groups or of the bucketing setting compiles everything.

use std::collections::HashMap;
use std::sync::Arc;

use super::{new_layout, CompiledFeature, CompiledSnapshot, GroupReference, Rules};
use crate::bucket::percentage_threshold;
use crate::name_index::NameIndex;
use crate::sorted_merge::{merge_by_name, Edits};
use crate::{Feature, FeatureName, Snapshot, SnapshotDiff, StoredGroup, UserId, UserSet};

impl CompiledSnapshot {
    /// Compiles a snapshot.
    pub fn compile(snapshot: &Snapshot) -> Self {
        let groups: Arc<[StoredGroup]> = snapshot.groups.clone().into();
        let positions = GroupPositions::new(&groups);
        let features: Vec<CompiledFeature> = snapshot
            .features
            .iter()
            .map(|feature| CompiledFeature::new(feature, &positions))
            .collect();
        Self {
            version: snapshot.version,
            layout: new_layout(),
            randomize_percentage: snapshot.randomize_percentage,
            index: NameIndex::new(&features),
            features,
            groups,
        }
    }

    /// This snapshot brought to `version` by removing the `deleted` features, then inserting or
    /// replacing `features` by name: the same answers as compiling the patched snapshot
    /// ([`Snapshot::patch`]), at the cost of compiling only `features`.
    pub fn patched<'a>(
        &self,
        version: u64,
        features: impl IntoIterator<Item = &'a Feature>,
        deleted: impl IntoIterator<Item = &'a FeatureName>,
    ) -> Self {
        let edits = Edits::new(
            deleted.into_iter().map(FeatureName::as_str),
            features
                .into_iter()
                .map(|feature| (feature.name.as_str(), feature)),
        );
        let positions = GroupPositions::new(&self.groups);
        let (features, names_changed) = merge_by_name(
            self.features.iter().cloned(),
            |feature| &*feature.name,
            edits,
            |feature| CompiledFeature::new(feature, &positions),
        );
        Self {
            version,
            layout: if names_changed {
                new_layout()
            } else {
                self.layout
            },
            randomize_percentage: self.randomize_percentage,
            // Positions moved only when a feature came or went.
            index: if names_changed {
                NameIndex::new(&features)
            } else {
                self.index.clone()
            },
            features,
            groups: Arc::clone(&self.groups),
        }
    }

    /// The compiled form of `new`, given that this is the compiled form of the snapshot `diff`
    /// was taken from: patched when only features changed, compiled afresh when stored groups or
    /// the bucketing setting did.
    pub fn updated(&self, diff: &SnapshotDiff<'_>, new: &Snapshot) -> Self {
        if diff.groups_changed {
            return Self::compile(new);
        }
        self.patched(
            diff.version,
            diff.changed.iter().copied(),
            diff.deleted.iter().copied(),
        )
    }
}

impl CompiledFeature {
    /// One feature, its groups resolved against the snapshot's stored groups.
    fn new(feature: &Feature, stored: &GroupPositions<'_>) -> Self {
        // A damaged feature is off for everyone: listed, but no rule of it applies.
        if feature.damaged.is_some() {
            return Self {
                threshold: 0,
                everyone: false,
                name: Arc::from(feature.name.as_str()),
                rules: None,
            };
        }
        let users = |list: &[UserId]| UserSet::new(list.iter().map(UserId::as_str));
        let rules = Rules {
            users: users(&feature.users),
            excluded: users(&feature.excluded_users),
            groups: feature
                .groups
                .iter()
                .map(|group| {
                    let name: Arc<str> = Arc::from(group.as_str());
                    if group.is_all() {
                        return GroupReference::All(name);
                    }
                    match stored.0.get(group.as_str()) {
                        Some(position) => GroupReference::Stored(name, *position),
                        None => GroupReference::Other(name),
                    }
                })
                .collect(),
        };
        let has_rules =
            !rules.users.is_empty() || !rules.excluded.is_empty() || !rules.groups.is_empty();
        Self {
            threshold: percentage_threshold(feature.percentage.value()),
            everyone: feature.percentage.is_everyone(),
            name: Arc::from(feature.name.as_str()),
            rules: has_rules.then(|| Arc::new(rules)),
        }
    }
}

/// Where each stored group is in the snapshot's list, by name (the last of two with one name).
struct GroupPositions<'a>(HashMap<&'a str, usize>);

impl<'a> GroupPositions<'a> {
    fn new(groups: &'a [StoredGroup]) -> Self {
        Self(
            groups
                .iter()
                .enumerate()
                .map(|(position, group)| (group.name.as_str(), position))
                .collect(),
        )
    }
}
