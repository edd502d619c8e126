//! History events as rows of the `history` table: recording one inside a write's transaction,
//! and reading pages of them newest first.
//!
//! Ids come from SQLite (`AUTOINCREMENT`), so they grow across processes sharing the file and
//! are never reused. A row that does not decode is `Corrupt` naming its id and subject. The
//! `feature` column holds the subject's name and `subject` says whether it is a feature's or a
//! stored group's (migration 0005).

use std::collections::HashMap;

use ramp_core::{FeatureName, FieldChange, HistoryEvent, SubjectKind};
use ramp_store::prepare::{action_name, parse_action};
use ramp_store::{HistoryQuery, StoreError};
use rusqlite::{params, Connection, Row, ToSql};

use crate::error::{corrupt, sql};
use crate::rows::{format_time, parse_time, text};

/// Records `event` and returns it with the id SQLite gave it.
pub(crate) fn insert_event(
    connection: &Connection,
    mut event: HistoryEvent,
) -> Result<HistoryEvent, StoreError> {
    let changes = serde_json::to_string(&event.changes).map_err(|error| {
        corrupt(format!(
            "history of {}: cannot encode the changes: {error}",
            event.subject
        ))
    })?;
    connection
        .prepare_cached("INSERT INTO history (feature, subject, action, actor, time, comment, changes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .and_then(|mut statement| {
            statement.execute(params![
                event.subject.name(),
                event.subject.kind().as_str(),
                action_name(event.action),
                event.actor,
                format_time(&event.time),
                event.comment,
                changes,
            ])
        })
        .map_err(sql("recording history"))?;
    event.id = u64::try_from(connection.last_insert_rowid())
        .map_err(|_| corrupt("history ids went negative"))?;
    Ok(event)
}

/// Whether an event recording the same change (subject, action, actor, time) is stored; the
/// time is compared to the microsecond, as `ramp_store::import::same_event` does.
pub(crate) fn event_exists(
    connection: &Connection,
    event: &HistoryEvent,
) -> Result<bool, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT time FROM history WHERE feature = ?1 AND subject = ?2 AND action = ?3 AND actor = ?4",
        )
        .map_err(sql("looking for a copied event"))?;
    let mut rows = statement
        .query(params![
            event.subject.name(),
            event.subject.kind().as_str(),
            action_name(event.action),
            event.actor
        ])
        .map_err(sql("looking for a copied event"))?;
    while let Some(row) = rows.next().map_err(sql("looking for a copied event"))? {
        let time = text(row, 0, "time")
            .and_then(parse_time)
            .map_err(|reason| corrupt(format!("history of {}: {reason}", event.subject)))?;
        if time.timestamp_micros() == event.time.timestamp_micros() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The columns `decode_event` reads, in order.
const EVENT_COLUMNS: &str = "id, feature, action, actor, time, comment, changes, subject";

/// A page of history, newest first, filtered as `HistoryQuery::keeps` says.
pub(crate) fn read_events(
    connection: &Connection,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    // Ids above i64::MAX do not exist, so "before" such an id means "before any id".
    let before = query
        .before_id
        .map(|before| i64::try_from(before).unwrap_or(i64::MAX));
    if query.feature.is_some() && query.group.is_some() {
        // No event is both a feature's and a group's.
        return Ok(Vec::new());
    }
    let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
    let subject = query
        .feature
        .as_ref()
        .map(FeatureName::as_str)
        .or(query.group.as_ref().map(|group| group.as_str()));
    // Stored times are fixed-width text that sorts as the times do (see `format_time`).
    let since = query.since.as_ref().map(format_time);
    let until = query.until.as_ref().map(format_time);
    let values: [Option<&dyn ToSql>; 5] = [
        subject.as_ref().map(|value| value as &dyn ToSql),
        query.actor.as_ref().map(|value| value as &dyn ToSql),
        since.as_ref().map(|value| value as &dyn ToSql),
        until.as_ref().map(|value| value as &dyn ToSql),
        before.as_ref().map(|value| value as &dyn ToSql),
    ];
    let mut parameters: Vec<&dyn ToSql> = values.into_iter().flatten().collect();
    parameters.push(&limit);
    let mut statement = connection
        .prepare_cached(&select_events(query))
        .map_err(sql("reading history"))?;
    let mut rows = statement
        .query(parameters.as_slice())
        .map_err(sql("reading history"))?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().map_err(sql("reading history"))? {
        events.push(decode_event(row)?);
    }
    Ok(events)
}

/// The statement for `query`, its parameters in the order subject name (the feature's or the
/// group's), actor, since, until, before, limit (each only when given). Only the filters given, rather than `?1 IS NULL OR
/// ...`, so that SQLite sees which index fits; one cached statement per combination.
///
/// With `since` and neither a feature nor an actor, the time index is named: left to itself
/// SQLite walks the primary key backwards (no sort), which reads the whole table when few
/// events are that recent. Through the index it reads only the window, then sorts it. With
/// only `until`, walking the primary key is right: it stops after `limit` matches.
fn select_events(query: &HistoryQuery) -> String {
    let filters = [
        (
            query.feature.is_some(),
            "feature = ? AND subject = 'feature'",
        ),
        (query.group.is_some(), "feature = ? AND subject = 'group'"),
        (query.actor.is_some(), "actor = ?"),
        (query.since.is_some(), "time >= ?"),
        (query.until.is_some(), "time < ?"),
        (query.before_id.is_some(), "id < ?"),
    ];
    let clauses: Vec<&str> = filters
        .into_iter()
        .filter_map(|(given, clause)| given.then_some(clause))
        .collect();
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let window_only = query.since.is_some()
        && query.feature.is_none()
        && query.group.is_none()
        && query.actor.is_none();
    let index = if window_only {
        "INDEXED BY history_by_time"
    } else {
        ""
    };
    format!("SELECT {EVENT_COLUMNS} FROM history {index} {filter} ORDER BY id DESC LIMIT ?")
}

/// How many names one `latest_events` statement takes.
const NAMES_PER_STATEMENT: usize = 5_000;

/// The newest event of each named feature: one indexed `MAX(id)` per name (the names passed as
/// one JSON array), so 10,000 features cost a few statements, not 10,000.
pub(crate) fn latest_events(
    connection: &Connection,
    features: &[FeatureName],
) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM history WHERE id IN (
                 SELECT (SELECT MAX(id) FROM history
                         WHERE feature = names.value AND subject = 'feature')
                 FROM json_each(?1) AS names)"
        ))
        .map_err(sql("reading the latest events"))?;
    let mut latest = HashMap::with_capacity(features.len());
    for chunk in features.chunks(NAMES_PER_STATEMENT) {
        let names: Vec<&str> = chunk.iter().map(FeatureName::as_str).collect();
        let names = serde_json::to_string(&names)
            .map_err(|error| corrupt(format!("cannot encode feature names: {error}")))?;
        let mut rows = statement
            .query([names])
            .map_err(sql("reading the latest events"))?;
        while let Some(row) = rows.next().map_err(sql("reading the latest events"))? {
            let event = decode_event(row)?;
            if let Some(feature) = event.feature().cloned() {
                latest.insert(feature, event);
            }
        }
    }
    Ok(latest)
}

/// One event by id.
pub(crate) fn read_event(
    connection: &Connection,
    id: u64,
) -> Result<Option<HistoryEvent>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM history WHERE id = ?1"
        ))
        .map_err(sql("reading history"))?;
    let mut rows = statement.query([id]).map_err(sql("reading history"))?;
    match rows.next().map_err(sql("reading history"))? {
        Some(row) => decode_event(row).map(Some),
        None => Ok(None),
    }
}

fn decode_event(row: &Row<'_>) -> Result<HistoryEvent, StoreError> {
    let id: i64 = row.get(0).map_err(sql("reading history"))?;
    let name = text(row, 1, "feature").unwrap_or("?");
    let subject = text(row, 7, "subject").unwrap_or("?");
    parse_event(row, id)
        .map_err(|what| corrupt(format!("history event {id} of {subject} {name:?}: {what}")))
}

fn parse_event(row: &Row<'_>, id: i64) -> Result<HistoryEvent, String> {
    let changes: Vec<FieldChange> = serde_json::from_str(text(row, 6, "changes")?)
        .map_err(|error| format!("changes are not readable: {error}"))?;
    let comment = match row.get_ref(5) {
        Ok(rusqlite::types::ValueRef::Null) => None,
        _ => Some(text(row, 5, "comment")?.to_owned()),
    };
    let kind = text(row, 7, "subject")?;
    let kind = SubjectKind::parse(kind).ok_or_else(|| format!("unknown subject {kind:?}"))?;
    Ok(HistoryEvent {
        id: u64::try_from(id).map_err(|_| "the id is negative")?,
        subject: kind
            .subject(text(row, 1, "feature")?)
            .map_err(|error| error.to_string())?,
        action: parse_action(text(row, 2, "action")?)?,
        actor: text(row, 3, "actor")?.to_owned(),
        time: parse_time(text(row, 4, "time")?)?,
        comment,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    /// The plan SQLite picks for each combination of filters uses an index (or walks the
    /// primary key backwards, stopping at the limit): none reads the table unordered.
    /// (`read_events` answers a feature and a group together without a query.)
    #[test]
    fn every_filter_combination_is_served_by_an_index() {
        let directory = tempfile::tempdir().unwrap();
        let connection = crate::connection::open_writer(&directory.path().join("ramp.db")).unwrap();
        let given = |mask: u32, bit: u32| mask & (1 << bit) != 0;
        for mask in 0..64 {
            let query = HistoryQuery {
                feature: given(mask, 0).then(|| FeatureName::new("chat").unwrap()),
                actor: given(mask, 1).then(|| "ana".to_owned()),
                since: given(mask, 2).then(Utc::now),
                until: given(mask, 3).then(Utc::now),
                before_id: given(mask, 4).then_some(10),
                group: given(mask, 5).then(|| ramp_core::GroupName::new("beta").unwrap()),
                limit: 50,
            };
            let statement = select_events(&query);
            let parameters = statement.matches('?').count();
            let mut explain = connection
                .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
                .unwrap();
            let values: Vec<&dyn ToSql> = (0..parameters).map(|_| &"x" as &dyn ToSql).collect();
            let plan: Vec<String> = explain
                .query_map(values.as_slice(), |row| row.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("; ");
            // With both a feature (or group) and an actor, either index narrows the read.
            let subject = query.feature.is_some() || query.group.is_some();
            let expected: &[&str] = match (subject, &query.actor) {
                (true, Some(_)) => &["history_by_subject", "history_by_actor"],
                (true, None) => &["history_by_subject"],
                (false, Some(_)) => &["history_by_actor"],
                _ if query.since.is_some() => &["history_by_time"],
                _ if query.before_id.is_some() => &["INTEGER PRIMARY KEY"],
                _ => &["SCAN history"],
            };
            assert!(
                expected.iter().any(|index| plan.contains(index)),
                "{statement}: {plan}"
            );
        }
    }
}
