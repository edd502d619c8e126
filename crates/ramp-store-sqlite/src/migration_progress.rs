//! Migration progress in the table of migration 0012: keeping, reading and deleting the latest
//! report of each (feature, migration), as blocking functions over the shared connection that
//! `store.rs` runs off the runtime. `ramp_store`'s memory store is the reference they follow.
//!
//! A report is stored inside one `BEGIN IMMEDIATE` transaction that first checks the feature
//! and the feature's number of migrations, so two processes reporting new migrations at once
//! cannot both take the last place. Nothing here touches the store version: reports are not
//! feature changes.

use ramp_core::{MigrationProgress, MAX_MIGRATIONS_PER_FEATURE};
use ramp_store::StoreError;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::error::{corrupt, sql};
use crate::store::Shared;

const FEATURE_EXISTS: &str = "SELECT 1 FROM features WHERE name = ?1";
const KNOWN_OR_COUNT: &str = "SELECT EXISTS (SELECT 1 FROM migration_progress
         WHERE feature = ?1 AND migration = ?2),
     (SELECT COUNT(*) FROM migration_progress WHERE feature = ?1)";
const UPSERT: &str =
    "INSERT INTO migration_progress (feature, migration, report) VALUES (?1, ?2, ?3)
     ON CONFLICT (feature, migration) DO UPDATE SET report = excluded.report";
const READ: &str =
    "SELECT migration, report FROM migration_progress WHERE feature = ?1 ORDER BY migration";
const DELETE: &str = "DELETE FROM migration_progress WHERE feature = ?1 AND migration = ?2";

/// Keeps `progress` as its migration's latest report (validated first: nothing is written
/// otherwise).
pub(crate) fn put(shared: &Shared, progress: &MigrationProgress) -> Result<(), StoreError> {
    const CONTEXT: &str = "storing migration progress";
    progress.validate()?;
    let feature = progress.feature.as_str();
    let report = serde_json::to_string(progress)
        .map_err(|error| corrupt(format!("a migration report cannot be written: {error}")))?;
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(CONTEXT))?;
    let exists = transaction
        .query_row(FEATURE_EXISTS, params![feature], |_| Ok(()))
        .optional()
        .map_err(sql(CONTEXT))?;
    if exists.is_none() {
        return Err(StoreError::feature_not_found(feature));
    }
    let (known, count): (bool, i64) = transaction
        .query_row(
            KNOWN_OR_COUNT,
            params![feature, progress.migration],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(sql(CONTEXT))?;
    if !known && usize::try_from(count).unwrap_or(usize::MAX) >= MAX_MIGRATIONS_PER_FEATURE {
        return Err(StoreError::too_many_migrations(feature));
    }
    transaction
        .execute(UPSERT, params![feature, progress.migration, report])
        .map_err(sql(CONTEXT))?;
    transaction.commit().map_err(sql(CONTEXT))
}

/// The feature's reports, by migration name.
pub(crate) fn read(shared: &Shared, feature: &str) -> Result<Vec<MigrationProgress>, StoreError> {
    const CONTEXT: &str = "reading migration progress";
    let connection = shared.connection();
    let mut statement = connection.prepare_cached(READ).map_err(sql(CONTEXT))?;
    let mut rows = statement.query(params![feature]).map_err(sql(CONTEXT))?;
    let mut reports = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let migration: String = row.get(0).map_err(sql(CONTEXT))?;
        let report: String = row.get(1).map_err(sql(CONTEXT))?;
        reports.push(serde_json::from_str(&report).map_err(|error| {
            corrupt(format!(
                "migration {migration:?} of feature {feature:?} has an unreadable report: {error}"
            ))
        })?);
    }
    Ok(reports)
}

/// Forgets one report; whether there was one.
pub(crate) fn delete(shared: &Shared, feature: &str, migration: &str) -> Result<bool, StoreError> {
    let connection = shared.connection();
    let deleted = connection
        .execute(DELETE, params![feature, migration])
        .map_err(sql("deleting migration progress"))?;
    Ok(deleted > 0)
}
