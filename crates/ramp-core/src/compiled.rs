//! `CompiledSnapshot`: a snapshot prepared once for many fast evaluations.
//!
//! Compiling resolves each feature's groups, builds compact user sets and a name index. After
//! that, a check hashes the feature name, computes one CRC-32 at most, and allocates nothing.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::FixedState;

use crate::bucket::in_percentage;
use crate::decision::{Decision, Reason};
use crate::{CodeGroups, Context, Snapshot, StoredGroup, UserSet};

/// A snapshot compiled for evaluation. Cheap to share behind an `Arc`; never changes.
#[derive(Debug, Clone, Default)]
pub struct CompiledSnapshot {
    version: u64,
    randomize_percentage: bool,
    index: HashMap<Box<str>, u32, FixedState>,
    features: Vec<CompiledFeature>,
    groups: Vec<StoredGroup>,
}

#[derive(Debug, Clone)]
struct CompiledFeature {
    // Everything a percentage check reads fits in one cache line; the user lists, which most
    // features do not have, sit behind `lists`.
    percentage: f64,
    everyone: bool,
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

impl CompiledSnapshot {
    /// Compiles a snapshot.
    pub fn compile(snapshot: &Snapshot) -> Self {
        let group_positions: HashMap<&str, usize> = snapshot
            .groups
            .iter()
            .enumerate()
            .map(|(position, group)| (group.name.as_str(), position))
            .collect();
        let mut index =
            HashMap::with_capacity_and_hasher(snapshot.features.len(), FixedState::default());
        let mut features = Vec::with_capacity(snapshot.features.len());
        for feature in &snapshot.features {
            let groups = feature
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
            index.insert(Box::from(feature.name.as_str()), features.len() as u32);
            // A damaged feature is off for everyone: listed, but no rule of it applies.
            let usable = feature.damaged.is_none();
            let users = |list: &[crate::UserId]| {
                UserSet::new(list.iter().filter(|_| usable).map(|user| user.as_str()))
            };
            let lists = UserLists {
                users: users(&feature.users),
                excluded: users(&feature.excluded_users),
            };
            features.push(CompiledFeature {
                name: Box::from(feature.name.as_str()),
                percentage: if usable {
                    feature.percentage.value()
                } else {
                    0.0
                },
                everyone: usable && feature.percentage.is_everyone(),
                has_users: !lists.users.is_empty(),
                has_excluded: !lists.excluded.is_empty(),
                lists: Box::new(lists),
                groups: if usable { groups } else { Box::default() },
            });
        }
        Self {
            version: snapshot.version,
            randomize_percentage: snapshot.randomize_percentage,
            index,
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
        self.index.contains_key(feature)
    }

    /// Feature names in snapshot order.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|feature| &*feature.name)
    }

    /// Whether `feature` is active for `context`. Unknown features are inactive.
    #[inline]
    pub fn is_active(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> bool {
        self.evaluate(feature, context, code_groups).active
    }

    /// Whether `feature` is active for `context`, and why.
    #[inline]
    pub fn evaluate(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> Decision {
        match self.index.get(feature) {
            Some(position) => {
                self.evaluate_compiled(&self.features[*position as usize], context, code_groups)
            }
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
                self.evaluate_compiled(feature, context, code_groups),
            )
        })
    }

    fn evaluate_compiled(
        &self,
        feature: &CompiledFeature,
        context: &Context,
        code_groups: &CodeGroups,
    ) -> Decision {
        let Some(user_id) = context.user_id() else {
            // The gem: without a user only 100 % counts; users and groups are not consulted.
            return if feature.everyone {
                Decision::on(Reason::Everyone)
            } else {
                Decision::off(Reason::Off)
            };
        };
        if feature.has_excluded && feature.lists.excluded.contains(user_id) {
            return Decision::off(Reason::Excluded);
        }
        if feature.everyone {
            return Decision::on(Reason::Everyone);
        }
        if feature.has_users && feature.lists.users.contains(user_id) {
            return Decision::on(Reason::User);
        }
        for group in feature.groups.iter() {
            let (name, member) = match group {
                GroupReference::All(name) => (name, true),
                GroupReference::Stored(name, position) => {
                    (name, self.groups[*position].contains(context))
                }
                GroupReference::Other(name) => {
                    (name, code_groups.contains(name, context).unwrap_or(false))
                }
            };
            if member {
                return Decision::on(Reason::Group(Arc::clone(name)));
            }
        }
        if feature.percentage > 0.0
            && in_percentage(
                user_id,
                &feature.name,
                feature.percentage,
                self.randomize_percentage,
            )
        {
            return Decision::on(Reason::Percentage);
        }
        Decision::off(Reason::Off)
    }
}
