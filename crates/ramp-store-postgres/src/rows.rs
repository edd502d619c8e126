//! Features and stored groups as table rows: the columns a write sends, and decoding the rows
//! a read gets back.
//!
//! Decoding never trusts the table: anything that does not parse into the core's types (a bad
//! user id, data that is not a JSON object, an unknown stage or kind) is `Corrupt` naming the feature
//! or group, never a panic and never a silently dropped value.

use chrono::{DateTime, SubsecRound, Utc};
use ramp_core::{CoreError, Feature, FeatureKind, FeatureName, Percentage, Stage, StoredGroup};
use ramp_store::list_column::{join, split};
use ramp_store::StoreError;
use serde_json::{Map, Value};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Row;

use crate::error::corrupt;

/// The columns of `features`, in the order `decode_feature` reads them.
pub(crate) const FEATURE_COLUMNS: &str =
    "name, percentage, users, excluded_users, groups, data, stage, created_at, updated_at, version, kind";

/// The current time as PostgreSQL stores it: `timestamptz` keeps microseconds, so a feature
/// written with this time reads back equal to the one the write returned.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A feature's columns, ready to bind in `FEATURE_COLUMNS` order.
pub(crate) struct FeatureRow<'a> {
    name: &'a str,
    percentage: f64,
    users: String,
    excluded_users: String,
    groups: String,
    data: Json<&'a Map<String, Value>>,
    stage: &'a str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    kind: &'a str,
}

impl<'a> FeatureRow<'a> {
    /// The row for `feature`.
    pub(crate) fn new(feature: &'a Feature) -> Result<Self, StoreError> {
        Ok(Self {
            name: feature.name.as_str(),
            percentage: feature.percentage.value(),
            users: join(&feature.users),
            excluded_users: join(&feature.excluded_users),
            groups: join(&feature.groups),
            data: Json(&feature.data),
            stage: feature.stage.as_str(),
            created_at: feature.created_at,
            updated_at: feature.updated_at,
            version: i64::try_from(feature.version).map_err(|_| {
                corrupt(format!(
                    "feature {:?}: version overflow",
                    feature.name.as_str()
                ))
            })?,
            kind: feature.kind.as_str(),
        })
    }

    /// The values in `FEATURE_COLUMNS` order.
    pub(crate) fn values(&self) -> [&(dyn ToSql + Sync); 11] {
        [
            &self.name,
            &self.percentage,
            &self.users,
            &self.excluded_users,
            &self.groups,
            &self.data,
            &self.stage,
            &self.created_at,
            &self.updated_at,
            &self.version,
            &self.kind,
        ]
    }
}

/// Rows whose user lists are longer than this are decoded on tokio's blocking pool: splitting
/// and checking a million ids takes a tenth of a second, too long to hold a runtime thread.
const DECODE_INLINE_BYTES: usize = 1 << 20;

/// Decodes rows selected with `FEATURE_COLUMNS`, off the runtime's threads when they are big.
pub(crate) async fn decode_features(rows: Vec<Row>) -> Result<Vec<Feature>, StoreError> {
    let list_bytes: usize = rows_list_bytes(&rows);
    let decode = move || rows.iter().map(decode_feature).collect();
    if list_bytes < DECODE_INLINE_BYTES || tokio::runtime::Handle::try_current().is_err() {
        return decode();
    }
    match tokio::task::spawn_blocking(decode).await {
        Ok(decoded) => decoded,
        // A panic is a bug: let it reach the caller as if the work had run inline.
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(crate::error::unavailable("decoding features", error)),
    }
}

/// Decodes at most one row: `query_opt`'s answer.
pub(crate) async fn decode_optional_feature(
    row: Option<Row>,
) -> Result<Option<Feature>, StoreError> {
    Ok(decode_features(row.into_iter().collect()).await?.pop())
}

/// The length of the rows' user lists, the part that costs to decode.
fn rows_list_bytes(rows: &[Row]) -> usize {
    rows.iter()
        .flat_map(|row| [2, 3].map(|index| row.try_get::<_, &str>(index).map_or(0, str::len)))
        .sum()
}

/// Decodes a row selected with `FEATURE_COLUMNS`.
pub(crate) fn decode_feature(row: &Row) -> Result<Feature, StoreError> {
    let name: &str = row.try_get(0).unwrap_or("?");
    parse_feature(row).map_err(|what| corrupt(format!("feature {name:?}: {what}")))
}

fn parse_feature(row: &Row) -> Result<Feature, String> {
    let column = |index: usize, error: tokio_postgres::Error| {
        format!("column {}: {error}", row.columns()[index].name())
    };
    // Borrowed straight from the row's buffer: a million-id list is split without a copy.
    let text = |index: usize| {
        row.try_get::<_, &str>(index)
            .map_err(|error| column(index, error))
    };
    let Json(data): Json<Map<String, Value>> = row
        .try_get(5)
        .map_err(|error| format!("data is not a JSON object: {error}"))?;
    let version: i64 = row.try_get(9).map_err(|error| column(9, error))?;
    Ok(Feature {
        name: FeatureName::new(text(0)?).map_err(describe)?,
        percentage: Percentage::new(row.try_get(1).map_err(|error| column(1, error))?)
            .map_err(describe)?,
        users: split(text(2)?).map_err(describe)?,
        excluded_users: split(text(3)?).map_err(describe)?,
        groups: split(text(4)?).map_err(describe)?,
        data,
        stage: text(6)?.parse::<Stage>().map_err(describe)?,
        kind: text(10)?.parse::<FeatureKind>().map_err(describe)?,
        created_at: row.try_get(7).map_err(|error| column(7, error))?,
        updated_at: row.try_get(8).map_err(|error| column(8, error))?,
        version: u64::try_from(version).map_err(|_| "version is negative")?,
        // Ramp writes every row itself, so a row it cannot read is corruption, not a damaged
        // feature from another program (see the Redis store for those).
        damaged: None,
    })
}

/// Decodes a `(name, body)` row of `groups`.
pub(crate) fn decode_group(row: &Row) -> Result<StoredGroup, StoreError> {
    let name: &str = row.try_get(0).unwrap_or("?");
    let Json(group): Json<StoredGroup> = row.try_get(1).map_err(|error| {
        corrupt(format!(
            "group {name:?}: body is not a stored group: {error}"
        ))
    })?;
    if group.name.as_str() != name {
        return Err(corrupt(format!(
            "group {name:?}: body names group {:?}",
            group.name.as_str()
        )));
    }
    Ok(group)
}

fn describe(error: CoreError) -> String {
    error.to_string()
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
        assert!(split::<UserId>(&join::<UserId>(&[])).unwrap().is_empty());
    }

    #[test]
    fn now_has_whole_microseconds() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
