//! The short forms of feature changes, one route per operation of the library and command line
//! (activate, percentage, users, exclusions, groups, data, stage). Each is a `Change` applied
//! through `features::apply_change`, so each honours `If-Match` the same way (and a move to
//! `graduated` passes `graduation_guard`).

use crate::json_errors::ApiPath;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use ramp_core::{Change, GroupName, Percentage, Stage, UserId};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::attribution;
use crate::extract::ApiJson;
use crate::routes::features::{apply_change, apply_change_attributed};
use crate::state::AppState;

/// `{"percentage": 12.5}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PercentageBody {
    /// From 0 to 100, decimals allowed.
    #[schema(value_type = f64)]
    pub percentage: Percentage,
}

/// `{"users": ["1", "2"]}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersBody {
    /// User ids.
    #[schema(value_type = Vec<String>)]
    pub users: Vec<UserId>,
}

/// `{"groups": ["beta"]}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupsBody {
    /// Group names.
    #[schema(value_type = Vec<String>)]
    pub groups: Vec<GroupName>,
}

/// The longest `reason` a stage change may carry.
const MAX_REASON_CHARS: usize = 1_000;

/// `{"stage": "beta"}`, `{"stage": "graduated", "reason": "..."}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageBody {
    /// development, beta, rolling_out, everyone or graduated.
    #[schema(value_type = String)]
    pub stage: Stage,
    /// Why: recorded as the history event's comment (instead of `X-Ramp-Comment`). Needed to
    /// graduate a feature below 100 % or with excluded users (else 422 `reason_required`).
    #[serde(default)]
    pub reason: Option<String>,
    /// Moves into a stage at its WIP limit anyway (else 409 `wip_limit_reached`); recorded in
    /// the history event's comment with the limit it broke.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// A reason's text, trimmed; `None` when empty; refused past `MAX_REASON_CHARS`, naming the
/// field.
fn reason_text<'a>(field: &'static str, text: Option<&'a str>) -> ApiResult<Option<&'a str>> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    // History keeps it forever; the header it replaces is bounded by the header limits.
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(
            ApiError::invalid(format!("{field}: at most {MAX_REASON_CHARS} characters"))
                .with_field(field),
        );
    }
    Ok((!text.is_empty()).then_some(text))
}

/// A JSON object of data keys; `null` removes a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct DataBody(pub Map<String, Value>);

macro_rules! edit_route {
    ($(#[$doc:meta])* $method:ident $path:literal, $handler:ident, $body:ty, |$value:ident| $change:expr) => {
        $(#[$doc])*
        #[utoipa::path($method, path = $path, tag = "features",
            params(("name" = String, Path, description = "The feature")),
            request_body = $body,
            responses((status = 200, body = serde_json::Value), (status = 412, body = ErrorBody),
                (status = 422, body = ErrorBody)))]
        pub async fn $handler(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            ApiPath(name): ApiPath<String>,
            headers: HeaderMap,
            ApiJson($value): ApiJson<$body>,
        ) -> ApiResult<Response> {
            apply_change(&state, &caller, &headers, &name, $change).await
        }
    };
    ($(#[$doc:meta])* $method:ident $path:literal, $handler:ident, $change:expr) => {
        $(#[$doc])*
        #[utoipa::path($method, path = $path, tag = "features",
            params(("name" = String, Path, description = "The feature")),
            responses((status = 200, body = serde_json::Value), (status = 412, body = ErrorBody)))]
        pub async fn $handler(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            ApiPath(name): ApiPath<String>,
            headers: HeaderMap,
        ) -> ApiResult<Response> {
            apply_change(&state, &caller, &headers, &name, $change).await
        }
    };
}

edit_route!(
    /// The Everyone action: 100 % and the stage `everyone` (unless graduated) in one change,
    /// one history event; users and groups are kept.
    post "/api/v1/features/{name}/activate", activate, Change::OpenToEveryone);
edit_route!(
    /// Off and empty, like the gem: percentage 0, no users, exclusions or groups.
    post "/api/v1/features/{name}/deactivate", deactivate, Change::Deactivate);
edit_route!(
    /// Sets the percentage.
    put "/api/v1/features/{name}/percentage", set_percentage, PercentageBody,
    |body| Change::SetPercentage { percentage: body.percentage });
edit_route!(
    /// Adds users to the allow list.
    post "/api/v1/features/{name}/users", add_users, UsersBody,
    |body| Change::AddUsers { users: body.users });
edit_route!(
    /// Replaces the allow list.
    put "/api/v1/features/{name}/users", set_users, UsersBody,
    |body| Change::SetUsers { users: body.users });
edit_route!(
    /// Removes users from the allow list.
    post "/api/v1/features/{name}/users/remove", remove_users, UsersBody,
    |body| Change::RemoveUsers { users: body.users });
edit_route!(
    /// Excludes users: they never get the feature, whatever else matches.
    post "/api/v1/features/{name}/exclusions", exclude_users, UsersBody,
    |body| Change::ExcludeUsers { users: body.users });
edit_route!(
    /// Stops excluding users.
    post "/api/v1/features/{name}/exclusions/remove", include_users, UsersBody,
    |body| Change::IncludeUsers { users: body.users });
edit_route!(
    /// Adds groups.
    post "/api/v1/features/{name}/groups", add_groups, GroupsBody,
    |body| Change::AddGroups { groups: body.groups });
edit_route!(
    /// Removes groups.
    post "/api/v1/features/{name}/groups/remove", remove_groups, GroupsBody,
    |body| Change::RemoveGroups { groups: body.groups });
edit_route!(
    /// Merges keys into the data (a JSON object); a `null` value removes its key.
    patch "/api/v1/features/{name}/data", set_data, DataBody,
    |body| Change::SetData { data: body.0 });
edit_route!(
    /// Empties the data.
    delete "/api/v1/features/{name}/data", clear_data, Change::ClearData);
/// Moves the feature to a stage. Moving to `graduated` a feature below 100 % or with excluded
/// users needs a `reason` (422 `reason_required` without one), which history records. Moving
/// into a stage at its WIP limit needs an `override_reason` (409 `wip_limit_reached` without
/// one), which history records too.
#[utoipa::path(put, path = "/api/v1/features/{name}/stage", tag = "features",
    params(("name" = String, Path, description = "The feature")),
    request_body = StageBody,
    responses((status = 200, body = serde_json::Value), (status = 412, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_stage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StageBody>,
) -> ApiResult<Response> {
    let mut attribution = attribution(&caller, &headers);
    if let Some(reason) = reason_text("reason", body.reason.as_deref())? {
        attribution.comment = Some(reason.to_owned());
    }
    let override_reason = reason_text("override_reason", body.override_reason.as_deref())?;
    let change = Change::SetStage { stage: body.stage };
    apply_change_attributed(
        &state,
        &headers,
        &name,
        change,
        attribution,
        override_reason,
    )
    .await
}
