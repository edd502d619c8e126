//! Stored groups and their versions: reading them, and writing or deleting one at an expected
//! version.
//!
//! Groups live in `ramp:groups` (name -> JSON) and their versions beside them in
//! `ramp:group-versions` (name -> the store version of the write that last wrote the group),
//! both under `ramp:`, which the gem never reads. A write is one script, so the version check
//! and the write are one atomic step for every process using the Redis server.

use ramp_core::{GroupName, StoredGroup};
use ramp_store::{StoreError, VersionedGroup};
use redis::Value;

use crate::pool::Request;
use crate::reply::{array, bytes, count, unexpected};
use crate::scripts::eval;
use crate::store::Shared;

/// The version of a group written before Ramp kept versions.
const UNRECORDED_VERSION: u64 = 1;

/// Every stored group with its version, sorted by name.
pub(crate) async fn groups(shared: &Shared) -> Result<Vec<VersionedGroup>, StoreError> {
    const CONTEXT: &str = "reading stored groups";
    let keys = &shared.keys;
    let script = eval(
        &shared.scripts.read_groups,
        &[keys.groups(), keys.group_versions()],
    );
    let mut connection = shared.pool.get().await?;
    let reply = connection.first(CONTEXT, Request::Command(&script)).await?;
    let [groups, versions]: [Value; 2] = array(reply, CONTEXT)?
        .try_into()
        .map_err(|_| unexpected(CONTEXT))?;
    parse_groups(groups, Some(versions))
}

/// A hash field and its value, as bytes.
type Pair = (Vec<u8>, Vec<u8>);

/// The field, value pairs of a hash reply (a map in RESP3, a flat list in RESP2).
fn pairs(reply: Value, context: &'static str) -> Result<Vec<Pair>, StoreError> {
    let flat = match reply {
        Value::Map(pairs) => pairs
            .into_iter()
            .flat_map(|(key, value)| [key, value])
            .collect(),
        other => array(other, context)?,
    };
    let mut items = flat.into_iter();
    let mut pairs = Vec::new();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        pairs.push((bytes(name, context)?, bytes(value, context)?));
    }
    Ok(pairs)
}

/// Decodes `HGETALL ramp:groups` (and of `ramp:group-versions`, when given), sorted by name.
/// A group that cannot be read is skipped with a warning: only Ramp writes groups, and one
/// tampered with must not hide the others.
pub(crate) fn parse_groups(
    groups: Value,
    versions: Option<Value>,
) -> Result<Vec<VersionedGroup>, StoreError> {
    const CONTEXT: &str = "reading stored groups";
    let versions: std::collections::HashMap<Vec<u8>, Vec<u8>> = match versions {
        Some(versions) => pairs(versions, CONTEXT)?.into_iter().collect(),
        None => std::collections::HashMap::new(),
    };
    let mut read = Vec::new();
    for (name, json) in pairs(groups, CONTEXT)? {
        match serde_json::from_slice::<StoredGroup>(&json) {
            Ok(group) => {
                let version = versions
                    .get(&name)
                    .and_then(|version| std::str::from_utf8(version).ok()?.parse().ok())
                    .unwrap_or(UNRECORDED_VERSION);
                read.push(VersionedGroup { group, version });
            }
            Err(error) => {
                tracing::warn!(group = %ramp_store::log_text(&String::from_utf8_lossy(&name)), %error, "skipped an unreadable stored group")
            }
        }
    }
    read.sort_by(|left, right| left.group.name.cmp(&right.group.name));
    Ok(read)
}

/// Writes (`Some`) or deletes (`None`) a stored group if it is at `expected_version`; returns
/// the new store version, which is the group's new version.
pub(crate) async fn write_group(
    shared: &Shared,
    name: &GroupName,
    group: Option<&StoredGroup>,
    expected_version: Option<u64>,
) -> Result<u64, StoreError> {
    const CONTEXT: &str = "writing a stored group";
    let json = match group {
        Some(group) => serde_json::to_string(group).map_err(|error| StoreError::Corrupt {
            backend: crate::error::BACKEND,
            detail: format!("the group cannot be written as JSON: {error}"),
        })?,
        None => String::new(),
    };
    let keys = &shared.keys;
    let mut script = eval(
        &shared.scripts.write_group,
        &[keys.groups(), keys.version(), keys.group_versions()],
    );
    script
        .arg(name.as_str())
        .arg(json)
        .arg(keys.channel())
        .arg(&shared.origin)
        .arg(expected_version.map_or_else(String::new, |version| version.to_string()));
    let mut connection = shared.pool.get().await?;
    // A write must not be retried blindly (it may have run): check the connection first.
    let ping = redis::cmd("PING");
    connection.first(CONTEXT, Request::Command(&ping)).await?;
    let _gate = shared.gate.read().await;
    let reply = connection
        .commit(CONTEXT, Request::Command(&script))
        .await?;
    let [outcome, number]: [Value; 2] = array(reply, CONTEXT)?
        .try_into()
        .map_err(|_| unexpected(CONTEXT))?;
    let number = count(&number, CONTEXT)?;
    match count(&outcome, CONTEXT)? {
        0 => {
            shared.announce(number, None);
            Ok(number)
        }
        1 => Err(StoreError::group_conflict(
            name.as_str(),
            expected_version.unwrap_or(0),
            number,
        )),
        2 => Err(StoreError::group_not_found(name.as_str())),
        _ => Err(unexpected(CONTEXT)),
    }
}
