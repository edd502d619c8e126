//! Stored groups and their versions: reading them, and writing or deleting one at an expected
//! version.
//!
//! Groups live in `ramp:groups` (name -> JSON) and their versions beside them in
//! `ramp:group-versions` (name -> the store version of the write that last wrote the group),
//! both under `ramp:`, which the gem never reads. A write is one script, so the version check,
//! the write and its history event (in `ramp:group-events`, see `group_events`) are one atomic
//! step for every process using the Redis server.

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, GroupName, HistoryEvent, StoredGroup};
use ramp_store::prepare::{check_group_version, group_deletion_event, prepare_group_write};
use ramp_store::{StoreError, VersionedGroup};
use redis::Value;

use crate::group_events;
use crate::pool::{Connection, Request};
use crate::reply::{array, bytes, count, unexpected};
use crate::scripts::eval;
use crate::store::{contention, now, off_runtime, Shared};
use crate::writes::{back_off, MAX_ATTEMPTS};

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
pub(crate) fn pairs(reply: Value, context: &'static str) -> Result<Vec<Pair>, StoreError> {
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

/// Writes (`Some`) or deletes (`None`) a stored group if it is at `expected_version`, and
/// records the edit; returns the new store version (the group's new version) and the event
/// (`None` when a write changed nothing).
///
/// The event is a diff, computed here from the group as read; the script then writes only if
/// the group is still at the version read, so the event always starts from the version it
/// replaces. A group changed in between (another process: this one's writers of a group take
/// turns) means reading again, a bounded number of times.
pub(crate) async fn write_group(
    shared: &Shared,
    name: &GroupName,
    group: Option<&StoredGroup>,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<(u64, Option<HistoryEvent>), StoreError> {
    let json = match group {
        Some(group) => serde_json::to_string(group).map_err(|error| StoreError::Corrupt {
            backend: crate::error::BACKEND,
            detail: format!("the group cannot be written as JSON: {error}"),
        })?,
        None => String::new(),
    };
    // Not the bare name: a feature of the same name is a different thing to take turns on.
    let _turn = shared
        .writer_lock(&format!("group:{}", name.as_str()))
        .lock()
        .await;
    for attempt in 0..MAX_ATTEMPTS {
        let mut connection = shared.pool.get().await?;
        let (read_version, existing) = read_group(shared, &mut connection, name).await?;
        check_group_version(name, read_version, expected_version)?;
        if group.is_none() && read_version == 0 {
            return Err(StoreError::group_not_found(name.as_str()));
        }
        let now = now();
        let (owned_name, owned_group, owned_attribution) =
            (name.clone(), group.cloned(), attribution.clone());
        let size = existing.len() + json.len();
        let mut event = off_runtime(size, move || {
            describe(
                &owned_name,
                &existing,
                owned_group.as_ref(),
                &owned_attribution,
                now,
            )
        })
        .await??;
        let member = event.as_ref().map(group_events::encode);
        let commit = Commit {
            name,
            json: &json,
            expected_version,
            read_version,
            member: member.as_deref(),
            now,
        };
        match commit.run(shared, &mut connection).await? {
            Committed::Written { version, id } => {
                if let Some(event) = event.as_mut() {
                    event.id = id;
                }
                return Ok((version, event));
            }
            Committed::Changed => back_off(attempt).await,
        }
    }
    Err(contention(
        &format!("group {}", name.as_str()),
        MAX_ATTEMPTS,
    ))
}

/// The version and JSON of one stored group (version 0 and no bytes: no such group), read at
/// one moment.
async fn read_group(
    shared: &Shared,
    connection: &mut Connection<'_>,
    name: &GroupName,
) -> Result<(u64, Vec<u8>), StoreError> {
    const CONTEXT: &str = "reading a stored group to change it";
    let keys = &shared.keys;
    let mut script = eval(
        &shared.scripts.read_group,
        &[keys.groups(), keys.group_versions()],
    );
    script.arg(name.as_str());
    let reply = connection.first(CONTEXT, Request::Command(&script)).await?;
    let [version, json]: [Value; 2] = array(reply, CONTEXT)?
        .try_into()
        .map_err(|_| unexpected(CONTEXT))?;
    Ok((count(&version, CONTEXT)?, bytes(json, CONTEXT)?))
}

/// The event of writing `group` (`None`: deleting) over the stored JSON `existing`. Stored JSON
/// that cannot be read counts as no group for a write (the group is not listed either) and as
/// an empty one for a deletion, so that it can still be replaced or deleted.
fn describe(
    name: &GroupName,
    existing: &[u8],
    group: Option<&StoredGroup>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<Option<HistoryEvent>, StoreError> {
    let stored = serde_json::from_slice::<StoredGroup>(existing).ok();
    match group {
        Some(group) => prepare_group_write(stored.as_ref(), group, attribution, now),
        None => {
            let held = stored.unwrap_or_else(|| StoredGroup {
                name: name.clone(),
                description: String::new(),
                members: Vec::new(),
                rules: Vec::new(),
            });
            group_deletion_event(&held, attribution, now).map(Some)
        }
    }
}

/// The commit of one group write (`json`) or deletion (empty `json`) with its event.
struct Commit<'a> {
    name: &'a GroupName,
    json: &'a str,
    expected_version: Option<u64>,
    read_version: u64,
    member: Option<&'a str>,
    now: DateTime<Utc>,
}

/// What the commit script did.
enum Committed {
    Written {
        version: u64,
        id: u64,
    },
    /// The group changed since it was read: nothing was written.
    Changed,
}

impl Commit<'_> {
    async fn run(
        &self,
        shared: &Shared,
        connection: &mut Connection<'_>,
    ) -> Result<Committed, StoreError> {
        const CONTEXT: &str = "writing a stored group";
        let keys = &shared.keys;
        let mut script = eval(
            &shared.scripts.write_group,
            &[
                keys.groups(),
                keys.version(),
                keys.group_versions(),
                keys.global_events(),
                keys.group_events(),
            ],
        );
        script
            .arg(self.name.as_str())
            .arg(self.json)
            .arg(keys.channel())
            .arg(&shared.origin)
            .arg(
                self.expected_version
                    .map_or_else(String::new, |version| version.to_string()),
            )
            .arg(self.read_version)
            .arg(self.member.unwrap_or_default())
            .arg(self.now.timestamp_micros())
            .arg(shared.url.history_limit);
        let _gate = shared.gate.read().await;
        let reply = connection
            .commit(CONTEXT, Request::Command(&script))
            .await?;
        let [outcome, number, id]: [Value; 3] = array(reply, CONTEXT)?
            .try_into()
            .map_err(|_| unexpected(CONTEXT))?;
        let (number, id) = (count(&number, CONTEXT)?, count(&id, CONTEXT)?);
        match count(&outcome, CONTEXT)? {
            0 => {
                shared.announce(number, None);
                Ok(Committed::Written {
                    version: number,
                    id,
                })
            }
            1 => Err(StoreError::group_conflict(
                self.name.as_str(),
                self.expected_version.unwrap_or(0),
                number,
            )),
            2 => Err(StoreError::group_not_found(self.name.as_str())),
            3 => Ok(Committed::Changed),
            _ => Err(unexpected(CONTEXT)),
        }
    }
}
