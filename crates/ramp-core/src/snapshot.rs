//! `Snapshot`: every feature and stored group of a store at one version, as data. This is what
//! stores load, servers send and clients keep; `CompiledSnapshot` is what evaluates it.
//!
//! [`Snapshot::patch`] applies a change of some features (what a `changed` stream event carries)
//! and [`SnapshotDiff`](crate::SnapshotDiff) finds one; the server and the client both use these
//! two, so they can never disagree about what a change means.

use serde::{Deserialize, Serialize};

use crate::sorted_merge::{merge_by_name, Edits};
use crate::{Feature, FeatureName, StoredGroup};

/// Everything needed to evaluate every feature, at one store version.
///
/// Features are sorted by name, as every store returns them; patching and diffing rely on it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The store's version when this was read; grows on every change.
    pub version: u64,
    /// The gem's `randomize_percentage` setting: bucket by user id plus feature name.
    #[serde(default)]
    pub randomize_percentage: bool,
    /// Every feature, sorted by name.
    pub features: Vec<Feature>,
    /// Every stored group.
    #[serde(default)]
    pub groups: Vec<StoredGroup>,
}

impl Snapshot {
    /// Brings the snapshot to `version` by removing the `deleted` features, then inserting or
    /// replacing `features` by name (the last of two with one name wins). Features stay sorted;
    /// a deleted name that is not here is ignored.
    pub fn patch<'d>(
        &mut self,
        version: u64,
        features: impl IntoIterator<Item = Feature>,
        deleted: impl IntoIterator<Item = &'d FeatureName>,
    ) {
        let edits = Edits::new(
            deleted.into_iter().map(|name| name.as_str().to_owned()),
            features
                .into_iter()
                .map(|feature| (feature.name.as_str().to_owned(), feature)),
        );
        let old = std::mem::take(&mut self.features);
        self.features = merge_by_name(old, |feature| feature.name.as_str(), edits, |new| new).0;
        self.version = version;
    }

    /// The same snapshot with a patch applied (see [`Snapshot::patch`]).
    pub fn patched<'d>(
        &self,
        version: u64,
        features: impl IntoIterator<Item = Feature>,
        deleted: impl IntoIterator<Item = &'d FeatureName>,
    ) -> Self {
        let edits = Edits::new(
            deleted.into_iter().map(|name| name.as_str().to_owned()),
            features
                .into_iter()
                .map(|feature| (feature.name.as_str().to_owned(), feature)),
        );
        // Cloned while merging: only the features the patch keeps are copied.
        let features = merge_by_name(
            self.features.iter().cloned(),
            |feature| feature.name.as_str(),
            edits,
            |new| new,
        )
        .0;
        Self {
            version,
            randomize_percentage: self.randomize_percentage,
            features,
            groups: self.groups.clone(),
        }
    }
}
