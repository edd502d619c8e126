//! Writes to one feature (stored groups: `groups.rs`), each one transaction: lock and read the row, apply
//! the core's rules through `ramp_store::prepare`, then one statement that writes the row, bumps
//! the store version, records history and queues the change notification, sent together with
//! the `COMMIT` (see `pipelined.rs`): two round trips per write.
//!
//! Concurrent writers never lose updates: an existing feature's row is locked with
//! `SELECT ... FOR UPDATE` before it is read, and a new one is inserted with
//! `ON CONFLICT DO NOTHING`, so of two writers creating one feature, the second finds the
//! first's row and applies its change on top. The `meta` row is always the last lock a write
//! takes, so writes never deadlock and history ids grow in commit order. A write that fails is
//! rolled back: it changes nothing.

use std::sync::LazyLock;

use ramp_core::{Attribution, Change, Feature, FeatureName, HistoryEvent};
use ramp_store::prepare::{check_version, deletion_event, prepare_change};
use ramp_store::{Applied, StoreError};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Statement;

use crate::error::{corrupt, unavailable};
use crate::pipelined::Pipelined;
use crate::rows::{decode_optional_feature, now, FeatureRow, FEATURE_COLUMNS};
use crate::shared::Shared;
use ramp_store::prepare::action_name;

/// A feature write followed by everything that goes with it, as one statement (one round
/// trip). Parameters: `$1` the feature, `$2`..`$6` the event's action, actor, time, comment and
/// changes, `$7` the notification channel, `$8` this store's origin id; the feature's other
/// columns, when written, are `$9`..`$18`. No row comes back when `written` wrote nothing.
macro_rules! recorded_write {
    ($written:literal) => {
        concat!(
            "WITH written AS (",
            $written,
            "), bumped AS (
                UPDATE meta SET version = version + 1 WHERE EXISTS (SELECT FROM written)
                RETURNING version
            ), recorded AS (
                INSERT INTO history (subject, feature, action, actor, time, comment, changes)
                SELECT 'feature', $1::text, $2::text, $3::text, $4::timestamptz, $5::text,
                    $6::jsonb
                FROM bumped
                RETURNING id
            ), notified AS (
                SELECT pg_notify($7::text, json_build_object(
                    'origin', $8::text, 'version', version, 'feature', $1::text)::text)
                FROM bumped
            )
            SELECT bumped.version, recorded.id FROM bumped, recorded, notified"
        )
    };
}

const UPDATE_FEATURE: &str = recorded_write!(
    "UPDATE features SET percentage = $9, users = $10, excluded_users = $11, groups = $12,
        data = $13, stage = $14, created_at = $15, updated_at = $16, version = $17,
        kind = $18
     WHERE name = $1 RETURNING 1"
);

const INSERT_FEATURE: &str = recorded_write!(
    "INSERT INTO features (name, percentage, users, excluded_users, groups, data, stage,
        created_at, updated_at, version, kind)
     VALUES ($1, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     ON CONFLICT (name) DO NOTHING RETURNING 1"
);

const DELETE_FEATURE: &str = recorded_write!("DELETE FROM features WHERE name = $1 RETURNING 1");

/// Reads a feature's row and locks it until the transaction ends.
static LOCK_FEATURE: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {FEATURE_COLUMNS} FROM features WHERE name = $1 FOR UPDATE"));

/// How many times a write re-reads a feature that other writers created (or deleted) between
/// its read and its write. Twice is already a coincidence.
const ATTEMPTS: usize = 5;

pub(crate) async fn apply(
    shared: &Shared,
    name: &FeatureName,
    change: &Change,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<Applied, StoreError> {
    let mut transaction = Pipelined::new(shared.client().await?);
    let select = transaction.prepare(&LOCK_FEATURE).await?;
    for _ in 0..ATTEMPTS {
        let row = transaction.begin_with(&select, &[&name.as_str()]).await?;
        let existing = match decode_optional_feature(row).await {
            Ok(existing) => existing,
            Err(error) => return transaction.abandon(error).await,
        };
        let prepared = prepare_change(
            name,
            existing.clone(),
            change,
            expected_version,
            attribution,
            now(),
        );
        let write = match prepared {
            Ok(Some(write)) => write,
            Ok(None) => {
                // Nothing changed: nothing to write, no new version, no notice.
                transaction.rollback().await?;
                let feature =
                    existing.ok_or_else(|| StoreError::feature_not_found(name.as_str()))?;
                return Ok(Applied {
                    feature,
                    event: None,
                });
            }
            Err(error) => return transaction.abandon(error).await,
        };
        let statement = if existing.is_some() {
            UPDATE_FEATURE
        } else {
            INSERT_FEATURE
        };
        let statement = transaction.prepare(statement).await?;
        let recorded = record(
            shared,
            &mut transaction,
            &statement,
            Some(&write.feature),
            &write.event,
        )
        .await?;
        let Some((version, id)) = recorded else {
            // Another writer created the feature since it was read: its row is there now.
            continue;
        };
        shared.announce(version, Some(name.clone()));
        return Ok(Applied {
            feature: write.feature,
            event: Some(HistoryEvent { id, ..write.event }),
        });
    }
    Err(contended(name))
}

pub(crate) async fn delete(
    shared: &Shared,
    name: &FeatureName,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<HistoryEvent, StoreError> {
    let mut transaction = Pipelined::new(shared.client().await?);
    let select = transaction.prepare(&LOCK_FEATURE).await?;
    let row = transaction.begin_with(&select, &[&name.as_str()]).await?;
    let feature = match decode_optional_feature(row).await {
        Ok(Some(feature)) => feature,
        Ok(None) => {
            return transaction
                .abandon(StoreError::feature_not_found(name.as_str()))
                .await
        }
        Err(error) => return transaction.abandon(error).await,
    };
    if let Err(error) = check_version(name, Some(&feature), expected_version) {
        return transaction.abandon(error).await;
    }
    let event = deletion_event(&feature, attribution, now());
    let statement = transaction.prepare(DELETE_FEATURE).await?;
    // The row is locked, so the delete cannot miss it.
    let (version, id) = record(shared, &mut transaction, &statement, None, &event)
        .await?
        .ok_or_else(|| contended(name))?;
    shared.announce(version, Some(name.clone()));
    Ok(HistoryEvent { id, ..event })
}

/// Runs one of the `recorded_write!` statements: the new store version and the event's id, or
/// `None` when the feature's row was not written.
async fn record(
    shared: &Shared,
    transaction: &mut Pipelined,
    statement: &Statement,
    feature: Option<&Feature>,
    event: &HistoryEvent,
) -> Result<Option<(u64, u64)>, StoreError> {
    let row = feature.map(FeatureRow::new).transpose()?;
    let changes = Json(&event.changes);
    // The statements name the subject's kind themselves: every event here is a feature's.
    let (feature_name, action) = (event.subject.name(), action_name(event.action));
    let mut parameters: Vec<&(dyn ToSql + Sync)> = vec![
        &feature_name,
        &action,
        &event.actor,
        &event.time,
        &event.comment,
        &changes,
        &shared.channel,
        &shared.origin,
    ];
    let values = row.as_ref().map(FeatureRow::values);
    if let Some(values) = &values {
        parameters.extend_from_slice(&values[1..]);
    }
    let Some(written) = transaction
        .commit_with(statement, &parameters, "writing a feature")
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = written
        .try_get(1)
        .map_err(|error| corrupt(format!("a new history id: {error}")))?;
    let id = u64::try_from(id).map_err(|_| corrupt("history ids went negative"))?;
    Ok(Some((version_of(written.try_get(0))?, id)))
}

/// The store version a write returned.
pub(crate) fn version_of(version: Result<i64, tokio_postgres::Error>) -> Result<u64, StoreError> {
    version
        .ok()
        .and_then(|version| u64::try_from(version).ok())
        .ok_or_else(|| corrupt("the store version in table meta is missing or negative"))
}

fn contended(name: &FeatureName) -> StoreError {
    unavailable(
        format!("writing feature {:?}", name.as_str()),
        "other writers kept creating and deleting it; try again",
    )
}
