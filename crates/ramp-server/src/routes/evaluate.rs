//! Evaluations through the admin API: one feature for a context (with the reason), every
//! feature for a context, and the names of code groups that applications report.
//!
//! These answer from the live snapshot, like OFREP and the SDKs, so all agree. Given `at`, a
//! past time, they answer as of then instead: from the store's snapshot and its history since
//! (`Rollout::snapshot_at`), never from the live snapshot, which may lag the history.

use std::sync::OnceLock;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, SecondsFormat, Utc};
use ramp_core::{CodeGroups, CompiledSnapshot, Context, Decision, ReasonKind, Snapshot, Stamp};
use ramp_rollout::Rollout;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::code_groups::{TooMany, MAX_NAMES_PER_REPORTER};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::features::feature_name;
use crate::routes::history::parse_time;
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
    /// Answer as of this past time instead of now, as the query parameter `at` does.
    #[serde(default)]
    pub at: Option<String>,
}

/// When to answer for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtParams {
    /// Answer as of this time instead of now (RFC 3339, or a `YYYY-MM-DD` date: its start,
    /// UTC), from the history: an event made exactly then counts as made. May also be given
    /// as `at` in the body.
    pub at: Option<String>,
}

/// The time asked about, from the query or the body (both: they must agree); `None`: now.
fn requested_time(query: Option<String>, body: Option<String>) -> ApiResult<Option<DateTime<Utc>>> {
    let parse = |text: Option<String>| {
        text.filter(|text| !text.is_empty())
            .map(|text| parse_time(&text, "at", false))
            .transpose()
    };
    match (parse(query)?, parse(body)?) {
        (Some(query), Some(body)) if query != body => Err(ApiError::invalid(
            "at was given twice, in the query and in the body, with different times",
        )
        .with_field("at")),
        (query, body) => Ok(query.or(body)),
    }
}

/// An instant as answers echo it: RFC 3339 in UTC.
fn echo(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(|at| at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl From<ContextBody> for Context {
    /// The context alone (`at` is not part of who is asking).
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
    /// excluded, user, group, percentage, outside_percentage, everyone, off or not_found.
    pub reason: &'static str,
    /// For reason `group`: which group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The time the answer is for, when one was asked for (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// For a check now: the stamp to store on a record this answer shaped (see
    /// `GET /api/v1/stamps/{stamp}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamp: Option<String>,
}

impl CheckResult {
    fn new(feature: &str, decision: &Decision) -> Self {
        Self {
            feature: feature.to_owned(),
            active: decision.active,
            reason: decision.reason.as_str(),
            group: decision.reason.group().map(str::to_owned),
            at: None,
            stamp: None,
        }
    }
}

/// Code groups are defined inside applications; the server knows only their names, so it
/// evaluates them as false.
pub(crate) fn no_code_groups() -> &'static CodeGroups {
    static EMPTY: OnceLock<CodeGroups> = OnceLock::new();
    EMPTY.get_or_init(CodeGroups::new)
}

/// Whether a feature is on for a context, and why; with `at`, as of that time (a feature
/// that did not exist then is `not_found`).
#[utoipa::path(post, path = "/api/v1/features/{name}/check", tag = "evaluation",
    params(("name" = String, Path, description = "The feature"), AtParams),
    request_body = ContextBody,
    responses((status = 200, body = CheckResult), (status = 422, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<AtParams>,
    ApiJson(mut body): ApiJson<ContextBody>,
) -> ApiResult<Json<CheckResult>> {
    let name = feature_name(&name)?;
    let at = requested_time(params.at, body.at.take())?;
    let context = Context::from(body);
    let mut stamp = None;
    let decision = match at {
        None => {
            let loaded = state.live.current();
            let decision = loaded
                .compiled
                .evaluate(name.as_str(), &context, no_code_groups());
            let features = &loaded.snapshot.features;
            let found = features.binary_search_by(|feature| feature.name.cmp(&name));
            stamp = Some(
                match found {
                    Ok(index) => Stamp::of(&features[index], decision.active),
                    Err(_) => Stamp::not_found(name.clone()),
                }
                .to_string(),
            );
            // A check now is an exposure; one of the past is an inquiry and is not counted.
            state.exposures.own.count(
                [(name.as_str(), decision.reason.kind())],
                context.user_id.as_deref(),
            );
            decision
        }
        Some(at) => {
            let _turn = state.replays.turn().await?;
            past(&state).check_at(name.as_str(), &context, at).await?
        }
    };
    state.metrics.evaluation("check", decision.reason.as_str());
    Ok(Json(CheckResult {
        at: echo(at),
        stamp,
        ..CheckResult::new(name.as_str(), &decision)
    }))
}

/// A handle for reading the past; it writes nothing, so its actor is never recorded.
fn past(state: &AppState) -> Rollout {
    Rollout::new(state.store.clone(), "check")
}

/// Every feature's decision for one context.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatesResult {
    /// The snapshot version evaluated (with `at`, the store's version when it was read).
    pub version: u64,
    /// One entry per feature, sorted by name (with `at`, the features that existed then).
    pub states: Vec<CheckResult>,
    /// The time the answer is for, when one was asked for (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Every feature for a context, each with its reason; with `at`, as of that time.
#[utoipa::path(post, path = "/api/v1/states", tag = "evaluation",
    params(AtParams),
    request_body = ContextBody,
    responses((status = 200, body = StatesResult), (status = 422, body = ErrorBody)))]
pub async fn states(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AtParams>,
    ApiJson(mut body): ApiJson<ContextBody>,
) -> ApiResult<Json<StatesResult>> {
    let at = requested_time(params.at, body.at.take())?;
    let context = Context::from(body);
    let (version, states) = match at {
        None => {
            let loaded = state.live.current();
            let states = evaluate_all(&loaded.snapshot, &loaded.compiled, &context);
            // Every state answered now is an exposure, like a check (not those of the past).
            state.exposures.own.count(
                states.iter().filter_map(|answer| {
                    let kind = ReasonKind::ALL
                        .into_iter()
                        .find(|kind| kind.as_str() == answer.reason)?;
                    Some((answer.feature.as_str(), kind))
                }),
                context.user_id.as_deref(),
            );
            (loaded.snapshot.version, states)
        }
        Some(at) => {
            let _turn = state.replays.turn().await?;
            let snapshot = past(&state).snapshot_at(at).await?;
            let compiled = CompiledSnapshot::compile(&snapshot);
            (
                snapshot.version,
                evaluate_all(&snapshot, &compiled, &context),
            )
        }
    };
    Ok(Json(StatesResult {
        version,
        states,
        at: echo(at),
    }))
}

/// Every feature of the snapshot, evaluated for the context.
fn evaluate_all(
    snapshot: &Snapshot,
    compiled: &CompiledSnapshot,
    context: &Context,
) -> Vec<CheckResult> {
    snapshot
        .features
        .iter()
        .map(|feature| {
            let decision = compiled.evaluate(feature.name.as_str(), context, no_code_groups());
            CheckResult::new(feature.name.as_str(), &decision)
        })
        .collect()
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
