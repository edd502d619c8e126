//! Migration progress in the hash `{prefix}ramp:migrations:NAME` (one per feature): field the
//! migration's name, value its latest report's JSON (`ramp_core::MigrationProgress`).
//!
//! A report is kept by one script, atomic in Redis: it checks that the feature's payload
//! exists and that a new migration still fits under the cap, then sets the field, so reports
//! racing for the last place cannot both take it. Deleting a feature deletes the hash in the
//! deletion's own transaction (`writes.rs`). The key is Ramp's alone (see `keys.rs`); writes
//! never touch the store version or publish on the changes channel.

use ramp_core::{MigrationProgress, MAX_MIGRATIONS_PER_FEATURE};
use ramp_store::StoreError;
use redis::Value;

use crate::error::BACKEND;
use crate::pool::Request;
use crate::reply::{array, bytes, integer};
use crate::scripts::eval;
use crate::store::Shared;

/// KEYS: the feature's payload, its migrations hash. ARGV: migration, report JSON, cap.
/// Returns 1 when kept, 0 for an unknown feature, -1 for one migration too many.
const PUT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0
  and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"#;

/// Keeps `progress` as its migration's latest report (validated first: nothing is written
/// otherwise).
pub(crate) async fn put(shared: &Shared, progress: &MigrationProgress) -> Result<(), StoreError> {
    const CONTEXT: &str = "storing migration progress";
    progress.validate()?;
    let feature = progress.feature.as_str();
    let json = serde_json::to_string(progress).map_err(|error| StoreError::Corrupt {
        backend: BACKEND,
        detail: format!("a migration report cannot be written as JSON: {error}"),
    })?;
    let keys = &shared.keys;
    let mut script = eval(PUT, &[keys.feature(feature), keys.migrations(feature)]);
    script
        .arg(&progress.migration)
        .arg(json)
        .arg(MAX_MIGRATIONS_PER_FEATURE);
    let mut connection = shared.pool.get().await?;
    // Setting a field to a report is idempotent: a retry after a lost answer keeps the same
    // report again, so it may go as the (retried) first request.
    let reply = connection.first(CONTEXT, Request::Command(&script)).await?;
    match integer(&reply, CONTEXT)? {
        1 => Ok(()),
        0 => Err(StoreError::feature_not_found(feature)),
        _ => Err(StoreError::too_many_migrations(feature)),
    }
}

/// The feature's reports, by migration name; a report that does not parse is skipped with a
/// warning, so it cannot hide the others.
pub(crate) async fn read(
    shared: &Shared,
    feature: &str,
) -> Result<Vec<MigrationProgress>, StoreError> {
    const CONTEXT: &str = "reading migration progress";
    let command = redis::Cmd::hvals(shared.keys.migrations(feature));
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    let values = match reply {
        Value::Nil => Vec::new(),
        other => array(other, CONTEXT)?,
    };
    let mut reports = Vec::with_capacity(values.len());
    for value in values {
        match serde_json::from_slice::<MigrationProgress>(&bytes(value, CONTEXT)?) {
            Ok(report) => reports.push(report),
            Err(error) => tracing::warn!(%error, feature, "skipped an unreadable migration report"),
        }
    }
    reports.sort_by(|left, right| left.migration.cmp(&right.migration));
    Ok(reports)
}

/// Forgets one report; whether there was one.
pub(crate) async fn delete(
    shared: &Shared,
    feature: &str,
    migration: &str,
) -> Result<bool, StoreError> {
    const CONTEXT: &str = "deleting migration progress";
    let command = redis::Cmd::hdel(shared.keys.migrations(feature), migration);
    let mut connection = shared.pool.get().await?;
    // Deleting twice deletes nothing more: safe to retry as a first request.
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    Ok(integer(&reply, CONTEXT)? > 0)
}
