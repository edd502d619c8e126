//! Stored groups with their versions: reading them, and writing or deleting one at an expected
//! version, each recorded in history (`subject = 'group'`) by the statement that writes it.
//!
//! A group's version is the store version (`meta.version`) of the write that last wrote it. A
//! write is one transaction that locks the group's row (`SELECT ... FOR UPDATE`; a new group's
//! row is inserted first, `ON CONFLICT DO NOTHING`, so of concurrent creators exactly one
//! inserts and the others then find its row), checks the expected version, and only then takes
//! the `meta` row's lock to bump the store version: the same lock order as every other write
//! (rows, then `meta` last), so group writes never deadlock with them.

use deadpool_postgres::Transaction;
use ramp_core::{Attribution, GroupName, HistoryEvent, StoredGroup};
use ramp_store::prepare::{
    action_name, check_group_version, group_deletion_event, prepare_group_write,
};
use ramp_store::{AppliedGroup, StoreError, VersionedGroup};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Row;

use crate::error::{commit_error, corrupt, sql, unavailable};
use crate::rows::{decode_group, now};
use crate::shared::Shared;
use crate::writes::version_of;

/// The store version bump, the event recording it and the notification, after `written`
/// (which must name the group `$1`); `$2` the channel, `$3` the origin, `$4`..`$8` the event's
/// action, actor, time, comment and changes (all NULL: nothing to record, as when a write
/// changes nothing). The bump comes first and the event reads it, so the event's id is drawn
/// under the `meta` lock and ids follow commit order. One row comes back: the new version and
/// the event's id (NULL when none was recorded).
macro_rules! recorded_after {
    ($written:literal) => {
        concat!(
            "WITH bumped AS (UPDATE meta SET version = version + 1 RETURNING version), ",
            $written,
            ", recorded AS (
                INSERT INTO history (subject, feature, action, actor, time, comment, changes)
                SELECT 'group', $1::text, $4::text, $5::text, $6::timestamptz, $7::text,
                    $8::jsonb
                FROM bumped WHERE $4::text IS NOT NULL
                RETURNING id
            ), notified AS (
                SELECT pg_notify($2::text, json_build_object(
                    'origin', $3::text, 'version', version, 'feature', NULL)::text)
                FROM bumped
            )
            SELECT bumped.version, recorded.id
            FROM bumped CROSS JOIN written CROSS JOIN notified LEFT JOIN recorded ON true"
        )
    };
}

/// Replaces the (locked) group's body and stamps it with the new store version; `$9` the body.
const UPDATE_GROUP: &str = recorded_after!(
    "written AS (UPDATE groups SET body = $9::jsonb, version = bumped.version FROM bumped
        WHERE name = $1 RETURNING 1)"
);

/// Deletes the (locked) group.
const DELETE_GROUP: &str =
    recorded_after!("written AS (DELETE FROM groups WHERE name = $1 RETURNING 1)");

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
            Ok(VersionedGroup {
                version: group_version(row, &group.name)?,
                group,
            })
        })
        .collect()
}

/// The `version` column (the third) of a group's row.
fn group_version(row: &Row, name: &GroupName) -> Result<u64, StoreError> {
    row.try_get::<_, i64>(2)
        .ok()
        .and_then(|version| u64::try_from(version).ok())
        .ok_or_else(|| corrupt(format!("group {:?}: bad version", name.as_str())))
}

/// Locks the group's row and reads it with its version: `(None, 0)` when there is none. Under
/// the lock, the group read is the one this write replaces, so its event's `before` is exact
/// however many writers wait behind each other (READ COMMITTED re-reads a row it waited for).
async fn lock_group(
    transaction: &Transaction<'_>,
    name: &GroupName,
) -> Result<(Option<StoredGroup>, u64), StoreError> {
    let row = transaction
        .query_opt(
            "SELECT name, body, version FROM groups WHERE name = $1 FOR UPDATE",
            &[&name.as_str()],
        )
        .await
        .map_err(sql("locking a group"))?;
    match row {
        None => Ok((None, 0)),
        Some(row) => Ok((Some(decode_group(&row)?), group_version(&row, name)?)),
    }
}

/// Runs `UPDATE_GROUP` or `DELETE_GROUP`, recording `event` if there is one: the new store
/// version, and the event with its id.
async fn write_recorded(
    shared: &Shared,
    transaction: &Transaction<'_>,
    statement: &str,
    name: &GroupName,
    event: Option<HistoryEvent>,
    body: Option<&Json<&StoredGroup>>,
) -> Result<(u64, Option<HistoryEvent>), StoreError> {
    let action = event.as_ref().map(|event| action_name(event.action));
    let actor = event.as_ref().map(|event| event.actor.as_str());
    let time = event.as_ref().map(|event| event.time);
    let comment = event.as_ref().and_then(|event| event.comment.as_deref());
    let changes = event.as_ref().map(|event| Json(&event.changes));
    let name = name.as_str();
    let mut parameters: Vec<&(dyn ToSql + Sync)> = vec![
        &name,
        &shared.channel,
        &shared.origin,
        &action,
        &actor,
        &time,
        &comment,
        &changes,
    ];
    if let Some(body) = &body {
        parameters.push(body);
    }
    let row = transaction
        .query_one(statement, &parameters)
        .await
        .map_err(sql("writing a group"))?;
    let version = version_of(row.try_get(0))?;
    let id: Option<i64> = row
        .try_get(1)
        .map_err(|error| corrupt(format!("a new history id: {error}")))?;
    let event = match (event, id) {
        (Some(event), Some(id)) => Some(HistoryEvent {
            id: u64::try_from(id).map_err(|_| corrupt("history ids went negative"))?,
            ..event
        }),
        (None, _) => None,
        (Some(_), None) => return Err(corrupt("a group's event was not recorded")),
    };
    Ok((version, event))
}

/// Creates or replaces the group if it is at `expected_version`, and records what changed.
pub(crate) async fn put_group(
    shared: &Shared,
    group: &StoredGroup,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<AppliedGroup, StoreError> {
    let name = &group.name;
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning a group write"))?;
    let body = Json(group);
    for _ in 0..ATTEMPTS {
        let (existing, actual) = lock_group(&transaction, name).await?;
        // An error drops the transaction, which rolls it back: nothing is written.
        check_group_version(name, actual, expected_version)?;
        let event = prepare_group_write(existing.as_ref(), group, attribution, now())?;
        if existing.is_none() {
            // Inserted with a placeholder version that the update below replaces. A concurrent
            // creator makes this wait for its commit and then insert nothing: read again (its
            // group is then what this write replaces, and what its event starts from).
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
        let (version, event) =
            write_recorded(shared, &transaction, UPDATE_GROUP, name, event, Some(&body)).await?;
        transaction
            .commit()
            .await
            .map_err(commit_error("committing a group write"))?;
        shared.announce(version, None);
        return Ok(AppliedGroup { version, event });
    }
    Err(contended(name))
}

/// Deletes the group if it is at `expected_version` (then `NotFound` if there is none), and
/// records everything it held.
pub(crate) async fn delete_group(
    shared: &Shared,
    name: &GroupName,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<HistoryEvent, StoreError> {
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning a group delete"))?;
    let (existing, actual) = lock_group(&transaction, name).await?;
    check_group_version(name, actual, expected_version)?;
    let existing = existing.ok_or_else(|| StoreError::group_not_found(name.as_str()))?;
    let event = group_deletion_event(&existing, attribution, now())?;
    let (version, event) =
        write_recorded(shared, &transaction, DELETE_GROUP, name, Some(event), None).await?;
    let event = event.ok_or_else(|| corrupt("a group's deletion was not recorded"))?;
    transaction
        .commit()
        .await
        .map_err(commit_error("committing a group delete"))?;
    shared.announce(version, None);
    Ok(event)
}

fn contended(name: &GroupName) -> StoreError {
    unavailable(
        format!("writing group {:?}", name.as_str()),
        "other writers kept creating and deleting it; try again",
    )
}
