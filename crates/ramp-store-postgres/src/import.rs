//! Writes of many features at once: `import` (features and stored groups, all or nothing, with
//! an event for each one changed; the groups' part is in `group_import.rs`) and
//! `import_history` (events copied from another store, features' and groups', each kept once).
//!
//! Both send whole columns as arrays (`unnest`), so 10,000 features cost a handful of round
//! trips rather than 10,000. They take their locks in the same order as single writes (feature
//! rows by name, then groups, then `meta` last), so they never deadlock with them.

use std::collections::{BTreeMap, HashSet};

use chrono::SubsecRound;
use ramp_core::{Attribution, Feature, FeatureName, HistoryEvent, StoredGroup};
use ramp_store::import::{import_features, ImportTarget};
use ramp_store::prepare::{action_name, PreparedWrite};
use ramp_store::{ImportSummary, ImportedFeature, StoreError};
use tokio_postgres::types::{Json, ToSql};

use crate::error::{commit_error, sql, unavailable};
use crate::group_import::{stamp_imported_groups, write_groups, WrittenGroups};
use crate::rows::{decode_features, now, FEATURE_COLUMNS};
use crate::shared::Shared;
use crate::writes::version_of;
use ramp_store::list_column::join;

/// Rows of `features` from column arrays, in `FEATURE_COLUMNS` order.
const ROWS: &str = "unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::text[],
    $6::jsonb[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::int8[], $11::text[])
    AS new (name, percentage, users, excluded_users, groups, data, stage, created_at,
        updated_at, version, kind)";

/// Events from column arrays, numbered in the order given. `feature` is the subject's name,
/// whichever its kind (as in the table).
const EVENTS: &str = "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
    $6::text[], $7::jsonb[])
    WITH ORDINALITY AS event (subject, feature, action, actor, time, comment, changes, position)";

/// How many times an import starts again because other writers created some of its new
/// features first.
const ATTEMPTS: usize = 5;

pub(crate) async fn import(
    shared: &Shared,
    features: &[ImportedFeature],
    groups: &[StoredGroup],
    attribution: &Attribution,
) -> Result<ImportSummary, StoreError> {
    for _ in 0..ATTEMPTS {
        if let Some(summary) = import_once(shared, features, groups, attribution).await? {
            return Ok(summary);
        }
    }
    Err(unavailable(
        "importing",
        "other writers kept creating the imported features; try again",
    ))
}

/// One attempt; `None` when another writer created one of the new features meanwhile (the
/// transaction is rolled back, and the next attempt sees that feature).
async fn import_once(
    shared: &Shared,
    features: &[ImportedFeature],
    groups: &[StoredGroup],
    attribution: &Attribution,
) -> Result<Option<ImportSummary>, StoreError> {
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning an import"))?;
    let mut names: Vec<&str> = features
        .iter()
        .map(|imported| imported.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let locked = transaction
        .query(
            &format!("SELECT {FEATURE_COLUMNS} FROM features WHERE name = ANY($1) ORDER BY name FOR UPDATE"),
            &[&names],
        )
        .await
        .map_err(sql("reading the features to import"))?;
    let mut stored = BTreeMap::new();
    for feature in decode_features(locked).await? {
        stored.insert(feature.name.clone(), feature);
    }
    let in_table: HashSet<FeatureName> = stored.keys().cloned().collect();

    let mut working = WorkingCopy {
        stored,
        changed: HashSet::new(),
        events: Vec::new(),
    };
    let now = now();
    let mut summary = import_features(features, attribution, now, &mut working)?;
    summary.groups = groups.len();
    let WorkingCopy {
        stored,
        changed,
        mut events,
    } = working;

    let (updated, created): (Vec<&Feature>, Vec<&Feature>) = stored
        .values()
        .filter(|feature| changed.contains(&feature.name))
        .partition(|feature| in_table.contains(&feature.name));
    let update = format!(
        "UPDATE features SET percentage = new.percentage, users = new.users,
            excluded_users = new.excluded_users, groups = new.groups, data = new.data,
            stage = new.stage, created_at = new.created_at, updated_at = new.updated_at,
            version = new.version, kind = new.kind
         FROM {ROWS} WHERE features.name = new.name"
    );
    write_features(&transaction, &update, &updated).await?;
    let insert = format!(
        "INSERT INTO features ({FEATURE_COLUMNS}) SELECT * FROM {ROWS} ON CONFLICT (name) DO NOTHING"
    );
    let inserted = write_features(&transaction, &insert, &created).await?;
    if inserted < created.len() as u64 {
        return Ok(None);
    }
    let Some(WrittenGroups {
        names: group_names,
        events: group_events,
    }) = write_groups(&transaction, groups, attribution, now).await?
    else {
        return Ok(None);
    };
    // Features' events first, then groups', as the memory store records them.
    events.extend(group_events);
    // The version last among the locks, and before the history rows, so their ids follow
    // commit order.
    let bumped = transaction
        .query_one(
            "WITH bumped AS (UPDATE meta SET version = version + 1 RETURNING version),
             notified AS (SELECT pg_notify($1::text, json_build_object(
                 'origin', $2::text, 'version', version, 'feature', NULL)::text) FROM bumped)
             SELECT bumped.version FROM bumped, notified",
            &[&shared.channel, &shared.origin],
        )
        .await
        .map_err(sql("bumping the store version"))?;
    let version = version_of(bumped.try_get(0))?;
    stamp_imported_groups(&transaction, &group_names, version).await?;
    let insert_events = format!(
        "INSERT INTO history (subject, feature, action, actor, time, comment, changes)
         SELECT subject, feature, action, actor, time, comment, changes FROM {EVENTS}
         ORDER BY position"
    );
    write_events(&transaction, &insert_events, &events).await?;
    transaction
        .commit()
        .await
        .map_err(commit_error("committing an import"))?;
    shared.announce(version, None);
    Ok(Some(summary))
}

/// The features an import read (locked), as it changes them, and what it will write.
struct WorkingCopy {
    stored: BTreeMap<FeatureName, Feature>,
    changed: HashSet<FeatureName>,
    events: Vec<HistoryEvent>,
}

impl ImportTarget for WorkingCopy {
    fn stored(&mut self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        Ok(self.stored.get(name).cloned())
    }

    fn write(&mut self, write: PreparedWrite) -> Result<(), StoreError> {
        self.changed.insert(write.feature.name.clone());
        self.stored
            .insert(write.feature.name.clone(), write.feature);
        self.events.push(write.event);
        Ok(())
    }
}

/// Copied events, oldest first, in one transaction; those already here (same subject, action,
/// actor and time to the microsecond) are skipped, as are repeats within `events`.
pub(crate) async fn import_history(
    shared: &Shared,
    events: &[HistoryEvent],
) -> Result<usize, StoreError> {
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning a history import"))?;
    // Locking the version row queues this behind every write in progress (and them behind it):
    // two copies running at once cannot both find an event missing, and ids follow commit order.
    transaction
        .execute("SELECT FROM meta FOR UPDATE", &[])
        .await
        .map_err(sql("locking the store for a history import"))?;
    let statement = format!(
        "INSERT INTO history (subject, feature, action, actor, time, comment, changes)
         SELECT subject, feature, action, actor, time, comment, changes FROM (
             SELECT DISTINCT ON (subject, feature, action, actor, time) * FROM {EVENTS}
             ORDER BY subject, feature, action, actor, time, position
         ) AS copied
         WHERE NOT EXISTS (
             SELECT FROM history AS stored
             WHERE stored.subject = copied.subject AND stored.feature = copied.feature
                 AND stored.action = copied.action AND stored.actor = copied.actor
                 AND stored.time = copied.time)
         ORDER BY position"
    );
    let added = write_events(&transaction, &statement, events).await?;
    transaction
        .commit()
        .await
        .map_err(commit_error("committing a history import"))?;
    Ok(usize::try_from(added).unwrap_or(usize::MAX))
}

/// Runs `statement` over `features` as the column arrays of `ROWS`; how many rows it wrote.
async fn write_features(
    transaction: &deadpool_postgres::Transaction<'_>,
    statement: &str,
    features: &[&Feature],
) -> Result<u64, StoreError> {
    if features.is_empty() {
        return Ok(0);
    }
    let mut versions = Vec::with_capacity(features.len());
    for feature in features {
        versions.push(i64::try_from(feature.version).map_err(|_| {
            crate::error::corrupt(format!(
                "feature {:?}: version overflow",
                feature.name.as_str()
            ))
        })?);
    }
    let names: Vec<&str> = features
        .iter()
        .map(|feature| feature.name.as_str())
        .collect();
    let percentages: Vec<f64> = features
        .iter()
        .map(|feature| feature.percentage.value())
        .collect();
    let users: Vec<String> = features
        .iter()
        .map(|feature| join(&feature.users))
        .collect();
    let excluded: Vec<String> = features
        .iter()
        .map(|feature| join(&feature.excluded_users))
        .collect();
    let groups: Vec<String> = features
        .iter()
        .map(|feature| join(&feature.groups))
        .collect();
    let data: Vec<Json<_>> = features.iter().map(|feature| Json(&feature.data)).collect();
    let stages: Vec<&str> = features
        .iter()
        .map(|feature| feature.stage.as_str())
        .collect();
    let kinds: Vec<&str> = features
        .iter()
        .map(|feature| feature.kind.as_str())
        .collect();
    let created: Vec<_> = features.iter().map(|feature| feature.created_at).collect();
    let updated: Vec<_> = features.iter().map(|feature| feature.updated_at).collect();
    let columns: [&(dyn ToSql + Sync); 11] = [
        &names,
        &percentages,
        &users,
        &excluded,
        &groups,
        &data,
        &stages,
        &created,
        &updated,
        &versions,
        &kinds,
    ];
    transaction
        .execute(statement, &columns)
        .await
        .map_err(sql("writing imported features"))
}

/// Runs `statement` over `events` as the column arrays of `EVENTS`; how many rows it wrote.
async fn write_events(
    transaction: &deadpool_postgres::Transaction<'_>,
    statement: &str,
    events: &[HistoryEvent],
) -> Result<u64, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let subjects: Vec<&str> = events
        .iter()
        .map(|event| event.subject.kind().as_str())
        .collect();
    let names: Vec<&str> = events.iter().map(|event| event.subject.name()).collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|event| action_name(event.action))
        .collect();
    let actors: Vec<&str> = events.iter().map(|event| event.actor.as_str()).collect();
    // Whole microseconds, as stored, so that the comparison with stored times is exact.
    let times: Vec<_> = events
        .iter()
        .map(|event| event.time.trunc_subsecs(6))
        .collect();
    let comments: Vec<Option<&str>> = events
        .iter()
        .map(|event| event.comment.as_deref())
        .collect();
    let changes: Vec<Json<_>> = events.iter().map(|event| Json(&event.changes)).collect();
    transaction
        .execute(
            statement,
            &[
                &subjects, &names, &actions, &actors, &times, &comments, &changes,
            ],
        )
        .await
        .map_err(sql("recording history"))
}
