//! `import_history`: events copied from another store, appended at their own times (their
//! time is their id, made unique), features' in the gem's sets and groups' in Ramp's group set.
//!
//! Like an import, it WATCHes every set it reads (to skip events already stored), then commits
//! in one script inside MULTI/EXEC, starting again when a watched set changed meanwhile.

use std::collections::HashMap;

use ramp_core::{FeatureName, HistoryEvent};
use ramp_store::import::{events_to_copy, same_event};
use ramp_store::StoreError;
use redis::Value;

use crate::events::{self, FullLists};
use crate::group_events;
use crate::pool::Request;
use crate::reply::{array, scored};
use crate::scripts::eval;
use crate::store::{contention, Shared};
use crate::writes::{back_off, MAX_ATTEMPTS};

pub(crate) async fn import_history(
    shared: &Shared,
    events: &[HistoryEvent],
) -> Result<usize, StoreError> {
    const CONTEXT: &str = "importing history";
    if events.is_empty() {
        return Ok(0);
    }
    let mut features: Vec<&FeatureName> = events.iter().filter_map(HistoryEvent::feature).collect();
    features.sort();
    features.dedup();
    let global = shared.keys.global_events();
    let group_set = shared.keys.group_events();
    // The global set, the group set, then each feature's set: the order the replies are read.
    let mut watched: Vec<String> = vec![global.clone(), group_set.clone()];
    watched.extend(
        features
            .iter()
            .map(|name| shared.keys.events(name.as_str())),
    );
    let limit = shared.url.history_limit;
    for attempt in 0..MAX_ATTEMPTS {
        let mut connection = shared.pool.get().await?;
        let mut read = redis::pipe();
        read.cmd("WATCH").arg(&watched).ignore();
        for key in &watched {
            read.cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES");
        }
        connection.set_watching(true);
        let reply = connection.first(CONTEXT, Request::Pipeline(&read)).await?;
        let mut stored: Vec<HistoryEvent> = Vec::new();
        // Per set (a feature's; `None`: the group set), the ids it holds, to know which copies
        // would be trimmed at once.
        let mut ids: HashMap<Option<&FeatureName>, Vec<u64>> = HashMap::new();
        for (index, set) in array(reply, CONTEXT)?.into_iter().enumerate() {
            for (member, score) in scored(set, CONTEXT)? {
                let (event, set) = match index {
                    0 => (events::decode(&member, score), None),
                    1 => (group_events::decode(&member, score), Some(None)),
                    _ => (
                        events::decode(&member, score),
                        Some(Some(features[index - 2])),
                    ),
                };
                if let Some(event) = event {
                    if let Some(set) = set {
                        ids.entry(set).or_default().push(event.id);
                    }
                    stored.push(event);
                }
            }
        }
        let mut added = events_to_copy(events, |event| {
            Ok(stored.iter().any(|other| same_event(other, event)))
        })?;
        // A copy older than the newest `limit` events of its set would be trimmed as soon as it
        // is added (the gem keeps only those): skip it, so copying twice adds nothing.
        added.retain(|event| {
            let id = event.time.timestamp_micros().max(0) as u64;
            let newer_stored = ids
                .get(&event.feature())
                .map_or(0, |ids| ids.iter().filter(|other| **other > id).count());
            let newer_copied = events
                .iter()
                .filter(|other| other.feature() == event.feature() && other.time > event.time)
                .count();
            newer_stored + newer_copied < limit
        });
        if added.is_empty() {
            connection.unwatch().await;
            return Ok(0);
        }
        let keys = [global.clone(), group_set.clone()]
            .into_iter()
            .chain(added.iter().map(|event| match event.feature() {
                Some(feature) => shared.keys.events(feature.as_str()),
                None => group_set.clone(),
            }))
            .collect::<Vec<_>>();
        let mut script = eval(&shared.scripts.import_history, &keys);
        script.arg(added.len()).arg(limit);
        for event in &added {
            let (kind, member) = match event.feature() {
                Some(feature) => (
                    "f",
                    events::encode(feature, event, &FullLists::default(), &FullLists::default()),
                ),
                None => ("g", group_events::encode(event)),
            };
            script
                .arg(kind)
                .arg(event.time.timestamp_micros().max(1))
                .arg(member);
        }
        let mut transaction = redis::pipe();
        transaction.atomic().add_command(script);
        let reply = connection
            .commit(CONTEXT, Request::Pipeline(&transaction))
            .await?;
        connection.set_watching(false);
        if reply == Value::Nil {
            back_off(attempt).await;
            continue;
        }
        return Ok(added.len());
    }
    Err(contention("the history", MAX_ATTEMPTS))
}
