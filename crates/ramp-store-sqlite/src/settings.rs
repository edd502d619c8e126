//! The lifecycle settings in the `settings` table (migration 0010): one row named `lifecycle`
//! holding the JSON document and its version; no row means the defaults at version 0. A write
//! is one `BEGIN IMMEDIATE` transaction: read, check, write, record the event, commit.

use chrono::Utc;
use ramp_core::{Attribution, LifecycleSettings};
use ramp_store::settings::{decode_settings, encode_settings, prepare_settings_write};
use ramp_store::{AppliedSettings, StoreError, VersionedSettings};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{sql, BACKEND};
use crate::history::insert_event;
use crate::store::Shared;

/// The row's name.
const LIFECYCLE: &str = "lifecycle";

fn read(connection: &Connection) -> Result<VersionedSettings, StoreError> {
    let row: Option<(String, i64)> = connection
        .prepare_cached("SELECT body, version FROM settings WHERE name = ?1")
        .and_then(|mut statement| {
            statement
                .query_row([LIFECYCLE], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .map_err(sql("reading the lifecycle settings"))?;
    match row {
        None => Ok(VersionedSettings::default()),
        Some((body, version)) => {
            let version = u64::try_from(version).map_err(|_| StoreError::Corrupt {
                backend: BACKEND,
                detail: format!("lifecycle settings: version {version} is negative"),
            })?;
            decode_settings(BACKEND, &body, version)
        }
    }
}

pub(crate) fn lifecycle_settings(shared: &Shared) -> Result<VersionedSettings, StoreError> {
    read(&shared.connection())
}

pub(crate) fn put_lifecycle_settings(
    shared: &Shared,
    settings: &LifecycleSettings,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<AppliedSettings, StoreError> {
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning a write"))?;
    let current = read(&transaction)?;
    let Some(prepared) = prepare_settings_write(
        &current,
        settings,
        expected_version,
        attribution,
        Utc::now(),
    )?
    else {
        return Ok(AppliedSettings {
            version: current.version,
            event: None,
        });
    };
    let version = i64::try_from(prepared.stored.version).map_err(|_| StoreError::Corrupt {
        backend: BACKEND,
        detail: "lifecycle settings: the version does not fit in SQLite's integer".into(),
    })?;
    transaction
        .prepare_cached(
            "INSERT INTO settings (name, body, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, version = excluded.version",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                LIFECYCLE,
                encode_settings(&prepared.stored.settings),
                version
            ])
        })
        .map_err(sql("writing the lifecycle settings"))?;
    let event = insert_event(&transaction, prepared.event)?;
    transaction
        .commit()
        .map_err(sql("committing the lifecycle settings"))?;
    Ok(AppliedSettings {
        version: prepared.stored.version,
        event: Some(event),
    })
}
