//! The all-or-nothing `import` of features and groups (copied history: `history_copies.rs`).
//!
//! It WATCHes every key it reads, computes everything in Rust (payloads, and the events of the
//! features and groups it changes), then commits in one script inside MULTI/EXEC: either all of
//! it is written or, when a watched key changed meanwhile, none of it is and the import starts
//! again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Feature, FeatureName, GroupName, StoredGroup};
use ramp_store::import::{group_import_events, import_features, ImportTarget};
use ramp_store::prepare::PreparedWrite;
use ramp_store::{ImportSummary, ImportedFeature, StoreError};
use redis::Value;

use crate::events::{self, FullLists};
use crate::group_events;
use crate::payload;
use crate::pool::Request;
use crate::reply::{array, count, unexpected, Stored};
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
    let mut watched: Vec<String> = names
        .iter()
        .map(|name| shared.keys.feature(name.as_str()))
        .collect();
    let feature_count = watched.len();
    if !groups.is_empty() {
        // The groups' events are diffs against what is stored: any group write in between
        // (whose event would start from the same version) makes the import start again.
        watched.push(shared.keys.groups());
        watched.push(shared.keys.group_versions());
    }
    let group_names: Vec<&str> = groups.iter().map(|group| group.name.as_str()).collect();
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
        if watched.is_empty() {
            // Nothing to watch, but the first request still checks the connection.
            read.cmd("PING").ignore();
        } else {
            read.cmd("WATCH").arg(&watched).ignore();
            for key in &watched[..feature_count] {
                read.get(key);
            }
        }
        if !groups.is_empty() {
            read.cmd("HMGET")
                .arg(shared.keys.groups())
                .arg(&group_names);
        }
        read.ignore_errors();
        connection.set_watching(true);
        let reply = connection.first(CONTEXT, Request::Pipeline(&read)).await?;
        let mut replies = array(reply, CONTEXT)?;
        let stored_groups = if groups.is_empty() {
            HashMap::new()
        } else {
            let values = array(replies.pop().ok_or_else(|| unexpected(CONTEXT))?, CONTEXT)?;
            stored_groups(groups, values)
        };
        let mut entries = Vec::with_capacity(names.len());
        for (name, value) in names.iter().zip(replies) {
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
                .sum::<usize>()
            + group_json.iter().map(|(_, json)| json.len()).sum::<usize>();
        let (owned, owned_groups, attribution_owned) =
            (features.to_vec(), groups.to_vec(), attribution.clone());
        let computed = off_runtime(size, move || {
            let current = entries
                .iter()
                .map(|(name, stored)| (name.clone(), stored.feature(name)))
                .collect();
            let (summary, prepared) = prepare_all(&owned, current, &attribution_owned, now)?;
            let events = group_import_events(&owned_groups, &attribution_owned, now, |name| {
                Ok(stored_groups.get(name).cloned().flatten())
            })?;
            let members: Vec<String> = events.iter().map(group_events::encode).collect();
            Ok::<_, StoreError>((summary, prepared, members))
        })
        .await?;
        let (mut summary, prepared, group_members) = match computed {
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
            shared.keys.group_events(),
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
            .arg(group_json.len())
            .arg(group_members.len())
            .arg(now.timestamp_micros());
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
        for member in &group_members {
            script.arg(member);
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

/// The stored version of each imported group, from the `HMGET` of their names (`None`: no
/// such group, or JSON that cannot be read, which `groups()` does not list either).
fn stored_groups(
    groups: &[StoredGroup],
    values: Vec<Value>,
) -> HashMap<GroupName, Option<StoredGroup>> {
    groups
        .iter()
        .zip(values)
        .map(|(group, value)| {
            let stored = match value {
                Value::BulkString(json) => serde_json::from_slice(&json).ok(),
                _ => None,
            };
            (group.name.clone(), stored)
        })
        .collect()
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
            member: events::encode(&write.feature.name, &write.event, &self.before, &after),
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
