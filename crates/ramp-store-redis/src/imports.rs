//! The all-or-nothing operations: `import` (features and groups) and `import_history` (events
//! copied from another store).
//!
//! Both WATCH every key they read, compute everything in Rust, then commit in one script inside
//! MULTI/EXEC: either all of it is written or, when a watched key changed meanwhile, none of it
//! is and the operation starts again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Change, Feature, FeatureName, HistoryEvent, StoredGroup};
use ramp_store::prepare::{prepare_change, same_event};
use ramp_store::{ImportSummary, ImportedFeature, StoreError};
use redis::Value;

use crate::events::{self, FullLists};
use crate::payload;
use crate::pool::Request;
use crate::reply::{array, count, scored, unexpected, Stored};
use crate::scripts::eval;
use crate::store::{contention, now, off_runtime, Shared};
use crate::writes::{back_off, MAX_ATTEMPTS};

/// One feature write of an import, ready to commit.
struct Prepared {
    name: FeatureName,
    payload: String,
    member: String,
}

pub(crate) async fn import(
    shared: &Shared,
    features: &[ImportedFeature],
    groups: &[StoredGroup],
    attribution: &Attribution,
) -> Result<ImportSummary, StoreError> {
    const CONTEXT: &str = "importing";
    let mut names: Vec<FeatureName> = features
        .iter()
        .map(|feature| feature.name.clone())
        .collect();
    names.sort();
    names.dedup();
    let keys: Vec<String> = names
        .iter()
        .map(|name| shared.keys.feature(name.as_str()))
        .collect();
    let group_json = groups
        .iter()
        .map(|group| serde_json::to_string(group).map(|json| (group.name.as_str(), json)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| StoreError::Corrupt {
            backend: crate::error::BACKEND,
            detail: format!("a group cannot be written as JSON: {error}"),
        })?;
    for attempt in 0..MAX_ATTEMPTS {
        let mut connection = shared.pool.get().await?;
        let mut read = redis::pipe();
        if keys.is_empty() {
            // Only groups: nothing to watch, but the first request still checks the connection.
            read.cmd("PING").ignore();
        } else {
            read.cmd("WATCH").arg(&keys).ignore();
            for key in &keys {
                read.get(key);
            }
        }
        read.ignore_errors();
        connection.set_watching(true);
        let reply = connection.first(CONTEXT, Request::Pipeline(&read)).await?;
        let mut entries = Vec::with_capacity(names.len());
        for (name, value) in names.iter().zip(array(reply, CONTEXT)?) {
            entries.push((name.clone(), Stored::from_reply(value, CONTEXT)?));
        }
        let now = now();
        let size = entries
            .iter()
            .map(|(_, stored)| stored.size())
            .sum::<usize>()
            + features
                .iter()
                .map(|feature| feature.state.users.len() * 16)
                .sum::<usize>();
        let (owned, attribution_owned) = (features.to_vec(), attribution.clone());
        let computed = off_runtime(size, move || {
            let current = entries
                .iter()
                .map(|(name, stored)| (name.clone(), stored.feature(name)))
                .collect();
            prepare_all(&owned, current, &attribution_owned, now)
        })
        .await?;
        let (mut summary, prepared) = match computed {
            Ok(computed) => computed,
            Err(error) => {
                connection.unwatch().await;
                return Err(error);
            }
        };
        summary.groups = groups.len();
        let script_keys = [
            shared.keys.registry(),
            shared.keys.version(),
            shared.keys.digests(),
            shared.keys.global_events(),
            shared.keys.groups(),
            shared.keys.group_versions(),
        ]
        .into_iter()
        .chain(prepared.iter().flat_map(|write| {
            [
                shared.keys.feature(write.name.as_str()),
                shared.keys.events(write.name.as_str()),
            ]
        }))
        .collect::<Vec<_>>();
        let mut script = eval(&shared.scripts.import, &script_keys);
        script
            .arg(prepared.len())
            .arg(shared.url.history_limit)
            .arg(shared.keys.channel())
            .arg(&shared.origin)
            .arg(group_json.len());
        for write in &prepared {
            script
                .arg(write.name.as_str())
                .arg(&write.payload)
                .arg(&write.member)
                .arg(now.timestamp_micros());
        }
        for (name, json) in &group_json {
            script.arg(*name).arg(json);
        }
        let mut transaction = redis::pipe();
        transaction.atomic().add_command(script);
        let _gate = shared.gate.read().await;
        let reply = connection
            .commit(CONTEXT, Request::Pipeline(&transaction))
            .await?;
        connection.set_watching(false);
        if reply == Value::Nil {
            drop(_gate);
            back_off(attempt).await;
            continue;
        }
        let result = array(first(reply, CONTEXT)?, CONTEXT)?;
        let version = count(result.first().ok_or_else(|| unexpected(CONTEXT))?, CONTEXT)?;
        shared.announce(version, None);
        return Ok(summary);
    }
    Err(contention("the imported features", MAX_ATTEMPTS))
}

pub(crate) async fn import_history(
    shared: &Shared,
    events: &[HistoryEvent],
) -> Result<usize, StoreError> {
    const CONTEXT: &str = "importing history";
    if events.is_empty() {
        return Ok(0);
    }
    let mut features: Vec<&FeatureName> = events.iter().map(|event| &event.feature).collect();
    features.sort();
    features.dedup();
    let global = shared.keys.global_events();
    let mut watched: Vec<String> = vec![global.clone()];
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
        // Per feature: the ids its set holds, to know which copies would be trimmed at once.
        let mut ids: HashMap<&FeatureName, Vec<u64>> = HashMap::new();
        for (index, set) in array(reply, CONTEXT)?.into_iter().enumerate() {
            for (member, score) in scored(set, CONTEXT)? {
                if let Some(event) = events::decode(&member, score) {
                    if index > 0 {
                        ids.entry(features[index - 1]).or_default().push(event.id);
                    }
                    stored.push(event);
                }
            }
        }
        let mut added: Vec<&HistoryEvent> = Vec::new();
        for event in events {
            let known = stored.iter().chain(added.iter().copied());
            if known.clone().any(|other| same_event(other, event)) {
                continue;
            }
            added.push(event);
        }
        // A copy older than the newest `limit` events of its feature would be trimmed as soon
        // as it is added (the gem keeps only those): skip it, so copying twice adds nothing.
        added.retain(|event| {
            let id = event.time.timestamp_micros().max(0) as u64;
            let newer_stored = ids
                .get(&event.feature)
                .map_or(0, |ids| ids.iter().filter(|other| **other > id).count());
            let newer_copied = events
                .iter()
                .filter(|other| other.feature == event.feature && other.time > event.time)
                .count();
            newer_stored + newer_copied < limit
        });
        if added.is_empty() {
            connection.unwatch().await;
            return Ok(0);
        }
        let keys = std::iter::once(global.clone())
            .chain(
                added
                    .iter()
                    .map(|event| shared.keys.events(event.feature.as_str())),
            )
            .collect::<Vec<_>>();
        let mut script = eval(&shared.scripts.import_history, &keys);
        script.arg(added.len()).arg(limit);
        for event in &added {
            let member = events::encode(event, &FullLists::default(), &FullLists::default());
            script.arg(event.time.timestamp_micros().max(1)).arg(member);
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

/// Applies every imported state in order to what is stored (a name imported twice sees its
/// first import), like the memory store does.
fn prepare_all(
    features: &[ImportedFeature],
    mut current: HashMap<FeatureName, Option<Feature>>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<(ImportSummary, Vec<Prepared>), StoreError> {
    let mut summary = ImportSummary::default();
    let mut prepared = Vec::new();
    for imported in features {
        let existing = current.get(&imported.name).cloned().flatten();
        let created = existing.is_none();
        let before = FullLists::of(existing.as_ref());
        let change = Change::Replace {
            state: imported.state.clone(),
        };
        let Some(write) =
            prepare_change(&imported.name, existing, &change, None, attribution, now)?
        else {
            summary.unchanged += 1;
            continue;
        };
        if created {
            summary.created += 1;
        } else {
            summary.updated += 1;
        }
        prepared.push(Prepared {
            name: imported.name.clone(),
            payload: payload::encode(&write.feature),
            member: events::encode(&write.event, &before, &FullLists::of(Some(&write.feature))),
        });
        current.insert(imported.name.clone(), Some(write.feature));
    }
    Ok((summary, prepared))
}

/// The first result of an EXEC reply.
fn first(reply: Value, context: &'static str) -> Result<Value, StoreError> {
    array(reply, context)?
        .into_iter()
        .next()
        .ok_or_else(|| unexpected(context))
}
