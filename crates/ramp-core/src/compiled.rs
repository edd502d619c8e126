//! `CompiledSnapshot`: a snapshot prepared once for many fast evaluations.
//!
//! Compiling resolves each feature's groups, builds compact user sets, a name index and each
//! feature's integer percentage threshold. After that, a check hashes the feature name, computes
//! one CRC-32 at most, and allocates nothing.

use std::collections::HashMap;
use std::sync::Arc;

use crate::bucket::{checksum, checksum_below, percentage_threshold};
use crate::decision::{Decision, Reason};
use crate::name_index::{NameIndex, Named};
use crate::{CodeGroups, Context, Snapshot, StoredGroup, UserSet};

/// A snapshot compiled for evaluation. Cheap to share behind an `Arc`; never changes.
#[derive(Debug, Clone, Default)]
pub struct CompiledSnapshot {
    version: u64,
    randomize_percentage: bool,
    index: NameIndex,
    features: Vec<CompiledFeature>,
    groups: Vec<StoredGroup>,
}

#[derive(Debug, Clone)]
struct CompiledFeature {
    // 56 bytes, so everything a percentage check reads (threshold, flags, the name's pointer
    // and length) is within one or two cache lines; the user lists, which most features do not
    // have, sit behind `lists`.
    /// `bucket::percentage_threshold` of the percentage: a user is in when their checksum is
    /// below it. 0 for nobody (then no checksum is computed).
    threshold: u64,
    /// The percentage is exactly 100.
    everyone: bool,
    /// The feature has excluded users, listed users or groups: the rules before the
    /// percentage must be looked at (`decide_with_rules`). False for a plain percentage.
    has_rules: bool,
    has_users: bool,
    has_excluded: bool,
    name: Box<str>,
    groups: Box<[GroupReference]>,
    lists: Box<UserLists>,
}

#[derive(Debug, Clone)]
struct UserLists {
    users: UserSet,
    excluded: UserSet,
}

/// A feature's group, resolved when compiling so evaluation does no name lookups for `all` or
/// stored groups.
#[derive(Debug, Clone)]
enum GroupReference {
    All(Arc<str>),
    Stored(Arc<str>, usize),
    /// Code-defined in the application, or defined nowhere (then it is false).
    Other(Arc<str>),
}

impl GroupReference {
    fn name(&self) -> &Arc<str> {
        match self {
            GroupReference::All(name)
            | GroupReference::Stored(name, _)
            | GroupReference::Other(name) => name,
        }
    }
}

/// What decided a check: a `Decision` without the group's `Arc`, so `is_active` never touches
/// a reference count and the hot path returns a small value in a register.
///
/// The two inactive outcomes come first, so `is_active` is one comparison of the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Outcome {
    Off,
    Excluded,
    Everyone,
    User,
    /// The feature's group at this position let the user in.
    Group(usize),
    Percentage,
}

impl Outcome {
    #[inline]
    fn is_active(self) -> bool {
        !matches!(self, Outcome::Excluded | Outcome::Off)
    }

    #[inline]
    fn into_decision(self, feature: &CompiledFeature) -> Decision {
        match self {
            Outcome::Excluded => Decision::off(Reason::Excluded),
            Outcome::Everyone => Decision::on(Reason::Everyone),
            Outcome::User => Decision::on(Reason::User),
            Outcome::Group(position) => match feature.groups.get(position) {
                Some(group) => Decision::on(Reason::Group(Arc::clone(group.name()))),
                None => Decision::off(Reason::Off),
            },
            Outcome::Percentage => Decision::on(Reason::Percentage),
            Outcome::Off => Decision::off(Reason::Off),
        }
    }
}

impl CompiledSnapshot {
    /// Compiles a snapshot.
    pub fn compile(snapshot: &Snapshot) -> Self {
        let group_positions: HashMap<&str, usize> = snapshot
            .groups
            .iter()
            .enumerate()
            .map(|(position, group)| (group.name.as_str(), position))
            .collect();
        let mut features = Vec::with_capacity(snapshot.features.len());
        for feature in &snapshot.features {
            let groups: Box<[GroupReference]> = feature
                .groups
                .iter()
                .map(|group| {
                    let name: Arc<str> = Arc::from(group.as_str());
                    if group.is_all() {
                        GroupReference::All(name)
                    } else if let Some(position) = group_positions.get(group.as_str()) {
                        GroupReference::Stored(name, *position)
                    } else {
                        GroupReference::Other(name)
                    }
                })
                .collect();
            // A damaged feature is off for everyone: listed, but no rule of it applies.
            let usable = feature.damaged.is_none();
            let users = |list: &[crate::UserId]| {
                UserSet::new(list.iter().filter(|_| usable).map(|user| user.as_str()))
            };
            let lists = UserLists {
                users: users(&feature.users),
                excluded: users(&feature.excluded_users),
            };
            let groups = if usable { groups } else { Box::default() };
            let has_users = !lists.users.is_empty();
            let has_excluded = !lists.excluded.is_empty();
            features.push(CompiledFeature {
                name: Box::from(feature.name.as_str()),
                threshold: if usable {
                    percentage_threshold(feature.percentage.value())
                } else {
                    0
                },
                everyone: usable && feature.percentage.is_everyone(),
                has_rules: has_users || has_excluded || !groups.is_empty(),
                has_users,
                has_excluded,
                lists: Box::new(lists),
                groups,
            });
        }
        Self {
            version: snapshot.version,
            randomize_percentage: snapshot.randomize_percentage,
            index: NameIndex::new(&features),
            features,
            groups: snapshot.groups.clone(),
        }
    }

    /// The store version this snapshot was read at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// How many features it holds.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether it holds no feature.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Whether a feature of this name exists.
    pub fn contains(&self, feature: &str) -> bool {
        self.index.find(&self.features, feature).is_some()
    }

    /// Feature names in snapshot order.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|feature| &*feature.name)
    }

    /// Whether `feature` is active for `context`. Unknown features are inactive.
    #[inline]
    pub fn is_active(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> bool {
        match self.index.find(&self.features, feature) {
            Some(feature) => self.decide(feature, context, code_groups).is_active(),
            None => false,
        }
    }

    /// Whether `feature` is active for `context`, and why.
    #[inline]
    pub fn evaluate(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> Decision {
        match self.index.find(&self.features, feature) {
            Some(feature) => self
                .decide(feature, context, code_groups)
                .into_decision(feature),
            None => Decision::off(Reason::NotFound),
        }
    }

    /// Every feature's decision for one context, in snapshot order.
    pub fn evaluate_all<'a>(
        &'a self,
        context: &'a Context,
        code_groups: &'a CodeGroups,
    ) -> impl Iterator<Item = (&'a str, Decision)> + 'a {
        self.features.iter().map(move |feature| {
            (
                &*feature.name,
                self.decide(feature, context, code_groups)
                    .into_decision(feature),
            )
        })
    }

    /// The rules in order: excluded, everyone (100 %), user, group, percentage. A feature with
    /// only a percentage (the common, hot case) goes straight to the checksum; the lists and
    /// groups are in `decide_with_rules`, out of line.
    #[inline(always)]
    fn decide(
        &self,
        feature: &CompiledFeature,
        context: &Context,
        code_groups: &CodeGroups,
    ) -> Outcome {
        let Some(user_id) = context.user_id() else {
            // The gem: without a user only 100 % counts; users and groups are not consulted.
            return if feature.everyone {
                Outcome::Everyone
            } else {
                Outcome::Off
            };
        };
        if feature.has_rules {
            return self.decide_with_rules(feature, user_id, context, code_groups);
        }
        if feature.everyone {
            return Outcome::Everyone;
        }
        self.decide_by_percentage(feature, user_id)
    }

    #[inline(always)]
    fn decide_by_percentage(&self, feature: &CompiledFeature, user_id: &str) -> Outcome {
        if feature.threshold > 0 {
            let feature_name = self.randomize_percentage.then_some(&*feature.name);
            if checksum_below(checksum(user_id, feature_name), feature.threshold) {
                return Outcome::Percentage;
            }
        }
        Outcome::Off
    }

    #[inline(never)]
    fn decide_with_rules(
        &self,
        feature: &CompiledFeature,
        user_id: &str,
        context: &Context,
        code_groups: &CodeGroups,
    ) -> Outcome {
        if feature.has_excluded && feature.lists.excluded.contains(user_id) {
            return Outcome::Excluded;
        }
        if feature.everyone {
            return Outcome::Everyone;
        }
        if feature.has_users && feature.lists.users.contains(user_id) {
            return Outcome::User;
        }
        for (position, group) in feature.groups.iter().enumerate() {
            let member = match group {
                GroupReference::All(_) => true,
                GroupReference::Stored(_, stored) => self.groups[*stored].contains(context),
                GroupReference::Other(name) => code_groups.contains(name, context).unwrap_or(false),
            };
            if member {
                return Outcome::Group(position);
            }
        }
        self.decide_by_percentage(feature, user_id)
    }
}

impl Named for CompiledFeature {
    #[inline(always)]
    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiled_feature_fits_in_a_cache_line() {
        assert!(std::mem::size_of::<CompiledFeature>() <= 64);
        assert!(std::mem::size_of::<Outcome>() <= 16);
    }
}
