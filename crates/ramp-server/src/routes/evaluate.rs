//! Evaluations through the admin API: one feature for a context (with the reason), every
//! feature for a context, and the names of code groups that applications report.
//!
//! These answer from the live snapshot, like OFREP and the SDKs, so all agree.

use std::sync::OnceLock;

use axum::extract::State;
use axum::{Extension, Json};
use ramp_core::{CodeGroups, Context, Decision};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::code_groups::{TooMany, MAX_NAMES_PER_REPORTER};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::json_errors::ApiPath;
use crate::routes::features::feature_name;
use crate::state::AppState;

/// A context: `{"user_id": "42", "attributes": {"plan": "pro"}}`; both optional.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContextBody {
    /// The user, if any.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Attributes stored groups' rules look at.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: std::collections::BTreeMap<String, serde_json::Value>,
}

impl From<ContextBody> for Context {
    fn from(body: ContextBody) -> Self {
        Context {
            user_id: body.user_id,
            attributes: body.attributes,
        }
    }
}

/// One feature's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// The feature.
    pub feature: String,
    /// Whether it is on for the context.
    pub active: bool,
    /// excluded, user, group, percentage, everyone, off or not_found.
    pub reason: &'static str,
    /// For reason `group`: which group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl CheckResult {
    fn new(feature: &str, decision: &Decision) -> Self {
        Self {
            feature: feature.to_owned(),
            active: decision.active,
            reason: decision.reason.as_str(),
            group: decision.reason.group().map(str::to_owned),
        }
    }
}

/// Code groups are defined inside applications; the server knows only their names, so it
/// evaluates them as false.
pub(crate) fn no_code_groups() -> &'static CodeGroups {
    static EMPTY: OnceLock<CodeGroups> = OnceLock::new();
    EMPTY.get_or_init(CodeGroups::new)
}

/// Whether a feature is on for a context, and why.
#[utoipa::path(post, path = "/api/v1/features/{name}/check", tag = "evaluation",
    params(("name" = String, Path, description = "The feature")),
    request_body = ContextBody,
    responses((status = 200, body = CheckResult), (status = 422, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<ContextBody>,
) -> ApiResult<Json<CheckResult>> {
    let name = feature_name(&name)?;
    let context = Context::from(body);
    let loaded = state.live.current();
    let decision = loaded
        .compiled
        .evaluate(name.as_str(), &context, no_code_groups());
    state.metrics.evaluation("check", decision.reason.as_str());
    Ok(Json(CheckResult::new(name.as_str(), &decision)))
}

/// Every feature's decision for one context.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatesResult {
    /// The snapshot version evaluated.
    pub version: u64,
    /// One entry per feature, sorted by name.
    pub states: Vec<CheckResult>,
}

/// Every feature for a context, each with its reason.
#[utoipa::path(post, path = "/api/v1/states", tag = "evaluation",
    request_body = ContextBody,
    responses((status = 200, body = StatesResult)))]
pub async fn states(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ContextBody>,
) -> ApiResult<Json<StatesResult>> {
    let context = Context::from(body);
    let loaded = state.live.current();
    let states = loaded
        .snapshot
        .features
        .iter()
        .map(|feature| {
            let decision =
                loaded
                    .compiled
                    .evaluate(feature.name.as_str(), &context, no_code_groups());
            CheckResult::new(feature.name.as_str(), &decision)
        })
        .collect();
    Ok(Json(StatesResult {
        version: loaded.snapshot.version,
        states,
    }))
}

/// `{"names": ["staff", "beta_testers"]}`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeGroupNames {
    /// Names of groups defined in application code.
    pub names: Vec<String>,
}

/// Records the code groups an application defines, so the web UI can offer them. A client may
/// have at most 1000 names, the server keeps a bounded number in all, and names not reported
/// again within a day are forgotten.
#[utoipa::path(post, path = "/api/v1/code-groups", tag = "evaluation",
    request_body = CodeGroupNames,
    responses((status = 200, body = CodeGroupNames), (status = 422, body = ErrorBody)))]
pub async fn report_code_groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CodeGroupNames>,
) -> ApiResult<Json<CodeGroupNames>> {
    if body.names.len() > MAX_NAMES_PER_REPORTER {
        return Err(ApiError::invalid(TooMany::ForReporter.to_string())
            .with_error("too_many_code_groups")
            .with_field("names"));
    }
    for name in &body.names {
        ramp_core::GroupName::new(name)?;
    }
    let mut registry = state
        .code_groups
        .lock()
        .unwrap_or_else(|error| error.into_inner());
    registry
        .report(caller.name.as_ref(), &body.names, state.clock.instant())
        .map_err(|too_many| {
            ApiError::invalid(too_many.to_string())
                .with_error("too_many_code_groups")
                .with_field("names")
        })?;
    Ok(Json(CodeGroupNames {
        names: registry.names().into_iter().map(str::to_owned).collect(),
    }))
}

/// The code groups applications have reported to this server within the last day.
#[utoipa::path(get, path = "/api/v1/code-groups", tag = "evaluation",
    responses((status = 200, body = CodeGroupNames)))]
pub async fn list_code_groups(State(state): State<AppState>) -> Json<CodeGroupNames> {
    let mut registry = state
        .code_groups
        .lock()
        .unwrap_or_else(|error| error.into_inner());
    registry.forget_expired(state.clock.instant());
    Json(CodeGroupNames {
        names: registry.names().into_iter().map(str::to_owned).collect(),
    })
}
