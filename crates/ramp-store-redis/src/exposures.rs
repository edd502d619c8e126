//! Exposure counts (`Store::record_exposures` and the reads and compaction that go with it),
//! all under `{prefix}ramp:exposures:`, which the gem never reads (the layout is in `keys` and
//! the README).
//!
//! Recording is in `exposure_records`. Last seen is kept per instance (one sorted set each,
//! feature -> second) rather than per feature, so that recording a batch updates it in a few
//! `ZADD GT`s instead of a call per feature; the reads here gather it back per feature.
//!
//! Compaction is one script per feature, atomic against recording (so each bucket moves once)
//! yet short, so Redis never stops for the whole data set; then bounded steps for batch ids
//! and one per instance. Reads are pipelined and never atomic across features, which the
//! contract does not ask for. Times are whole seconds, as the other stores keep them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{
    add_counts, time_from_seconds, ApplicationSeen, Compacted, ExposureBin, ExposureBucket,
    ExposureRetention, ExposureTotals, FeatureActivity, FeatureSeen, ReasonCounts, Resolution,
    MAX_COUNT,
};
use ramp_store::StoreError;
use redis::{Cmd, Value};

use crate::error::BACKEND;
use crate::groups::pairs;
use crate::keys::Keys;
use crate::pool::Request;
use crate::reply::{array, bytes, count, scored, unexpected};
use crate::scripts::eval;
use crate::store::Shared;

/// Features' bucket hashes read per pipelined request.
const READS_PER_REQUEST: usize = 200;
/// Features compacted per pipelined request: Redis runs a client's pipelined scripts back to
/// back, so a small number keeps others' commands from waiting long.
const COMPACTIONS_PER_REQUEST: usize = 16;
/// Batch ids forgotten per step.
const BATCH_IDS_PER_STEP: u64 = 10_000;
/// Instances' sets per `ZUNION` or pipelined request.
const INSTANCES_PER_REQUEST: usize = 500;

/// The whole seconds of `time` (its floor).
pub(crate) fn seconds(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

/// The first whole second at or after `time`: for integer `s`, `s >= time` is `s >= ceil`.
fn ceil_seconds(time: DateTime<Utc>) -> i64 {
    time.timestamp() + i64::from(time.timestamp_subsec_nanos() > 0)
}

pub(crate) fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        backend: BACKEND,
        detail,
    }
}

/// A feature's buckets, by (start, resolution): oldest first, for one start finest first.
type Buckets = BTreeMap<(i64, Resolution), ReasonCounts>;

/// Reads a feature's bucket hash (`HGETALL`).
fn parse_buckets(reply: Value, context: &'static str) -> Result<Buckets, StoreError> {
    let mut buckets = Buckets::new();
    for (field, value) in pairs(reply, context)? {
        let (resolution, start, reason) = parse_field(&field)?;
        let count = std::str::from_utf8(&value)
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| {
                corrupt(format!(
                    "an exposure count is not a count: {:?}",
                    String::from_utf8_lossy(&value)
                ))
            })?;
        let counts = buckets
            .entry((start, resolution))
            .or_insert([0; ReasonKind::ALL.len()]);
        counts[reason] = count.min(MAX_COUNT);
    }
    Ok(buckets)
}

/// `RESOLUTION_SECONDS:START_SECONDS:REASON_NUMBER`, the reason as a `ReasonKind::index`
/// (stored numbers are `reason_numbers`').
fn parse_field(field: &[u8]) -> Result<(Resolution, i64, usize), StoreError> {
    let parsed = std::str::from_utf8(field).ok().and_then(|text| {
        let mut parts = text.splitn(3, ':');
        let resolution: i64 = parts.next()?.parse().ok()?;
        let start: i64 = parts.next()?.parse().ok()?;
        let reason: usize = parts.next()?.parse().ok()?;
        Some((resolution, start, reason))
    });
    let Some((resolution, start, reason)) = parsed else {
        return Err(corrupt(format!(
            "an exposure bucket field is not RESOLUTION:START:REASON: {:?}",
            String::from_utf8_lossy(field)
        )));
    };
    let resolution = Resolution::from_seconds(resolution).ok_or_else(|| {
        corrupt(format!(
            "an exposure bucket has an unknown resolution: {resolution} s"
        ))
    })?;
    let Some(reason) = crate::reason_numbers::index_of(reason) else {
        return Err(corrupt(format!(
            "an exposure bucket has an unknown reason: {reason}"
        )));
    };
    Ok((resolution, start, reason))
}

/// The feature's buckets starting in `from..to`.
pub(crate) async fn buckets(
    shared: &Shared,
    feature: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ExposureBucket>, StoreError> {
    const CONTEXT: &str = "reading exposure buckets";
    let (from, to) = (ceil_seconds(from), ceil_seconds(to));
    let command = Cmd::hgetall(shared.keys.exposure_buckets(feature));
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    Ok(parse_buckets(reply, CONTEXT)?
        .into_iter()
        .filter(|((start, _), _)| (from..to).contains(start))
        .map(|((start, resolution), counts)| ExposureBucket {
            resolution,
            start: time_from_seconds(start),
            counts,
        })
        .collect())
}

/// The members of a set or sorted set (`SMEMBERS`, `ZRANGE`), as strings.
async fn members(
    shared: &Shared,
    command: Cmd,
    context: &'static str,
) -> Result<Vec<String>, StoreError> {
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(context, Request::Command(&command))
        .await?;
    array(reply, context)?
        .into_iter()
        .map(|member| Ok(String::from_utf8_lossy(&bytes(member, context)?).into_owned()))
        .collect()
}

/// Every feature's buckets starting in `from..to`, summed per `bin`, by name then bin.
pub(crate) async fn activity(
    shared: &Shared,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bin: Resolution,
) -> Result<Vec<FeatureActivity>, StoreError> {
    const CONTEXT: &str = "reading exposure activity";
    let (from, to, length) = (ceil_seconds(from), ceil_seconds(to), bin.seconds());
    let mut names = members(
        shared,
        Cmd::smembers(shared.keys.exposure_features()),
        CONTEXT,
    )
    .await?;
    names.sort_unstable();
    let mut activity = Vec::new();
    for chunk in names.chunks(READS_PER_REQUEST) {
        let mut pipeline = redis::pipe();
        for name in chunk {
            pipeline.hgetall(shared.keys.exposure_buckets(name));
        }
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .first(CONTEXT, Request::Pipeline(&pipeline))
            .await?;
        drop(connection);
        for (name, hash) in chunk.iter().zip(array(reply, CONTEXT)?) {
            let mut bins: BTreeMap<i64, ReasonCounts> = BTreeMap::new();
            for ((start, _), counts) in parse_buckets(hash, CONTEXT)? {
                if (from..to).contains(&start) {
                    let bin_start = start - start.rem_euclid(length);
                    add_counts(
                        bins.entry(bin_start).or_insert([0; ReasonKind::ALL.len()]),
                        &counts,
                    );
                }
            }
            if !bins.is_empty() {
                activity.push(FeatureActivity {
                    feature: name.clone(),
                    bins: bins
                        .into_iter()
                        .map(|(start, counts)| ExposureBin {
                            start: time_from_seconds(start),
                            counts,
                        })
                        .collect(),
                });
            }
        }
    }
    Ok(activity)
}

/// The instances that reported anything, as members of `ramp:exposures:instances`.
async fn instances(shared: &Shared, context: &'static str) -> Result<Vec<String>, StoreError> {
    let mut command = redis::cmd("ZRANGE");
    command.arg(shared.keys.exposure_instances()).arg(0).arg(-1);
    members(shared, command, context).await
}

/// Every feature an instance reported, with the latest time any did, by name.
pub(crate) async fn features(shared: &Shared) -> Result<Vec<FeatureSeen>, StoreError> {
    const CONTEXT: &str = "reading exposed features";
    let instances = instances(shared, CONTEXT).await?;
    let mut seen: BTreeMap<String, i64> = BTreeMap::new();
    for chunk in instances.chunks(INSTANCES_PER_REQUEST) {
        // The union runs in Redis: one row per feature comes back, not one per instance.
        let mut command = redis::cmd("ZUNION");
        command.arg(chunk.len());
        for instance in chunk {
            command.arg(shared.keys.exposure_seen(instance));
        }
        command.arg("AGGREGATE").arg("MAX").arg("WITHSCORES");
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .first(CONTEXT, Request::Command(&command))
            .await?;
        drop(connection);
        for (feature, last_seen) in scored(reply, CONTEXT)? {
            let last_seen = last_seen as i64;
            let entry = seen
                .entry(String::from_utf8_lossy(&feature).into_owned())
                .or_insert(last_seen);
            *entry = (*entry).max(last_seen);
        }
    }
    Ok(seen
        .into_iter()
        .map(|(feature, last_seen)| FeatureSeen {
            feature,
            last_seen: time_from_seconds(last_seen),
        })
        .collect())
}

/// A score reply (`ZSCORE`): `None` for no such member.
fn score(value: Value, context: &'static str) -> Result<Option<f64>, StoreError> {
    match value {
        Value::Nil => Ok(None),
        Value::Double(score) => Ok(Some(score)),
        other => std::str::from_utf8(&bytes(other, context)?)
            .ok()
            .and_then(|text| text.parse().ok())
            .map(Some)
            .ok_or_else(|| unexpected(context)),
    }
}

/// The instances that reported `feature`, most recently first, ties by application and
/// instance.
pub(crate) async fn applications(
    shared: &Shared,
    feature: &str,
) -> Result<Vec<ApplicationSeen>, StoreError> {
    const CONTEXT: &str = "reading exposed applications";
    let instances = instances(shared, CONTEXT).await?;
    let mut seen = Vec::new();
    for chunk in instances.chunks(INSTANCES_PER_REQUEST) {
        let mut pipeline = redis::pipe();
        for instance in chunk {
            pipeline.zscore(shared.keys.exposure_seen(instance), feature);
        }
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .first(CONTEXT, Request::Pipeline(&pipeline))
            .await?;
        drop(connection);
        for (member, score_reply) in chunk.iter().zip(array(reply, CONTEXT)?) {
            let (Some(last_seen), Some((application, instance))) = (
                score(score_reply, CONTEXT)?,
                Keys::split_exposure_instance(member),
            ) else {
                continue;
            };
            seen.push(ApplicationSeen {
                application: application.to_owned(),
                instance: instance.to_owned(),
                last_seen: time_from_seconds(last_seen as i64),
            });
        }
    }
    seen.sort_by(|left, right| {
        (right.last_seen, &left.application, &left.instance).cmp(&(
            left.last_seen,
            &right.application,
            &right.instance,
        ))
    });
    Ok(seen)
}

/// Checks reported without a name, and dropped.
pub(crate) async fn totals(shared: &Shared) -> Result<ExposureTotals, StoreError> {
    const CONTEXT: &str = "reading exposure totals";
    let mut command = redis::cmd("HMGET");
    command
        .arg(shared.keys.exposure_totals())
        .arg("unnamed")
        .arg("dropped");
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    let read = |value: &Value| match value {
        Value::Nil => Ok(0),
        value => count(value, CONTEXT),
    };
    match array(reply, CONTEXT)?.as_slice() {
        [unnamed, dropped] => Ok(ExposureTotals {
            unnamed: read(unnamed)?,
            dropped: read(dropped)?,
        }),
        _ => Err(unexpected(CONTEXT)),
    }
}

/// Rolls up, expires and forgets as `retention.cutoffs(now)` says (see the module
/// documentation for the steps).
pub(crate) async fn compact(
    shared: &Shared,
    retention: &ExposureRetention,
    now: DateTime<Utc>,
) -> Result<Compacted, StoreError> {
    const CONTEXT: &str = "compacting exposures";
    let cutoffs = retention.cutoffs(now);
    let keys = &shared.keys;
    let scripts = &shared.scripts.exposures;
    let mut compacted = Compacted::default();

    let features = members(shared, Cmd::smembers(keys.exposure_features()), CONTEXT).await?;
    for chunk in features.chunks(COMPACTIONS_PER_REQUEST) {
        let mut pipeline = redis::pipe();
        for name in chunk {
            let mut script = eval(
                &scripts.compact_feature,
                &[keys.exposure_buckets(name), keys.exposure_features()],
            );
            script
                .arg(name)
                .arg(ceil_seconds(cutoffs.minutes_before))
                .arg(ceil_seconds(cutoffs.hours_before))
                .arg(ceil_seconds(cutoffs.days_before));
            pipeline.add_command(script);
        }
        for reply in send(shared, &pipeline, CONTEXT).await? {
            match array(reply, CONTEXT)?.as_slice() {
                [minutes, hours, days] => {
                    compacted.minutes_rolled += count(minutes, CONTEXT)?;
                    compacted.hours_rolled += count(hours, CONTEXT)?;
                    compacted.days_deleted += count(days, CONTEXT)?;
                }
                _ => return Err(unexpected(CONTEXT)),
            }
        }
    }

    loop {
        let mut script = eval(&scripts.forget_batch_ids, &[keys.exposure_batches()]);
        script
            .arg(ceil_seconds(cutoffs.batch_ids_before))
            .arg(BATCH_IDS_PER_STEP);
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .commit(CONTEXT, Request::Command(&script))
            .await?;
        let forgotten = count(&reply, CONTEXT)?;
        compacted.batch_ids_forgotten += forgotten;
        if forgotten < BATCH_IDS_PER_STEP {
            break;
        }
    }

    let instances = instances(shared, CONTEXT).await?;
    for chunk in instances.chunks(INSTANCES_PER_REQUEST) {
        let mut pipeline = redis::pipe();
        for instance in chunk {
            let mut script = eval(
                &scripts.forget_instance,
                &[keys.exposure_seen(instance), keys.exposure_instances()],
            );
            script.arg(instance).arg(ceil_seconds(cutoffs.days_before));
            pipeline.add_command(script);
        }
        for reply in send(shared, &pipeline, CONTEXT).await? {
            compacted.applications_forgotten += count(&reply, CONTEXT)?;
        }
    }
    Ok(compacted)
}

/// Sends a pipeline of writes, each reply in order.
async fn send(
    shared: &Shared,
    pipeline: &redis::Pipeline,
    context: &'static str,
) -> Result<Vec<Value>, StoreError> {
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .commit(context, Request::Pipeline(pipeline))
        .await?;
    array(reply, context)
}
