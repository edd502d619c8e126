//! Every key and channel name the store uses, in one place, so that the layout documented in
//! the README is the layout written.
//!
//! The gem's own keys (`feature:*`) are exactly the gem's; Ramp's additions all live under
//! `ramp:`, which the gem never reads, lists or deletes.

/// The key names of one store (one prefix).
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// `{prefix}feature:`: what every feature key begins with (the scripts append names).
    pub(crate) fn feature_prefix(&self) -> String {
        format!("{}feature:", self.prefix)
    }

    /// `{prefix}feature:NAME`: the gem's payload string.
    pub(crate) fn feature(&self, name: &str) -> String {
        format!("{}feature:{name}", self.prefix)
    }

    /// `{prefix}feature:__features__`: the gem's registry, names joined with `,`.
    pub(crate) fn registry(&self) -> String {
        format!("{}feature:__features__", self.prefix)
    }

    /// `{prefix}feature:NAME:logging:events`: the gem's per-feature history.
    pub(crate) fn events(&self, name: &str) -> String {
        format!("{}feature:{name}:logging:events", self.prefix)
    }

    /// `{prefix}feature:_global_:logging:events`: the gem's global history.
    pub(crate) fn global_events(&self) -> String {
        format!("{}feature:_global_:logging:events", self.prefix)
    }

    /// `{prefix}ramp:group-events`: stored groups' history, a sorted set like the gem's (score
    /// minus the event id, trimmed to `history_limit`) whose members are Ramp's own event JSON
    /// without the id. Kept apart from the gem's sets because the gem would read a group's
    /// event as a feature's (or fail on its unknown keys), and under `ramp:`, which it never
    /// reads; ids are unique across this set and the gem's global set.
    pub(crate) fn group_events(&self) -> String {
        format!("{}ramp:group-events", self.prefix)
    }

    /// `{prefix}ramp:settings`: a hash of Ramp's settings documents: `lifecycle` (the
    /// lifecycle settings' JSON) and `lifecycle:version` (how many writes changed them). Under
    /// `ramp:`, which the gem never reads; their history events go to `group_events`, the set
    /// of Ramp's own event JSON.
    pub(crate) fn settings(&self) -> String {
        format!("{}ramp:settings", self.prefix)
    }

    /// `{prefix}ramp:version`: the store version, a counter every change increments.
    pub(crate) fn version(&self) -> String {
        format!("{}ramp:version", self.prefix)
    }

    /// `{prefix}ramp:groups`: a hash of stored group name -> group JSON.
    pub(crate) fn groups(&self) -> String {
        format!("{}ramp:groups", self.prefix)
    }

    /// `{prefix}ramp:group-versions`: a hash of stored group name -> its version (the store
    /// version of the write that last wrote it), beside `ramp:groups`; the gem reads neither.
    pub(crate) fn group_versions(&self) -> String {
        format!("{}ramp:group-versions", self.prefix)
    }

    /// `{prefix}ramp:digests`: a hash of feature name -> digest of the payload last seen, to
    /// notice writes by programs that publish nothing (Ruby apps).
    pub(crate) fn digests(&self) -> String {
        format!("{}ramp:digests", self.prefix)
    }

    /// `{prefix}ramp:credentials`: a hash of `KIND:NAME` -> credential JSON. Under `ramp:`, so
    /// the gem never reads, lists or deletes it, and no snapshot mistakes it for a feature
    /// (features are only what the registry names, under `feature:`).
    pub(crate) fn credentials(&self) -> String {
        format!("{}ramp:credentials", self.prefix)
    }

    /// `{prefix}ramp:code-references`: a hash of repository name -> its latest scan's JSON
    /// (`ramp_core::CodeScan`). Under `ramp:`, which the gem never reads, lists or deletes.
    pub(crate) fn code_references(&self) -> String {
        format!("{}ramp:code-references", self.prefix)
    }

    /// `{prefix}ramp:migrations:NAME`: a hash of the feature's migration progress, field the
    /// migration's name, value its latest report's JSON (`ramp_core::MigrationProgress`).
    /// Under `ramp:`, which the gem never reads, lists or deletes; deleted with the feature.
    pub(crate) fn migrations(&self, feature: &str) -> String {
        format!("{}ramp:migrations:{feature}", self.prefix)
    }

    /// `{prefix}ramp:exposures:batches`: a sorted set of exposure batch ids, scored by the
    /// second they were received, so retries are recognised until compaction forgets them.
    pub(crate) fn exposure_batches(&self) -> String {
        format!("{}ramp:exposures:batches", self.prefix)
    }

    /// `{prefix}ramp:exposures:totals`: a hash with the fields `unnamed` and `dropped`.
    pub(crate) fn exposure_totals(&self) -> String {
        format!("{}ramp:exposures:totals", self.prefix)
    }

    /// `{prefix}ramp:exposures:features`: a set of the feature names that have buckets, so
    /// readers and compaction find them without scanning keys.
    pub(crate) fn exposure_features(&self) -> String {
        format!("{}ramp:exposures:features", self.prefix)
    }

    /// `{prefix}ramp:exposures:buckets:`: what each feature's bucket hash key begins with (the
    /// record script appends names).
    pub(crate) fn exposure_buckets_prefix(&self) -> String {
        format!("{}ramp:exposures:buckets:", self.prefix)
    }

    /// `{prefix}ramp:exposures:buckets:NAME`: a hash of the feature's counts, field
    /// `RESOLUTION_SECONDS:START_SECONDS:REASON_NUMBER` (`reason_numbers.rs`), value the
    /// count. The name is the key's whole rest, never split: it may hold `:`.
    pub(crate) fn exposure_buckets(&self, feature: &str) -> String {
        format!("{}{feature}", self.exposure_buckets_prefix())
    }

    /// `{prefix}ramp:exposures:users:`: what each feature's user sketch hash key begins with.
    pub(crate) fn user_sketches_prefix(&self) -> String {
        format!("{}ramp:exposures:users:", self.prefix)
    }

    /// `{prefix}ramp:exposures:users:NAME`: a hash of the feature's daily user sketches, field
    /// `DAY_NUMBER:ANSWER` (`20000:1`; day 0 is 1970-01-01, answer 1 for active), value
    /// `UserSketch::encode`'s bytes. The name is the key's whole rest, never split.
    pub(crate) fn user_sketches(&self, feature: &str) -> String {
        format!("{}{feature}", self.user_sketches_prefix())
    }

    /// `{prefix}ramp:exposures:user-features`: a sorted set of the features with a sketch hash,
    /// scored by the earliest day number in it, so forgetting visits only features with old days.
    pub(crate) fn user_sketch_features(&self) -> String {
        format!("{}ramp:exposures:user-features", self.prefix)
    }

    /// `{prefix}ramp:exposures:instances`: a sorted set of the instances that reported a
    /// feature (members from [`Keys::exposure_instance`]), scored by when last seen.
    pub(crate) fn exposure_instances(&self) -> String {
        format!("{}ramp:exposures:instances", self.prefix)
    }

    /// `{prefix}ramp:exposures:seen:`: what each instance's sorted set key begins with.
    pub(crate) fn exposure_seen_prefix(&self) -> String {
        format!("{}ramp:exposures:seen:", self.prefix)
    }

    /// `{prefix}ramp:exposures:seen:INSTANCE`: a sorted set of the features one instance
    /// reported, scored by when it last did (`INSTANCE` as [`Keys::exposure_instance`] spells
    /// it). Per instance rather than per feature, so one batch updates them all in one `ZADD`.
    pub(crate) fn exposure_seen(&self, instance: &str) -> String {
        format!("{}{instance}", self.exposure_seen_prefix())
    }

    /// The member naming an (application, instance) pair: `LENGTH:APPLICATIONINSTANCE`, the
    /// application's byte length first, so any characters in either part read back unambiguously.
    pub(crate) fn exposure_instance(application: &str, instance: &str) -> String {
        format!("{}:{application}{instance}", application.len())
    }

    /// Splits a member of [`Keys::exposure_instance`]; `None` when it is not one.
    pub(crate) fn split_exposure_instance(member: &str) -> Option<(&str, &str)> {
        let (length, rest) = member.split_once(':')?;
        let length: usize = length.parse().ok()?;
        Some((rest.get(..length)?, rest.get(length..)?))
    }

    /// `{prefix}ramp:changes`: the Pub/Sub channel Ramp writers announce their changes on.
    pub(crate) fn channel(&self) -> String {
        format!("{}ramp:changes", self.prefix)
    }
}
