//! Compaction: minute buckets rolled into hours, hours into days, and what is past retention
//! deleted, in one transaction that ingest may run alongside.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use ramp_store::exposure::{Compacted, Cutoffs, ExposureRetention, Resolution};
use ramp_store::StoreError;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{
    ceil_seconds, columns, committing, failed, floor_start, saturating_sum, Failed, ATTEMPTS, MAX,
};
use crate::shared::Shared;

/// Moves the `$1` buckets starting before `$2` into `$3` buckets (`$4` seconds long), and
/// returns how many moved. Deleting first and inserting what was deleted moves each row exactly
/// once, even when an ingest updated it after this statement began (the delete then returns the
/// updated counts).
static ROLL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH moved AS (
            DELETE FROM exposure_buckets WHERE resolution = $1::int4 AND start < $2::int8
            RETURNING feature, {bin} AS start, {counts}
        ), rolled AS (
            INSERT INTO exposure_buckets AS t (feature, resolution, start, {counts})
            SELECT feature, $3::int4, start, {sums} FROM moved GROUP BY feature, start
            ON CONFLICT (feature, resolution, start) DO UPDATE SET {add}
        )
        SELECT count(*) FROM moved",
        bin = floor_start("$4::int8"),
        counts = columns(str::to_owned),
        sums = columns(|c| format!("LEAST(sum({c}), {MAX})::int8")),
        add = columns(|c| format!(
            "{c} = {}",
            saturating_sum(&format!("t.{c}"), &format!("excluded.{c}"))
        )),
    )
});

pub(crate) async fn compact(
    shared: &Shared,
    retention: &ExposureRetention,
    now: DateTime<Utc>,
) -> Result<Compacted, StoreError> {
    let cutoffs = retention.cutoffs(now);
    let mut client = shared.client().await?;
    let mut attempt = 1;
    loop {
        match compact_once(&mut client, &cutoffs).await {
            Err(failed) if failed.retryable() && attempt < ATTEMPTS => attempt += 1,
            outcome => return outcome.map_err(Failed::into_error),
        }
    }
}

async fn compact_once(client: &mut Object, cutoffs: &Cutoffs) -> Result<Compacted, Failed> {
    let transaction = client
        .transaction()
        .await
        .map_err(failed("beginning to compact exposures"))?;
    let prepare = failed("preparing to compact exposures");
    let roll = transaction.prepare_cached(&ROLL).await.map_err(&prepare)?;
    let delete_days = transaction
        .prepare_cached("DELETE FROM exposure_buckets WHERE resolution = $1 AND start < $2")
        .await
        .map_err(&prepare)?;
    let forget_batches = transaction
        .prepare_cached("DELETE FROM exposure_batches WHERE received < $1")
        .await
        .map_err(&prepare)?;
    let forget_applications = transaction
        .prepare_cached("DELETE FROM exposure_applications WHERE last_seen < $1")
        .await
        .map_err(&prepare)?;
    let [_, hour, day] = Resolution::ALL.map(|resolution| resolution.seconds());
    let [minute_id, hour_id, day_id] = Resolution::ALL.map(resolution_id);
    let minutes_before = ceil_seconds(cutoffs.minutes_before);
    let hours_before = ceil_seconds(cutoffs.hours_before);
    let days_before = ceil_seconds(cutoffs.days_before);
    let roll_minutes: [&(dyn ToSql + Sync); 4] = [&minute_id, &minutes_before, &hour_id, &hour];
    let roll_hours: [&(dyn ToSql + Sync); 4] = [&hour_id, &hours_before, &day_id, &day];
    let old_days: [&(dyn ToSql + Sync); 2] = [&day_id, &days_before];
    let old_batch_ids: [&(dyn ToSql + Sync); 1] = [&cutoffs.batch_ids_before];
    let old_applications: [&(dyn ToSql + Sync); 1] = [&cutoffs.days_before];
    // In one round trip and in this order: the second roll takes the hours the first made.
    let (minutes, hours, days, batch_ids, applications) = futures::join!(
        transaction.query_one(&roll, &roll_minutes),
        transaction.query_one(&roll, &roll_hours),
        transaction.execute(&delete_days, &old_days),
        transaction.execute(&forget_batches, &old_batch_ids),
        transaction.execute(&forget_applications, &old_applications),
    );
    let rolled = |row: Result<Row, tokio_postgres::Error>| -> Result<u64, Failed> {
        let count: i64 = row
            .and_then(|row| row.try_get(0))
            .map_err(failed("rolling exposure buckets up"))?;
        Ok(u64::try_from(count).unwrap_or_default())
    };
    let compacted = Compacted {
        minutes_rolled: rolled(minutes)?,
        hours_rolled: rolled(hours)?,
        days_deleted: days.map_err(failed("deleting old exposure days"))?,
        batch_ids_forgotten: batch_ids.map_err(failed("forgetting old exposure batch ids"))?,
        applications_forgotten: applications
            .map_err(failed("forgetting applications not seen for long"))?,
    };
    transaction
        .commit()
        .await
        .map_err(committing("committing an exposure compaction"))?;
    Ok(compacted)
}

/// The `resolution` column's value (its length in seconds fits an `integer`).
fn resolution_id(resolution: Resolution) -> i32 {
    i32::try_from(resolution.seconds()).unwrap_or(i32::MAX)
}
