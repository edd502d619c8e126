//! The lifecycle settings in the `settings` table (migration V10): one row named `lifecycle`
//! holding the JSON document and its version; no row (or the version-0 row a first writer
//! inserts to have something to lock) means the defaults.
//!
//! A write is one transaction: insert the row if absent (`ON CONFLICT DO NOTHING`, so of
//! concurrent first writers one inserts and the others wait for it), lock it (`FOR UPDATE`),
//! check the expected version, then lock `meta` last, as every other write does (rows, then
//! `meta`), so the event's id is drawn under the `meta` lock and ids follow commit order. The
//! store version is not bumped: settings are in no snapshot.

use ramp_core::{Attribution, LifecycleSettings};
use ramp_store::prepare::action_name;
use ramp_store::settings::{decode_settings, encode_settings, prepare_settings_write};
use ramp_store::{AppliedSettings, StoreError, VersionedSettings};
use tokio_postgres::types::Json;
use tokio_postgres::Row;

use crate::error::{commit_error, corrupt, sql};
use crate::rows::now;
use crate::shared::Shared;

/// The row's name.
const LIFECYCLE: &str = "lifecycle";

fn decode(row: Option<Row>) -> Result<VersionedSettings, StoreError> {
    let Some(row) = row else {
        return Ok(VersionedSettings::default());
    };
    let body: String = row
        .try_get(0)
        .map_err(|error| corrupt(format!("lifecycle settings: {error}")))?;
    let version: i64 = row
        .try_get(1)
        .map_err(|error| corrupt(format!("lifecycle settings: {error}")))?;
    let version =
        u64::try_from(version).map_err(|_| corrupt("lifecycle settings: negative version"))?;
    decode_settings("postgres", &body, version)
}

pub(crate) async fn lifecycle_settings(shared: &Shared) -> Result<VersionedSettings, StoreError> {
    let client = shared.client().await?;
    let row = client
        .query_opt(
            "SELECT body::text, version FROM settings WHERE name = $1",
            &[&LIFECYCLE],
        )
        .await
        .map_err(sql("reading the lifecycle settings"))?;
    decode(row)
}

pub(crate) async fn put_lifecycle_settings(
    shared: &Shared,
    settings: &LifecycleSettings,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<AppliedSettings, StoreError> {
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning a settings write"))?;
    transaction
        .execute(
            "INSERT INTO settings (name, body, version) VALUES ($1, '{}'::jsonb, 0)
             ON CONFLICT (name) DO NOTHING",
            &[&LIFECYCLE],
        )
        .await
        .map_err(sql("creating the lifecycle settings"))?;
    let row = transaction
        .query_opt(
            "SELECT body::text, version FROM settings WHERE name = $1 FOR UPDATE",
            &[&LIFECYCLE],
        )
        .await
        .map_err(sql("locking the lifecycle settings"))?;
    let current = decode(row)?;
    // An error drops the transaction, which rolls it back: nothing is written.
    let Some(prepared) =
        prepare_settings_write(&current, settings, expected_version, attribution, now())?
    else {
        return Ok(AppliedSettings {
            version: current.version,
            event: None,
        });
    };
    let version = i64::try_from(prepared.stored.version)
        .map_err(|_| corrupt("lifecycle settings: the version does not fit in bigint"))?;
    let event = prepared.event;
    let row = transaction
        .query_one(
            "WITH locked AS (SELECT version FROM meta FOR UPDATE),
             written AS (UPDATE settings SET body = $2::text::jsonb, version = $3 WHERE name = $1
                 RETURNING 1)
             INSERT INTO history (subject, feature, action, actor, time, comment, changes)
             SELECT 'settings', $1::text, $4::text, $5::text, $6::timestamptz, $7::text,
                 $8::jsonb
             FROM locked CROSS JOIN written
             RETURNING id",
            &[
                &LIFECYCLE,
                &encode_settings(&prepared.stored.settings),
                &version,
                &action_name(event.action),
                &event.actor,
                &event.time,
                &event.comment,
                &Json(&event.changes),
            ],
        )
        .await
        .map_err(sql("writing the lifecycle settings"))?;
    let id: i64 = row
        .try_get(0)
        .map_err(|error| corrupt(format!("a new history id: {error}")))?;
    transaction
        .commit()
        .await
        .map_err(commit_error("committing the lifecycle settings"))?;
    Ok(AppliedSettings {
        version: prepared.stored.version,
        event: Some(ramp_core::HistoryEvent {
            id: u64::try_from(id).map_err(|_| corrupt("history ids went negative"))?,
            ..event
        }),
    })
}
