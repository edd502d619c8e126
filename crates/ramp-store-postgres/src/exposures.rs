//! Exposure counts in PostgreSQL (the tables of `migrations/V6__exposures.sql`): recording
//! batches, reading buckets, activity, last seens and totals, and compacting, with the numbers
//! `ramp_store`'s memory store keeps (the reference these queries follow).
//!
//! A call of `record` is one transaction of a few statements, however many features its
//! batches carry: inserting the batch ids tells which batches are new, their counts are merged
//! here (the batches of one call mostly repeat the same features), and whole columns go to
//! PostgreSQL as arrays (`unnest`). Rows are written in key order, so concurrent ingests lock
//! them in the same order and never deadlock with each other; a compaction, which deletes rows
//! in its own order, can still deadlock with them, so both retry a transaction PostgreSQL chose
//! as the victim. Sums saturate at the largest bigint instead of raising an overflow.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use ramp_store::exposure::{
    add_counts, time_from_seconds, ApplicationSeen, Compacted, Cutoffs, ExposureBatch, ExposureBin,
    ExposureBucket, ExposureRetention, ExposureTotals, FeatureActivity, FeatureSeen, ReasonCounts,
    Resolution, MAX_COUNT,
};
use ramp_store::StoreError;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::error::{commit_error, corrupt, database_error, sql};
use crate::store::Shared;

/// The count columns, in `ReasonKind::ALL` order.
const COUNTS: [&str; 7] = [
    "off_count",
    "excluded_count",
    "everyone_count",
    "user_count",
    "group_count",
    "percentage_count",
    "not_found_count",
];

/// `MAX_COUNT` as SQL.
const MAX: &str = "9223372036854775807";

/// How many times a transaction runs again after PostgreSQL rolled it back to break a deadlock
/// (or a serialization failure). Each retry waits for the other side to have finished.
const ATTEMPTS: usize = 5;

fn columns(each: impl Fn(&str) -> String) -> String {
    COUNTS.map(each).join(", ")
}

/// `a + b`, saturating; both are never negative, so the subtraction cannot overflow.
fn saturating_sum(a: &str, b: &str) -> String {
    format!("CASE WHEN {a} > {MAX} - {b} THEN {MAX} ELSE {a} + {b} END")
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

/// Bucket starts rounded down to `$4` seconds (floor division, like `Resolution::start_of`,
/// also before 1970).
fn floor_start(length: &str) -> String {
    format!("start - ((start % {length}) + {length}) % {length}")
}

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

static BUCKETS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT resolution, start, {} FROM exposure_buckets
         WHERE feature = $1 AND start >= $2 AND start < $3 ORDER BY start, resolution",
        columns(str::to_owned)
    )
});

/// `resolution IN (...)` lets the scan use `exposure_buckets_by_start`, one range per
/// resolution.
static ACTIVITY: LazyLock<String> = LazyLock::new(|| {
    let resolutions = Resolution::ALL.map(|resolution| resolution.seconds().to_string());
    format!(
        "SELECT feature, {bin} AS bin, {sums} FROM exposure_buckets
         WHERE resolution IN ({resolutions}) AND start >= $1 AND start < $2
         GROUP BY feature, bin ORDER BY feature, bin",
        bin = floor_start("$3::int8"),
        sums = columns(|c| format!("LEAST(sum({c}), {MAX})::int8")),
        resolutions = resolutions.join(", "),
    )
});

/// A failed statement of a transaction that may be retried.
struct Failed {
    context: &'static str,
    error: tokio_postgres::Error,
    committing: bool,
}

impl Failed {
    fn retryable(&self) -> bool {
        self.error.code().is_some_and(|code| {
            *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
        })
    }

    fn into_error(self) -> StoreError {
        if self.committing {
            commit_error(self.context)(self.error)
        } else {
            database_error(self.context, self.error)
        }
    }
}

fn failed(context: &'static str) -> impl Fn(tokio_postgres::Error) -> Failed {
    move |error| Failed {
        context,
        error,
        committing: false,
    }
}

fn committing(context: &'static str) -> impl Fn(tokio_postgres::Error) -> Failed {
    move |error| Failed {
        context,
        error,
        committing: true,
    }
}

/// The first whole second at or after `time`: a bucket starting at whole second `s` starts at
/// or after `time` exactly when `s >= ceil(time)`, and before it when `s < ceil(time)`.
fn ceil_seconds(time: DateTime<Utc>) -> i64 {
    time.timestamp() + i64::from(time.timestamp_subsec_nanos() > 0)
}

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
                self.minutes.entry((feature, minute)).or_insert([0; 7]),
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
    let counts: [Vec<i64>; 7] = std::array::from_fn(|reason| {
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
    let (minutes, seen, totals) = futures::join!(
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
    minutes.map_err(failed("adding exposure counts"))?;
    seen.map_err(failed("recording applications' last seen"))?;
    totals.map_err(failed("adding unnamed and dropped checks"))?;
    transaction
        .commit()
        .await
        .map_err(committing("committing exposures"))?;
    Ok(counted)
}

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

fn count_of(row: &Row, index: usize) -> Result<u64, StoreError> {
    let count: i64 = row
        .try_get(index)
        .map_err(|error| corrupt(format!("an exposure count: {error}")))?;
    u64::try_from(count).map_err(|_| corrupt(format!("a negative exposure count: {count}")))
}

fn counts_from(row: &Row, first: usize) -> Result<ReasonCounts, StoreError> {
    let mut counts = [0; 7];
    for (reason, count) in counts.iter_mut().enumerate() {
        *count = count_of(row, first + reason)?;
    }
    Ok(counts)
}

fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    index: usize,
    what: &str,
) -> Result<T, StoreError> {
    row.try_get(index)
        .map_err(|error| corrupt(format!("{what}: {error}")))
}

pub(crate) async fn buckets(
    client: &Object,
    feature: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ExposureBucket>, StoreError> {
    let statement = client
        .prepare_cached(&BUCKETS)
        .await
        .map_err(sql("reading exposure buckets"))?;
    let rows = client
        .query(
            &statement,
            &[&feature, &ceil_seconds(from), &ceil_seconds(to)],
        )
        .await
        .map_err(sql("reading exposure buckets"))?;
    rows.iter()
        .map(|row| {
            let seconds: i32 = column(row, 0, "an exposure bucket's resolution")?;
            let resolution = Resolution::from_seconds(i64::from(seconds)).ok_or_else(|| {
                corrupt(format!(
                    "an exposure bucket of an unknown resolution: {seconds} s"
                ))
            })?;
            Ok(ExposureBucket {
                resolution,
                start: time_from_seconds(column(row, 1, "an exposure bucket's start")?),
                counts: counts_from(row, 2)?,
            })
        })
        .collect()
}

pub(crate) async fn activity(
    client: &Object,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bin: Resolution,
) -> Result<Vec<FeatureActivity>, StoreError> {
    let statement = client
        .prepare_cached(&ACTIVITY)
        .await
        .map_err(sql("reading exposure activity"))?;
    let rows = client
        .query(
            &statement,
            &[&ceil_seconds(from), &ceil_seconds(to), &bin.seconds()],
        )
        .await
        .map_err(sql("reading exposure activity"))?;
    let mut activity: Vec<FeatureActivity> = Vec::new();
    for row in &rows {
        let feature: &str = column(row, 0, "an exposure bucket's feature")?;
        let bin = ExposureBin {
            start: time_from_seconds(column(row, 1, "an exposure bin's start")?),
            counts: counts_from(row, 2)?,
        };
        match activity.last_mut() {
            Some(last) if last.feature == feature => last.bins.push(bin),
            _ => activity.push(FeatureActivity {
                feature: feature.to_owned(),
                bins: vec![bin],
            }),
        }
    }
    Ok(activity)
}

pub(crate) async fn features(client: &Object) -> Result<Vec<FeatureSeen>, StoreError> {
    let rows = client
        .query(
            "SELECT feature, max(last_seen) FROM exposure_applications
             GROUP BY feature ORDER BY feature",
            &[],
        )
        .await
        .map_err(sql("reading the features reported"))?;
    rows.iter()
        .map(|row| {
            Ok(FeatureSeen {
                feature: column(row, 0, "a reported feature")?,
                last_seen: column(row, 1, "a feature's last seen")?,
            })
        })
        .collect()
}

pub(crate) async fn applications(
    client: &Object,
    feature: &str,
) -> Result<Vec<ApplicationSeen>, StoreError> {
    let rows = client
        .query(
            "SELECT application, instance, last_seen FROM exposure_applications
             WHERE feature = $1 ORDER BY last_seen DESC, application, instance",
            &[&feature],
        )
        .await
        .map_err(sql("reading the applications that reported a feature"))?;
    rows.iter()
        .map(|row| {
            Ok(ApplicationSeen {
                application: column(row, 0, "an application")?,
                instance: column(row, 1, "an application's instance")?,
                last_seen: column(row, 2, "an application's last seen")?,
            })
        })
        .collect()
}

pub(crate) async fn totals(client: &Object) -> Result<ExposureTotals, StoreError> {
    let row = client
        .query_one("SELECT unnamed, dropped FROM exposure_totals", &[])
        .await
        .map_err(sql("reading the unnamed and dropped checks"))?;
    Ok(ExposureTotals {
        unnamed: count_of(&row, 0)?,
        dropped: count_of(&row, 1)?,
    })
}
