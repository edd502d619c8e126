//! Stored groups as table rows, with their versions: reading, writing and deleting them.
//!
//! A group's version is the store version of the write that last wrote it. Writers run inside
//! a `BEGIN IMMEDIATE` transaction, which holds the file's write lock, so checking a version
//! and writing are one step for every process using the file. These functions run inside the
//! caller's transaction and never begin or commit one.

use ramp_core::{GroupName, StoredGroup};
use ramp_store::{StoreError, VersionedGroup};
use rusqlite::{params, Connection, Row};

use crate::error::{corrupt, sql};
use crate::rows::text;

/// Every stored group with its version, sorted by name.
pub(crate) fn read_groups(connection: &Connection) -> Result<Vec<VersionedGroup>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT name, body, version FROM groups ORDER BY name")
        .map_err(sql("reading groups"))?;
    let mut rows = statement.query([]).map_err(sql("reading groups"))?;
    let mut groups = Vec::new();
    while let Some(row) = rows.next().map_err(sql("reading groups"))? {
        groups.push(decode_group(row)?);
    }
    Ok(groups)
}

/// One group with its version, `None` when there is none: what a write checks its expected
/// version against and records its changes from.
pub(crate) fn read_group(
    connection: &Connection,
    name: &GroupName,
) -> Result<Option<VersionedGroup>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT name, body, version FROM groups WHERE name = ?1")
        .map_err(sql("reading a group"))?;
    let mut rows = statement
        .query([name.as_str()])
        .map_err(sql("reading a group"))?;
    match rows.next().map_err(sql("reading a group"))? {
        Some(row) => decode_group(row).map(Some),
        None => Ok(None),
    }
}

/// A `name, body, version` row; a row that does not decode is `Corrupt`, naming the group.
fn decode_group(row: &Row<'_>) -> Result<VersionedGroup, StoreError> {
    let name = text(row, 0, "name").map_err(|what| corrupt(format!("a group row: {what}")))?;
    text(row, 1, "body")
        .and_then(|body| {
            serde_json::from_str::<StoredGroup>(body)
                .map_err(|error| format!("body is not a stored group: {error}"))
        })
        .and_then(|group| {
            if group.name.as_str() == name {
                Ok(group)
            } else {
                Err(format!("body names group {:?}", group.name.as_str()))
            }
        })
        .and_then(|group| {
            let version = row
                .get::<_, i64>(2)
                .ok()
                .and_then(|version| u64::try_from(version).ok())
                .ok_or("version is not a positive integer")?;
            Ok(VersionedGroup { group, version })
        })
        .map_err(|what| corrupt(format!("group {name:?}: {what}")))
}

/// Creates or replaces a stored group at `version`.
pub(crate) fn write_group(
    connection: &Connection,
    group: &StoredGroup,
    version: u64,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(group).map_err(|error| {
        corrupt(format!(
            "group {:?}: cannot encode it: {error}",
            group.name.as_str()
        ))
    })?;
    let version = i64::try_from(version)
        .map_err(|_| corrupt("the store version does not fit in SQLite's integer"))?;
    connection
        .prepare_cached(
            "INSERT INTO groups (name, body, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, version = excluded.version",
        )
        .and_then(|mut statement| statement.execute(params![group.name.as_str(), body, version]))
        .map_err(sql("writing a group"))?;
    Ok(())
}

/// Deletes a stored group; `false` if there was none.
pub(crate) fn delete_group(connection: &Connection, name: &GroupName) -> Result<bool, StoreError> {
    let deleted = connection
        .prepare_cached("DELETE FROM groups WHERE name = ?1")
        .and_then(|mut statement| statement.execute([name.as_str()]))
        .map_err(sql("deleting a group"))?;
    Ok(deleted > 0)
}
