//! Distinct users in PostgreSQL (the table of `migrations/V7__user_sketches.sql`): merging
//! daily sketches, reading one feature's days, and forgetting old days, as `ramp_store`'s
//! memory store does.
//!
//! A merge is one transaction of three statements, however many sketches the call carries.
//! The compact encoding cannot be merged in SQL, so the stored rows are locked, merged in Rust
//! and written back. The first statement creates the missing rows with the new sketches and
//! locks the existing ones (`ON CONFLICT DO UPDATE ... WHERE false` updates nothing but locks
//! every conflicting row, and copes with a row created or deleted by another transaction
//! meanwhile), in key order, so concurrent merges lock rows in the same order and do not
//! deadlock with each other. While those locks are held, the rows cannot change under the read
//! that follows, so a register raised by another server between the read and the write is
//! impossible. Only the rows whose registers grew are rewritten: a retried batch writes
//! nothing.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use deadpool_postgres::Object;
use ramp_core::UserSketch;
use ramp_store::daily_users::{day_number, DailyUsers};
use ramp_store::StoreError;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{committing, failed, Failed, ATTEMPTS};
use crate::error::{corrupt, sql};
use crate::shared::Shared;

/// `$1`..`$4`: features, days, answers and encoded sketches, one entry per key.
/// The `ORDER BY` fixes the order rows are inserted and locked in, whatever the caller sent.
const LOCK_OR_CREATE: &str =
    "INSERT INTO exposure_user_sketches AS t (feature, day, active, sketch)
    SELECT * FROM unnest($1::text[], $2::int4[], $3::bool[], $4::bytea[])
        AS new (feature, day, active, sketch)
    ORDER BY feature COLLATE \"C\", day, active
    ON CONFLICT (feature, day, active) DO UPDATE SET sketch = t.sketch WHERE false";

/// The rows of the keys `$1`..`$3`, which `LOCK_OR_CREATE` locked (or created) just before.
const READ_LOCKED: &str = "SELECT t.feature, t.day, t.active, t.sketch
    FROM exposure_user_sketches AS t
    JOIN unnest($1::text[], $2::int4[], $3::bool[]) AS key (feature, day, active)
        ON t.feature = key.feature AND t.day = key.day AND t.active = key.active";

const WRITE: &str = "UPDATE exposure_user_sketches AS t SET sketch = new.sketch
    FROM unnest($1::text[], $2::int4[], $3::bool[], $4::bytea[])
        AS new (feature, day, active, sketch)
    WHERE t.feature = new.feature AND t.day = new.day AND t.active = new.active";

const READ: &str = "SELECT day, active, sketch FROM exposure_user_sketches
    WHERE feature = $1 AND day >= $2 AND day <= $3 ORDER BY day, active";

const FORGET: &str = "DELETE FROM exposure_user_sketches WHERE day < $1";

/// The `day` column's value. Every `NaiveDate` is within an `integer` of 1970 (chrono's dates
/// span about 262,000 years); saturating would still keep a bound on the right side of every
/// stored day.
fn day_column(day: NaiveDate) -> i32 {
    let number = day_number(day);
    i32::try_from(number).unwrap_or(if number < 0 { i32::MIN } else { i32::MAX })
}

/// The day a `day` column holds, or `None` for a number no date has. Not
/// `daily_users::day_from_number`, which reads days before 1970 as 1970-01-01.
fn day_of_column(number: i32) -> Option<NaiveDate> {
    let epoch = NaiveDate::default().num_days_from_ce();
    NaiveDate::from_num_days_from_ce_opt(epoch.checked_add(number)?)
}

/// A stored sketch, or `Corrupt` naming its key.
fn stored_sketch(row: &Row, index: usize, key: &str) -> Result<UserSketch, StoreError> {
    let bytes: &[u8] = row
        .try_get(index)
        .map_err(|error| corrupt(format!("the user sketch of {key}: {error}")))?;
    UserSketch::decode(bytes).map_err(|error| corrupt(format!("the user sketch of {key}: {error}")))
}

fn key_text(feature: &str, day: i32, active: bool) -> String {
    format!("feature {feature:?}, day {day}, active {active}")
}

/// Why an attempt at merging stopped: a statement failed (maybe worth running again), or a
/// stored sketch is damaged (never worth it).
enum Stopped {
    Failed(Failed),
    Corrupt(StoreError),
}

impl From<Failed> for Stopped {
    fn from(failed: Failed) -> Self {
        Self::Failed(failed)
    }
}

/// The call's sketches merged per key (a call may repeat one), in key order.
type Merged<'a> = BTreeMap<(&'a str, i32, bool), UserSketch>;

pub(crate) async fn merge(shared: &Shared, sketches: &[DailyUsers]) -> Result<(), StoreError> {
    if sketches.is_empty() {
        return Ok(());
    }
    let mut merged = Merged::new();
    for daily in sketches {
        merged
            .entry((daily.feature.as_str(), day_column(daily.day), daily.active))
            .or_default()
            .merge(&daily.sketch);
    }
    let mut client = shared.client().await?;
    let mut attempt = 1;
    loop {
        match merge_once(&mut client, &merged).await {
            Ok(()) => return Ok(()),
            Err(Stopped::Failed(failed)) if failed.retryable() && attempt < ATTEMPTS => {
                attempt += 1;
            }
            Err(Stopped::Failed(failed)) => return Err(failed.into_error()),
            Err(Stopped::Corrupt(error)) => return Err(error),
        }
    }
}

async fn merge_once(client: &mut Object, merged: &Merged<'_>) -> Result<(), Stopped> {
    let features: Vec<&str> = merged.keys().map(|key| key.0).collect();
    let days: Vec<i32> = merged.keys().map(|key| key.1).collect();
    let answers: Vec<bool> = merged.keys().map(|key| key.2).collect();
    let encoded: Vec<Vec<u8>> = merged.values().map(UserSketch::encode).collect();

    let transaction = client
        .transaction()
        .await
        .map_err(failed("beginning to merge user sketches"))?;
    let prepare = failed("preparing to merge user sketches");
    let lock = transaction
        .prepare_cached(LOCK_OR_CREATE)
        .await
        .map_err(&prepare)?;
    let read = transaction
        .prepare_cached(READ_LOCKED)
        .await
        .map_err(&prepare)?;
    let write = transaction.prepare_cached(WRITE).await.map_err(&prepare)?;

    // In one round trip, and in this order: the read must find every row locked.
    let lock_columns: [&(dyn ToSql + Sync); 4] = [&features, &days, &answers, &encoded];
    let key_columns: [&(dyn ToSql + Sync); 3] = [&features, &days, &answers];
    let (locked, rows) = futures::join!(
        transaction.execute(&lock, &lock_columns),
        transaction.query(&read, &key_columns),
    );
    locked.map_err(failed("creating or locking user sketches"))?;
    let rows = rows.map_err(failed("reading the user sketches to merge"))?;

    let mut grown: Vec<(&str, i32, bool, Vec<u8>)> = Vec::new();
    for row in &rows {
        let key = read_key(row).map_err(Stopped::Corrupt)?;
        // Rows this statement just created hold the new sketch already, so they do not grow.
        let Some(((feature, day, active), new)) = merged.get_key_value(&key) else {
            continue;
        };
        let text = key_text(feature, *day, *active);
        let mut sketch = stored_sketch(row, 3, &text).map_err(Stopped::Corrupt)?;
        let before = sketch.clone();
        sketch.merge(new);
        if sketch != before {
            grown.push((feature, *day, *active, sketch.encode()));
        }
    }
    if !grown.is_empty() {
        let features: Vec<&str> = grown.iter().map(|row| row.0).collect();
        let days: Vec<i32> = grown.iter().map(|row| row.1).collect();
        let answers: Vec<bool> = grown.iter().map(|row| row.2).collect();
        let encoded: Vec<&[u8]> = grown.iter().map(|row| row.3.as_slice()).collect();
        let columns: [&(dyn ToSql + Sync); 4] = [&features, &days, &answers, &encoded];
        transaction
            .execute(&write, &columns)
            .await
            .map_err(failed("writing merged user sketches"))?;
    }
    transaction
        .commit()
        .await
        .map_err(committing("committing merged user sketches"))?;
    Ok(())
}

fn read_key(row: &Row) -> Result<(&str, i32, bool), StoreError> {
    let damaged = |error: tokio_postgres::Error| corrupt(format!("a user sketch's key: {error}"));
    Ok((
        row.try_get(0).map_err(damaged)?,
        row.try_get(1).map_err(damaged)?,
        row.try_get(2).map_err(damaged)?,
    ))
}

pub(crate) async fn read(
    client: &Object,
    feature: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DailyUsers>, StoreError> {
    if from > to {
        return Ok(Vec::new());
    }
    let statement = client
        .prepare_cached(READ)
        .await
        .map_err(sql("reading user sketches"))?;
    let rows = client
        .query(&statement, &[&feature, &day_column(from), &day_column(to)])
        .await
        .map_err(sql("reading user sketches"))?;
    rows.iter()
        .map(|row| {
            let damaged = |error: tokio_postgres::Error| {
                corrupt(format!("a user sketch of feature {feature:?}: {error}"))
            };
            let number: i32 = row.try_get(0).map_err(damaged)?;
            let active: bool = row.try_get(1).map_err(damaged)?;
            let day = day_of_column(number).ok_or_else(|| {
                corrupt(format!(
                    "a user sketch of feature {feature:?} on day {number}, which no date has"
                ))
            })?;
            Ok(DailyUsers {
                feature: feature.to_owned(),
                day,
                active,
                sketch: stored_sketch(row, 2, &key_text(feature, number, active))?,
            })
        })
        .collect()
}

/// A merge of several old days can lock them in another order than this delete, so either may
/// be PostgreSQL's victim of a deadlock, and runs again.
pub(crate) async fn forget(shared: &Shared, before: NaiveDate) -> Result<u64, StoreError> {
    let client = shared.client().await?;
    let statement = client
        .prepare_cached(FORGET)
        .await
        .map_err(sql("preparing to forget old user sketches"))?;
    let mut attempt = 1;
    loop {
        match client
            .execute(&statement, &[&day_column(before)])
            .await
            .map_err(failed("forgetting old user sketches"))
        {
            Err(failed) if failed.retryable() && attempt < ATTEMPTS => attempt += 1,
            outcome => return outcome.map_err(Failed::into_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_columns_round_trip_before_and_after_1970() {
        for day in [
            NaiveDate::MIN,
            NaiveDate::from_ymd_opt(1969, 12, 31).unwrap(),
            NaiveDate::default(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::MAX,
        ] {
            assert_eq!(i64::from(day_column(day)), day_number(day));
            assert_eq!(day_of_column(day_column(day)), Some(day));
        }
        assert_eq!(day_of_column(i32::MAX), None);
        assert_eq!(day_of_column(i32::MIN), None);
    }
}
