//! The read operations: snapshot, one feature, history (stored groups: `groups.rs`).
//!
//! A snapshot is one script, so it is consistent even while Ruby apps write; it also notices
//! unannounced changes first (see `scripts::SNAPSHOT`), so its version always reflects them.

use std::collections::HashMap;

use ramp_core::{Feature, FeatureName, HistoryEvent, Snapshot};
use ramp_store::{HistoryQuery, StoreError};
use redis::Value;

use crate::events;
use crate::gem_format::ruby_split;
use crate::groups::parse_groups;
use crate::pool::Request;
use crate::reply::{array, bytes, count, score_of, scored, unexpected, Stored};
use crate::scripts::eval;
use crate::store::{off_runtime, Shared};

/// Runs the snapshot script; `with_payloads` false only checks for unannounced changes.
async fn run_snapshot_script(shared: &Shared, with_payloads: bool) -> Result<Value, StoreError> {
    let keys = &shared.keys;
    let mut command = eval(
        &shared.scripts.snapshot,
        &[
            keys.registry(),
            keys.digests(),
            keys.version(),
            keys.groups(),
        ],
    );
    command
        .arg(keys.feature_prefix())
        .arg(if with_payloads { "1" } else { "0" })
        .arg(keys.channel())
        .arg(&shared.origin);
    let mut connection = shared.pool.get().await?;
    connection
        .first("reading a snapshot", Request::Command(&command))
        .await
}

/// Checks for changes nobody announced: `(version, how many features changed)`.
pub(crate) async fn check(shared: &Shared) -> Result<(u64, u64), StoreError> {
    const CONTEXT: &str = "checking for outside changes";
    let reply = array(run_snapshot_script(shared, false).await?, CONTEXT)?;
    match reply.as_slice() {
        [version, changed] => Ok((count(version, CONTEXT)?, count(changed, CONTEXT)?)),
        _ => Err(unexpected(CONTEXT)),
    }
}

pub(crate) async fn snapshot(shared: &Shared) -> Result<Snapshot, StoreError> {
    const CONTEXT: &str = "reading a snapshot";
    let reply = array(run_snapshot_script(shared, true).await?, CONTEXT)?;
    let [version, changed, features, groups]: [Value; 4] =
        reply.try_into().map_err(|_| unexpected(CONTEXT))?;
    let (version, changed) = (count(&version, CONTEXT)?, count(&changed, CONTEXT)?);
    let mut entries = Vec::new();
    let mut items = array(features, CONTEXT)?.into_iter();
    while let (Some(name), Some(kind), Some(value)) = (items.next(), items.next(), items.next()) {
        let name = String::from_utf8(bytes(name, CONTEXT)?).ok();
        let Some(name) = name.and_then(|name| FeatureName::new(name).ok()) else {
            // A gem feature whose name Ramp cannot hold ("new feature"): not Ramp's to show.
            tracing::debug!("skipped a registered feature name Ramp cannot represent");
            continue;
        };
        let stored = match bytes(kind, CONTEXT)?.as_slice() {
            b"w" => Stored::WrongType,
            _ => Stored::Bytes(bytes(value, CONTEXT)?),
        };
        entries.push((name, stored));
    }
    let size = entries.iter().map(|(_, stored)| stored.size()).sum();
    let mut features: Vec<Feature> = off_runtime(size, move || {
        entries
            .iter()
            .filter_map(|(name, stored)| stored.feature(name))
            .collect()
    })
    .await?;
    features.sort_by(|left, right| left.name.cmp(&right.name));
    if changed > 0 {
        shared.announce(version, None);
    }
    Ok(Snapshot {
        version,
        randomize_percentage: shared.url.randomize_percentage,
        features,
        groups: parse_groups(groups, None)?
            .into_iter()
            .map(|stored| stored.group)
            .collect(),
    })
}

pub(crate) async fn feature(
    shared: &Shared,
    name: &FeatureName,
) -> Result<Option<Feature>, StoreError> {
    const CONTEXT: &str = "reading a feature";
    let mut command = redis::pipe();
    command
        .get(shared.keys.feature(name.as_str()))
        .ignore_errors();
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(CONTEXT, Request::Pipeline(&command))
        .await?;
    drop(connection);
    let value = array(reply, CONTEXT)?
        .pop()
        .ok_or_else(|| unexpected(CONTEXT))?;
    let stored = Stored::from_reply(value, CONTEXT)?;
    let name = name.clone();
    off_runtime(stored.size(), move || stored.feature(&name)).await
}

/// A page of history, newest first, filtered as `HistoryQuery::keeps` says. The feature picks
/// the sorted set and `before_id` and `since` bound the score range; the actor and `until` are
/// checked on each decoded member (the gem's members are JSON, not indexed by actor), reading
/// the set in batches until the page is full. Sets hold the newest `history_limit` events
/// only, so a scan is bounded by that.
pub(crate) async fn history(
    shared: &Shared,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    const CONTEXT: &str = "reading history";
    let key = match &query.feature {
        Some(name) => shared.keys.events(name.as_str()),
        None => shared.keys.global_events(),
    };
    // Newest first is lowest score first; "before id N" is "score above -N".
    let minimum = match query.before_id {
        Some(id) => format!("({}", score_of(id)),
        None => "-inf".into(),
    };
    // An event's id is never below its time in microseconds (ids start at the time and only
    // move up to stay unique), so an event made at or after `since` has an id at least that.
    let maximum = match query.since.map(|since| since.timestamp_micros()) {
        Some(micros) if micros > 0 => score_of(micros as u64),
        _ => "+inf".into(),
    };
    let limit = query.effective_limit();
    let filtered = query.actor.is_some() || query.until.is_some();
    let batch = if filtered { limit.max(200) } else { limit };
    let mut events = Vec::with_capacity(limit.min(1024));
    let mut offset = 0;
    let mut connection = shared.pool.get().await?;
    loop {
        let mut command = redis::cmd("ZRANGEBYSCORE");
        command
            .arg(&key)
            .arg(&minimum)
            .arg(&maximum)
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(offset)
            .arg(batch);
        let request = Request::Command(&command);
        let reply = if offset == 0 {
            connection.first(CONTEXT, request).await?
        } else {
            connection.then(CONTEXT, request).await?
        };
        let page = scored(reply, CONTEXT)?;
        let fetched = page.len();
        for (member, score) in page {
            // Members that are not events Ramp can show (garbage, another program's) are
            // skipped rather than failing the page.
            let Some(event) = events::decode(&member, score) else {
                continue;
            };
            if events.len() < limit && query.keeps(&event) {
                events.push(event);
            }
        }
        offset += fetched;
        if events.len() >= limit || fetched < batch {
            return Ok(events);
        }
    }
}

/// How many members of each feature's set `latest_events` reads: the newest event Ramp can
/// show is almost always the first; a feature whose first few are all unreadable is read
/// again through `history`.
const LATEST_CANDIDATES: isize = 8;
/// Features per pipelined request.
const LATEST_PER_REQUEST: usize = 1_000;

/// The newest event of each named feature: one pipelined `ZRANGE` of each feature's set per
/// thousand features, rather than a round trip each.
pub(crate) async fn latest_events(
    shared: &Shared,
    features: &[FeatureName],
) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
    const CONTEXT: &str = "reading the latest events";
    let mut latest = HashMap::with_capacity(features.len());
    let mut unreadable = Vec::new();
    for chunk in features.chunks(LATEST_PER_REQUEST) {
        let mut pipeline = redis::pipe();
        for name in chunk {
            pipeline
                .cmd("ZRANGE")
                .arg(shared.keys.events(name.as_str()))
                .arg(0)
                .arg(LATEST_CANDIDATES - 1)
                .arg("WITHSCORES");
        }
        // Each request only reads, so each may be the "first" one that is retried once.
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .first(CONTEXT, Request::Pipeline(&pipeline))
            .await?;
        drop(connection);
        for (name, set) in chunk.iter().zip(array(reply, CONTEXT)?) {
            let members = scored(set, CONTEXT)?;
            let full = members.len() as isize == LATEST_CANDIDATES;
            match members
                .into_iter()
                .find_map(|(member, score)| events::decode(&member, score))
            {
                Some(event) => {
                    latest.insert(name.clone(), event);
                }
                None if full => unreadable.push(name.clone()),
                None => {}
            }
        }
    }
    for name in unreadable {
        let query = HistoryQuery {
            feature: Some(name.clone()),
            limit: 1,
            ..HistoryQuery::default()
        };
        if let Some(event) = history(shared, &query).await?.into_iter().next() {
            latest.insert(name, event);
        }
    }
    Ok(latest)
}

/// One event by id: from the global set (where Ramp, and the gem with `global: true`, writes
/// every event), else from each registered feature's set (the gem without `global`).
pub(crate) async fn history_event(
    shared: &Shared,
    id: u64,
) -> Result<Option<HistoryEvent>, StoreError> {
    const CONTEXT: &str = "reading a history event";
    let score = score_of(id);
    let by_score = |key: String| {
        let mut command = redis::cmd("ZRANGEBYSCORE");
        command
            .arg(key)
            .arg(&score)
            .arg(&score)
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(1);
        command
    };
    let mut connection = shared.pool.get().await?;
    let global = by_score(shared.keys.global_events());
    let reply = connection.first(CONTEXT, Request::Command(&global)).await?;
    if let Some(event) = first_event(reply)? {
        return Ok(Some(event));
    }
    let registry = redis::Cmd::get(shared.keys.registry());
    let reply = connection
        .then(CONTEXT, Request::Command(&registry))
        .await?;
    let registry = match reply {
        Value::Nil => Vec::new(),
        other => bytes(other, CONTEXT)?,
    };
    let registry = String::from_utf8_lossy(&registry);
    let names = ruby_split(&registry);
    if names.is_empty() {
        return Ok(None);
    }
    let mut pipeline = redis::pipe();
    for name in names {
        pipeline.add_command(by_score(shared.keys.events(name)));
    }
    let replies = connection
        .then(CONTEXT, Request::Pipeline(&pipeline))
        .await?;
    for reply in array(replies, CONTEXT)? {
        if let Some(event) = first_event(reply)? {
            return Ok(Some(event));
        }
    }
    Ok(None)
}

fn first_event(reply: Value) -> Result<Option<HistoryEvent>, StoreError> {
    Ok(scored(reply, "reading a history event")?
        .into_iter()
        .find_map(|(member, score)| events::decode(&member, score)))
}
