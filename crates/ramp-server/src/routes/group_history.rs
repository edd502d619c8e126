//! A stored group's history and revert: the same events, pages and undo links as a feature's
//! (`history.rs`), since editing a group changes who gets every feature that lists it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ramp_core::GroupName;
use ramp_rollout::{Rollout, RolloutError};
use ramp_store::StoreError;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{attribution, if_match, ApiJson};
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::groups::refused_or;
use crate::routes::history::{
    already_undone, page, path_names_the_subject, HistoryPage, HistoryParams, RevertBody,
    RevertResult,
};
use crate::state::AppState;

/// One stored group's history, newest first.
#[utoipa::path(get, path = "/api/v1/groups/{name}/history", tag = "history",
    params(("name" = String, Path, description = "The group"), HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 422, body = ErrorBody)))]
pub async fn group_history(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let group = GroupName::new(&name)?;
    path_names_the_subject(&params, "group")?;
    page(&state, None, Some(group), params).await
}

/// Restores a stored group to its state just before one of its events, or undoes only that
/// event (itself recorded as a change). Honours `If-Match: "VERSION"` (the group's version).
#[utoipa::path(post, path = "/api/v1/groups/{name}/revert", tag = "history",
    params(("name" = String, Path, description = "The group")),
    request_body = RevertBody,
    responses((status = 200, body = RevertResult), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn revert_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RevertBody>,
) -> ApiResult<Json<RevertResult>> {
    let group = GroupName::new(&name)?;
    let attribution = attribution(&caller, &headers);
    let mut rollout = Rollout::new(state.store.clone(), attribution.actor);
    if let Some(comment) = attribution.comment {
        rollout = rollout.with_comment(comment);
    }
    let expected = if_match(&headers)?;
    match rollout
        .revert_group_with(&name, body.event_id, body.scope.into(), expected)
        .await
    {
        Ok(reverted) => Ok(Json(reverted.into())),
        Err(RolloutError::Store(error @ StoreError::Conflict { .. })) => {
            Err(refused_or(error, &group))
        }
        Err(RolloutError::AlreadyUndone {
            event_id,
            undone_by,
        }) => Err(already_undone(&state, event_id, undone_by).await),
        Err(other) => Err(other.into()),
    }
}
