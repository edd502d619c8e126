//! `Snapshot`: every feature and stored group of a store at one version, as data. This is what
//! stores load, servers send and clients keep; `CompiledSnapshot` is what evaluates it.

use serde::{Deserialize, Serialize};

use crate::{Feature, StoredGroup};

/// Everything needed to evaluate every feature, at one store version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The store's version when this was read; grows on every change.
    pub version: u64,
    /// The gem's `randomize_percentage` setting: bucket by user id plus feature name.
    #[serde(default)]
    pub randomize_percentage: bool,
    /// Every feature.
    pub features: Vec<Feature>,
    /// Every stored group.
    #[serde(default)]
    pub groups: Vec<StoredGroup>,
}
