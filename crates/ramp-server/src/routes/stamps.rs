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
/// at that version, replayed from history, and the change that made it. When another change
/// of the feature shares the stamp's millisecond, the version picks between them.
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
    let _turn = state.replays.turn().await?;
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
        limit: 2,
        ..HistoryQuery::default()
    };
    let mut latest = state.store.history(&query).await?.into_iter();
    resolved.event = latest.next();
    let shared_millisecond = latest
        .next()
        .is_some_and(|earlier| earlier.time.timestamp_millis() == stamp.changed_at_millis);
    if shared_millisecond {
        if let Some((then, event)) = by_version(&state, &stamp).await? {
            resolved.state = Some(then);
            resolved.event = Some(event);
        }
    }
    Ok(Json(resolved))
}

/// The most events since the stamp counted through to tell apart changes made in its
/// millisecond; past that the time alone answers (the later change of that millisecond).
const MAX_EVENTS_COUNTED: usize = 1_000;

/// Attempts at a consistent read of the feature and its events while writes go on.
const ATTEMPTS: usize = 3;

/// The state and event of the stamp's version, counted back from the feature's version now
/// (`Stamp::state_by_version`); `None` when counting cannot be trusted.
async fn by_version(
    state: &AppState,
    stamp: &Stamp,
) -> ApiResult<Option<(FeatureState, HistoryEvent)>> {
    let query = HistoryQuery {
        feature: Some(stamp.feature.clone()),
        since: DateTime::from_timestamp_millis(stamp.changed_at_millis),
        limit: MAX_EVENTS_COUNTED,
        ..HistoryQuery::default()
    };
    for _ in 0..ATTEMPTS {
        let now = state.store.feature(&stamp.feature).await?;
        let events = state.store.history(&query).await?;
        let again = state.store.feature(&stamp.feature).await?;
        if now.as_ref().map(|feature| feature.version) != again.map(|feature| feature.version) {
            continue;
        }
        let found = stamp
            .state_by_version(now.as_ref(), &events)
            .map_err(ApiError::from)?;
        return Ok(found.map(|(then, index)| (then, events[index].clone())));
    }
    Ok(None)
}
