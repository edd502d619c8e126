//! Stored groups with their versions: reading them, and writing or deleting one at an expected
//! version.
//!
//! A group's version is the store version (`meta.version`) of the write that last wrote it. A
//! write is one transaction that locks the group's row (`SELECT ... FOR UPDATE`; a new group's
//! row is inserted first, `ON CONFLICT DO NOTHING`, so of concurrent creators exactly one
//! inserts and the others then find its row), checks the expected version, and only then takes
//! the `meta` row's lock to bump the store version: the same lock order as every other write
//! (rows, then `meta` last), so group writes never deadlock with them.

use deadpool_postgres::Transaction;
use ramp_core::{GroupName, StoredGroup};
use ramp_store::prepare::check_group_version;
use ramp_store::{StoreError, VersionedGroup};
use tokio_postgres::types::{Json, ToSql};

use crate::error::{commit_error, corrupt, sql, unavailable};
use crate::rows::decode_group;
use crate::store::Shared;
use crate::writes::version_of;

/// The store version bump and its notification, after `written` (which must name the group
/// `$1`); `$2` the channel, `$3` the origin. One row with the new version comes back.
macro_rules! bumped_after {
    ($written:literal) => {
        concat!(
            "WITH bumped AS (UPDATE meta SET version = version + 1 RETURNING version), ",
            $written,
            ", notified AS (
                SELECT pg_notify($2::text, json_build_object(
                    'origin', $3::text, 'version', version, 'feature', NULL)::text)
                FROM bumped
            )
            SELECT bumped.version FROM bumped, written, notified"
        )
    };
}

/// Replaces the (locked) group's body and stamps it with the new store version; `$4` the body.
const UPDATE_GROUP: &str = bumped_after!(
    "written AS (UPDATE groups SET body = $4::jsonb, version = bumped.version FROM bumped
        WHERE name = $1 RETURNING 1)"
);

/// Deletes the (locked) group.
const DELETE_GROUP: &str =
    bumped_after!("written AS (DELETE FROM groups WHERE name = $1 RETURNING 1)");

/// How many times a write re-reads a group that others created and deleted between its read
/// and its insert. Twice is already a coincidence.
const ATTEMPTS: usize = 5;

/// Every stored group with its version, sorted by name.
pub(crate) async fn groups(shared: &Shared) -> Result<Vec<VersionedGroup>, StoreError> {
    let client = shared.client().await?;
    let statement = client
        .prepare_cached("SELECT name, body, version FROM groups ORDER BY name")
        .await
        .map_err(sql("reading groups"))?;
    let rows = client
        .query(&statement, &[])
        .await
        .map_err(sql("reading groups"))?;
    rows.iter()
        .map(|row| {
            let group = decode_group(row)?;
            let version = row
                .try_get::<_, i64>(2)
                .ok()
                .and_then(|version| u64::try_from(version).ok())
                .ok_or_else(|| corrupt(format!("group {:?}: bad version", group.name.as_str())))?;
            Ok(VersionedGroup { group, version })
        })
        .collect()
}

/// Locks the group's row and returns its version, 0 when there is none.
async fn lock_group(transaction: &Transaction<'_>, name: &GroupName) -> Result<u64, StoreError> {
    let row = transaction
        .query_opt(
            "SELECT version FROM groups WHERE name = $1 FOR UPDATE",
            &[&name.as_str()],
        )
        .await
        .map_err(sql("locking a group"))?;
    match row {
        None => Ok(0),
        Some(row) => row
            .try_get::<_, i64>(0)
            .ok()
            .and_then(|version| u64::try_from(version).ok())
            .ok_or_else(|| corrupt(format!("group {:?}: bad version", name.as_str()))),
    }
}

/// Creates or replaces the group if it is at `expected_version`; returns its new version.
pub(crate) async fn put_group(
    shared: &Shared,
    group: &StoredGroup,
    expected_version: Option<u64>,
) -> Result<u64, StoreError> {
    let name = &group.name;
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning a group write"))?;
    let body = Json(group);
    for _ in 0..ATTEMPTS {
        let actual = lock_group(&transaction, name).await?;
        // An error drops the transaction, which rolls it back: nothing is written.
        check_group_version(name, actual, expected_version)?;
        if actual == 0 {
            // Inserted with a placeholder version that the update below replaces. A concurrent
            // creator makes this wait for its commit and then insert nothing: read again.
            let inserted = transaction
                .execute(
                    "INSERT INTO groups (name, body) VALUES ($1, $2::jsonb)
                     ON CONFLICT (name) DO NOTHING",
                    &[&name.as_str(), &body],
                )
                .await
                .map_err(sql("creating a group"))?;
            if inserted == 0 {
                continue;
            }
        }
        let parameters: [&(dyn ToSql + Sync); 4] =
            [&name.as_str(), &shared.channel, &shared.origin, &body];
        let row = transaction
            .query_one(UPDATE_GROUP, &parameters)
            .await
            .map_err(sql("writing a group"))?;
        let version = version_of(row.try_get(0))?;
        transaction
            .commit()
            .await
            .map_err(commit_error("committing a group write"))?;
        shared.announce(version, None);
        return Ok(version);
    }
    Err(contended(name))
}

/// Deletes the group if it is at `expected_version` (then `NotFound` if there is none).
pub(crate) async fn delete_group(
    shared: &Shared,
    name: &GroupName,
    expected_version: Option<u64>,
) -> Result<(), StoreError> {
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning a group delete"))?;
    let actual = lock_group(&transaction, name).await?;
    check_group_version(name, actual, expected_version)?;
    if actual == 0 {
        return Err(StoreError::group_not_found(name.as_str()));
    }
    let row = transaction
        .query_one(
            DELETE_GROUP,
            &[&name.as_str(), &shared.channel, &shared.origin],
        )
        .await
        .map_err(sql("deleting a group"))?;
    let version = version_of(row.try_get(0))?;
    transaction
        .commit()
        .await
        .map_err(commit_error("committing a group delete"))?;
    shared.announce(version, None);
    Ok(())
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

fn contended(name: &GroupName) -> StoreError {
    unavailable(
        format!("writing group {:?}", name.as_str()),
        "other writers kept creating and deleting it; try again",
    )
}
