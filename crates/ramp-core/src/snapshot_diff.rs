//! `SnapshotDiff`: what differs between two snapshots, found in one pass over both feature
//! lists (both sorted by name). The server turns it into a `changed` stream event, the client
//! into the names its `on_change` callbacks receive, and both into an incremental compile.
//!
//! Applying a diff's features to the older snapshot with [`Snapshot::patch`] gives the newer one,
//! unless `groups_changed`: stored groups and the bucketing setting are not part of a patch.

use crate::{Feature, FeatureName, Snapshot};

/// The difference between an older and a newer snapshot, borrowed from them.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotDiff<'a> {
    /// The newer snapshot's version.
    pub version: u64,
    /// Features created or changed, as they are in the newer snapshot, sorted by name.
    pub changed: Vec<&'a Feature>,
    /// Features of the older snapshot that the newer one does not hold, sorted.
    pub deleted: Vec<&'a FeatureName>,
    /// The stored groups or the bucketing setting (`randomize_percentage`) differ, so any
    /// feature may answer differently; a patch of features cannot say that.
    pub groups_changed: bool,
}

impl<'a> SnapshotDiff<'a> {
    /// What changed from `old` to `new`.
    pub fn between(old: &'a Snapshot, new: &'a Snapshot) -> Self {
        let mut changed = Vec::new();
        let mut deleted = Vec::new();
        let mut old_features = old.features.iter().peekable();
        for feature in &new.features {
            while let Some(gone) = old_features.next_if(|old| old.name < feature.name) {
                deleted.push(&gone.name);
            }
            match old_features.next_if(|old| old.name == feature.name) {
                // The version first: it differs on nearly every change and is cheap to compare.
                Some(old) if old.version == feature.version && old == feature => {}
                _ => changed.push(feature),
            }
        }
        deleted.extend(old_features.map(|gone| &gone.name));
        Self {
            version: new.version,
            changed,
            deleted,
            groups_changed: old.groups != new.groups
                || old.randomize_percentage != new.randomize_percentage,
        }
    }

    /// Whether nothing but (perhaps) the version differs.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.deleted.is_empty() && !self.groups_changed
    }

    /// The names of the features created, changed or deleted, sorted.
    pub fn feature_names(&self) -> Vec<&'a FeatureName> {
        let mut names: Vec<&FeatureName> = self
            .changed
            .iter()
            .map(|feature| &feature.name)
            .chain(self.deleted.iter().copied())
            .collect();
        names.sort_unstable();
        names
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::{GroupName, Percentage, StoredGroup};

    fn feature(name: &str, percentage: f64) -> Feature {
        let mut feature = Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
        feature.percentage = Percentage::new(percentage).unwrap();
        feature
    }

    fn snapshot(version: u64, features: Vec<Feature>) -> Snapshot {
        Snapshot {
            version,
            features,
            ..Snapshot::default()
        }
    }

    fn names<'a>(names: impl IntoIterator<Item = &'a FeatureName>) -> Vec<&'a str> {
        names.into_iter().map(FeatureName::as_str).collect()
    }

    #[test]
    fn created_changed_and_deleted_features_are_found() {
        let old = snapshot(
            1,
            vec![feature("a", 1.0), feature("b", 2.0), feature("c", 3.0)],
        );
        let new = snapshot(
            4,
            vec![feature("b", 20.0), feature("c", 3.0), feature("d", 4.0)],
        );
        let diff = SnapshotDiff::between(&old, &new);
        assert_eq!(diff.version, 4);
        assert_eq!(names(diff.changed.iter().map(|f| &f.name)), ["b", "d"]);
        assert_eq!(names(diff.deleted.iter().copied()), ["a"]);
        assert_eq!(names(diff.feature_names()), ["a", "b", "d"]);
        assert!(!diff.groups_changed);
        let patched = old.patched(4, diff.changed.iter().copied().cloned(), diff.deleted);
        assert_eq!(patched, new);
    }

    #[test]
    fn groups_and_the_bucketing_setting_are_beyond_a_patch() {
        let old = snapshot(1, vec![feature("a", 1.0)]);
        let mut new = old.clone();
        new.groups.push(StoredGroup {
            name: GroupName::new("staff").unwrap(),
            description: String::new(),
            members: Vec::new(),
            rules: Vec::new(),
        });
        let diff = SnapshotDiff::between(&old, &new);
        assert!(diff.groups_changed && !diff.is_empty());
        assert!(diff.changed.is_empty() && diff.deleted.is_empty());
        let mut new = old.clone();
        new.randomize_percentage = true;
        assert!(SnapshotDiff::between(&old, &new).groups_changed);
        assert!(SnapshotDiff::between(&old, &old).is_empty());
    }

    #[test]
    fn a_patch_replaces_inserts_and_deletes_keeping_names_sorted() {
        let old = snapshot(
            1,
            vec![feature("a", 1.0), feature("c", 3.0), feature("e", 5.0)],
        );
        let new = old.patched(
            4,
            vec![feature("d", 4.0), feature("a", 10.0), feature("z", 0.0)],
            &[
                FeatureName::new("c").unwrap(),
                FeatureName::new("nope").unwrap(),
            ],
        );
        let names: Vec<&str> = new.features.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "d", "e", "z"]);
        assert_eq!(new.features[0].percentage.value(), 10.0);
        assert_eq!(new.version, 4);
        let mut in_place = old.clone();
        in_place.patch(4, new.features.clone(), &[FeatureName::new("c").unwrap()]);
        assert_eq!(in_place, new);
    }
}
