//! Exposure counts in PostgreSQL (the tables of `migrations/V6__exposures.sql`): recording
//! batches here, compacting in `exposures/compaction.rs`, reading in `exposures/reads.rs`, with
//! the numbers `ramp_store`'s memory store keeps (the reference these queries follow).
//!
//! A call of `record` is one transaction of a few statements, however many features its
//! batches carry: inserting the batch ids tells which batches are new, their counts are merged
//! here (the batches of one call mostly repeat the same features), and whole columns go to
//! PostgreSQL as arrays (`unnest`). Rows are written in key order, so concurrent ingests lock
//! them in the same order and never deadlock with each other; a compaction, which deletes rows
//! in its own order, can still deadlock with them, so both retry a transaction PostgreSQL chose
//! as the victim. Sums saturate at the largest bigint instead of raising an overflow.
//!
//! Distinct users' daily sketches (`migrations/V7__user_sketches.sql`) are merged, read and
//! forgotten in `exposures/users.rs`, with the same retries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use ramp_store::exposure::{add_counts, ExposureBatch, ReasonCounts, Resolution, MAX_COUNT};
use ramp_store::StoreError;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::error::{commit_error, database_error};
use crate::shared::Shared;

mod compaction;
mod reads;
mod users;

pub(crate) use compaction::compact;
pub(crate) use reads::{activity, applications, buckets, features, totals};
pub(crate) use users::{forget as forget_users, merge as merge_users, read as users};

/// The count columns, in `ReasonKind::ALL` order (`outside_percentage_count` came with
/// `migrations/V8__outside_percentage.sql`; columns are matched by name, so their order in the
/// table does not matter).
const COUNTS: [&str; ramp_core::ReasonKind::ALL.len()] = [
    "off_count",
    "excluded_count",
    "everyone_count",
    "user_count",
    "group_count",
    "percentage_count",
    "outside_percentage_count",
    "not_found_count",
];

/// `MAX_COUNT` as SQL.
pub(super) const MAX: &str = "9223372036854775807";

/// How many times a transaction runs again after PostgreSQL rolled it back to break a deadlock
/// (or a serialization failure). Each retry waits for the other side to have finished.
pub(super) const ATTEMPTS: usize = 5;

pub(super) fn columns(each: impl Fn(&str) -> String) -> String {
    COUNTS.map(each).join(", ")
}

/// `a + b`, saturating; both are never negative, so the subtraction cannot overflow.
pub(super) fn saturating_sum(a: &str, b: &str) -> String {
    format!("CASE WHEN {a} > {MAX} - {b} THEN {MAX} ELSE {a} + {b} END")
}

/// Bucket starts rounded down to a multiple of `length` seconds (floor division, like
/// `Resolution::start_of`, also before 1970).
pub(super) fn floor_start(length: &str) -> String {
    format!("start - ((start % {length}) + {length}) % {length}")
}

/// A failed statement of a transaction that may be retried.
pub(super) struct Failed {
    context: &'static str,
    error: tokio_postgres::Error,
    committing: bool,
}

impl Failed {
    pub(super) fn retryable(&self) -> bool {
        self.error.code().is_some_and(|code| {
            *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
        })
    }

    pub(super) fn into_error(self) -> StoreError {
        if self.committing {
            commit_error(self.context)(self.error)
        } else {
            database_error(self.context, self.error)
        }
    }
}

pub(super) fn failed(context: &'static str) -> impl Fn(tokio_postgres::Error) -> Failed {
    move |error| Failed {
        context,
        error,
        committing: false,
    }
}

pub(super) fn committing(context: &'static str) -> impl Fn(tokio_postgres::Error) -> Failed {
    move |error| Failed {
        context,
        error,
        committing: true,
    }
}

/// The first whole second at or after `time`: a bucket starting at whole second `s` starts at
/// or after `time` exactly when `s >= ceil(time)`, and before it when `s < ceil(time)`.
pub(super) fn ceil_seconds(time: DateTime<Utc>) -> i64 {
    time.timestamp() + i64::from(time.timestamp_subsec_nanos() > 0)
}

/// `$1` feature names, `$2` minute starts, `$3`..`$9` counts, sorted by (feature, start).
static ADD_MINUTES: LazyLock<String> = LazyLock::new(|| {
    let counts = columns(str::to_owned);
    let arrays = (3..3 + COUNTS.len())
        .map(|parameter| format!("${parameter}::int8[]"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO exposure_buckets AS t (feature, resolution, start, {counts})
         SELECT feature, {minute}, start, {counts}
         FROM unnest($1::text[], $2::int8[], {arrays}) AS new (feature, start, {counts})
         ON CONFLICT (feature, resolution, start) DO UPDATE SET {sums}",
        minute = Resolution::Minute.seconds(),
        sums = columns(|c| format!(
            "{c} = {}",
            saturating_sum(&format!("t.{c}"), &format!("excluded.{c}"))
        )),
    )
});

/// Takes a lock per minute written (`$1`, sorted), held until the transaction ends. Concurrent
/// ingests of one minute update the same rows: queued here, each waits once for the one before
/// it, where without this lock they would pile up behind each other's row locks, and their
/// row versions would outlive the pruning of each page.
const LOCK_MINUTES: &str = "SELECT pg_advisory_xact_lock(
        hashtextextended(current_schema() || ':exposures:' || minute, 0))
    FROM unnest($1::int8[]) AS minute";

const INSERT_BATCH_IDS: &str = "INSERT INTO exposure_batches (batch_id, received)
    SELECT * FROM unnest($1::text[], $2::timestamptz[])
    ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id";

/// Only a later time is written: an update that changes nothing takes no new row version.
const SEE_APPLICATIONS: &str = "INSERT INTO exposure_applications AS t
        (feature, application, instance, last_seen)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
    ON CONFLICT (feature, application, instance) DO UPDATE SET last_seen = excluded.last_seen
    WHERE t.last_seen < excluded.last_seen";

static ADD_TOTALS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE exposure_totals SET unnamed = {}, dropped = {}",
        saturating_sum("unnamed", "$1::int8"),
        saturating_sum("dropped", "$2::int8")
    )
});

fn bound(count: u64) -> i64 {
    i64::try_from(count.min(MAX_COUNT)).unwrap_or(i64::MAX)
}

/// What the new batches of one call add, merged per key and sorted (the order rows are locked).
#[derive(Default)]
struct Merged<'a> {
    minutes: BTreeMap<(&'a str, i64), ReasonCounts>,
    applications: BTreeMap<(&'a str, &'a str, &'a str), DateTime<Utc>>,
    unnamed: u64,
    dropped: u64,
}

impl<'a> Merged<'a> {
    fn add(&mut self, batch: &'a ExposureBatch) {
        let minute = batch.minute.timestamp();
        for (feature, counts) in &batch.counts {
            add_counts(
                self.minutes
                    .entry((feature, minute))
                    .or_insert([0; COUNTS.len()]),
                counts,
            );
            let key = (
                feature.as_str(),
                batch.application.as_str(),
                batch.instance.as_str(),
            );
            let seen = self.applications.entry(key).or_insert(batch.received);
            *seen = (*seen).max(batch.received);
        }
        self.unnamed = self.unnamed.saturating_add(batch.unnamed).min(MAX_COUNT);
        self.dropped = self.dropped.saturating_add(batch.dropped).min(MAX_COUNT);
    }
}

pub(crate) async fn record(
    shared: &Shared,
    batches: &[ExposureBatch],
) -> Result<Vec<bool>, StoreError> {
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    // A batch repeated within the call counts at its first place only.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(batches.len());
    for (index, batch) in batches.iter().enumerate() {
        first.entry(batch.batch_id.as_str()).or_insert(index);
    }
    // Ingests of one minute queue for each other anyway (`LOCK_MINUTES`); waiting here
    // instead holds no connection, and no snapshot that would keep PostgreSQL from pruning the
    // row versions the ingest ahead leaves behind.
    let _turn = shared.ingest.lock().await;
    let mut client = shared.client().await?;
    let mut attempt = 1;
    loop {
        match record_once(&mut client, batches, &first).await {
            Err(failed) if failed.retryable() && attempt < ATTEMPTS => attempt += 1,
            outcome => return outcome.map_err(Failed::into_error),
        }
    }
}

async fn record_once(
    client: &mut Object,
    batches: &[ExposureBatch],
    first: &HashMap<&str, usize>,
) -> Result<Vec<bool>, Failed> {
    // Sorted, so that two calls sharing batch ids wait for each other in the same order.
    let mut ids: Vec<(&str, DateTime<Utc>)> = first
        .iter()
        .map(|(id, index)| (*id, batches[*index].received))
        .collect();
    ids.sort_unstable();
    let (names, received): (Vec<&str>, Vec<DateTime<Utc>>) = ids.into_iter().unzip();
    let transaction = client
        .transaction()
        .await
        .map_err(failed("beginning to record exposures"))?;
    let insert = transaction
        .prepare_cached(INSERT_BATCH_IDS)
        .await
        .map_err(failed("preparing to record exposures"))?;
    let new: HashSet<String> = transaction
        .query(&insert, &[&names, &received])
        .await
        .map_err(failed("recording exposure batch ids"))?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(failed("reading the new exposure batch ids"))?;
    let counted: Vec<bool> = batches
        .iter()
        .enumerate()
        .map(|(index, batch)| {
            new.contains(&batch.batch_id) && first.get(batch.batch_id.as_str()) == Some(&index)
        })
        .collect();
    let mut merged = Merged::default();
    for (batch, counted) in batches.iter().zip(&counted) {
        if *counted {
            merged.add(batch);
        }
    }

    let lock_minutes = transaction
        .prepare_cached(LOCK_MINUTES)
        .await
        .map_err(failed("preparing to record exposures"))?;
    let add_minutes = transaction
        .prepare_cached(&ADD_MINUTES)
        .await
        .map_err(failed("preparing to record exposures"))?;
    let see = transaction
        .prepare_cached(SEE_APPLICATIONS)
        .await
        .map_err(failed("preparing to record exposures"))?;
    let add_totals = transaction
        .prepare_cached(&ADD_TOTALS)
        .await
        .map_err(failed("preparing to record exposures"))?;

    let features: Vec<&str> = merged.minutes.keys().map(|(feature, _)| *feature).collect();
    let starts: Vec<i64> = merged.minutes.keys().map(|(_, start)| *start).collect();
    let counts: [Vec<i64>; COUNTS.len()] = std::array::from_fn(|reason| {
        merged
            .minutes
            .values()
            .map(|counts| bound(counts[reason]))
            .collect()
    });
    let mut minute_columns: Vec<&(dyn ToSql + Sync)> = vec![&features, &starts];
    minute_columns.extend(counts.iter().map(|column| column as &(dyn ToSql + Sync)));
    let seen_features: Vec<&str> = merged.applications.keys().map(|key| key.0).collect();
    let applications: Vec<&str> = merged.applications.keys().map(|key| key.1).collect();
    let instances: Vec<&str> = merged.applications.keys().map(|key| key.2).collect();
    let last_seen: Vec<DateTime<Utc>> = merged.applications.values().copied().collect();
    let seen_columns: [&(dyn ToSql + Sync); 4] =
        [&seen_features, &applications, &instances, &last_seen];
    let (unnamed, dropped) = (bound(merged.unnamed), bound(merged.dropped));

    // In one round trip; the totals' single row last, so it is locked for the shortest time.
    let mut minutes_written: Vec<i64> = starts.clone();
    minutes_written.sort_unstable();
    minutes_written.dedup();
    let lock_columns: [&(dyn ToSql + Sync); 1] = [&minutes_written];
    let (locked, minutes, seen, totals) = futures::join!(
        transaction.execute(&lock_minutes, &lock_columns),
        transaction.execute(&add_minutes, &minute_columns),
        transaction.execute(&see, &seen_columns),
        async {
            if unnamed == 0 && dropped == 0 {
                return Ok(0);
            }
            transaction
                .execute(&add_totals, &[&unnamed, &dropped])
                .await
        }
    );
    locked.map_err(failed("waiting for other ingests of the same minutes"))?;
    minutes.map_err(failed("adding exposure counts"))?;
    seen.map_err(failed("recording applications' last seen"))?;
    totals.map_err(failed("adding unnamed and dropped checks"))?;
    transaction
        .commit()
        .await
        .map_err(committing("committing exposures"))?;
    Ok(counted)
}
