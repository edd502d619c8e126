//! The stored groups of an import (`import.rs`), inside its transaction: locking and reading the
//! groups it replaces, the events recording what it changes (`ramp_store::import`'s
//! `group_import_events`, shared by every backend), writing the groups, and stamping them with
//! the import's store version.
//!
//! Each event must start from the group it replaces, so the groups are read under their rows'
//! locks, and a group another writer creates after that read (there was no row to lock) makes
//! the attempt start again, as a feature created meanwhile does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use ramp_core::{Attribution, HistoryEvent, StoredGroup};
use ramp_store::import::group_import_events;
use ramp_store::StoreError;
use tokio_postgres::types::Json;

use crate::error::{corrupt, sql};
use crate::rows::decode_group;

/// What writing an import's groups did.
pub(crate) struct WrittenGroups<'group> {
    /// The names written, sorted, whose rows the transaction now holds locked.
    pub(crate) names: Vec<&'group str>,
    /// The events recording the groups created or changed, in the import's order, ids 0.
    pub(crate) events: Vec<HistoryEvent>,
}

/// Creates or replaces `groups` (when a name comes twice the last one wins, as in memory) and
/// describes what changed; `None` when another writer created one of the new groups since they
/// were read (the caller rolls back and tries again). Checks every group and the attribution.
pub(crate) async fn write_groups<'group>(
    transaction: &Transaction<'_>,
    groups: &'group [StoredGroup],
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<Option<WrittenGroups<'group>>, StoreError> {
    if groups.is_empty() {
        return Ok(Some(WrittenGroups {
            names: Vec::new(),
            events: Vec::new(),
        }));
    }
    // Sorted by name (the lock order) and without repeats (one statement may not upsert a row
    // twice).
    let last: BTreeMap<&str, &StoredGroup> = groups
        .iter()
        .map(|group| (group.name.as_str(), group))
        .collect();
    let names: Vec<&str> = last.keys().copied().collect();
    let rows = transaction
        .query(
            "SELECT name, body FROM groups WHERE name = ANY($1) ORDER BY name FOR UPDATE",
            &[&names],
        )
        .await
        .map_err(sql("reading the groups to import"))?;
    let mut stored = BTreeMap::new();
    for row in &rows {
        let group = decode_group(row)?;
        stored.insert(group.name.clone(), group);
    }
    let events = group_import_events(groups, attribution, now, |name| {
        Ok(stored.get(name).cloned())
    })?;
    let existing: Vec<&str> = stored.keys().map(|name| name.as_str()).collect();
    let bodies: Vec<Json<&StoredGroup>> = last.values().map(|group| Json(*group)).collect();
    // A conflict with a group that was not there when read (another writer's, committed since)
    // updates nothing, so fewer rows than names are written: start again.
    let written = transaction
        .execute(
            "INSERT INTO groups (name, body) SELECT * FROM unnest($1::text[], $2::jsonb[])
             ON CONFLICT (name) DO UPDATE SET body = excluded.body
             WHERE groups.name = ANY($3)",
            &[&names, &bodies, &existing],
        )
        .await
        .map_err(sql("writing imported groups"))?;
    if written < names.len() as u64 {
        return Ok(None);
    }
    Ok(Some(WrittenGroups { names, events }))
}

/// Gives the groups an import wrote the import's store version. Their rows are already locked
/// by the import's transaction, so this takes no new lock after `meta`.
pub(crate) async fn stamp_imported_groups(
    transaction: &Transaction<'_>,
    names: &[&str],
    version: u64,
) -> Result<(), StoreError> {
    if names.is_empty() {
        return Ok(());
    }
    let version = i64::try_from(version)
        .map_err(|_| corrupt("the store version does not fit in a bigint"))?;
    transaction
        .execute(
            "UPDATE groups SET version = $1 WHERE name = ANY($2)",
            &[&version, &names],
        )
        .await
        .map_err(sql("stamping imported groups"))?;
    Ok(())
}
