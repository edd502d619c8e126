//! Reading exposure counts: one feature's buckets, every feature's activity in bins, the
//! features and application instances seen, and the totals. A value Ramp cannot have written
//! (a negative count, an unknown resolution) is `Corrupt`.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use ramp_store::exposure::{
    time_from_seconds, ApplicationSeen, ExposureBin, ExposureBucket, ExposureTotals,
    FeatureActivity, FeatureSeen, ReasonCounts, Resolution,
};
use ramp_store::StoreError;
use tokio_postgres::Row;

use super::{ceil_seconds, columns, floor_start, MAX};
use crate::error::{corrupt, sql};

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

fn count_of(row: &Row, index: usize) -> Result<u64, StoreError> {
    let count: i64 = row
        .try_get(index)
        .map_err(|error| corrupt(format!("an exposure count: {error}")))?;
    u64::try_from(count).map_err(|_| corrupt(format!("a negative exposure count: {count}")))
}

fn counts_from(row: &Row, first: usize) -> Result<ReasonCounts, StoreError> {
    let mut counts = [0; ramp_core::ReasonKind::ALL.len()];
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
