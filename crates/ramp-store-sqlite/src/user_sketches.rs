//! Distinct-user sketches in the table of migration 0007: merging them, reading one feature's
//! days back and forgetting old days, as blocking functions over the shared connection that
//! `store.rs` runs off the runtime. `ramp_store`'s memory store is the reference they follow.
//!
//! - SQLite cannot take a register-wise maximum of two blobs, so a merge reads the stored
//!   sketch, merges in Rust and writes it back, all in one `BEGIN IMMEDIATE` transaction: a
//!   concurrent merge (in this process or another) waits for it, then reads what it wrote, so
//!   neither loses the other's registers.
//! - A stored sketch that does not decode is `Corrupt`, for reads and for merges alike: merging
//!   into it would either fail later or overwrite users it may still hold.
//! - Nothing here touches the store version: sketches are not feature changes, and watchers
//!   must not wake for them.

use std::collections::btree_map::{BTreeMap, Entry};

use chrono::{NaiveDate, TimeDelta};
use ramp_core::UserSketch;
use ramp_store::daily_users::{day_number, DailyUsers};
use ramp_store::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::error::{corrupt, sql};
use crate::exposure_reads::integer;
use crate::store::Shared;

const SELECT_ONE: &str = "SELECT sketch FROM exposure_user_sketches
     WHERE day = ?1 AND feature = ?2 AND active = ?3";

const UPSERT: &str = "INSERT INTO exposure_user_sketches (day, feature, active, sketch)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (day, feature, active) DO UPDATE SET sketch = excluded.sketch";

/// Already in this order in the index by feature: no sort.
const READ: &str = "SELECT day, active, sketch FROM exposure_user_sketches
     WHERE feature = ?1 AND day >= ?2 AND day <= ?3
     ORDER BY day, active";

const FORGET: &str = "DELETE FROM exposure_user_sketches WHERE day < ?1";

/// Which answer a sketch is of, for error messages.
fn answer(active: bool) -> &'static str {
    if active {
        "active"
    } else {
        "inactive"
    }
}

/// The inverse of `day_number` for every number a date has. `daily_users::day_from_number`
/// turns days before 1970 into 1970-01-01, which would read a stored sketch back under
/// another day than it was merged for.
fn day_from_number(number: i64) -> Option<NaiveDate> {
    TimeDelta::try_days(number).and_then(|days| NaiveDate::default().checked_add_signed(days))
}

/// A stored sketch column: a blob that `UserSketch::decode` accepts.
fn sketch(row: &Row<'_>, index: usize) -> Result<UserSketch, String> {
    match row.get_ref(index) {
        Ok(ValueRef::Blob(bytes)) => UserSketch::decode(bytes).map_err(|error| error.to_string()),
        _ => Err("sketch is not a blob".to_owned()),
    }
}

fn damaged(feature: &str, day: NaiveDate, active: bool, what: &str) -> StoreError {
    corrupt(format!(
        "the {} user sketch of {feature:?} on {day}: {what}",
        answer(active)
    ))
}

pub(crate) fn merge(shared: &Shared, sketches: &[DailyUsers]) -> Result<(), StoreError> {
    const CONTEXT: &str = "merging user sketches";
    if sketches.is_empty() {
        return Ok(());
    }
    // Entries of one call for the same key merged first, so each stored sketch is read and
    // written once per call; in key order, so neighbouring keys share b-tree pages.
    let mut merged: BTreeMap<(NaiveDate, &str, bool), UserSketch> = BTreeMap::new();
    for daily in sketches {
        match merged.entry((daily.day, &daily.feature, daily.active)) {
            Entry::Occupied(mut entry) => entry.get_mut().merge(&daily.sketch),
            Entry::Vacant(entry) => {
                entry.insert(daily.sketch.clone());
            }
        }
    }
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(CONTEXT))?;
    for ((day, feature, active), sketch) in merged {
        merge_one(&transaction, day, feature, active, sketch)?;
    }
    transaction.commit().map_err(sql(CONTEXT))
}

/// Merges one sketch into its stored row, inside the caller's transaction.
fn merge_one(
    connection: &Connection,
    day: NaiveDate,
    feature: &str,
    active: bool,
    mut incoming: UserSketch,
) -> Result<(), StoreError> {
    const CONTEXT: &str = "merging a user sketch";
    let number = day_number(day);
    let stored = connection
        .prepare_cached(SELECT_ONE)
        .and_then(|mut statement| {
            statement
                .query_row(params![number, feature, active], |row| Ok(sketch(row, 0)))
                .optional()
        })
        .map_err(sql(CONTEXT))?;
    match stored {
        Some(Ok(stored)) => {
            incoming.merge(&stored);
            // A retried batch raises nothing: skip the write and keep the page clean.
            if incoming == stored {
                return Ok(());
            }
        }
        Some(Err(what)) => return Err(damaged(feature, day, active, &what)),
        None => {}
    }
    connection
        .prepare_cached(UPSERT)
        .and_then(|mut statement| {
            statement.execute(params![number, feature, active, incoming.encode()])
        })
        .map_err(sql(CONTEXT))?;
    Ok(())
}

pub(crate) fn read(
    shared: &Shared,
    feature: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DailyUsers>, StoreError> {
    const CONTEXT: &str = "reading user sketches";
    if from > to {
        return Ok(Vec::new());
    }
    let connection = shared.connection();
    let mut statement = connection.prepare_cached(READ).map_err(sql(CONTEXT))?;
    let mut rows = statement
        .query(params![feature, day_number(from), day_number(to)])
        .map_err(sql(CONTEXT))?;
    let mut read = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        read.push(decode(row, feature)?);
    }
    Ok(read)
}

fn decode(row: &Row<'_>, feature: &str) -> Result<DailyUsers, StoreError> {
    let bad = |what: String| corrupt(format!("a user sketch of {feature:?}: {what}"));
    let number = integer(row, 0, "day").map_err(bad)?;
    let day = day_from_number(number).ok_or_else(|| bad(format!("day {number} is no date")))?;
    let active = match integer(row, 1, "active").map_err(bad)? {
        0 => false,
        1 => true,
        other => return Err(bad(format!("active is {other}, not 0 or 1"))),
    };
    let sketch = sketch(row, 2).map_err(|what| damaged(feature, day, active, &what))?;
    Ok(DailyUsers {
        feature: feature.to_owned(),
        day,
        active,
        sketch,
    })
}

pub(crate) fn forget(shared: &Shared, before: NaiveDate) -> Result<u64, StoreError> {
    const CONTEXT: &str = "forgetting old user sketches";
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(CONTEXT))?;
    let deleted = transaction
        .prepare_cached(FORGET)
        .and_then(|mut statement| statement.execute([day_number(before)]))
        .map_err(sql(CONTEXT))?;
    transaction.commit().map_err(sql(CONTEXT))?;
    Ok(deleted as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_read_back_as_the_day_they_were_written_for() {
        for day in [
            NaiveDate::default(),
            NaiveDate::from_ymd_opt(1969, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::MIN,
            NaiveDate::MAX,
        ] {
            assert_eq!(day_from_number(day_number(day)), Some(day));
        }
        assert_eq!(day_from_number(i64::MAX), None);
    }

    /// Every statement finds its rows through a key (none scans the table), and reads come in
    /// the index's order, unsorted.
    #[test]
    fn every_statement_is_served_by_a_key() {
        let directory = tempfile::tempdir().unwrap();
        let connection = crate::connection::open_writer(&directory.path().join("ramp.db")).unwrap();
        for (statement, expected) in [
            (SELECT_ONE, "sqlite_autoindex_exposure_user_sketches_1"),
            (READ, "exposure_user_sketches_by_feature"),
            (FORGET, "sqlite_autoindex_exposure_user_sketches_1 (day<?)"),
        ] {
            let mut explain = connection
                .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
                .unwrap();
            let parameters = statement.matches('?').count();
            let values: Vec<i64> = vec![1; parameters];
            let plan: Vec<String> = explain
                .query_map(rusqlite::params_from_iter(values), |row| row.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains(expected), "{statement}: {plan}");
            assert!(!plan.contains("SCAN"), "{statement}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{statement}: {plan}");
        }
    }
}
