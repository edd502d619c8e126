//! Recording exposure batches: one script per attempt, so a batch id is never kept without its
//! counts or the reverse, whatever fails, and a retried batch is counted exactly once.
//!
//! It must stay fast: 100 instances each reporting 10,000 features every 10 s is the case to
//! carry, and Redis runs scripts on its one thread. The cost is one `HINCRBY` per feature,
//! minute and reason with checks, so the batches of one call are merged here first: ten
//! batches of the same features cost one increment each, not ten. Merging is only right for
//! batches that turn out new, which only the script knows: it checks every id before writing,
//! and when one is known writes nothing and says which; the rest are merged again and sent
//! again (each refusal drops at least one batch, so this ends). The step that writes is atomic,
//! as if the whole call had been.

use std::collections::{BTreeMap, HashMap, HashSet};

use ramp_store::exposure::{add_counts, ExposureBatch, ReasonCounts, Resolution, MAX_COUNT};
use ramp_store::StoreError;
use redis::Cmd;

use crate::exposures::seconds;
use crate::keys::Keys;
use crate::pool::Request;
use crate::reply::{array, integer, unexpected};
use crate::scripts::eval;
use crate::store::Shared;

const CONTEXT: &str = "recording exposures";

/// Adds `batches`; per batch, whether it was counted (see the module documentation).
pub(crate) async fn record(
    shared: &Shared,
    batches: &[ExposureBatch],
) -> Result<Vec<bool>, StoreError> {
    let mut counted = vec![false; batches.len()];
    let mut ids = HashSet::new();
    // A repeat within the call is known already: it never reaches Redis.
    let mut pending: Vec<usize> = (0..batches.len())
        .filter(|index| ids.insert(batches[*index].batch_id.as_str()))
        .collect();
    while !pending.is_empty() {
        let command = command(shared, batches, &pending);
        let mut connection = shared.pool.get().await?;
        let reply = connection
            .commit(CONTEXT, Request::Command(&command))
            .await?;
        drop(connection);
        let mut reply = array(reply, CONTEXT)?.into_iter();
        let written = reply.next().ok_or_else(|| unexpected(CONTEXT))?;
        if integer(&written, CONTEXT)? == 1 {
            for index in pending {
                counted[index] = true;
            }
            break;
        }
        let known = array(reply.next().ok_or_else(|| unexpected(CONTEXT))?, CONTEXT)?;
        if known.len() != pending.len() {
            return Err(unexpected(CONTEXT));
        }
        let before = pending.len();
        let mut still = Vec::with_capacity(before);
        for (index, known) in pending.into_iter().zip(&known) {
            if integer(known, CONTEXT)? == 0 {
                still.push(index);
            }
        }
        if still.len() == before {
            return Err(unexpected(CONTEXT));
        }
        pending = still;
    }
    Ok(counted)
}

/// The record script's call for the `pending` batches, their counts merged per feature and
/// minute (saturating, as the store would add them).
fn command(shared: &Shared, batches: &[ExposureBatch], pending: &[usize]) -> Cmd {
    let mut names: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut merged: BTreeMap<(i64, usize), ReasonCounts> = BTreeMap::new();
    let mut reported: Vec<Vec<usize>> = Vec::with_capacity(pending.len());
    let (mut unnamed, mut dropped) = (0u64, 0u64);
    for batch in pending.iter().map(|index| &batches[*index]) {
        let minute = seconds(batch.minute);
        let mut features = Vec::with_capacity(batch.counts.len());
        for (name, counts) in &batch.counts {
            let position = *index.entry(name.as_str()).or_insert_with(|| {
                names.push(name);
                names.len() - 1
            });
            features.push(position);
            add_counts(
                merged
                    .entry((minute, position))
                    .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
                counts,
            );
        }
        reported.push(features);
        unnamed = unnamed.saturating_add(batch.unnamed).min(MAX_COUNT);
        dropped = dropped.saturating_add(batch.dropped).min(MAX_COUNT);
    }
    merged.retain(|_, counts| counts.iter().any(|count| *count > 0));
    let mut minutes: Vec<(i64, usize)> = Vec::new();
    for (minute, _) in merged.keys() {
        match minutes.last_mut() {
            Some((last, features)) if last == minute => *features += 1,
            _ => minutes.push((*minute, 1)),
        }
    }

    let keys = &shared.keys;
    let mut command = eval(
        &shared.scripts.exposures.record,
        &[
            keys.exposure_batches(),
            keys.exposure_totals(),
            keys.exposure_features(),
            keys.exposure_instances(),
        ],
    );
    command
        .arg(keys.exposure_buckets_prefix())
        .arg(keys.exposure_seen_prefix())
        .arg(pending.len())
        .arg(names.len())
        .arg(minutes.len())
        .arg(unnamed)
        .arg(dropped)
        .arg(&names);
    for (batch, features) in pending.iter().map(|index| &batches[*index]).zip(&reported) {
        command
            .arg(&batch.batch_id)
            .arg(seconds(batch.received))
            .arg(Keys::exposure_instance(&batch.application, &batch.instance));
        // Batches of one call mostly report the same features: then no index is sent.
        let all = features.len() == names.len()
            && features.iter().enumerate().all(|(at, index)| at == *index);
        if all {
            command.arg("*");
        } else {
            command.arg(features.len());
            for index in features {
                command.arg(index + 1);
            }
        }
    }
    let mut entries = merged.iter();
    for (minute, features) in minutes {
        command
            .arg(format!("{}:{minute}:", Resolution::Minute.seconds()))
            .arg(features);
        for ((_, name), counts) in entries.by_ref().take(features) {
            let checked = counts.iter().filter(|count| **count > 0).count();
            command.arg(name + 1).arg(checked);
            for (reason, count) in counts.iter().enumerate() {
                if *count > 0 {
                    command
                        .arg(crate::reason_numbers::stored_number(reason))
                        .arg(*count);
                }
            }
        }
    }
    command
}
