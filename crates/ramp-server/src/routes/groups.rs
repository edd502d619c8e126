//! Stored groups: list, show (with the features that use each), create or replace, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ramp_core::{GroupName, Rule, StoredGroup, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
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
    Path(name): Path<String>,
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

/// Creates or replaces a stored group.
#[utoipa::path(put, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    request_body = GroupBody,
    responses((status = 200, body = GroupView), (status = 422, body = ErrorBody)))]
pub async fn put_group(
    State(state): State<AppState>,
    Path(name): Path<String>,
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
    state.store.put_group(&group).await?;
    let view = views(&state)
        .await?
        .into_iter()
        .find(|view| view.group.name == group.name)
        .ok_or_else(|| ApiError::not_found("the group vanished after it was written"))?;
    Ok((StatusCode::OK, Json(view)))
}

/// Deletes a stored group.
#[utoipa::path(delete, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let name = GroupName::new(&name)?;
    state.store.delete_group(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
