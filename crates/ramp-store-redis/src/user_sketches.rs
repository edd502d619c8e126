//! Daily distinct-user sketches (`Store::merge_user_sketches` and the read and the forgetting
//! that go with it), under `{prefix}ramp:exposures:`, which the gem never reads.
//!
//! One hash per feature (`ramp:exposures:users:NAME`, field `DAY:ANSWER`, value the sketch's
//! compact encoding), so a read is one `HMGET` or `HGETALL`; and one sorted set of those
//! features scored by their earliest day (`ramp:exposures:user-features`), so forgetting visits
//! only features with days to forget, never `KEYS` or a scan of every feature.
//!
//! Merging runs in Lua (`user_sketch_scripts`): a register-wise maximum inside one script
//! cannot lose a concurrent merge, where a read-merge-write from Rust would need WATCH and
//! retries, and eight servers merging the same busy sketch would mostly retry. A call's
//! entries go in scripts of a few dozen, pipelined: each script is atomic and short, so Redis
//! serves others between them. A call that fails part-way may have merged some scripts' entries;
//! merging is idempotent, so the caller's retry makes it whole.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ramp_core::UserSketch;
use ramp_store::daily_users::{day_from_number, day_number, DailyUsers};
use ramp_store::StoreError;
use redis::{Cmd, Value};

use crate::error::redis_error;
use crate::exposures::corrupt;
use crate::groups::pairs;
use crate::pool::Request;
use crate::reply::{array, bytes, count, integer, unexpected};
use crate::scripts::eval;
use crate::store::Shared;

/// Sketches per merge script: a few dozen keep one script well under a millisecond of Redis.
const ENTRIES_PER_SCRIPT: usize = 32;
/// Merge scripts per pipelined request.
const SCRIPTS_PER_REQUEST: usize = 32;
/// Reads of up to this many days ask for their fields by name; longer ones read the whole hash,
/// which retention keeps to a few hundred fields.
const NAMED_READ_DAYS: i64 = 62;
/// Features with old days forgotten per pipelined request.
const FORGETS_PER_REQUEST: usize = 64;

/// The hash field of a (day, answer).
fn field(day: i64, active: bool) -> String {
    format!("{day}:{}", u8::from(active))
}

/// `DAY:ANSWER`, as [`field`] writes it.
fn parse_field(field: &[u8]) -> Result<(i64, bool), StoreError> {
    let parsed = std::str::from_utf8(field).ok().and_then(|text| {
        let (day, answer) = text.split_once(':')?;
        let active = match answer {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        Some((day.parse().ok()?, active))
    });
    parsed.ok_or_else(|| {
        corrupt(format!(
            "a user sketch field is not DAY:ANSWER: {:?}",
            String::from_utf8_lossy(field)
        ))
    })
}

/// The replies of a pipeline sent with `ignore_errors`: a script's server error stays its own
/// (a key of another type is `Corrupt`), rather than one failure naming the pipeline.
fn replies(reply: Value, context: &'static str) -> Result<Vec<Value>, StoreError> {
    array(reply, context)?
        .into_iter()
        .map(|reply| match reply {
            Value::ServerError(error) => Err(redis_error(context, error.into())),
            reply => Ok(reply),
        })
        .collect()
}

/// Merges `sketches` into the stored ones (see the module documentation).
pub(crate) async fn merge(shared: &Shared, sketches: &[DailyUsers]) -> Result<(), StoreError> {
    const CONTEXT: &str = "merging user sketches";
    // The script must not see one field twice (it checks everything before writing), and one
    // merge here is cheaper than two in Lua.
    let mut merged: BTreeMap<(&str, i64, bool), UserSketch> = BTreeMap::new();
    for daily in sketches {
        let key = (daily.feature.as_str(), day_number(daily.day), daily.active);
        match merged.get_mut(&key) {
            Some(sketch) => sketch.merge(&daily.sketch),
            None => {
                merged.insert(key, daily.sketch.clone());
            }
        }
    }
    let entries: Vec<_> = merged.into_iter().collect();
    let keys = &shared.keys;
    for request in entries.chunks(ENTRIES_PER_SCRIPT * SCRIPTS_PER_REQUEST) {
        let mut pipeline = redis::pipe();
        for chunk in request.chunks(ENTRIES_PER_SCRIPT) {
            let mut script = eval(
                &shared.scripts.user_sketches.merge,
                &[keys.user_sketch_features()],
            );
            script.arg(keys.user_sketches_prefix());
            for ((feature, day, active), sketch) in chunk {
                script
                    .arg(*feature)
                    .arg(field(*day, *active))
                    .arg(*day)
                    .arg(sketch.encode());
            }
            pipeline.add_command(script);
        }
        pipeline.ignore_errors();
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .commit(CONTEXT, Request::Pipeline(&pipeline))
            .await?;
        drop(connection);
        for reply in replies(reply, CONTEXT)? {
            let reply = array(reply, CONTEXT)?;
            match reply.as_slice() {
                [written] if integer(written, CONTEXT)? == 1 => {}
                [damaged, name, field] if integer(damaged, CONTEXT)? == 0 => {
                    return Err(corrupt(format!(
                        "the stored user sketch of {:?}, field {:?}, is not a sketch",
                        String::from_utf8_lossy(&bytes(name.clone(), CONTEXT)?),
                        String::from_utf8_lossy(&bytes(field.clone(), CONTEXT)?),
                    )));
                }
                _ => return Err(unexpected(CONTEXT)),
            }
        }
    }
    Ok(())
}

/// The feature's sketches for days `from..=to`, by day, inactive before active.
pub(crate) async fn read(
    shared: &Shared,
    feature: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DailyUsers>, StoreError> {
    const CONTEXT: &str = "reading user sketches";
    if from > to {
        return Ok(Vec::new());
    }
    let (first, last) = (day_number(from), day_number(to));
    let key = shared.keys.user_sketches(feature);
    let named = last - first < NAMED_READ_DAYS;
    let command = if named {
        let mut command = redis::cmd("HMGET");
        command.arg(&key);
        for day in first..=last {
            command.arg(field(day, false)).arg(field(day, true));
        }
        command
    } else {
        Cmd::hgetall(&key)
    };
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    drop(connection);
    let stored: Vec<(Vec<u8>, Vec<u8>)> = if named {
        let fields = (first..=last).flat_map(|day| [field(day, false), field(day, true)]);
        let mut stored = Vec::new();
        for (field, value) in fields.zip(array(reply, CONTEXT)?) {
            if !matches!(value, Value::Nil) {
                stored.push((field.into_bytes(), bytes(value, CONTEXT)?));
            }
        }
        stored
    } else {
        pairs(reply, CONTEXT)?
    };

    let mut sketches = Vec::with_capacity(stored.len());
    for (field, value) in stored {
        let (day, active) = parse_field(&field)?;
        if !(first..=last).contains(&day) {
            continue;
        }
        let sketch = UserSketch::decode(&value).map_err(|error| {
            corrupt(format!(
                "the stored user sketch of {feature:?}, field {:?}, is not a sketch: {error}",
                String::from_utf8_lossy(&field)
            ))
        })?;
        sketches.push(DailyUsers {
            feature: feature.to_owned(),
            day: day_from_number(day),
            active,
            sketch,
        });
    }
    sketches.sort_by_key(|daily| (daily.day, daily.active));
    Ok(sketches)
}

/// Deletes every sketch of a day before `before`; returns how many.
pub(crate) async fn forget(shared: &Shared, before: NaiveDate) -> Result<u64, StoreError> {
    const CONTEXT: &str = "forgetting user sketches";
    let before = day_number(before);
    let keys = &shared.keys;
    let (index, prefix) = (keys.user_sketch_features(), keys.user_sketches_prefix());
    let mut forgotten = 0;
    loop {
        let mut command = redis::cmd("ZRANGE");
        command
            .arg(&index)
            .arg("-inf")
            .arg(format!("({before}"))
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(FORGETS_PER_REQUEST);
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .first(CONTEXT, Request::Command(&command))
            .await?;
        // Names stay bytes: one changed by a lossy conversion would name another key and
        // another member, and its entry would be found again on every round.
        let names = array(reply, CONTEXT)?
            .into_iter()
            .map(|name| bytes(name, CONTEXT))
            .collect::<Result<Vec<_>, _>>()?;
        if names.is_empty() {
            break;
        }
        let mut pipeline = redis::pipe();
        for name in &names {
            // Not `eval`, which takes keys as text.
            let mut script = redis::cmd("EVAL");
            script
                .arg(&shared.scripts.user_sketches.forget_feature)
                .arg(2)
                .arg([prefix.as_bytes(), name].concat())
                .arg(&index)
                .arg(name)
                .arg(before);
            pipeline.add_command(script);
        }
        pipeline.ignore_errors();
        let reply = connection
            .commit(CONTEXT, Request::Pipeline(&pipeline))
            .await?;
        drop(connection);
        for deleted in replies(reply, CONTEXT)? {
            forgotten += count(&deleted, CONTEXT)?;
        }
        // Each script rescored its feature to a kept day or dropped it: the next round sees
        // only features not yet visited (or given an old day meanwhile).
        if names.len() < FORGETS_PER_REQUEST {
            break;
        }
    }
    Ok(forgotten)
}
