//! Reading the `history` table: pages of events newest first, one event by id, and decoding
//! rows into `HistoryEvent`s. Events are written by the statements in `writes.rs` and
//! `import.rs`, inside the transaction of the change they record.
//!
//! Each query shape has its own statement so that PostgreSQL walks an index backwards and stops
//! after `limit` rows: `history_by_feature (feature, id DESC)` for one feature, the primary key
//! for every feature. A row that does not decode is `Corrupt` naming its id and feature.

use deadpool_postgres::Object;
use ramp_core::{Action, FeatureName, FieldChange, HistoryEvent};
use ramp_store::{HistoryQuery, StoreError};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Row;

use crate::error::{corrupt, sql};

/// The columns `decode_event` reads, in order.
const EVENT_COLUMNS: &str = "id, feature, action, actor, time, comment, changes";

/// A page of history, newest first, exactly as `MemoryStore` filters it.
pub(crate) async fn read_events(
    client: &Object,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEvent>, StoreError> {
    // Ids above i64::MAX do not exist, so "before" such an id means "before any id".
    let before = query
        .before_id
        .map(|before| i64::try_from(before).unwrap_or(i64::MAX));
    let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
    let feature = query.feature.as_ref().map(FeatureName::as_str);
    let (filter, parameters): (&str, Vec<&(dyn ToSql + Sync)>) = match (&feature, &before) {
        (Some(feature), Some(before)) => (
            "WHERE feature = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            vec![feature, before, &limit],
        ),
        (Some(feature), None) => (
            "WHERE feature = $1 ORDER BY id DESC LIMIT $2",
            vec![feature, &limit],
        ),
        (None, Some(before)) => (
            "WHERE id < $1 ORDER BY id DESC LIMIT $2",
            vec![before, &limit],
        ),
        (None, None) => ("ORDER BY id DESC LIMIT $1", vec![&limit]),
    };
    let statement = client
        .prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM history {filter}"))
        .await
        .map_err(sql("reading history"))?;
    let rows = client
        .query(&statement, &parameters)
        .await
        .map_err(sql("reading history"))?;
    rows.iter().map(decode_event).collect()
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
    let feature: &str = row.try_get(1).unwrap_or("?");
    parse_event(row)
        .map_err(|what| corrupt(format!("history event {id} of feature {feature:?}: {what}")))
}

fn parse_event(row: &Row) -> Result<HistoryEvent, String> {
    let column = |index: usize, error: tokio_postgres::Error| {
        format!("column {}: {error}", row.columns()[index].name())
    };
    let id: i64 = row.try_get(0).map_err(|error| column(0, error))?;
    let Json(changes): Json<Vec<FieldChange>> = row
        .try_get(6)
        .map_err(|error| format!("changes are not readable: {error}"))?;
    Ok(HistoryEvent {
        id: u64::try_from(id).map_err(|_| "the id is negative")?,
        feature: FeatureName::new(
            row.try_get::<_, &str>(1)
                .map_err(|error| column(1, error))?,
        )
        .map_err(|error| error.to_string())?,
        action: parse_action(row.try_get(2).map_err(|error| column(2, error))?)?,
        actor: row.try_get(3).map_err(|error| column(3, error))?,
        time: row.try_get(4).map_err(|error| column(4, error))?,
        comment: row.try_get(5).map_err(|error| column(5, error))?,
        changes,
    })
}

/// How an action is stored in the `action` column.
pub(crate) fn action_name(action: Action) -> &'static str {
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
