//! Stored groups: list, show (with the features that use each), create or replace, delete.
//!
//! Stores keep no version for groups, so a group's version is a hash of its content: a write
//! with `If-Match: "VERSION"` is refused (412) when the group changed since it was read, and
//! one with `If-None-Match: *` when it already exists. This server checks and writes under one
//! lock, so its own requests cannot interleave; two servers on one store can still race in the
//! moment between a check and its write.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use ramp_core::{GroupName, Rule, StoredGroup, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
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
    /// A hash of the group's content, for `If-Match` on the next write.
    pub version: String,
}

/// The version of a group: the first 16 bytes of the SHA-256 of its JSON, in hex.
fn version_of(group: &StoredGroup) -> String {
    let json = serde_json::to_vec(group).unwrap_or_default();
    hex::encode(&Sha256::digest(json)[..16])
}

/// What a write expects of the group it replaces, from its conditional headers.
enum Expectation {
    /// No condition.
    Anything,
    /// `If-Match: "VERSION"`: the group exists at this version.
    Version(String),
    /// `If-None-Match: *`: no group of that name exists.
    Absent,
}

fn expectation(headers: &HeaderMap) -> Expectation {
    let text = |name| {
        headers
            .get(name)
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
        return Expectation::Absent;
    }
    match text(header::IF_MATCH) {
        Some(version) if version != "*" => Expectation::Version(version),
        _ => Expectation::Anything,
    }
}

/// Refuses a write whose expectation the stored group no longer meets.
async fn check_expectation(
    state: &AppState,
    name: &GroupName,
    headers: &HeaderMap,
) -> ApiResult<()> {
    let expected = expectation(headers);
    if matches!(expected, Expectation::Anything) {
        return Ok(());
    }
    let groups = state.store.groups().await?;
    let current = groups.iter().find(|group| &group.name == name);
    let refusal = |message: String| {
        ApiError::new(StatusCode::PRECONDITION_FAILED, "version_mismatch", message)
    };
    match (expected, current) {
        (Expectation::Absent, Some(_)) => Err(refusal(format!(
            "a group named {:?} already exists; open it from the list to change it",
            name.as_str()
        ))
        .with_field("name")),
        (Expectation::Version(_), None) => Err(refusal(format!(
            "group {:?} was deleted since it was read",
            name.as_str()
        ))),
        (Expectation::Version(version), Some(group)) if version != version_of(group) => {
            Err(refusal(format!(
                "group {:?} was changed by someone else since it was read; reload it to see the change before saving again",
                name.as_str()
            )))
        }
        _ => Ok(()),
    }
}

/// Every stored group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    /// The groups, sorted by name.
    pub groups: Vec<GroupView>,
}

async fn views(state: &AppState) -> ApiResult<Vec<GroupView>> {
    let snapshot = state.store.snapshot().await?;
    Ok(snapshot
        .groups
        .into_iter()
        .map(|group| {
            let used_by = snapshot
                .features
                .iter()
                .filter(|feature| feature.groups.contains(&group.name))
                .map(|feature| feature.name.to_string())
                .collect();
            GroupView {
                rule_texts: group.rules.iter().map(ToString::to_string).collect(),
                version: version_of(&group),
                group,
                used_by,
            }
        })
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

/// Shows one stored group.
#[utoipa::path(get, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)))]
pub async fn show_group(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<GroupView>> {
    let name = GroupName::new(&name)?;
    views(&state)
        .await?
        .into_iter()
        .find(|view| view.group.name == name)
        .map(Json)
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

/// Creates or replaces a stored group. Honours `If-Match: "VERSION"` and `If-None-Match: *`.
#[utoipa::path(put, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    request_body = GroupBody,
    responses((status = 200, body = GroupView), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_group(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GroupBody>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
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
    {
        let _one_writer = state.group_writes.lock().await;
        check_expectation(&state, &group.name, &headers).await?;
        state.store.put_group(&group).await?;
    }
    let view = views(&state)
        .await?
        .into_iter()
        .find(|view| view.group.name == group.name)
        .ok_or_else(|| ApiError::not_found("the group vanished after it was written"))?;
    Ok((StatusCode::OK, Json(view)))
}

/// Deletes a stored group. Honours `If-Match: "VERSION"`.
#[utoipa::path(delete, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let name = GroupName::new(&name)?;
    let _one_writer = state.group_writes.lock().await;
    check_expectation(&state, &name, &headers).await?;
    state.store.delete_group(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
