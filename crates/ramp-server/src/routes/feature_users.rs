//! Reading a feature's user lists a page at a time (so a list of 100,000 stays usable in the
//! web UI), and who among the known users a percentage would reach.

use std::collections::HashSet;

use axum::extract::State;
use axum::Json;
use ramp_core::{FeatureName, GroupName, Snapshot, StoredGroup, UserId};
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

/// Who a percentage of this feature would reach among the user ids the store knows, with
/// the rules before the percentage applied as evaluation applies them: excluded users never,
/// listed users and stored groups' listed members always, the percentage for the rest.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    /// Distinct user ids on any feature's lists or in any stored group.
    pub known_users: usize,
    /// How many of them the percentage alone would reach (bucketed exactly as evaluation
    /// does), ignoring the feature's lists and groups.
    pub covered: usize,
    /// How many known users would get the feature: `listed + group_members + by_percentage`.
    pub reached: usize,
    /// The feature's listed users who are not excluded.
    pub listed: usize,
    /// Listed members of the feature's stored groups, neither listed nor excluded.
    pub group_members: usize,
    /// The remaining known users (`others`) that the percentage reaches.
    pub by_percentage: usize,
    /// Known users neither listed, excluded nor group members: those only the percentage
    /// can reach (ids from other features' lists and groups).
    pub others: usize,
    /// The feature's excluded users: they never get it.
    pub excluded: usize,
    /// The feature's groups whose members cannot be counted: stored groups with attribute
    /// rules (anyone matching also gets it) and groups defined in application code.
    pub groups_by_rule: Vec<String>,
}

/// Who a percentage of this feature would reach among the known users.
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
    // One pass over the known users (cached per snapshot) with one checksum each, plus sets
    // of the feature's own lists: linear in the users, whatever the percentage.
    Ok(Json(reach(
        &loaded.snapshot,
        loaded.known_users(),
        &name,
        percentage.value(),
    )))
}

fn id_set(list: Option<&Vec<UserId>>) -> HashSet<&str> {
    list.into_iter().flatten().map(UserId::as_str).collect()
}

fn reach(snapshot: &Snapshot, known: &[String], name: &FeatureName, percentage: f64) -> Coverage {
    let feature = snapshot
        .features
        .iter()
        .find(|feature| feature.name == *name);
    let listed = id_set(feature.map(|feature| &feature.users));
    let excluded = id_set(feature.map(|feature| &feature.excluded_users));
    let attached: Vec<&GroupName> =
        feature.map_or(Vec::new(), |feature| feature.groups.iter().collect());
    let stored: Vec<&StoredGroup> = snapshot
        .groups
        .iter()
        .filter(|group| attached.contains(&&group.name))
        .collect();
    let members: HashSet<&str> = stored
        .iter()
        .flat_map(|group| group.members.iter().map(UserId::as_str))
        .collect();
    let groups_by_rule = attached
        .iter()
        .filter(|name| {
            stored
                .iter()
                .find(|group| group.name == ***name)
                .is_none_or(|group| !group.rules.is_empty())
        })
        .map(ToString::to_string)
        .collect();
    let randomize = snapshot.randomize_percentage;
    let in_percentage =
        |id: &str| ramp_core::bucket::in_percentage(id, name.as_str(), percentage, randomize);
    let mut coverage = Coverage {
        known_users: known.len(),
        covered: 0,
        reached: 0,
        listed: 0,
        group_members: 0,
        by_percentage: 0,
        others: 0,
        excluded: 0,
        groups_by_rule,
    };
    for id in known {
        let id = id.as_str();
        let by_percentage = in_percentage(id);
        coverage.covered += usize::from(by_percentage);
        if excluded.contains(id) {
            coverage.excluded += 1;
        } else if listed.contains(id) {
            coverage.listed += 1;
        } else if members.contains(id) {
            coverage.group_members += 1;
        } else {
            coverage.others += 1;
            coverage.by_percentage += usize::from(by_percentage);
        }
    }
    coverage.reached = coverage.listed + coverage.group_members + coverage.by_percentage;
    coverage
}
