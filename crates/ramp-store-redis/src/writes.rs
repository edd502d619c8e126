//! The write operations on one feature (stored groups: `groups.rs`).
//!
//! A feature write is optimistic: WATCH and read the payload, apply the change with the core's
//! rules (`ramp_store::prepare`), then commit everything in one script inside MULTI/EXEC. If
//! anyone (Ramp or a Ruby app) wrote the payload in between, EXEC does nothing and the write
//! starts again from a fresh read, so no update is ever lost. This process's writers of one
//! feature take turns first, so they do not make each other retry.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Change, Feature, FeatureName, HistoryEvent};
use ramp_store::prepare::{check_version, deletion_event, prepare_change};
use ramp_store::{Applied, StoreError};
use redis::Value;

use crate::events::{self, FullLists};
use crate::payload;
use crate::pool::{Connection, Request};
use crate::reply::{array, count, unexpected, Stored};
use crate::scripts::eval;
use crate::store::{contention, now, off_runtime, Shared};

/// Attempts before a write gives up with `Unavailable` (only other processes make it retry).
pub const MAX_ATTEMPTS: usize = 200;

/// What a change computes from the stored payload.
enum Outcome {
    /// The change changed nothing: here is the feature as stored.
    Unchanged(Feature),
    /// Write this payload and record this event.
    Write {
        feature: Feature,
        event: HistoryEvent,
        payload: String,
        member: String,
    },
}

pub(crate) async fn apply(
    shared: &Shared,
    name: &FeatureName,
    change: &Change,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<Applied, StoreError> {
    let _turn = shared.writer_lock(name.as_str()).lock().await;
    for attempt in 0..MAX_ATTEMPTS {
        let mut connection = shared.pool.get().await?;
        let stored = watch_and_read(&mut connection, &shared.keys.feature(name.as_str())).await?;
        let now = now();
        let (owned_name, owned_change, owned_attribution) =
            (name.clone(), change.clone(), attribution.clone());
        let outcome = off_runtime(stored.size(), move || {
            compute(
                &owned_name,
                &stored,
                &owned_change,
                expected_version,
                &owned_attribution,
                now,
            )
        })
        .await?;
        let (feature, mut event, payload, member) = match outcome {
            Err(error) => {
                connection.unwatch().await;
                return Err(error);
            }
            Ok(Outcome::Unchanged(feature)) => {
                connection.unwatch().await;
                return Ok(Applied {
                    feature,
                    event: None,
                });
            }
            Ok(Outcome::Write {
                feature,
                event,
                payload,
                member,
            }) => (feature, event, payload, member),
        };
        let commit = Commit {
            name,
            payload: Some(&payload),
            member: &member,
            now,
        };
        if let Some(id) = commit.run(shared, &mut connection).await? {
            event.id = id;
            return Ok(Applied {
                feature,
                event: Some(event),
            });
        }
        back_off(attempt).await;
    }
    Err(contention(name.as_str(), MAX_ATTEMPTS))
}

fn compute(
    name: &FeatureName,
    stored: &Stored,
    change: &Change,
    expected_version: Option<u64>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let existing = stored.feature(name);
    let before = FullLists::of(existing.as_ref());
    let Some(write) = prepare_change(name, existing, change, expected_version, attribution, now)?
    else {
        // Decoding again is cheaper than copying every feature before each change.
        let feature = stored
            .feature(name)
            .ok_or_else(|| StoreError::feature_not_found(name.as_str()))?;
        return Ok(Outcome::Unchanged(feature));
    };
    let payload = payload::encode(&write.feature);
    let member = events::encode(
        name,
        &write.event,
        &before,
        &FullLists::of(Some(&write.feature)),
    );
    Ok(Outcome::Write {
        feature: write.feature,
        event: write.event,
        payload,
        member,
    })
}

pub(crate) async fn delete(
    shared: &Shared,
    name: &FeatureName,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<HistoryEvent, StoreError> {
    let _turn = shared.writer_lock(name.as_str()).lock().await;
    for attempt in 0..MAX_ATTEMPTS {
        let mut connection = shared.pool.get().await?;
        let stored = watch_and_read(&mut connection, &shared.keys.feature(name.as_str())).await?;
        let now = now();
        let (owned_name, owned_attribution) = (name.clone(), attribution.clone());
        let prepared = off_runtime(stored.size(), move || {
            let feature = stored
                .feature(&owned_name)
                .ok_or_else(|| StoreError::feature_not_found(owned_name.as_str()))?;
            check_version(&owned_name, Some(&feature), expected_version)?;
            let event = deletion_event(&feature, &owned_attribution, now);
            let member = events::encode(
                &owned_name,
                &event,
                &FullLists::of(Some(&feature)),
                &FullLists::empty(),
            );
            Ok::<_, StoreError>((event, member))
        })
        .await?;
        let (mut event, member) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                connection.unwatch().await;
                return Err(error);
            }
        };
        let commit = Commit {
            name,
            payload: None,
            member: &member,
            now,
        };
        if let Some(id) = commit.run(shared, &mut connection).await? {
            event.id = id;
            return Ok(event);
        }
        back_off(attempt).await;
    }
    Err(contention(name.as_str(), MAX_ATTEMPTS))
}

/// WATCHes a feature key and reads it, in one round trip.
pub(crate) async fn watch_and_read(
    connection: &mut Connection<'_>,
    key: &str,
) -> Result<Stored, StoreError> {
    const CONTEXT: &str = "reading a feature to change it";
    let mut pipeline = redis::pipe();
    pipeline
        .cmd("WATCH")
        .arg(key)
        .ignore()
        .get(key)
        .ignore_errors();
    connection.set_watching(true);
    let reply = connection
        .first(CONTEXT, Request::Pipeline(&pipeline))
        .await?;
    let value = array(reply, CONTEXT)?
        .pop()
        .ok_or_else(|| unexpected(CONTEXT))?;
    Stored::from_reply(value, CONTEXT)
}

/// The commit of one feature write (`payload`) or deletion (`None`).
struct Commit<'a> {
    name: &'a FeatureName,
    payload: Option<&'a str>,
    member: &'a str,
    now: DateTime<Utc>,
}

impl Commit<'_> {
    /// Runs the write script in MULTI/EXEC; the event id, or `None` when the watched payload
    /// changed since it was read (nothing was written).
    async fn run(
        &self,
        shared: &Shared,
        connection: &mut Connection<'_>,
    ) -> Result<Option<u64>, StoreError> {
        const CONTEXT: &str = "committing a feature write";
        let keys = &shared.keys;
        let name = self.name.as_str();
        let mut script = eval(
            &shared.scripts.write_feature,
            &[
                keys.feature(name),
                keys.registry(),
                keys.version(),
                keys.digests(),
                keys.events(name),
                keys.global_events(),
                keys.group_events(),
            ],
        );
        script
            .arg(name)
            .arg(if self.payload.is_some() {
                "set"
            } else {
                "delete"
            })
            .arg(self.member)
            .arg(self.now.timestamp_micros())
            .arg(shared.url.history_limit)
            .arg(keys.channel())
            .arg(&shared.origin);
        let mut transaction = redis::pipe();
        transaction.atomic();
        // The payload is SET by a plain command rather than passed to the script: Redis then
        // stores a megabyte payload straight from the request instead of copying it into Lua
        // and back. MULTI/EXEC keeps the SET and the script one atomic step.
        match self.payload {
            Some(payload) => transaction.set(keys.feature(name), payload).ignore(),
            // A deleted feature's migration reports go with it, in the same transaction.
            None => transaction
                .del(keys.feature(name))
                .ignore()
                .del(keys.migrations(name))
                .ignore(),
        };
        transaction.add_command(script);
        let _gate = shared.gate.read().await;
        let reply = connection
            .commit(CONTEXT, Request::Pipeline(&transaction))
            .await?;
        // EXEC ends the WATCH whether it committed or not.
        connection.set_watching(false);
        if reply == Value::Nil {
            return Ok(None);
        }
        let results = array(reply, CONTEXT)?;
        let result = array(
            results
                .into_iter()
                .last()
                .ok_or_else(|| unexpected(CONTEXT))?,
            CONTEXT,
        )?;
        let [version, id] = result.as_slice() else {
            return Err(unexpected(CONTEXT));
        };
        let (version, id) = (count(version, CONTEXT)?, count(id, CONTEXT)?);
        shared.announce(version, Some(self.name.clone()));
        Ok(Some(id))
    }
}

/// Waits a little before retrying a write that lost a race, more after each loss, with jitter
/// so that competing processes do not retry in lockstep.
pub(crate) async fn back_off(attempt: usize) {
    let jitter = u64::from(Utc::now().timestamp_subsec_nanos() % 1000);
    let scale = (attempt as u64 + 1).min(20);
    tokio::time::sleep(Duration::from_micros(jitter * scale)).await;
}
