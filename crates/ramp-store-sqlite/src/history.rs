//! History events as rows of the `history` table: recording one inside a write's transaction,
//! and reading pages of them newest first.
//!
//! Ids come from SQLite (`AUTOINCREMENT`), so they grow across processes sharing the file and
//! are never reused. A row that does not decode is `Corrupt` naming its id and feature.

use ramp_core::{Action, FeatureName, FieldChange, HistoryEvent};
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
            "history of feature {:?}: cannot encode the changes: {error}",
            event.feature.as_str()
        ))
    })?;
    connection
        .prepare_cached("INSERT INTO history (feature, action, actor, time, comment, changes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .and_then(|mut statement| {
            statement.execute(params![
                event.feature.as_str(),
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

/// Whether an event recording the same change (feature, action, actor, time) is stored; the
/// time is compared to the microsecond, as `ramp_store::prepare::same_event` does.
pub(crate) fn event_exists(
    connection: &Connection,
    event: &HistoryEvent,
) -> Result<bool, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT time FROM history WHERE feature = ?1 AND action = ?2 AND actor = ?3",
        )
        .map_err(sql("looking for a copied event"))?;
    let mut rows = statement
        .query(params![
            event.feature.as_str(),
            action_name(event.action),
            event.actor
        ])
        .map_err(sql("looking for a copied event"))?;
    while let Some(row) = rows.next().map_err(sql("looking for a copied event"))? {
        let time = text(row, 0, "time")
            .and_then(parse_time)
            .map_err(|reason| {
                corrupt(format!(
                    "history of feature {:?}: {reason}",
                    event.feature.as_str()
                ))
            })?;
        if time.timestamp_micros() == event.time.timestamp_micros() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A page of history, newest first, exactly as `MemoryStore` filters it.
pub(crate) fn read_events(
    connection: &Connection,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    // Ids above i64::MAX do not exist, so "before" such an id means "before any id".
    let before = query
        .before_id
        .map(|before| i64::try_from(before).unwrap_or(i64::MAX));
    let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
    let feature = query.feature.as_ref().map(FeatureName::as_str);
    // One statement per filter combination, so that SQLite uses the (feature, id) index or the
    // primary key directly instead of a plan for `?1 IS NULL OR ...`.
    let (statement, parameters): (&str, Vec<&dyn ToSql>) = match (&feature, &before) {
        (Some(feature), Some(before)) => (
            "SELECT id, feature, action, actor, time, comment, changes FROM history
             WHERE feature = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            vec![feature, before, &limit],
        ),
        (Some(feature), None) => (
            "SELECT id, feature, action, actor, time, comment, changes FROM history
             WHERE feature = ?1 ORDER BY id DESC LIMIT ?2",
            vec![feature, &limit],
        ),
        (None, Some(before)) => (
            "SELECT id, feature, action, actor, time, comment, changes FROM history
             WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            vec![before, &limit],
        ),
        (None, None) => ("SELECT id, feature, action, actor, time, comment, changes FROM history ORDER BY id DESC LIMIT ?1", vec![&limit]),
    };
    let mut statement = connection
        .prepare_cached(statement)
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

/// One event by id.
pub(crate) fn read_event(
    connection: &Connection,
    id: u64,
) -> Result<Option<HistoryEvent>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let mut statement = connection
        .prepare_cached(
            "SELECT id, feature, action, actor, time, comment, changes FROM history WHERE id = ?1",
        )
        .map_err(sql("reading history"))?;
    let mut rows = statement.query([id]).map_err(sql("reading history"))?;
    match rows.next().map_err(sql("reading history"))? {
        Some(row) => decode_event(row).map(Some),
        None => Ok(None),
    }
}

fn decode_event(row: &Row<'_>) -> Result<HistoryEvent, StoreError> {
    let id: i64 = row.get(0).map_err(sql("reading history"))?;
    let feature = text(row, 1, "feature").unwrap_or("?");
    parse_event(row, id)
        .map_err(|what| corrupt(format!("history event {id} of feature {feature:?}: {what}")))
}

fn parse_event(row: &Row<'_>, id: i64) -> Result<HistoryEvent, String> {
    let changes: Vec<FieldChange> = serde_json::from_str(text(row, 6, "changes")?)
        .map_err(|error| format!("changes are not readable: {error}"))?;
    let comment = match row.get_ref(5) {
        Ok(rusqlite::types::ValueRef::Null) => None,
        _ => Some(text(row, 5, "comment")?.to_owned()),
    };
    Ok(HistoryEvent {
        id: u64::try_from(id).map_err(|_| "the id is negative")?,
        feature: FeatureName::new(text(row, 1, "feature")?).map_err(|error| error.to_string())?,
        action: parse_action(text(row, 2, "action")?)?,
        actor: text(row, 3, "actor")?.to_owned(),
        time: parse_time(text(row, 4, "time")?)?,
        comment,
        changes,
    })
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Created => "created",
        Action::Updated => "updated",
        Action::Deleted => "deleted",
    }
}

fn parse_action(text: &str) -> Result<Action, String> {
    [Action::Created, Action::Updated, Action::Deleted]
        .into_iter()
        .find(|action| action_name(*action) == text)
        .ok_or_else(|| format!("unknown action {text:?}"))
}
