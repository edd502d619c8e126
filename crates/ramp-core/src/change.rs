//! `Change`: every edit a person or program makes to a feature, and how it is applied.
//!
//! Stores apply a change inside their own read-modify-write, so concurrent writers never lose
//! each other's updates; applying is pure and returns exactly which fields changed, which is
//! what history records.

use std::hash::Hash;

use chrono::{DateTime, Utc};
use foldhash::{HashSet, HashSetExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::field::{ListField, ValueField};
use crate::history::FieldChange;
use crate::text::check_data;
use crate::{CoreError, Feature, FeatureKind, FeatureState, GroupName, Percentage, Stage, UserId};

/// One edit to one feature. Applying a change to a feature that does not exist creates it
/// first, as the gem does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// On for everyone: percentage 100 (users and groups are kept).
    Activate,
    /// The Everyone action of the UI, the API's `activate` and `ramp activate`: percentage 100
    /// and the stage `everyone` in one change (one history event), so stage and state agree.
    /// A graduated feature stays graduated: graduation is past everyone, not before it.
    /// (`Activate`, the gem's vocabulary, keeps the stage, as applications calling the library
    /// expect.)
    OpenToEveryone,
    /// Off and empty, like the gem: percentage 0, no users, no exclusions, no groups.
    Deactivate,
    /// Sets the percentage.
    SetPercentage {
        /// The new percentage.
        percentage: Percentage,
    },
    /// Adds users to the allow list (those already there are skipped).
    AddUsers {
        /// The users to add.
        users: Vec<UserId>,
    },
    /// Removes users from the allow list.
    RemoveUsers {
        /// The users to remove.
        users: Vec<UserId>,
    },
    /// Replaces the allow list.
    SetUsers {
        /// The new list.
        users: Vec<UserId>,
    },
    /// Adds users to the deny list.
    ExcludeUsers {
        /// The users to exclude.
        users: Vec<UserId>,
    },
    /// Removes users from the deny list.
    IncludeUsers {
        /// The users to stop excluding.
        users: Vec<UserId>,
    },
    /// Adds groups.
    AddGroups {
        /// The groups to add.
        groups: Vec<GroupName>,
    },
    /// Removes groups.
    RemoveGroups {
        /// The groups to remove.
        groups: Vec<GroupName>,
    },
    /// Merges keys into the data; a `null` value removes its key.
    SetData {
        /// The keys to set.
        data: Map<String, Value>,
    },
    /// Empties the data.
    ClearData,
    /// Moves the feature to a stage.
    SetStage {
        /// The new stage.
        stage: Stage,
    },
    /// Says what the feature is for (release, experiment, kill switch...).
    SetKind {
        /// The new kind.
        kind: FeatureKind,
    },
    /// Replaces every editable field (create with settings, import, revert).
    Replace {
        /// The new state.
        state: FeatureState,
    },
}

impl Change {
    /// Applies the change to `feature` and returns the fields that changed; an empty list means
    /// nothing changed, and then the feature is left exactly as it was (no new version).
    pub fn apply(
        &self,
        feature: &mut Feature,
        now: DateTime<Utc>,
    ) -> Result<Vec<FieldChange>, CoreError> {
        // Each change edits the feature in place and reports its own diff: a write to a feature
        // with a million users must not copy them.
        let mut changes = Vec::new();
        match self {
            Change::Activate => set_percentage(&mut changes, feature, Percentage::ALL),
            Change::OpenToEveryone => {
                set_percentage(&mut changes, feature, Percentage::ALL);
                if feature.stage != Stage::Graduated {
                    set_stage(&mut changes, feature, Stage::Everyone);
                }
            }
            Change::Deactivate => {
                set_percentage(&mut changes, feature, Percentage::ZERO);
                replace_members(
                    &mut changes,
                    ListField::Users,
                    &mut feature.users,
                    Vec::new(),
                );
                replace_members(
                    &mut changes,
                    ListField::ExcludedUsers,
                    &mut feature.excluded_users,
                    Vec::new(),
                );
                replace_members(
                    &mut changes,
                    ListField::Groups,
                    &mut feature.groups,
                    Vec::new(),
                );
            }
            Change::SetPercentage { percentage } => {
                set_percentage(&mut changes, feature, *percentage)
            }
            Change::AddUsers { users } => {
                add_members(&mut changes, ListField::Users, &mut feature.users, users)
            }
            Change::RemoveUsers { users } => {
                remove_members(&mut changes, ListField::Users, &mut feature.users, users)
            }
            Change::SetUsers { users } => replace_members(
                &mut changes,
                ListField::Users,
                &mut feature.users,
                deduplicated(users),
            ),
            Change::ExcludeUsers { users } => add_members(
                &mut changes,
                ListField::ExcludedUsers,
                &mut feature.excluded_users,
                users,
            ),
            Change::IncludeUsers { users } => remove_members(
                &mut changes,
                ListField::ExcludedUsers,
                &mut feature.excluded_users,
                users,
            ),
            Change::AddGroups { groups } => {
                add_members(&mut changes, ListField::Groups, &mut feature.groups, groups)
            }
            Change::RemoveGroups { groups } => {
                remove_members(&mut changes, ListField::Groups, &mut feature.groups, groups)
            }
            Change::SetData { data } => {
                check_data(data)?;
                for (key, value) in data {
                    let old = if value.is_null() {
                        feature.data.remove(key)
                    } else {
                        feature.data.insert(key.clone(), value.clone())
                    };
                    let old = old.unwrap_or(Value::Null);
                    if old != *value {
                        changes.push(FieldChange::value(
                            ValueField::Data(key.clone()),
                            old,
                            value.clone(),
                        ));
                    }
                }
            }
            Change::ClearData => {
                for (key, old) in std::mem::take(&mut feature.data) {
                    changes.push(FieldChange::value(ValueField::Data(key), old, Value::Null));
                }
            }
            Change::SetStage { stage } => set_stage(&mut changes, feature, *stage),
            Change::SetKind { kind } => {
                if feature.kind != *kind {
                    changes.push(FieldChange::value(
                        ValueField::Kind,
                        feature.kind.as_str().into(),
                        kind.as_str().into(),
                    ));
                    feature.kind = *kind;
                }
            }
            Change::Replace { state } => {
                state.validate()?;
                changes = FieldChange::between(&feature.state(), state);
                feature.set_state(state.clone());
            }
        }
        if !changes.is_empty() {
            // Whatever was unreadable has now been overwritten with a known state.
            feature.damaged = None;
            feature.updated_at = now;
            feature.version += 1;
        }
        Ok(changes)
    }
}

fn set_percentage(changes: &mut Vec<FieldChange>, feature: &mut Feature, percentage: Percentage) {
    if feature.percentage != percentage {
        changes.push(FieldChange::value(
            ValueField::Percentage,
            feature.percentage.value().into(),
            percentage.value().into(),
        ));
        feature.percentage = percentage;
    }
}

fn set_stage(changes: &mut Vec<FieldChange>, feature: &mut Feature, stage: Stage) {
    if feature.stage != stage {
        changes.push(FieldChange::value(
            ValueField::Stage,
            feature.stage.as_str().into(),
            stage.as_str().into(),
        ));
        feature.stage = stage;
    }
}

fn add_members<T: Clone + Eq + Hash + AsRef<str>>(
    changes: &mut Vec<FieldChange>,
    field: ListField,
    list: &mut Vec<T>,
    additions: &[T],
) {
    let mut fresh: Vec<T> = Vec::new();
    if additions.len() <= 8 {
        // Adding a few members to a long list is the common write; comparing beats hashing it all.
        for item in additions {
            if !list.contains(item) && !fresh.contains(item) {
                fresh.push(item.clone());
            }
        }
    } else {
        let present: HashSet<&str> = list.iter().map(AsRef::as_ref).collect();
        let mut seen: HashSet<&str> = HashSet::with_capacity(additions.len());
        for item in additions {
            if !present.contains(item.as_ref()) && seen.insert(item.as_ref()) {
                fresh.push(item.clone());
            }
        }
    }
    if !fresh.is_empty() {
        let added = fresh.iter().map(|item| item.as_ref().to_owned()).collect();
        changes.push(FieldChange::Members {
            field,
            added,
            removed: Vec::new(),
        });
        list.extend(fresh);
    }
}

fn remove_members<T: AsRef<str>>(
    changes: &mut Vec<FieldChange>,
    field: ListField,
    list: &mut Vec<T>,
    removals: &[T],
) {
    let removals: HashSet<&str> = removals.iter().map(AsRef::as_ref).collect();
    let mut removed = Vec::new();
    list.retain(|item| {
        let keep = !removals.contains(item.as_ref());
        if !keep {
            removed.push(item.as_ref().to_owned());
        }
        keep
    });
    if !removed.is_empty() {
        changes.push(FieldChange::Members {
            field,
            added: Vec::new(),
            removed,
        });
    }
}

fn replace_members<T: AsRef<str> + PartialEq>(
    changes: &mut Vec<FieldChange>,
    field: ListField,
    list: &mut Vec<T>,
    new: Vec<T>,
) {
    changes.extend(FieldChange::members(field, list, &new));
    *list = new;
}

fn deduplicated<T: Clone + Eq + Hash + AsRef<str>>(items: &[T]) -> Vec<T> {
    let mut list = Vec::with_capacity(items.len());
    // The recorded change is thrown away: only the order-keeping deduplication is wanted.
    add_members(&mut Vec::new(), ListField::Users, &mut list, items);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FeatureName;

    fn feature() -> Feature {
        Feature::new(FeatureName::new("chat").unwrap(), DateTime::UNIX_EPOCH)
    }

    fn users(ids: &[&str]) -> Vec<UserId> {
        ids.iter().map(|id| UserId::new(*id).unwrap()).collect()
    }

    #[test]
    fn adding_users_keeps_order_and_skips_duplicates() {
        let mut feature = feature();
        Change::AddUsers {
            users: users(&["3", "1", "3"]),
        }
        .apply(&mut feature, Utc::now())
        .unwrap();
        Change::AddUsers {
            users: users(&["1", "2"]),
        }
        .apply(&mut feature, Utc::now())
        .unwrap();
        assert_eq!(feature.users, users(&["3", "1", "2"]));
        assert_eq!(feature.version, 2);
    }

    #[test]
    fn a_change_that_changes_nothing_leaves_the_version() {
        let mut feature = feature();
        let changes = Change::Deactivate.apply(&mut feature, Utc::now()).unwrap();
        assert!(changes.is_empty());
        assert_eq!(feature.version, 0);
        assert_eq!(feature.updated_at, DateTime::UNIX_EPOCH);
    }

    #[test]
    fn deactivate_empties_everything_but_data_and_stage() {
        let mut feature = feature();
        let mut data = Map::new();
        data.insert("owner".into(), "ana".into());
        let state = FeatureState {
            percentage: Percentage::new(30.0).unwrap(),
            users: users(&["1"]),
            excluded_users: users(&["2"]),
            groups: vec![GroupName::new("beta").unwrap()],
            data: data.clone(),
            stage: Stage::Beta,
            kind: FeatureKind::KillSwitch,
        };
        Change::Replace { state }
            .apply(&mut feature, Utc::now())
            .unwrap();
        Change::Deactivate.apply(&mut feature, Utc::now()).unwrap();
        assert_eq!(feature.percentage, Percentage::ZERO);
        assert!(
            feature.users.is_empty()
                && feature.excluded_users.is_empty()
                && feature.groups.is_empty()
        );
        assert_eq!(feature.data, data);
        assert_eq!(feature.stage, Stage::Beta);
        assert_eq!(feature.kind, FeatureKind::KillSwitch);
    }

    #[test]
    fn setting_the_kind_records_it_once() {
        let mut feature = feature();
        assert_eq!(feature.kind, FeatureKind::Release);
        let before = feature.state();
        let changes = Change::SetKind {
            kind: FeatureKind::Experiment,
        }
        .apply(&mut feature, Utc::now())
        .unwrap();
        assert_eq!(
            changes,
            vec![FieldChange::value(
                ValueField::Kind,
                "release".into(),
                "experiment".into()
            )]
        );
        assert_eq!(feature.version, 1);
        assert_eq!(FieldChange::between(&before, &feature.state()), changes);
        let again = Change::SetKind {
            kind: FeatureKind::Experiment,
        }
        .apply(&mut feature, Utc::now())
        .unwrap();
        assert!(again.is_empty());
        assert_eq!(feature.version, 1);
        let json = serde_json::to_value(Change::SetKind {
            kind: FeatureKind::KillSwitch,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"op": "set_kind", "kind": "kill_switch"})
        );
    }

    #[test]
    fn data_merges_and_null_removes() {
        let mut feature = feature();
        let set = |pairs: Value| Change::SetData {
            data: pairs.as_object().unwrap().clone(),
        };
        set(serde_json::json!({"a": 1, "b": "x|y"}))
            .apply(&mut feature, Utc::now())
            .unwrap();
        set(serde_json::json!({"a": null, "c": true}))
            .apply(&mut feature, Utc::now())
            .unwrap();
        assert_eq!(
            Value::Object(feature.data.clone()),
            serde_json::json!({"b": "x|y", "c": true})
        );
        set(serde_json::json!({"__rampage": 1}))
            .apply(&mut feature, Utc::now())
            .unwrap();
        let reserved = set(serde_json::json!({"__ramp": 1})).apply(&mut feature, Utc::now());
        assert!(reserved.is_err());
    }

    #[test]
    fn replace_rejects_duplicates() {
        let state = FeatureState {
            users: users(&["1", "1"]),
            ..FeatureState::default()
        };
        assert!(Change::Replace { state }
            .apply(&mut feature(), Utc::now())
            .is_err());
    }

    #[test]
    fn changes_serialize_with_an_op_tag() {
        let change = Change::SetPercentage {
            percentage: Percentage::new(12.5).unwrap(),
        };
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"op": "set_percentage", "percentage": 12.5})
        );
        let back: Change = serde_json::from_value(json).unwrap();
        assert_eq!(back, change);
    }
}
