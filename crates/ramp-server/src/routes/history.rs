//! History: the audit log (global, per feature or per stored group, newest first, paged, each
//! event with its undo links) and revert of features; groups' revert is `group_history.rs`.

mod links;
mod summary;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ramp_core::{FeatureName, GroupName, HistoryEvent};
use ramp_rollout::{RevertScope, Reverted, Rollout, RolloutError};
use ramp_store::{HistoryQuery, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, if_match, ApiJson};
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::features::feature_name;
use crate::routes::last_change::stale_write;
use crate::state::AppState;
use links::{annotate, PageEvent};
use summary::{summarise, ListDetail};

/// The largest page.
const MAX_LIMIT: usize = 1000;

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only this feature's events (not with `group`).
    pub feature: Option<String>,
    /// Only this stored group's events (not with `feature`).
    pub group: Option<String>,
    /// Only events older than this id (the previous page's `next_before`).
    pub before: Option<u64>,
    /// At most this many (default 50, at most 1000).
    pub limit: Option<usize>,
    /// Only events by this actor (exact name).
    pub actor: Option<String>,
    /// Only events at or after this time (RFC 3339, or a `YYYY-MM-DD` date: its start, UTC).
    pub since: Option<String>,
    /// Only events before this time (RFC 3339), or on or before this `YYYY-MM-DD` date.
    pub until: Option<String>,
    /// `summary`: lists of more than ten user ids keep their first ten and the event's
    /// `cut_lists` gives their lengths (`GET /api/v1/history/{id}` has the event whole);
    /// `full` (the default): every id.
    #[param(value_type = Option<String>)]
    pub lists: Option<ListDetail>,
}

/// A time filter: an RFC 3339 time, or a date meaning its first instant (`end_of_day` false)
/// or the first instant of the next day (true, so "until 2026-11-29" includes that day).
pub(crate) fn parse_time(text: &str, field: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(format!(
            "{field} must be an RFC 3339 time or a YYYY-MM-DD date, not {text:?}"
        ))
        .with_field(field)
    })?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(date.and_time(NaiveTime::MIN).and_utc())
}

/// A page of history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// Events, newest first, each with `undone_by` (the later undo that took it back and
    /// still stands) and, for an undo or revert, `undoes` (the event it took back).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<PageEvent>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<u64>,
}

/// A page of one feature's events, one group's, or (neither) everyone's.
pub(crate) async fn page(
    state: &AppState,
    feature: Option<FeatureName>,
    group: Option<GroupName>,
    params: HistoryParams,
) -> ApiResult<Json<HistoryPage>> {
    let subject = HistoryQuery {
        feature,
        group,
        ..HistoryQuery::default()
    };
    let lists = params.lists.unwrap_or_default();
    let (events, next_before) = matching_events(state, &subject, params).await?;
    let mut events = annotate(state, &subject, events).await?;
    if lists == ListDetail::Summary {
        for listed in &mut events {
            listed.cut_lists = summarise(&mut listed.event);
        }
    }
    Ok(Json(HistoryPage {
        events,
        next_before,
    }))
}

/// The page's events, newest first, and where the next page starts. The store applies every
/// filter in its own query, so a full page means there may be more.
async fn matching_events(
    state: &AppState,
    subject: &HistoryQuery,
    params: HistoryParams,
) -> ApiResult<(Vec<HistoryEvent>, Option<u64>)> {
    let limit = params.limit.unwrap_or(HistoryQuery::DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(
            ApiError::invalid(format!("limit must be from 1 to {MAX_LIMIT}")).with_field("limit"),
        );
    }
    let time = |text: &Option<String>, field: &str, end_of_day: bool| {
        text.as_deref()
            .filter(|text| !text.is_empty())
            .map(|text| parse_time(text, field, end_of_day))
            .transpose()
    };
    let query = HistoryQuery {
        feature: subject.feature.clone(),
        group: subject.group.clone(),
        actor: params.actor.clone().filter(|actor| !actor.is_empty()),
        since: time(&params.since, "since", false)?,
        until: time(&params.until, "until", true)?,
        before_id: params.before,
        limit,
    };
    let events = state.store.history(&query).await?;
    let next_before = (events.len() == limit)
        .then(|| events.last().map(|event| event.id))
        .flatten();
    Ok((events, next_before))
}

/// The global audit log, newest first.
#[utoipa::path(get, path = "/api/v1/history", tag = "history", params(HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 422, body = ErrorBody)))]
pub async fn global_history(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let feature = params.feature.as_deref().map(feature_name).transpose()?;
    let group = params
        .group
        .as_deref()
        .map(|name| GroupName::new(name).map_err(|error| ApiError::from(error).with_field("group")))
        .transpose()?;
    if feature.is_some() && group.is_some() {
        return Err(ApiError::invalid(
            "give feature or group, not both: an event is one feature's or one group's",
        )
        .with_field("group"));
    }
    page(&state, feature, group, params).await
}

/// One feature's history, newest first.
#[utoipa::path(get, path = "/api/v1/features/{name}/history", tag = "history",
    params(("name" = String, Path, description = "The feature"), HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 422, body = ErrorBody)))]
pub async fn feature_history(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let feature = Some(feature_name(&name)?);
    path_names_the_subject(&params, "feature")?;
    page(&state, feature, None, params).await
}

/// A feature's or group's own history names its subject in the path: a `feature` or `group`
/// parameter would name another, so it is refused rather than ignored.
pub(crate) fn path_names_the_subject(params: &HistoryParams, noun: &str) -> ApiResult<()> {
    if params.feature.is_some() || params.group.is_some() {
        return Err(ApiError::invalid(format!(
            "the path names the {noun}: leave out the feature and group parameters"
        )));
    }
    Ok(())
}

/// One history event.
#[utoipa::path(get, path = "/api/v1/history/{id}", tag = "history",
    params(("id" = u64, Path, description = "The event id")),
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)))]
pub async fn history_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u64>,
) -> ApiResult<Json<HistoryEvent>> {
    state
        .store
        .history_event(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("history event {id} not found")))
}

/// `{"event_id": 12}` or `{"event_id": 12, "scope": "only_this_event"}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevertBody {
    /// The event to undo.
    pub event_id: u64,
    /// `to_before` (the default): the feature (or group) goes back to its state just before the event,
    /// undoing every later change too; `only_this_event`: only that event's own changes are
    /// undone.
    #[serde(default)]
    pub scope: Scope,
}

/// How much a revert undoes.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Back to the state just before the event.
    #[default]
    ToBefore,
    /// Only the event's own changes.
    OnlyThisEvent,
}

/// What a revert did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevertResult {
    /// `restored` or `deleted` (reverting a creation deletes the feature or group).
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
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn revert(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RevertBody>,
) -> ApiResult<Json<RevertResult>> {
    let attribution = attribution(&caller, &headers);
    let mut rollout = Rollout::new(state.store.clone(), attribution.actor);
    if let Some(comment) = attribution.comment {
        rollout = rollout.with_comment(comment);
    }
    let scope = body.scope.into();
    let expected = if_match(&headers)?;
    let reverted = match rollout
        .revert_with(&name, body.event_id, scope, expected)
        .await
    {
        Ok(reverted) => reverted,
        Err(RolloutError::Store(StoreError::Conflict {
            expected, actual, ..
        })) => {
            let name = feature_name(&name)?;
            return Err(stale_write(&state, &name, expected, actual).await);
        }
        Err(RolloutError::AlreadyUndone {
            event_id,
            undone_by,
        }) => return Err(already_undone(&state, event_id, undone_by).await),
        Err(other) => return Err(other.into()),
    };
    Ok(Json(reverted.into()))
}

impl From<Scope> for RevertScope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::ToBefore => RevertScope::ToBefore,
            Scope::OnlyThisEvent => RevertScope::OnlyThisEvent,
        }
    }
}

impl From<Reverted> for RevertResult {
    fn from(reverted: Reverted) -> Self {
        match reverted {
            Reverted::Restored(event) => RevertResult {
                outcome: "restored",
                event,
            },
            Reverted::Deleted(event) => RevertResult {
                outcome: "deleted",
                event: Some(event),
            },
        }
    }
}

/// The 409 for undoing an event a later undo already took back: it names who undid it and
/// when, so the person sees why nothing would change.
pub(crate) async fn already_undone(state: &AppState, event_id: u64, undone_by: u64) -> ApiError {
    let conflict = |message: String| {
        ApiError::new(StatusCode::CONFLICT, "already_undone", message).with_field("event_id")
    };
    match state.store.history_event(undone_by).await {
        Ok(Some(undo)) => conflict(format!(
            "this change was already undone by {} at {}: there is nothing left to undo",
            undo.actor,
            undo.time.format("%Y-%m-%d %H:%M:%S UTC")
        ))
        .with_change(&undo.actor, undo.time),
        _ => conflict(format!(
            "event {event_id} was already undone by event {undone_by}: there is nothing left to undo"
        )),
    }
}
