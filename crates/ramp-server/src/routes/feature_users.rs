//! Reading a feature's user lists a page at a time (so a list of 100,000 stays usable in the
//! web UI), and how many known users a percentage would reach.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::features::feature_name;
use crate::state::AppState;

/// The largest page.
const MAX_LIMIT: usize = 1000;

/// Which page of which list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersPageParams {
    /// `users` (the default) or `excluded_users`.
    pub list: Option<String>,
    /// Only ids containing this text.
    pub search: Option<String>,
    /// How many matching ids to skip (default 0).
    pub offset: Option<usize>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// A page of one user list, in the order users were added.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersPage {
    /// How many ids the list holds.
    pub total: usize,
    /// How many of them match `search`.
    pub matching: usize,
    /// Where this page starts among the matching ids.
    pub offset: usize,
    /// The page.
    pub users: Vec<String>,
}

/// A page of a feature's users or excluded users, optionally filtered.
#[utoipa::path(get, path = "/api/v1/features/{name}/users", tag = "features",
    params(("name" = String, Path, description = "The feature"), UsersPageParams),
    responses((status = 200, body = UsersPage), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn users_page(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<UsersPageParams>,
) -> ApiResult<Json<UsersPage>> {
    let name = feature_name(&name)?;
    let limit = params.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(
            ApiError::invalid(format!("limit must be from 1 to {MAX_LIMIT}")).with_field("limit"),
        );
    }
    let feature = state
        .store
        .feature(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("feature {:?} not found", name.as_str())))?;
    let list = match params.list.as_deref().unwrap_or("users") {
        "users" => &feature.users,
        "excluded_users" => &feature.excluded_users,
        other => {
            return Err(ApiError::invalid(format!(
                "unknown list {other:?}: expected users or excluded_users"
            ))
            .with_field("list"))
        }
    };
    let search = params.search.unwrap_or_default();
    let offset = params.offset.unwrap_or(0);
    let matching = list.iter().filter(|id| id.as_str().contains(&search));
    let users = matching
        .clone()
        .skip(offset)
        .take(limit)
        .map(|id| id.as_str().to_owned())
        .collect();
    Ok(Json(UsersPage {
        total: list.len(),
        matching: matching.count(),
        offset,
        users,
    }))
}

/// A percentage to try.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// From 0 to 100.
    pub percentage: f64,
}

/// How far a percentage reaches among the users the store knows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    /// Distinct user ids on any feature's lists or in any stored group.
    pub known_users: usize,
    /// How many of them the percentage alone would reach for this feature (bucketed exactly
    /// as evaluation does).
    pub covered: usize,
}

/// How many known users a percentage of this feature would reach.
#[utoipa::path(get, path = "/api/v1/features/{name}/coverage", tag = "features",
    params(("name" = String, Path, description = "The feature"), CoverageParams),
    responses((status = 200, body = Coverage), (status = 422, body = ErrorBody)))]
pub async fn coverage(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<CoverageParams>,
) -> ApiResult<Json<Coverage>> {
    let name = feature_name(&name)?;
    let percentage = ramp_core::Percentage::new(params.percentage)
        .map_err(|error| ApiError::invalid(error.to_string()).with_field("percentage"))?;
    let loaded = state.live.current();
    let randomize = loaded.snapshot.randomize_percentage;
    let known = loaded.known_users();
    let covered = known
        .iter()
        .filter(|id| {
            ramp_core::bucket::in_percentage(id, name.as_str(), percentage.value(), randomize)
        })
        .count();
    Ok(Json(Coverage {
        known_users: known.len(),
        covered,
    }))
}
