//! `CompiledSnapshot`: a snapshot prepared once for many fast evaluations.
//!
//! Compiling (`compiled/compile.rs`) resolves each feature's groups, builds compact user sets, a
//! name index and each feature's integer percentage threshold. After that, a check hashes the
//! feature name, computes one CRC-32 at most, and allocates nothing. This file holds the
//! compiled form and the evaluation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::bucket::{checksum, checksum_below};
use crate::decision::{Check, Decision, Reason, ReasonKind};
use crate::name_index::{NameIndex, Named};
use crate::{CodeGroups, Context, StoredGroup, UserSet};

mod compile;

/// A snapshot compiled for evaluation. Cheap to share behind an `Arc`; never changes.
///
/// Cheap to clone too: names, user lists, groups and the name index are behind `Arc`s, so a
/// patched copy ([`CompiledSnapshot::patched`]) shares everything it did not recompile.
#[derive(Debug, Clone, Default)]
pub struct CompiledSnapshot {
    version: u64,
    /// Names the order of `features`: snapshots with the same layout have every feature at
    /// the same position, so a position resolved once (a client's feature handle) stays
    /// valid while the layout does. 0 only for the empty default.
    layout: u64,
    randomize_percentage: bool,
    index: NameIndex,
    /// In snapshot order (sorted by name), which `patched` relies on.
    features: Vec<CompiledFeature>,
    groups: Arc<[StoredGroup]>,
}

#[derive(Debug, Clone)]
struct CompiledFeature {
    // 40 bytes, so everything a percentage check reads (threshold, flag, the name's pointer
    // and length) is within one cache line; the lists and groups, which most features do not
    // have, sit behind `rules`. Cloning one costs a reference count or two, not a copy.
    /// `bucket::percentage_threshold` of the percentage: a user is in when their checksum is
    /// below it. 0 for nobody (then no checksum is computed).
    threshold: u64,
    /// The percentage is exactly 100.
    everyone: bool,
    name: Arc<str>,
    /// Excluded users, listed users or groups: the rules before the percentage
    /// (`decide_with_rules`). `None` for a plain percentage, the common and hot case.
    rules: Option<Arc<Rules>>,
}

#[derive(Debug)]
struct Rules {
    users: UserSet,
    excluded: UserSet,
    groups: Box<[GroupReference]>,
}

/// A feature's group, resolved when compiling so evaluation does no name lookups for `all` or
/// stored groups.
#[derive(Debug, Clone)]
enum GroupReference {
    All(Arc<str>),
    /// A stored group, by its position in `CompiledSnapshot::groups`.
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
/// The inactive outcomes come first, so `is_active` is one comparison of the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Outcome {
    Off,
    Excluded,
    /// A percentage between 0 and 100 that the user's bucket is not within.
    OutsidePercentage,
    Everyone,
    User,
    /// The feature's group at this position let the user in.
    Group(usize),
    Percentage,
}

impl Outcome {
    #[inline]
    fn is_active(self) -> bool {
        !matches!(
            self,
            Outcome::Excluded | Outcome::Off | Outcome::OutsidePercentage
        )
    }

    #[inline(always)]
    fn kind(self) -> ReasonKind {
        match self {
            Outcome::Off => ReasonKind::Off,
            Outcome::Excluded => ReasonKind::Excluded,
            Outcome::OutsidePercentage => ReasonKind::OutsidePercentage,
            Outcome::Everyone => ReasonKind::Everyone,
            Outcome::User => ReasonKind::User,
            Outcome::Group(_) => ReasonKind::Group,
            Outcome::Percentage => ReasonKind::Percentage,
        }
    }

    #[inline]
    fn into_decision(self, feature: &CompiledFeature) -> Decision {
        match self {
            Outcome::Excluded => Decision::off(Reason::Excluded),
            Outcome::Everyone => Decision::on(Reason::Everyone),
            Outcome::User => Decision::on(Reason::User),
            Outcome::Group(position) => match feature
                .rules
                .as_ref()
                .and_then(|rules| rules.groups.get(position))
            {
                Some(group) => Decision::on(Reason::Group(Arc::clone(group.name()))),
                None => Decision::off(Reason::Off),
            },
            Outcome::Percentage => Decision::on(Reason::Percentage),
            Outcome::OutsidePercentage => Decision::off(Reason::OutsidePercentage),
            Outcome::Off => Decision::off(Reason::Off),
        }
    }
}

/// Layouts are numbered once per process; 0 is the empty default's.
static NEXT_LAYOUT: AtomicU64 = AtomicU64::new(1);

/// A layout no other snapshot of this process has.
fn new_layout() -> u64 {
    NEXT_LAYOUT.fetch_add(1, Ordering::Relaxed)
}

impl CompiledSnapshot {
    /// Which order the features are in: equal for two snapshots exactly when a position
    /// ([`CompiledSnapshot::position`]) of one names the same feature in the other. Patching
    /// that changes features in place keeps it; adding or removing a feature changes it.
    pub fn layout(&self) -> u64 {
        self.layout
    }

    /// Where the feature named `name` is, for [`CompiledSnapshot::check_at`]: one name lookup
    /// that a hot path can do once per layout instead of once per check.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index
            .locate(&self.features, name)
            .map(|(position, _)| position as usize)
    }

    /// Like [`CompiledSnapshot::check`], for the feature at `position` (`NOT_FOUND` past the
    /// end). `user_hash`, when the caller already has it, is [`crate::user_hash`] of the
    /// context's user id: the lists then do not hash a text id again.
    #[inline(always)]
    pub fn check_at(
        &self,
        position: usize,
        context: &Context,
        code_groups: &CodeGroups,
        user_hash: Option<u64>,
    ) -> Check {
        match self.features.get(position) {
            Some(feature) => Check::found(
                position as u32,
                self.decide(feature, context, code_groups, user_hash).kind(),
            ),
            None => Check::NOT_FOUND,
        }
    }

    /// Like [`CompiledSnapshot::check`], with the user id's [`crate::user_hash`] computed by
    /// the caller (who needs it anyway to count distinct users), so a text id listed on the
    /// feature is hashed once per check, not twice.
    #[inline(always)]
    pub fn check_hashed(
        &self,
        feature: &str,
        context: &Context,
        code_groups: &CodeGroups,
        user_hash: u64,
    ) -> Check {
        match self.index.locate(&self.features, feature) {
            Some((position, found)) => Check::found(
                position,
                self.decide(found, context, code_groups, Some(user_hash))
                    .kind(),
            ),
            None => Check::NOT_FOUND,
        }
    }

    /// The decision with its reason for the feature at `position` (`NotFound` past the end).
    pub fn evaluate_at(
        &self,
        position: usize,
        context: &Context,
        code_groups: &CodeGroups,
    ) -> Decision {
        match self.features.get(position) {
            Some(feature) => self
                .decide(feature, context, code_groups, None)
                .into_decision(feature),
            None => Decision::off(Reason::NotFound),
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
    #[inline(always)]
    pub fn is_active(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> bool {
        match self.index.find(&self.features, feature) {
            Some(feature) => self.decide(feature, context, code_groups, None).is_active(),
            None => false,
        }
    }

    /// Whether `feature` is active for `context`, and why.
    #[inline]
    pub fn evaluate(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> Decision {
        match self.index.find(&self.features, feature) {
            Some(feature) => self
                .decide(feature, context, code_groups, None)
                .into_decision(feature),
            None => Decision::off(Reason::NotFound),
        }
    }

    /// Whether `feature` is active for `context`, why (without the group's name) and the
    /// feature's position: what a client needs to count checks per feature and reason, from
    /// the same single name lookup as `is_active`. Allocates nothing.
    #[inline(always)]
    pub fn check(&self, feature: &str, context: &Context, code_groups: &CodeGroups) -> Check {
        match self.index.locate(&self.features, feature) {
            Some((position, feature)) => Check::found(
                position,
                self.decide(feature, context, code_groups, None).kind(),
            ),
            None => Check::NOT_FOUND,
        }
    }

    /// The name of the feature at `position` (as [`Check::position`] gives it).
    pub fn feature_name(&self, position: usize) -> Option<&str> {
        self.features.get(position).map(|feature| &*feature.name)
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
                self.decide(feature, context, code_groups, None)
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
        user_hash: Option<u64>,
    ) -> Outcome {
        let Some(user_id) = context.user_id() else {
            // The gem: without a user only 100 % counts; users and groups are not consulted.
            return if feature.everyone {
                Outcome::Everyone
            } else {
                Outcome::Off
            };
        };
        if let Some(rules) = &feature.rules {
            return self.decide_with_rules(
                feature,
                rules,
                (user_id, user_hash),
                context,
                code_groups,
            );
        }
        if feature.everyone {
            return Outcome::Everyone;
        }
        self.decide_by_percentage(feature, user_id)
    }

    /// A user outside a percentage above 0 is `OutsidePercentage`, decided by the branch that
    /// already exists: no extra comparison on the hot path. A threshold of 0 (0 %, even with
    /// users or groups the user is not in) reaches nobody by percentage, so it stays `Off`.
    /// The threshold is 0 exactly for 0 % (`bucket::percentage_threshold`), and 100 % never
    /// gets here (`everyone` is decided first).
    #[inline(always)]
    fn decide_by_percentage(&self, feature: &CompiledFeature, user_id: &str) -> Outcome {
        if feature.threshold > 0 {
            let feature_name = self.randomize_percentage.then_some(&*feature.name);
            if checksum_below(checksum(user_id, feature_name), feature.threshold) {
                return Outcome::Percentage;
            }
            return Outcome::OutsidePercentage;
        }
        Outcome::Off
    }

    #[inline(never)]
    fn decide_with_rules(
        &self,
        feature: &CompiledFeature,
        rules: &Rules,
        (user_id, user_hash): (&str, Option<u64>),
        context: &Context,
        code_groups: &CodeGroups,
    ) -> Outcome {
        // Hashed at most once for both lists, and not at all for numeric ids.
        let user_hash = std::cell::Cell::new(user_hash);
        let user = crate::user_set::Probe::new(user_id, &user_hash);
        if !rules.excluded.is_empty() && rules.excluded.contains_probe(&user) {
            return Outcome::Excluded;
        }
        if feature.everyone {
            return Outcome::Everyone;
        }
        if !rules.users.is_empty() && rules.users.contains_probe(&user) {
            return Outcome::User;
        }
        for (position, group) in rules.groups.iter().enumerate() {
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
        assert!(std::mem::size_of::<CompiledFeature>() <= 40);
        assert!(std::mem::size_of::<Outcome>() <= 16);
    }
}
