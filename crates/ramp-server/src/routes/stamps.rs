//! `GET /api/v1/stamps/{stamp}`: what a stamp an application stored on a record stands for:
//! the feature's settings at the stamped version, the change that made that version (who,
//! when, what), and the feature's version now.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use ramp_core::{FeatureState, HistoryEvent, Stamp};
use ramp_rollout::Rollout;
use ramp_store::HistoryQuery;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json_errors::ApiPath;
use crate::state::AppState;

/// A stamp, resolved.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedStamp {
    /// The stamp as given.
    pub stamp: String,
    /// The feature.
    pub feature: String,
    /// The answer the application got.
    pub active: bool,
    /// The feature's version then (0: there was no such feature).
    pub version: u64,
    /// When the change that made that version was made (to the millisecond; null for 0).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub changed_at: Option<DateTime<Utc>>,
    /// The feature's settings at that version (null: it did not exist then).
    #[schema(value_type = Option<Object>)]
    pub state: Option<FeatureState>,
    /// The change that made that version (null when history does not hold it).
    #[schema(value_type = Option<Object>)]
    pub event: Option<HistoryEvent>,
    /// The feature's version now (null: it no longer exists).
    pub current_version: Option<u64>,
}

/// Resolves a stamp from `Client::stamp` (`NAME@VERSION-MILLIS-on`): the feature's settings
/// at that version, replayed from history, and the change that made it.
#[utoipa::path(get, path = "/api/v1/stamps/{stamp}", tag = "exposures",
    params(("stamp" = String, Path, description = "e.g. new-checkout@7-1796547600123-on")),
    responses((status = 200, body = ResolvedStamp), (status = 422, body = ErrorBody)))]
pub async fn resolve_stamp(
    State(state): State<AppState>,
    ApiPath(text): ApiPath<String>,
) -> ApiResult<Json<ResolvedStamp>> {
    let stamp: Stamp = text.parse().map_err(ApiError::from)?;
    let current_version = state
        .live
        .current()
        .snapshot
        .features
        .iter()
        .find(|feature| feature.name == stamp.feature)
        .map(|feature| feature.version);
    let mut resolved = ResolvedStamp {
        stamp: stamp.to_string(),
        feature: stamp.feature.to_string(),
        active: stamp.active,
        version: stamp.version,
        changed_at: None,
        state: None,
        event: None,
        current_version,
    };
    if stamp.version == 0 {
        return Ok(Json(resolved));
    }
    let as_of = stamp
        .as_of()
        .ok_or_else(|| ApiError::invalid("the stamp's time is out of range").with_field("stamp"))?;
    resolved.changed_at = DateTime::from_timestamp_millis(stamp.changed_at_millis);
    let then = Rollout::new(state.store.clone(), "stamp")
        .snapshot_at(as_of)
        .await?;
    resolved.state = then
        .features
        .iter()
        .find(|feature| feature.name == stamp.feature)
        .map(|feature| feature.state());
    let query = HistoryQuery {
        feature: Some(stamp.feature.clone()),
        until: Some(as_of + Duration::nanoseconds(1)),
        limit: 1,
        ..HistoryQuery::default()
    };
    resolved.event = state.store.history(&query).await?.into_iter().next();
    Ok(Json(resolved))
}
