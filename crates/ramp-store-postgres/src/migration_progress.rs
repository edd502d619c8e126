//! Migration progress in PostgreSQL (the table of `migrations/V12__migration_progress.sql`):
//! keeping, reading and deleting the latest report of each (feature, migration), as
//! `ramp_store`'s memory store does.
//!
//! A report is stored in one transaction that first locks the feature's row: reports of one
//! feature then take turns, so the count of its migrations that decides whether a new one
//! fits cannot be raced past the cap, and the feature cannot be deleted under the report.
//! Reports of different features never wait for each other.

use ramp_core::{MigrationProgress, MAX_MIGRATIONS_PER_FEATURE};
use ramp_store::StoreError;

use crate::error::{commit_error, corrupt, sql};
use crate::shared::Shared;

const LOCK_FEATURE: &str = "SELECT 1 FROM features WHERE name = $1 FOR UPDATE";
const KNOWN_OR_COUNT: &str = "SELECT EXISTS (SELECT 1 FROM migration_progress
        WHERE feature = $1 AND migration = $2),
    (SELECT COUNT(*) FROM migration_progress WHERE feature = $1)";
const UPSERT: &str =
    "INSERT INTO migration_progress (feature, migration, report) VALUES ($1, $2, $3)
    ON CONFLICT (feature, migration) DO UPDATE SET report = excluded.report";
const READ: &str =
    "SELECT migration, report FROM migration_progress WHERE feature = $1 ORDER BY migration";
const DELETE: &str = "DELETE FROM migration_progress WHERE feature = $1 AND migration = $2";

/// Keeps `progress` as its migration's latest report (validated first: nothing is written
/// otherwise).
pub(crate) async fn put(shared: &Shared, progress: &MigrationProgress) -> Result<(), StoreError> {
    progress.validate()?;
    let feature = progress.feature.as_str();
    let report = serde_json::to_string(progress)
        .map_err(|error| corrupt(format!("a migration report cannot be written: {error}")))?;
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning to store migration progress"))?;
    let locked = transaction
        .query_opt(LOCK_FEATURE, &[&feature])
        .await
        .map_err(sql("locking a feature to store its migration progress"))?;
    if locked.is_none() {
        return Err(StoreError::feature_not_found(feature));
    }
    let row = transaction
        .query_one(KNOWN_OR_COUNT, &[&feature, &progress.migration])
        .await
        .map_err(sql("counting a feature's migrations"))?;
    let damaged = |error: tokio_postgres::Error| corrupt(format!("a migration count: {error}"));
    let known: bool = row.try_get(0).map_err(damaged)?;
    let count: i64 = row.try_get(1).map_err(damaged)?;
    if !known && usize::try_from(count).unwrap_or(usize::MAX) >= MAX_MIGRATIONS_PER_FEATURE {
        return Err(StoreError::too_many_migrations(feature));
    }
    transaction
        .execute(UPSERT, &[&feature, &progress.migration, &report])
        .await
        .map_err(sql("storing migration progress"))?;
    transaction
        .commit()
        .await
        .map_err(commit_error("committing migration progress"))
}

/// The feature's reports, by migration name.
pub(crate) async fn read(
    shared: &Shared,
    feature: &str,
) -> Result<Vec<MigrationProgress>, StoreError> {
    let client = shared.client().await?;
    let rows = client
        .query(READ, &[&feature])
        .await
        .map_err(sql("reading migration progress"))?;
    let damaged = |error: tokio_postgres::Error| corrupt(format!("a migration report: {error}"));
    let mut reports = Vec::with_capacity(rows.len());
    for row in rows {
        let migration: String = row.try_get(0).map_err(damaged)?;
        let report: String = row.try_get(1).map_err(damaged)?;
        reports.push(serde_json::from_str(&report).map_err(|error| {
            corrupt(format!(
                "migration {migration:?} of feature {feature:?} has an unreadable report: {error}"
            ))
        })?);
    }
    Ok(reports)
}

/// Forgets one report; whether there was one.
pub(crate) async fn delete(
    shared: &Shared,
    feature: &str,
    migration: &str,
) -> Result<bool, StoreError> {
    let client = shared.client().await?;
    let deleted = client
        .execute(DELETE, &[&feature, &migration])
        .await
        .map_err(sql("deleting migration progress"))?;
    Ok(deleted > 0)
}
