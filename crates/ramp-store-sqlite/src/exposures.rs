//! Exposure counts in the tables of migration 0006: recording batches and compacting them, as
//! blocking functions over the shared connection that `store.rs` runs off the runtime (the
//! reads are in `exposure_reads.rs`). `ramp_store`'s memory store is the reference they
//! follow, number for number.
//!
//! - Counts stop at `exposure::MAX_COUNT` (`i64::MAX`). SQLite turns an overflowing integer
//!   `+` into a REAL and fails `SUM()` on overflow, so every addition in SQL is a saturating
//!   `CASE`, and sums over many rows are folded in Rust with `exposure::add_counts`.
//! - Times are whole Unix seconds, which is what `exposure::time_from_seconds` reads back: a
//!   `received` with a fraction of a second is a last seen rounded down to its second.
//! - Writes are `BEGIN IMMEDIATE` transactions, so concurrent writers (in this process or
//!   others) lose nothing. They never touch the store version: exposures are not feature
//!   changes, and watchers must not wake for them.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{
    add_counts, Compacted, ExposureBatch, ExposureRetention, ReasonCounts, Resolution, MAX_COUNT,
};
use ramp_store::StoreError;
use rusqlite::{params, Connection, TransactionBehavior};

use crate::error::{corrupt, sql};
use crate::store::Shared;

/// The statements whose text depends on the count columns, built once: `prepare_cached` keys
/// its cache by the text, so it must be the same string every call.
struct Statements {
    upsert_minute: String,
    roll: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(Statements::new);

impl Statements {
    fn new() -> Self {
        let columns: Vec<String> = ReasonKind::ALL.into_iter().map(count_column).collect();
        let list = count_columns();
        let placeholders: Vec<String> = (3..3 + columns.len()).map(|n| format!("?{n}")).collect();
        let max = i64::MAX;
        // `excluded` is the row that did not go in; bare names are the stored row.
        let saturating_sums = columns
            .iter()
            .map(|c| {
                format!("{c} = CASE WHEN {c} > {max} - excluded.{c} THEN {max} ELSE {c} + excluded.{c} END")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let upsert =
            format!("ON CONFLICT (resolution, start, feature) DO UPDATE SET {saturating_sums}");
        Statements {
            upsert_minute: format!(
                "INSERT INTO exposure_buckets (resolution, start, feature, {list})
                 VALUES ({minute}, ?2, ?1, {placeholders}) {upsert}",
                minute = Resolution::Minute.seconds(),
                placeholders = placeholders.join(", "),
            ),
            // Row by row, so buckets landing in the same coarser bucket add up (and saturate)
            // one after the other. The WHERE also keeps `ON CONFLICT` from parsing as a join's.
            roll: format!(
                "INSERT INTO exposure_buckets (resolution, start, feature, {list})
                 SELECT ?2, {bin}, feature, {list} FROM exposure_buckets
                 WHERE resolution = ?1 AND start < ?3 {upsert}",
                bin = floor_to("?2"),
            ),
        }
    }
}

/// The column of migration 0006 (0008 for `outside_percentage`) holding `kind`'s checks.
pub(crate) fn count_column(kind: ReasonKind) -> String {
    format!("{}_checks", kind.as_str())
}

/// Every count column, in `ReasonKind::ALL` order, for a column list.
pub(crate) fn count_columns() -> String {
    let columns: Vec<String> = ReasonKind::ALL.into_iter().map(count_column).collect();
    columns.join(", ")
}

/// SQL for the start of the `length`-second bin that `start` falls in. SQLite's `%` keeps the
/// dividend's sign, so this rounds towards minus infinity explicitly, as `start_of` does.
pub(crate) fn floor_to(length: &str) -> String {
    format!("start - ((start % {length}) + {length}) % {length}")
}

const DELETE_BUCKETS: &str = "DELETE FROM exposure_buckets WHERE resolution = ?1 AND start < ?2";

/// The first whole second at or after `time`: stored seconds `s` satisfy `s >= time` (or
/// `s < time`) exactly when they do against this.
pub(crate) fn second_at_or_after(time: DateTime<Utc>) -> i64 {
    time.timestamp() + i64::from(time.timestamp_subsec_nanos() > 0)
}

/// A count as SQLite keeps it. Every count bound went through `add_counts` or a `.min`, so it
/// fits; the fallback only keeps this total.
fn bind(count: u64) -> i64 {
    i64::try_from(count.min(MAX_COUNT)).unwrap_or(i64::MAX)
}

/// The counted batches of one call, merged before touching the file: batches of one call
/// mostly report the same features in the same minute, and one upsert per (feature, minute)
/// is far cheaper than one per batch and feature.
#[derive(Default)]
struct Merged<'a> {
    /// (minute, feature) -> counts: the table's key order.
    minutes: HashMap<(i64, &'a str), ReasonCounts>,
    /// (application, instance, feature) -> latest `received`: the table's key order.
    seen: HashMap<(&'a str, &'a str, &'a str), i64>,
    unnamed: u64,
    dropped: u64,
}

impl<'a> Merged<'a> {
    fn add(&mut self, batch: &'a ExposureBatch) {
        let minute = batch.minute.timestamp();
        let received = batch.received.timestamp();
        for (feature, counts) in &batch.counts {
            let sum = self
                .minutes
                .entry((minute, feature))
                .or_insert([0; ReasonKind::ALL.len()]);
            add_counts(sum, counts);
            let seen = self
                .seen
                .entry((&batch.application, &batch.instance, feature))
                .or_insert(received);
            *seen = (*seen).max(received);
        }
        self.unnamed = self.unnamed.saturating_add(batch.unnamed).min(MAX_COUNT);
        self.dropped = self.dropped.saturating_add(batch.dropped).min(MAX_COUNT);
    }

    /// Writes in key order: neighbouring keys share b-tree pages, so each page is loaded once.
    fn write(self, connection: &Connection) -> Result<(), StoreError> {
        const CONTEXT: &str = "recording exposure counts";
        let mut minutes: Vec<_> = self.minutes.into_iter().collect();
        minutes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut upsert = connection
            .prepare_cached(&SQL.upsert_minute)
            .map_err(sql(CONTEXT))?;
        for ((start, feature), counts) in minutes {
            let [c0, c1, c2, c3, c4, c5, c6, c7] = counts.map(bind);
            upsert
                .execute(params![feature, start, c0, c1, c2, c3, c4, c5, c6, c7])
                .map_err(sql(CONTEXT))?;
        }

        const SEEN: &str = "recording where exposures came from";
        let mut seen: Vec<_> = self.seen.into_iter().collect();
        seen.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut upsert = connection
            .prepare_cached(
                "INSERT INTO exposure_applications (application, instance, feature, last_seen)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (application, instance, feature) DO UPDATE
                 SET last_seen = excluded.last_seen WHERE excluded.last_seen > last_seen",
            )
            .map_err(sql(SEEN))?;
        for ((application, instance, feature), last_seen) in seen {
            upsert
                .execute(params![application, instance, feature, last_seen])
                .map_err(sql(SEEN))?;
        }

        if self.unnamed == 0 && self.dropped == 0 {
            return Ok(());
        }
        let max = i64::MAX;
        let updated = connection
            .prepare_cached(&format!(
                "UPDATE exposure_totals SET
                 unnamed = CASE WHEN unnamed > {max} - ?1 THEN {max} ELSE unnamed + ?1 END,
                 dropped = CASE WHEN dropped > {max} - ?2 THEN {max} ELSE dropped + ?2 END
                 WHERE id = 1"
            ))
            .and_then(|mut statement| {
                statement.execute(params![bind(self.unnamed), bind(self.dropped)])
            })
            .map_err(sql("adding to the exposure totals"))?;
        if updated != 1 {
            return Err(corrupt("the row of table exposure_totals is missing"));
        }
        Ok(())
    }
}

/// Claims each batch's id, in order; `false` for ids already there, including those claimed
/// earlier in this call.
fn claim_batch_ids(
    connection: &Connection,
    batches: &[ExposureBatch],
) -> Result<Vec<bool>, StoreError> {
    const CONTEXT: &str = "recording exposure batch ids";
    let mut claim = connection
        .prepare_cached(
            "INSERT INTO exposure_batches (batch_id, received) VALUES (?1, ?2)
             ON CONFLICT (batch_id) DO NOTHING",
        )
        .map_err(sql(CONTEXT))?;
    batches
        .iter()
        .map(|batch| {
            let inserted = claim
                .execute(params![batch.batch_id, batch.received.timestamp()])
                .map_err(sql(CONTEXT))?;
            Ok(inserted == 1)
        })
        .collect()
}

pub(crate) fn record(shared: &Shared, batches: &[ExposureBatch]) -> Result<Vec<bool>, StoreError> {
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("beginning to record exposures"))?;
    let counted = claim_batch_ids(&transaction, batches)?;
    let mut merged = Merged::default();
    for (batch, _) in batches
        .iter()
        .zip(&counted)
        .filter(|(_, counted)| **counted)
    {
        merged.add(batch);
    }
    merged.write(&transaction)?;
    transaction
        .commit()
        .map_err(sql("committing exposure counts"))?;
    Ok(counted)
}

/// In the memory store's order: minutes into hours, hours (those just made too) into days, old
/// days deleted, then batch ids and applications forgotten. One transaction, so a batch
/// recorded concurrently lands wholly before (and is rolled) or wholly after (and waits for the
/// next compaction).
pub(crate) fn compact(
    shared: &Shared,
    retention: &ExposureRetention,
    now: DateTime<Utc>,
) -> Result<Compacted, StoreError> {
    const CONTEXT: &str = "compacting exposures";
    let cutoffs = retention.cutoffs(now);
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(CONTEXT))?;
    let execute = |statement: &str, params: &[&dyn rusqlite::ToSql]| {
        transaction
            .prepare_cached(statement)
            .and_then(|mut statement| statement.execute(params))
            .map(|changed| changed as u64)
            .map_err(sql(CONTEXT))
    };
    let roll = |from: Resolution, into: Resolution, before: DateTime<Utc>| {
        let before = second_at_or_after(before);
        execute(&SQL.roll, &[&from.seconds(), &into.seconds(), &before])?;
        execute(DELETE_BUCKETS, &[&from.seconds(), &before])
    };
    let minutes_rolled = roll(Resolution::Minute, Resolution::Hour, cutoffs.minutes_before)?;
    let hours_rolled = roll(Resolution::Hour, Resolution::Day, cutoffs.hours_before)?;
    let days_before = second_at_or_after(cutoffs.days_before);
    let compacted = Compacted {
        minutes_rolled,
        hours_rolled,
        days_deleted: execute(DELETE_BUCKETS, &[&Resolution::Day.seconds(), &days_before])?,
        // `received` and `last_seen` are kept rounded down to the second: comparing them with
        // the cutoff rounded down too keeps a batch id or an application a fraction of a second
        // longer at most, never forgets one early.
        batch_ids_forgotten: execute(
            "DELETE FROM exposure_batches WHERE received < ?1",
            &[&cutoffs.batch_ids_before.timestamp()],
        )?,
        applications_forgotten: execute(
            "DELETE FROM exposure_applications WHERE last_seen < ?1",
            &[&cutoffs.days_before.timestamp()],
        )?,
    };
    transaction.commit().map_err(sql(CONTEXT))?;
    Ok(compacted)
}
