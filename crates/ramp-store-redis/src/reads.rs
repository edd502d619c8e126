//! The read operations: snapshot, one feature (history: `history_reads.rs`; stored groups:
//! `groups.rs`).
//!
//! A snapshot is one script, so it is consistent even while Ruby apps write; it also notices
//! unannounced changes first (see `scripts::SNAPSHOT`), so its version always reflects them.

use ramp_core::{Feature, FeatureName, Snapshot};
use ramp_store::StoreError;
use redis::Value;

use crate::groups::parse_groups;
use crate::pool::Request;
use crate::reply::{array, bytes, count, unexpected, Stored};
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
