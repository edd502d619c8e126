//! The all-or-nothing operations: `import` (features and groups) and `import_history` (events
//! copied from another store).
//!
//! Both WATCH every key they read, compute everything in Rust, then commit in one script inside
//! MULTI/EXEC: either all of it is written or, when a watched key changed meanwhile, none of it
//! is and the operation starts again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Feature, FeatureName, HistoryEvent, StoredGroup};
use ramp_store::import::{events_to_copy, import_features, same_event, ImportTarget};
use ramp_store::prepare::PreparedWrite;
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
    let mut features: Vec<&str> = events.iter().map(|event| event.subject.name()).collect();
    features.sort();
    features.dedup();
    let global = shared.keys.global_events();
    let mut watched: Vec<String> = vec![global.clone()];
    watched.extend(features.iter().map(|name| shared.keys.events(name)));
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
        let mut ids: HashMap<&str, Vec<u64>> = HashMap::new();
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
        let mut added = events_to_copy(events, |event| {
            Ok(stored.iter().any(|other| same_event(other, event)))
        })?;
        // A copy older than the newest `limit` events of its feature would be trimmed as soon
        // as it is added (the gem keeps only those): skip it, so copying twice adds nothing.
        added.retain(|event| {
            let id = event.time.timestamp_micros().max(0) as u64;
            let newer_stored = ids
                .get(event.subject.name())
                .map_or(0, |ids| ids.iter().filter(|other| **other > id).count());
            let newer_copied = events
                .iter()
                .filter(|other| other.subject == event.subject && other.time > event.time)
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
                    .map(|event| shared.keys.events(event.subject.name())),
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
/// first import), keeping for each write its payload and its event as the gem logs it.
fn prepare_all(
    features: &[ImportedFeature],
    current: HashMap<FeatureName, Option<Feature>>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<(ImportSummary, Vec<Prepared>), StoreError> {
    let mut target = Encoding {
        current,
        before: FullLists::empty(),
        prepared: Vec::new(),
    };
    let summary = import_features(features, attribution, now, &mut target)?;
    Ok((summary, target.prepared))
}

/// An import's view of the features it read, encoding each write for the commit script.
struct Encoding {
    current: HashMap<FeatureName, Option<Feature>>,
    /// The lists of the feature last read, which the gem's before/after of its write shows.
    before: FullLists,
    prepared: Vec<Prepared>,
}

impl ImportTarget for Encoding {
    fn stored(&mut self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        let existing = self.current.get(name).cloned().flatten();
        self.before = FullLists::of(existing.as_ref());
        Ok(existing)
    }

    fn write(&mut self, write: PreparedWrite) -> Result<(), StoreError> {
        let after = FullLists::of(Some(&write.feature));
        self.prepared.push(Prepared {
            name: write.feature.name.clone(),
            payload: payload::encode(&write.feature),
            member: events::encode(&write.event, &self.before, &after),
        });
        self.current
            .insert(write.feature.name.clone(), Some(write.feature));
        Ok(())
    }
}

/// The first result of an EXEC reply.
fn first(reply: Value, context: &'static str) -> Result<Value, StoreError> {
    array(reply, context)?
        .into_iter()
        .next()
        .ok_or_else(|| unexpected(context))
}
