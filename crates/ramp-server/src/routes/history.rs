//! History: the audit log (global or per feature, newest first, paged) and revert.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ramp_core::{FeatureName, HistoryEvent};
use ramp_rollout::{Reverted, Rollout};
use ramp_store::HistoryQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, ApiJson};
use crate::routes::features::feature_name;
use crate::state::AppState;

/// The largest page.
const MAX_LIMIT: usize = 1000;

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Only this feature's events.
    pub feature: Option<String>,
    /// Only events older than this id (the previous page's `next_before`).
    pub before: Option<u64>,
    /// At most this many (default 50, at most 1000).
    pub limit: Option<usize>,
}

/// A page of history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// Events, newest first.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<HistoryEvent>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<u64>,
}

async fn page(
    state: &AppState,
    feature: Option<FeatureName>,
    params: HistoryParams,
) -> ApiResult<Json<HistoryPage>> {
    let limit = params.limit.unwrap_or(HistoryQuery::DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(
            ApiError::invalid(format!("limit must be from 1 to {MAX_LIMIT}")).with_field("limit"),
        );
    }
    let events = state
        .store
        .history(&HistoryQuery {
            feature,
            before_id: params.before,
            limit,
        })
        .await?;
    let next_before = (events.len() == limit)
        .then(|| events.last().map(|event| event.id))
        .flatten();
    Ok(Json(HistoryPage {
        events,
        next_before,
    }))
}

/// The global audit log, newest first.
#[utoipa::path(get, path = "/api/v1/history", tag = "history", params(HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 422, body = ErrorBody)))]
pub async fn global_history(
    State(state): State<AppState>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let feature = params.feature.as_deref().map(feature_name).transpose()?;
    page(&state, feature, params).await
}

/// One feature's history, newest first.
#[utoipa::path(get, path = "/api/v1/features/{name}/history", tag = "history",
    params(("name" = String, Path, description = "The feature"), HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 422, body = ErrorBody)))]
pub async fn feature_history(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let feature = Some(feature_name(&name)?);
    page(&state, feature, params).await
}

/// One history event.
#[utoipa::path(get, path = "/api/v1/history/{id}", tag = "history",
    params(("id" = u64, Path, description = "The event id")),
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)))]
pub async fn history_event(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> ApiResult<Json<HistoryEvent>> {
    state
        .store
        .history_event(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("history event {id} not found")))
}

/// `{"event_id": 12}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevertBody {
    /// The event to undo: the feature goes back to its state just before it.
    pub event_id: u64,
}

/// What a revert did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevertResult {
    /// `restored` or `deleted` (reverting a creation deletes the feature).
    pub outcome: &'static str,
    /// The new history event, if anything changed.
    #[schema(value_type = Option<Object>)]
    pub event: Option<HistoryEvent>,
}

/// Restores a feature to its state just before an event (itself recorded as a change).
#[utoipa::path(post, path = "/api/v1/features/{name}/revert", tag = "history",
    params(("name" = String, Path, description = "The feature")),
    request_body = RevertBody,
    responses((status = 200, body = RevertResult), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody)))]
pub async fn revert(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RevertBody>,
) -> ApiResult<Json<RevertResult>> {
    let attribution = attribution(&caller, &headers);
    let mut rollout = Rollout::new(state.store.clone(), attribution.actor);
    if let Some(comment) = attribution.comment {
        rollout = rollout.with_comment(comment);
    }
    let result = match rollout.revert(&name, body.event_id).await? {
        Reverted::Restored(event) => RevertResult {
            outcome: "restored",
            event,
        },
        Reverted::Deleted(event) => RevertResult {
            outcome: "deleted",
            event: Some(event),
        },
    };
    Ok(Json(result))
}
