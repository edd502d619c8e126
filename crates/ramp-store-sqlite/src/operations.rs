//! The store's operations as blocking functions over the shared connection, one transaction
//! each. `store.rs` runs them on tokio's blocking pool.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction: read, apply the core's rules through
//! `ramp_store::prepare`, write, bump the store version, record history, commit. Returning
//! early with an error drops the transaction, which rolls it back, so a failed write changes
//! nothing. This module never decides what a change means; the core does.

use chrono::Utc;
use ramp_core::{
    Attribution, Change, Feature, FeatureName, GroupName, HistoryEvent, Snapshot, StoredGroup,
};
use ramp_store::import::{events_to_copy, group_import_events, import_features, ImportTarget};
use ramp_store::prepare::{
    check_group_version, check_version, deletion_event, group_deletion_event, prepare_change,
    prepare_group_write, PreparedWrite,
};
use ramp_store::{
    Applied, AppliedGroup, HistoryQuery, ImportSummary, ImportedFeature, StoreError, VersionedGroup,
};
use rusqlite::TransactionBehavior;

use crate::connection::store_version;
use crate::error::sql;
use crate::groups::{read_group, read_groups, write_group};
use crate::history::{event_exists, insert_event, read_event, read_events};
use crate::rows::{bump_store_version, delete_feature, read_feature, read_features, write_feature};
use crate::store::Shared;

/// Every feature and group at one version: one read transaction, so the three queries agree.
pub(crate) fn snapshot(shared: &Shared) -> Result<Snapshot, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection.transaction().map_err(sql("beginning a read"))?;
    Ok(Snapshot {
        version: store_version(&transaction)?,
        randomize_percentage: shared.randomize_percentage(),
        features: read_features(&transaction)?,
        groups: read_groups(&transaction)?
            .into_iter()
            .map(|stored| stored.group)
            .collect(),
    })
}

pub(crate) fn feature(shared: &Shared, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
    read_feature(&shared.connection(), name)
}

pub(crate) fn groups(shared: &Shared) -> Result<Vec<VersionedGroup>, StoreError> {
    read_groups(&shared.connection())
}

pub(crate) fn history(
    shared: &Shared,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    read_events(&shared.connection(), query)
}

pub(crate) fn history_event(shared: &Shared, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
    read_event(&shared.connection(), id)
}

pub(crate) fn apply(
    shared: &Shared,
    name: &FeatureName,
    change: &Change,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<Applied, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a write"))?;
    let existing = read_feature(&transaction, name)?;
    let Some(write) = prepare_change(
        name,
        existing.clone(),
        change,
        expected_version,
        attribution,
        Utc::now(),
    )?
    else {
        // Nothing changed: nothing to write, no new version, no notice.
        let feature = existing.ok_or_else(|| StoreError::feature_not_found(name.as_str()))?;
        return Ok(Applied {
            feature,
            event: None,
        });
    };
    write_feature(&transaction, &write.feature)?;
    let version = bump_store_version(&transaction)?;
    let event = insert_event(&transaction, write.event)?;
    shared.commit(transaction, version, Some(name.clone()))?;
    Ok(Applied {
        feature: write.feature,
        event: Some(event),
    })
}

pub(crate) fn delete(
    shared: &Shared,
    name: &FeatureName,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<HistoryEvent, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a write"))?;
    let feature = read_feature(&transaction, name)?
        .ok_or_else(|| StoreError::feature_not_found(name.as_str()))?;
    check_version(name, Some(&feature), expected_version)?;
    delete_feature(&transaction, name)?;
    let version = bump_store_version(&transaction)?;
    let event = insert_event(
        &transaction,
        deletion_event(&feature, attribution, Utc::now()),
    )?;
    shared.commit(transaction, version, Some(name.clone()))?;
    Ok(event)
}

/// Checks the group's version, writes it and records what changed in one `BEGIN IMMEDIATE`
/// transaction, so no other writer, in any process, can come between the read the event is
/// computed from and the write.
pub(crate) fn put_group(
    shared: &Shared,
    group: &StoredGroup,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<AppliedGroup, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a write"))?;
    let existing = read_group(&transaction, &group.name)?;
    let actual = existing.as_ref().map_or(0, |stored| stored.version);
    check_group_version(&group.name, actual, expected_version)?;
    let event = prepare_group_write(
        existing.as_ref().map(|stored| &stored.group),
        group,
        attribution,
        Utc::now(),
    )?;
    let version = bump_store_version(&transaction)?;
    write_group(&transaction, group, version)?;
    let event = event
        .map(|event| insert_event(&transaction, event))
        .transpose()?;
    shared.commit(transaction, version, None)?;
    Ok(AppliedGroup { version, event })
}

pub(crate) fn delete_group(
    shared: &Shared,
    name: &GroupName,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<HistoryEvent, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a write"))?;
    let existing = read_group(&transaction, name)?;
    let actual = existing.as_ref().map_or(0, |stored| stored.version);
    check_group_version(name, actual, expected_version)?;
    let existing = existing.ok_or_else(|| StoreError::group_not_found(name.as_str()))?;
    let event = group_deletion_event(&existing.group, attribution, Utc::now())?;
    crate::groups::delete_group(&transaction, name)?;
    let version = bump_store_version(&transaction)?;
    let event = insert_event(&transaction, event)?;
    shared.commit(transaction, version, None)?;
    Ok(event)
}

/// All or nothing, like `MemoryStore`: one transaction, one store version for the whole
/// import, one history event per feature or group that changed.
pub(crate) fn import(
    shared: &Shared,
    features: &[ImportedFeature],
    groups: &[StoredGroup],
    attribution: &Attribution,
) -> Result<ImportSummary, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning an import"))?;
    let now = Utc::now();
    let mut summary = import_features(features, attribution, now, &mut ImportInto(&transaction))?;
    let group_events = group_import_events(groups, attribution, now, |name| {
        Ok(read_group(&transaction, name)?.map(|stored| stored.group))
    })?;
    summary.groups = groups.len();
    let version = bump_store_version(&transaction)?;
    for group in groups {
        write_group(&transaction, group, version)?;
    }
    for event in group_events {
        insert_event(&transaction, event)?;
    }
    shared.commit(transaction, version, None)?;
    Ok(summary)
}

/// Copied events, oldest first, in one transaction; those already here are skipped.
pub(crate) fn import_history(
    shared: &Shared,
    events: &[HistoryEvent],
) -> Result<usize, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a history import"))?;
    let added = events_to_copy(events, |event| event_exists(&transaction, event))?;
    for event in &added {
        insert_event(&transaction, (*event).clone())?;
    }
    transaction
        .commit()
        .map_err(sql("committing a history import"))?;
    Ok(added.len())
}

/// An import writing straight into its transaction: a name imported twice reads its first
/// import back.
struct ImportInto<'transaction>(&'transaction rusqlite::Transaction<'transaction>);

impl ImportTarget for ImportInto<'_> {
    fn stored(&mut self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        read_feature(self.0, name)
    }

    fn write(&mut self, write: PreparedWrite) -> Result<(), StoreError> {
        write_feature(self.0, &write.feature)?;
        insert_event(self.0, write.event)?;
        Ok(())
    }
}
