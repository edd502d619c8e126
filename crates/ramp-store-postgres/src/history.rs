//! Reading the `history` table: pages of events newest first, one event by id, and decoding
//! rows into `HistoryEvent`s. Events are written by the statements in `writes.rs` (features),
//! `groups.rs` (stored groups) and `import.rs`, inside the transaction of the change they
//! record.
//!
//! An event's subject is two columns: `subject` (`feature` or `group`) and `feature`, which
//! holds the subject's name whichever kind it is (`migrations/V5__group_history.sql`).
//!
//! Each query shape has its own statement so that PostgreSQL walks an index backwards and stops
//! after `limit` rows: `history_by_subject (subject, feature, id DESC)` for one feature or one
//! group, `history_by_actor` for one actor, `history_by_time` for a time window, the primary
//! key for everything. A row that does not decode is `Corrupt` naming its id and subject.

use std::collections::HashMap;

use deadpool_postgres::Object;
use ramp_core::{FeatureName, FieldChange, GroupName, HistoryEvent, SubjectKind};
use ramp_store::prepare::parse_action;
use ramp_store::{HistoryQuery, StoreError};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Row;

use crate::error::{corrupt, sql};

/// The columns `decode_event` reads, in order.
const EVENT_COLUMNS: &str = "id, subject, feature, action, actor, time, comment, changes";

/// A page of history, newest first, filtered as `HistoryQuery::keeps` says.
pub(crate) async fn read_events(
    client: &Object,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    if query.feature.is_some() && query.group.is_some() {
        // An event is a feature's or a group's, never both.
        return Ok(Vec::new());
    }
    // Ids above i64::MAX do not exist, so "before" such an id means "before any id".
    let before = query
        .before_id
        .map(|before| i64::try_from(before).unwrap_or(i64::MAX));
    let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
    let feature = query.feature.as_ref().map(FeatureName::as_str);
    let group = query.group.as_ref().map(GroupName::as_str);
    let actor = query.actor.as_deref();
    // Only the filters given, rather than `$1 IS NULL OR ...`, so that the planner sees which
    // index fits (by subject, by actor, by time, or the primary key) and stops after `limit`
    // rows; one cached statement per combination. The subject's kind is a literal, so that
    // the planner matches it to `history_by_subject`'s first column.
    let filters: [(&str, Option<&(dyn ToSql + Sync)>); 6] = [
        (
            "subject = 'feature' AND feature =",
            feature.as_ref().map(|value| value as _),
        ),
        (
            "subject = 'group' AND feature =",
            group.as_ref().map(|value| value as _),
        ),
        ("actor =", actor.as_ref().map(|value| value as _)),
        ("time >=", query.since.as_ref().map(|value| value as _)),
        ("time <", query.until.as_ref().map(|value| value as _)),
        ("id <", before.as_ref().map(|value| value as _)),
    ];
    let mut clauses = Vec::new();
    let mut parameters: Vec<&(dyn ToSql + Sync)> = Vec::new();
    for (clause, value) in filters {
        if let Some(value) = value {
            parameters.push(value);
            clauses.push(format!("{clause} ${}", parameters.len()));
        }
    }
    parameters.push(&limit);
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let statement = client
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM history {filter} ORDER BY id DESC LIMIT ${}",
            parameters.len()
        ))
        .await
        .map_err(sql("reading history"))?;
    let rows = client
        .query(&statement, &parameters)
        .await
        .map_err(sql("reading history"))?;
    rows.iter().map(decode_event).collect()
}

/// The newest event of each named feature, in one statement: for each name, one step down the
/// `history_by_subject` index. A group's events never count, whatever its name.
pub(crate) async fn latest_events(
    client: &Object,
    features: &[FeatureName],
) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
    let names: Vec<&str> = features.iter().map(FeatureName::as_str).collect();
    let statement = client
        .prepare_cached(&format!(
            "SELECT latest.* FROM unnest($1::text[]) AS wanted (name)
             CROSS JOIN LATERAL (
                 SELECT {EVENT_COLUMNS} FROM history
                 WHERE subject = 'feature' AND feature = wanted.name
                 ORDER BY id DESC LIMIT 1) AS latest"
        ))
        .await
        .map_err(sql("reading the latest events"))?;
    let rows = client
        .query(&statement, &[&names])
        .await
        .map_err(sql("reading the latest events"))?;
    let mut latest = HashMap::with_capacity(rows.len());
    for row in &rows {
        let event = decode_event(row)?;
        // Always a feature: the statement reads no other subject.
        if let Some(feature) = event.feature().cloned() {
            latest.insert(feature, event);
        }
    }
    Ok(latest)
}

/// One event by id.
pub(crate) async fn read_event(
    client: &Object,
    id: u64,
) -> Result<Option<HistoryEvent>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let statement = client
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM history WHERE id = $1"
        ))
        .await
        .map_err(sql("reading history"))?;
    let row = client
        .query_opt(&statement, &[&id])
        .await
        .map_err(sql("reading history"))?;
    row.as_ref().map(decode_event).transpose()
}

fn decode_event(row: &Row) -> Result<HistoryEvent, StoreError> {
    let id: i64 = row.try_get(0).unwrap_or(-1);
    let subject: &str = row.try_get(1).unwrap_or("?");
    let name: &str = row.try_get(2).unwrap_or("?");
    parse_event(row)
        .map_err(|what| corrupt(format!("history event {id} of {subject} {name:?}: {what}")))
}

fn parse_event(row: &Row) -> Result<HistoryEvent, String> {
    let column = |index: usize, error: tokio_postgres::Error| {
        format!("column {}: {error}", row.columns()[index].name())
    };
    let id: i64 = row.try_get(0).map_err(|error| column(0, error))?;
    let kind: &str = row.try_get(1).map_err(|error| column(1, error))?;
    let kind = SubjectKind::parse(kind).ok_or_else(|| format!("unknown subject {kind:?}"))?;
    let subject = kind
        .subject(row.try_get(2).map_err(|error| column(2, error))?)
        .map_err(|error| error.to_string())?;
    let Json(changes): Json<Vec<FieldChange>> = row
        .try_get(7)
        .map_err(|error| format!("changes are not readable: {error}"))?;
    Ok(HistoryEvent {
        id: u64::try_from(id).map_err(|_| "the id is negative")?,
        subject,
        action: parse_action(row.try_get(3).map_err(|error| column(3, error))?)?,
        actor: row.try_get(4).map_err(|error| column(4, error))?,
        time: row.try_get(5).map_err(|error| column(5, error))?,
        comment: row.try_get(6).map_err(|error| column(6, error))?,
        changes,
    })
}
