//! History reads: a filtered page, one event by id, the latest event of many features.
//!
//! Features' events are in the gem's sets (`feature:NAME:logging:events` and the global
//! `feature:_global_:logging:events`), stored groups' in Ramp's `ramp:group-events`. Every set
//! is scored by minus the event id, and ids are unique across the sets, so a page of
//! everything is the newest of each source merged by id, and paging by id works across both.

use std::collections::HashMap;

use ramp_core::{FeatureName, HistoryEvent};
use ramp_store::{HistoryQuery, StoreError};
use redis::Value;

use crate::gem_format::ruby_split;
use crate::pool::{Connection, Request};
use crate::reply::{array, bytes, score_of, scored};
use crate::store::Shared;
use crate::{events, group_events};

/// How one sorted set's members are read.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// The gem's logging format: features' events.
    Gem,
    /// Ramp's own JSON: stored groups' events.
    Group,
}

impl Format {
    /// The event a member and its score hold; `None` for members that are not events Ramp can
    /// show (garbage, another program's), which readers skip rather than failing.
    fn decode(self, member: &[u8], score: f64) -> Option<HistoryEvent> {
        match self {
            Format::Gem => events::decode(member, score),
            Format::Group => group_events::decode(member, score),
        }
    }
}

/// A page of history, newest first, filtered as `HistoryQuery::keeps` says. The feature or
/// group filter picks the set (a feature's, or the group set, checking each event's group
/// name); with neither, the newest `limit` kept events of the global set and of the group set
/// are merged. `before_id` and `since` bound the score range; the actor, `until` and the group
/// name are checked on each decoded member (members are JSON, not indexed), reading the set in
/// batches until the page is full. Sets hold the newest `history_limit` events only, so a scan
/// is bounded by that.
pub(crate) async fn history(
    shared: &Shared,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    let keys = &shared.keys;
    let limit = query.effective_limit();
    let mut reader = SetReader {
        connection: shared.pool.get().await?,
        first: true,
        query,
        limit,
    };
    match (&query.feature, &query.group) {
        // No event is both a feature's and a group's.
        (Some(_), Some(_)) => Ok(Vec::new()),
        (Some(name), None) => reader.read(&keys.events(name.as_str()), Format::Gem).await,
        (None, Some(_)) => reader.read(&keys.group_events(), Format::Group).await,
        (None, None) => {
            let mut events = reader.read(&keys.global_events(), Format::Gem).await?;
            events.extend(reader.read(&keys.group_events(), Format::Group).await?);
            events.sort_by_key(|event| std::cmp::Reverse(event.id));
            events.truncate(limit);
            Ok(events)
        }
    }
}

/// Reads pages of sets for one history query, on one connection.
struct SetReader<'a> {
    connection: Connection<'a>,
    /// Whether the next request is the operation's first (see `Connection::first`).
    first: bool,
    query: &'a HistoryQuery,
    limit: usize,
}

impl SetReader<'_> {
    /// Up to `limit` events of one set that the query keeps, newest first.
    async fn read(&mut self, key: &str, format: Format) -> Result<Vec<HistoryEvent>, StoreError> {
        const CONTEXT: &str = "reading history";
        let query = self.query;
        // Newest first is lowest score first; "before id N" is "score above -N".
        let minimum = match query.before_id {
            Some(id) => format!("({}", score_of(id)),
            None => "-inf".into(),
        };
        // An event's id is never below its time in microseconds (ids start at the time and
        // only move up to stay unique), so an event made at or after `since` has an id at
        // least that.
        let maximum = match query.since.map(|since| since.timestamp_micros()) {
            Some(micros) if micros > 0 => score_of(micros as u64),
            _ => "+inf".into(),
        };
        let limit = self.limit;
        let filtered = query.actor.is_some() || query.until.is_some() || query.group.is_some();
        let batch = if filtered { limit.max(200) } else { limit };
        let mut events = Vec::with_capacity(limit.min(1024));
        let mut offset = 0;
        loop {
            let mut command = redis::cmd("ZRANGEBYSCORE");
            command
                .arg(key)
                .arg(&minimum)
                .arg(&maximum)
                .arg("WITHSCORES")
                .arg("LIMIT")
                .arg(offset)
                .arg(batch);
            let request = Request::Command(&command);
            let reply = if std::mem::take(&mut self.first) {
                self.connection.first(CONTEXT, request).await?
            } else {
                self.connection.then(CONTEXT, request).await?
            };
            let page = scored(reply, CONTEXT)?;
            let fetched = page.len();
            for (member, score) in page {
                let Some(event) = format.decode(&member, score) else {
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
}

/// How many members of each feature's set `latest_events` reads: the newest event Ramp can
/// show is almost always the first; a feature whose first few are all unreadable is read
/// again through `history`.
const LATEST_CANDIDATES: isize = 8;
/// Features per pipelined request.
const LATEST_PER_REQUEST: usize = 1_000;

/// The newest event of each named feature (never a group's: only the features' own sets are
/// read): one pipelined `ZRANGE` of each feature's set per
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
/// every feature's event) or the group set, else from each registered feature's set (the gem
/// without `global`).
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
    let mut both = redis::pipe();
    both.add_command(by_score(shared.keys.global_events()))
        .add_command(by_score(shared.keys.group_events()));
    let reply = connection.first(CONTEXT, Request::Pipeline(&both)).await?;
    let [global, groups]: [Value; 2] = array(reply, CONTEXT)?
        .try_into()
        .map_err(|_| crate::reply::unexpected(CONTEXT))?;
    for (reply, format) in [(global, Format::Gem), (groups, Format::Group)] {
        if let Some(event) = first_event(reply, format)? {
            return Ok(Some(event));
        }
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
        if let Some(event) = first_event(reply, Format::Gem)? {
            return Ok(Some(event));
        }
    }
    Ok(None)
}

fn first_event(reply: Value, format: Format) -> Result<Option<HistoryEvent>, StoreError> {
    Ok(scored(reply, "reading a history event")?
        .into_iter()
        .find_map(|(member, score)| format.decode(&member, score)))
}
