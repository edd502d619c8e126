//! Reading exposure counts back (written by `exposures.rs`): one feature's buckets, every
//! feature's activity in bins, last seen and the totals, as blocking functions over the shared
//! connection that `store.rs` runs off the runtime.
//!
//! Sums over many rows are folded in Rust with `exposure::add_counts`: SQLite's `SUM()` fails
//! on overflow and `TOTAL()` loses precision, while counts must saturate at `MAX_COUNT`. A row
//! that does not decode (a negative count, an unknown resolution) is `Corrupt`.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{
    add_counts, time_from_seconds, ApplicationSeen, ExposureBin, ExposureBucket, ExposureTotals,
    FeatureActivity, FeatureSeen, ReasonCounts, Resolution,
};
use ramp_store::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::{params, Row};

use crate::error::{corrupt, sql};
use crate::exposures::{count_column, count_columns, floor_to, second_at_or_after};
use crate::rows::text;
use crate::store::Shared;

/// Built once, so `prepare_cached` finds the same text every call.
static BUCKETS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT start, resolution, {list} FROM exposure_buckets
         WHERE feature = ?1 AND start >= ?2 AND start < ?3
         ORDER BY start, resolution",
        list = count_columns()
    )
});

/// Three ranges of the key rather than a scan of every bucket.
static ACTIVITY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT feature, {bin} AS bin, {list} FROM exposure_buckets
         WHERE resolution IN ({resolutions}) AND start >= ?1 AND start < ?2
         ORDER BY feature, bin",
        bin = floor_to("?3"),
        list = count_columns(),
        resolutions = Resolution::ALL.map(|r| r.seconds().to_string()).join(", "),
    )
});

/// An integer column, as every column but names is here.
pub(crate) fn integer(row: &Row<'_>, index: usize, column: &str) -> Result<i64, String> {
    match row.get_ref(index) {
        Ok(ValueRef::Integer(value)) => Ok(value),
        _ => Err(format!("{column} is not an integer")),
    }
}

/// The seven counts starting at column `first`.
fn counts_from(row: &Row<'_>, first: usize) -> Result<ReasonCounts, String> {
    let mut counts = [0; ReasonKind::ALL.len()];
    for ((count, kind), index) in counts.iter_mut().zip(ReasonKind::ALL).zip(first..) {
        let column = count_column(kind);
        *count = u64::try_from(integer(row, index, &column)?)
            .map_err(|_| format!("{column} is negative"))?;
    }
    Ok(counts)
}

pub(crate) fn buckets(
    shared: &Shared,
    feature: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ExposureBucket>, StoreError> {
    const CONTEXT: &str = "reading exposure buckets";
    let connection = shared.connection();
    let mut statement = connection.prepare_cached(&BUCKETS).map_err(sql(CONTEXT))?;
    let mut rows = statement
        .query(params![
            feature,
            second_at_or_after(from),
            second_at_or_after(to)
        ])
        .map_err(sql(CONTEXT))?;
    let mut buckets = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let bucket = decode_bucket(row)
            .map_err(|what| corrupt(format!("an exposure bucket of {feature:?}: {what}")))?;
        buckets.push(bucket);
    }
    Ok(buckets)
}

fn decode_bucket(row: &Row<'_>) -> Result<ExposureBucket, String> {
    let seconds = integer(row, 1, "resolution")?;
    Ok(ExposureBucket {
        start: time_from_seconds(integer(row, 0, "start")?),
        resolution: Resolution::from_seconds(seconds)
            .ok_or_else(|| format!("resolution {seconds} is not a minute, hour or day"))?,
        counts: counts_from(row, 2)?,
    })
}

pub(crate) fn activity(
    shared: &Shared,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bin: Resolution,
) -> Result<Vec<FeatureActivity>, StoreError> {
    const CONTEXT: &str = "reading exposure activity";
    let connection = shared.connection();
    let mut statement = connection.prepare_cached(&ACTIVITY).map_err(sql(CONTEXT))?;
    let mut rows = statement
        .query(params![
            second_at_or_after(from),
            second_at_or_after(to),
            bin.seconds()
        ])
        .map_err(sql(CONTEXT))?;
    let mut activity: Vec<FeatureActivity> = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let bad = |what: String| corrupt(format!("an exposure bucket: {what}"));
        let feature = text(row, 0, "feature").map_err(bad)?;
        let start = time_from_seconds(integer(row, 1, "start").map_err(bad)?);
        let counts = counts_from(row, 2).map_err(bad)?;
        // Rows come by feature and bin, so a bin's buckets are consecutive.
        match activity.last_mut() {
            Some(last) if last.feature == feature => match last.bins.last_mut() {
                Some(same) if same.start == start => add_counts(&mut same.counts, &counts),
                _ => last.bins.push(ExposureBin { start, counts }),
            },
            _ => activity.push(FeatureActivity {
                feature: feature.to_owned(),
                bins: vec![ExposureBin { start, counts }],
            }),
        }
    }
    Ok(activity)
}

pub(crate) fn features(shared: &Shared) -> Result<Vec<FeatureSeen>, StoreError> {
    const CONTEXT: &str = "reading the features exposures were reported for";
    let connection = shared.connection();
    let mut statement = connection
        .prepare_cached(
            "SELECT feature, MAX(last_seen) FROM exposure_applications
             GROUP BY feature ORDER BY feature",
        )
        .map_err(sql(CONTEXT))?;
    let mut rows = statement.query([]).map_err(sql(CONTEXT))?;
    let mut features = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let decoded = text(row, 0, "feature").and_then(|feature| {
            Ok(FeatureSeen {
                feature: feature.to_owned(),
                last_seen: time_from_seconds(integer(row, 1, "last_seen")?),
            })
        });
        features.push(decoded.map_err(|what| corrupt(format!("an exposure source: {what}")))?);
    }
    Ok(features)
}

pub(crate) fn applications(
    shared: &Shared,
    feature: &str,
) -> Result<Vec<ApplicationSeen>, StoreError> {
    const CONTEXT: &str = "reading the applications exposures came from";
    let connection = shared.connection();
    let mut statement = connection
        .prepare_cached(
            "SELECT application, instance, last_seen FROM exposure_applications
             WHERE feature = ?1 ORDER BY last_seen DESC, application, instance",
        )
        .map_err(sql(CONTEXT))?;
    let mut rows = statement.query([feature]).map_err(sql(CONTEXT))?;
    let mut applications = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let decoded = (|| {
            Ok::<_, String>(ApplicationSeen {
                application: text(row, 0, "application")?.to_owned(),
                instance: text(row, 1, "instance")?.to_owned(),
                last_seen: time_from_seconds(integer(row, 2, "last_seen")?),
            })
        })();
        applications.push(decoded.map_err(|what| {
            corrupt(format!("an application that reported {feature:?}: {what}"))
        })?);
    }
    Ok(applications)
}

pub(crate) fn totals(shared: &Shared) -> Result<ExposureTotals, StoreError> {
    const CONTEXT: &str = "reading the exposure totals";
    let connection = shared.connection();
    let mut statement = connection
        .prepare_cached("SELECT unnamed, dropped FROM exposure_totals WHERE id = 1")
        .map_err(sql(CONTEXT))?;
    let mut rows = statement.query([]).map_err(sql(CONTEXT))?;
    let Some(row) = rows.next().map_err(sql(CONTEXT))? else {
        return Err(corrupt("the row of table exposure_totals is missing"));
    };
    let count = |index, column| {
        integer(row, index, column)
            .and_then(|value| u64::try_from(value).map_err(|_| format!("{column} is negative")))
    };
    let decoded = count(0, "unnamed").and_then(|unnamed| {
        Ok(ExposureTotals {
            unnamed,
            dropped: count(1, "dropped")?,
        })
    });
    decoded.map_err(|what| corrupt(format!("the exposure totals: {what}")))
}
