//! Features as table rows (stored groups are in `groups.rs`): reading, writing and decoding them.
//!
//! Decoding never trusts the file: anything that does not parse into the core's types (a bad
//! user id, JSON that is not an object, an unknown stage or kind) is `Corrupt` naming the feature or
//! group, never a panic and never a silently dropped value. These functions run inside the
//! caller's transaction and never begin or commit one.

use chrono::{DateTime, SecondsFormat, Utc};
use ramp_core::{CoreError, Feature, FeatureKind, FeatureName, Percentage, Stage};
use ramp_store::list_column::{join, split};
use ramp_store::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use crate::error::{corrupt, sql};

/// One feature by name, or `None`.
pub(crate) fn read_feature(
    connection: &Connection,
    name: &FeatureName,
) -> Result<Option<Feature>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT name, percentage, users, excluded_users, groups, data, stage, created_at, updated_at, version, kind
             FROM features WHERE name = ?1",
        )
        .map_err(sql("reading a feature"))?;
    let mut rows = statement
        .query([name.as_str()])
        .map_err(sql("reading a feature"))?;
    match rows.next().map_err(sql("reading a feature"))? {
        Some(row) => decode_feature(row).map(Some),
        None => Ok(None),
    }
}

/// Every feature, sorted by name (SQLite's binary collation sorts as Rust sorts strings).
pub(crate) fn read_features(connection: &Connection) -> Result<Vec<Feature>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT name, percentage, users, excluded_users, groups, data, stage, created_at, updated_at, version, kind
             FROM features ORDER BY name",
        )
        .map_err(sql("reading features"))?;
    let mut rows = statement.query([]).map_err(sql("reading features"))?;
    let mut features = Vec::new();
    while let Some(row) = rows.next().map_err(sql("reading features"))? {
        features.push(decode_feature(row)?);
    }
    Ok(features)
}

/// Creates or replaces a feature's row.
pub(crate) fn write_feature(connection: &Connection, feature: &Feature) -> Result<(), StoreError> {
    let data = serde_json::to_string(&feature.data).map_err(|error| {
        corrupt(format!(
            "feature {:?}: cannot encode its data: {error}",
            feature.name.as_str()
        ))
    })?;
    connection
        .prepare_cached(
            "INSERT INTO features (name, percentage, users, excluded_users, groups, data, stage, created_at, updated_at, version, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (name) DO UPDATE SET
                 percentage = excluded.percentage, users = excluded.users,
                 excluded_users = excluded.excluded_users, groups = excluded.groups, data = excluded.data,
                 stage = excluded.stage, created_at = excluded.created_at,
                 updated_at = excluded.updated_at, version = excluded.version, kind = excluded.kind",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                feature.name.as_str(),
                feature.percentage.value(),
                join(&feature.users),
                join(&feature.excluded_users),
                join(&feature.groups),
                data,
                feature.stage.as_str(),
                format_time(&feature.created_at),
                format_time(&feature.updated_at),
                feature.version,
                feature.kind.as_str(),
            ])
        })
        .map_err(sql("writing a feature"))?;
    Ok(())
}

/// Deletes a feature's row.
pub(crate) fn delete_feature(
    connection: &Connection,
    name: &FeatureName,
) -> Result<(), StoreError> {
    connection
        .prepare_cached("DELETE FROM features WHERE name = ?1")
        .and_then(|mut statement| statement.execute([name.as_str()]))
        .map_err(sql("deleting a feature"))?;
    Ok(())
}

/// Adds one to the store version and returns the new version.
pub(crate) fn bump_store_version(connection: &Connection) -> Result<u64, StoreError> {
    let version: Option<i64> = connection
        .prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map_err(sql("updating the store version"))?;
    version
        .and_then(|version| u64::try_from(version).ok())
        .ok_or_else(|| corrupt("the store version in table meta is missing or negative"))
}

fn decode_feature(row: &Row<'_>) -> Result<Feature, StoreError> {
    let name = text(row, 0, "name").map_err(|what| corrupt(format!("a feature row: {what}")))?;
    parse_feature(row, name).map_err(|what| corrupt(format!("feature {name:?}: {what}")))
}

/// The row's columns in `read_feature`'s order; the error says what is wrong, for `Corrupt`.
fn parse_feature(row: &Row<'_>, name: &str) -> Result<Feature, String> {
    let percentage = match row.get_ref(1) {
        Ok(ValueRef::Real(value)) => value,
        Ok(ValueRef::Integer(value)) => value as f64,
        _ => return Err("percentage is not a number".into()),
    };
    let data: Map<String, Value> = serde_json::from_str(text(row, 5, "data")?)
        .map_err(|error| format!("data is not a JSON object: {error}"))?;
    let version = match row.get_ref(9) {
        Ok(ValueRef::Integer(value)) => u64::try_from(value).map_err(|_| "version is negative")?,
        _ => return Err("version is not an integer".into()),
    };
    Ok(Feature {
        name: FeatureName::new(name).map_err(describe)?,
        percentage: Percentage::new(percentage).map_err(describe)?,
        users: split(text(row, 2, "users")?).map_err(describe)?,
        excluded_users: split(text(row, 3, "excluded_users")?).map_err(describe)?,
        groups: split(text(row, 4, "groups")?).map_err(describe)?,
        data,
        stage: text(row, 6, "stage")?.parse::<Stage>().map_err(describe)?,
        kind: text(row, 10, "kind")?
            .parse::<FeatureKind>()
            .map_err(describe)?,
        created_at: parse_time(text(row, 7, "created_at")?)?,
        updated_at: parse_time(text(row, 8, "updated_at")?)?,
        version,
        // Ramp writes every row itself, so a row it cannot read is corruption, not a damaged
        // feature from another program (see the Redis store for those).
        damaged: None,
    })
}

/// A TEXT column borrowed from the row: a million-id list is parsed straight from SQLite's
/// buffer, without first copying it into a `String`.
pub(crate) fn text<'row>(
    row: &'row Row<'_>,
    index: usize,
    column: &str,
) -> Result<&'row str, String> {
    row.get_ref(index)
        .ok()
        .and_then(|value| value.as_str().ok())
        .ok_or_else(|| format!("{column} is not text"))
}

fn describe(error: CoreError) -> String {
    error.to_string()
}

/// RFC 3339 in UTC with all nine fraction digits: exact (a feature reads back equal to what
/// was written) and sortable as text.
pub(crate) fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| format!("time {text:?} is not RFC 3339: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramp_core::UserId;

    #[test]
    fn lists_join_and_split_back() {
        let users: Vec<UserId> = ["1", "alice@example.com", "with space"]
            .into_iter()
            .map(|id| UserId::new(id).unwrap())
            .collect();
        assert_eq!(split::<UserId>(&join(&users)).unwrap(), users);
        assert_eq!(
            split::<UserId>(&join::<UserId>(&[])).unwrap(),
            Vec::<UserId>::new()
        );
    }

    #[test]
    fn times_round_trip_exactly() {
        let time = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(parse_time(&format_time(&time)).unwrap(), time);
        assert_eq!(
            format_time(&DateTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000000Z"
        );
    }
}
