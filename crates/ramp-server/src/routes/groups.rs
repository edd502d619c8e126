//! Stored groups: list, show (with the features that use each), create or replace, delete.
//!
//! Each group has a version kept by the store (its `ETag`, and `version` in its JSON): a write
//! with `If-Match: "VERSION"` is refused (412) when the group changed since it was read, and one
//! with `If-None-Match: *` when it already exists. The store checks and writes in one atomic
//! step, so servers sharing a store cannot both win a race. Every write is recorded in history
//! (who, the comment given as `X-Ramp-Comment`, what changed) and answers with its event; the
//! group's own history and revert are in `history.rs`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ramp_core::{Feature, GroupName, HistoryEvent, Rule, StoredGroup, UserId};
use ramp_store::{StoreError, VersionedGroup};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, etag, ApiJson};
use crate::json_errors::ApiPath;
use crate::state::AppState;

/// A stored group and the features that list it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    /// The group.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub group: StoredGroup,
    /// Its rules as text (`plan in [pro, team]`), in the same order.
    pub rule_texts: Vec<String>,
    /// Features whose groups include this one.
    pub used_by: Vec<String>,
    /// Its version in the store (also its `ETag`), for `If-Match` on the next write.
    pub version: u64,
    /// In the answer to a write: the history event it recorded (absent when the write
    /// changed nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub event: Option<HistoryEvent>,
}

impl GroupView {
    fn new(stored: VersionedGroup, features: &[Feature]) -> Self {
        let VersionedGroup { group, version } = stored;
        let used_by = features
            .iter()
            .filter(|feature| feature.groups.contains(&group.name))
            .map(|feature| feature.name.to_string())
            .collect();
        Self {
            rule_texts: group.rules.iter().map(ToString::to_string).collect(),
            group,
            used_by,
            version,
            event: None,
        }
    }

    /// The view as JSON with its version as `ETag`.
    fn into_response(self) -> Response {
        ([(header::ETAG, etag(self.version))], Json(self)).into_response()
    }
}

/// The version a write expects, from its conditional headers: `If-None-Match: *` is 0 (no such
/// group), `If-Match: "N"` is N, and no header (or `If-Match: *`) expects nothing.
fn expected_version(headers: &HeaderMap, name: &GroupName) -> ApiResult<Option<u64>> {
    let text = |header_name| {
        headers
            .get(header_name)
            .and_then(|value: &axum::http::HeaderValue| value.to_str().ok())
            .map(|value| {
                value
                    .trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
    };
    if text(header::IF_NONE_MATCH).as_deref() == Some("*") {
        return Ok(Some(0));
    }
    match text(header::IF_MATCH) {
        None => Ok(None),
        Some(version) if version == "*" => Ok(None),
        // Anything else (a content hash from an older server, say) names no version the
        // group can be at now.
        Some(version) => version.parse().map(Some).map_err(|_| changed(name)),
    }
}

fn refusal(message: String) -> ApiError {
    ApiError::new(StatusCode::PRECONDITION_FAILED, "version_mismatch", message)
}

fn changed(name: &GroupName) -> ApiError {
    refusal(format!(
        "group {:?} was changed by someone else since it was read; reload it to see the change before saving again",
        name.as_str()
    ))
}

/// A store `Conflict` as the 412 saying why; anything else maps as usual.
pub(crate) fn refused_or(error: StoreError, name: &GroupName) -> ApiError {
    match error {
        StoreError::Conflict { expected: 0, .. } => refusal(format!(
            "a group named {:?} already exists; open it from the list to change it",
            name.as_str()
        ))
        .with_field("name"),
        StoreError::Conflict { actual: 0, .. } => refusal(format!(
            "group {:?} was deleted since it was read",
            name.as_str()
        )),
        StoreError::Conflict { .. } => changed(name),
        other => other.into(),
    }
}

/// Every stored group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    /// The groups, sorted by name.
    pub groups: Vec<GroupView>,
}

async fn views(state: &AppState) -> ApiResult<Vec<GroupView>> {
    let (groups, snapshot) = futures::try_join!(state.store.groups(), state.store.snapshot())?;
    Ok(groups
        .into_iter()
        .map(|stored| GroupView::new(stored, &snapshot.features))
        .collect())
}

/// Lists stored groups.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups",
    responses((status = 200, body = GroupList)))]
pub async fn list_groups(State(state): State<AppState>) -> ApiResult<Json<GroupList>> {
    Ok(Json(GroupList {
        groups: views(&state).await?,
    }))
}

/// Shows one stored group; the ETag is its version.
#[utoipa::path(get, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)))]
pub async fn show_group(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let name = GroupName::new(&name)?;
    views(&state)
        .await?
        .into_iter()
        .find(|view| view.group.name == name)
        .map(GroupView::into_response)
        .ok_or_else(|| ApiError::not_found(format!("group {:?} not found", name.as_str())))
}

/// A rule as text (`plan in [pro]`) or as `{"attribute", "operator", "value"}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RuleInput {
    Text(String),
    Structured(Rule),
}

/// A group's definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    /// What the group is for.
    #[serde(default)]
    pub description: String,
    /// Users who always belong.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub members: Vec<UserId>,
    /// Attribute rules, all of which must hold: `"country in [fr, de]"`, `"age >= 18"`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    rules: Vec<RuleInput>,
}

/// Creates or replaces a stored group. Honours `If-Match: "VERSION"` and `If-None-Match: *`;
/// the answer's ETag is the group's new version.
#[utoipa::path(put, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    request_body = GroupBody,
    responses((status = 200, body = GroupView), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GroupBody>,
) -> ApiResult<Response> {
    let name = GroupName::new(&name)?;
    let mut rules = Vec::with_capacity(body.rules.len());
    for (index, rule) in body.rules.into_iter().enumerate() {
        rules.push(match rule {
            RuleInput::Structured(rule) => rule,
            RuleInput::Text(text) => text.parse::<Rule>().map_err(|error| {
                ApiError::invalid(error.to_string()).with_field(format!("rules[{index}]"))
            })?,
        });
    }
    let group = StoredGroup {
        name,
        description: body.description,
        members: body.members,
        rules,
    };
    let expected = expected_version(&headers, &group.name)?;
    let applied = state
        .store
        .put_group(&group, expected, &attribution(&caller, &headers))
        .await
        .map_err(|error| refused_or(error, &group.name))?;
    // The group as this request wrote it, at the version its write got (a later write by
    // someone else shows in the next read, with its own version).
    let snapshot = state.store.snapshot().await?;
    let version = applied.version;
    let mut view = GroupView::new(VersionedGroup { group, version }, &snapshot.features);
    view.event = applied.event;
    Ok(view.into_response())
}

/// Deletes a stored group. Honours `If-Match: "VERSION"`. Answers with the history event
/// recording everything the group held, so it can be undone.
#[utoipa::path(delete, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    responses((status = 200, description = "The history event recording the deletion", body = serde_json::Value),
        (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Json<HistoryEvent>> {
    let name = GroupName::new(&name)?;
    let expected = expected_version(&headers, &name)?;
    let event = state
        .store
        .delete_group(&name, expected, &attribution(&caller, &headers))
        .await
        .map_err(|error| refused_or(error, &name))?;
    Ok(Json(event))
}
