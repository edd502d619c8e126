//! Features: list, show, create, delete, and the general change endpoint every other edit is a
//! short form of.

use crate::json_errors::{ApiPath, ApiQuery};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ramp_core::{Change, Feature, FeatureName, FeatureState, Health, StageMismatch};
use ramp_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, etag, if_match, ApiJson};
use crate::health_report::HealthFacts;
use crate::routes::last_change::{stale_write, LastChange};
use crate::state::AppState;

/// A feature in a list: every field but the user lists, which are counted instead.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureSummary {
    /// The feature's name.
    pub name: String,
    /// `data.description`, if set.
    pub description: Option<String>,
    /// The stage.
    pub stage: String,
    /// The kind: release, experiment, operational, kill_switch or permission.
    pub kind: String,
    /// The percentage (0 to 100).
    pub percentage: f64,
    /// How many users are on the allow list.
    pub user_count: usize,
    /// How many users are excluded.
    pub excluded_count: usize,
    /// The groups.
    pub groups: Vec<String>,
    /// Free-form metadata.
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, Value>,
    /// When it last changed.
    pub updated_at: String,
    /// Its version (the ETag of its own page).
    pub version: u64,
    /// Why the stored feature could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
    /// Who changed it last and when; only with `with=last_change` (one store query for the
    /// whole list, but still a query, so it is asked for rather than always paid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<LastChange>,
    /// How the state contradicts the stage, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_mismatch: Option<MismatchView>,
    /// Since when it has been in its stage (RFC 3339), from history; only with
    /// `with=stage_since` (see `stage_time.rs` for what it costs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_since: Option<String>,
    /// Its health states with their evidence; only with `with=health` (three store reads
    /// for the whole list, see `health_report.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub health: Option<Health>,
}

/// A stage the state contradicts: `{"kind": "everyone_below_full", "message": "..."}`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct MismatchView {
    /// `development_reaches_users`, `everyone_below_full` or `graduated_not_fully_on`.
    pub kind: &'static str,
    /// The same, for people.
    pub message: &'static str,
}

impl From<StageMismatch> for MismatchView {
    fn from(mismatch: StageMismatch) -> Self {
        Self {
            kind: mismatch.as_str(),
            message: mismatch.message(),
        }
    }
}

/// A feature as the API shows it: every stored field, plus the stage mismatch if any.
#[derive(Serialize)]
struct FeatureView<'a> {
    #[serde(flatten)]
    feature: &'a Feature,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_mismatch: Option<MismatchView>,
    /// On a feature's own page: since when it has been in its stage, and the server's time
    /// to measure that against (the browser's clock may be wrong; tests move the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_time: Option<String>,
    /// On a feature's own page: its health states with their evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<Health>,
}

impl From<&Feature> for FeatureSummary {
    fn from(feature: &Feature) -> Self {
        Self {
            name: feature.name.to_string(),
            description: feature.description().map(str::to_owned),
            stage: feature.stage.to_string(),
            kind: feature.kind.to_string(),
            percentage: feature.percentage.value(),
            user_count: feature.users.len(),
            excluded_count: feature.excluded_users.len(),
            groups: feature.groups.iter().map(ToString::to_string).collect(),
            data: feature.data.clone(),
            updated_at: feature.updated_at.to_rfc3339(),
            version: feature.version,
            damaged: feature.damaged.clone(),
            last_change: None,
            stage_mismatch: feature.stage_mismatch().map(MismatchView::from),
            stage_since: None,
            health: None,
        }
    }
}

/// `stage_since` with all nine fraction digits and `Z`, so the texts sort as the times do (the
/// board sorts by it, and two features created in one millisecond must still sort apart).
pub(crate) fn stage_since_text(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A feature (with its stage mismatch, if any) with its version as ETag.
pub fn feature_response(status: StatusCode, feature: &Feature) -> Response {
    let view = FeatureView {
        feature,
        stage_mismatch: feature.stage_mismatch().map(MismatchView::from),
        stage_since: None,
        server_time: None,
        health: None,
    };
    (status, [(header::ETAG, etag(feature.version))], Json(view)).into_response()
}

pub(crate) fn feature_name(name: &str) -> ApiResult<FeatureName> {
    Ok(FeatureName::new(name)?)
}

/// Shows every field of one feature; the ETag is its version.
#[utoipa::path(get, path = "/api/v1/features/{name}", tag = "features",
    params(("name" = String, Path, description = "The feature")),
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)))]
pub async fn show_feature(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let name = feature_name(&name)?;
    let feature = state
        .store
        .feature(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("feature {:?} not found", name.as_str())))?;
    let since = crate::stage_time::stage_since(state.store.as_ref(), &[&feature]).await?;
    let now = state.clock.now();
    let facts = HealthFacts::read(state.store.as_ref()).await?;
    let health = since
        .first()
        .map(|since| facts.health(&feature, now, *since));
    let view = FeatureView {
        feature: &feature,
        stage_mismatch: feature.stage_mismatch().map(MismatchView::from),
        stage_since: since.first().copied().map(stage_since_text),
        server_time: Some(now.to_rfc3339()),
        health,
    };
    let tag = etag(feature.version);
    Ok((StatusCode::OK, [(header::ETAG, tag)], Json(view)).into_response())
}

/// A new feature: its name and, optionally, its settings.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFeature {
    /// The feature's name.
    pub name: String,
    /// Settings (percentage, users, excluded_users, groups, data, stage, kind); all optional.
    /// An unknown stage or kind is a 422 whose message lists the known ones.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub state: FeatureState,
}

/// Creates a feature; 409 if it exists.
#[utoipa::path(post, path = "/api/v1/features", tag = "features", request_body = NewFeature,
    responses((status = 201, body = serde_json::Value), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_feature(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewFeature>,
) -> ApiResult<Response> {
    let name = feature_name(&new.name)?;
    let change = Change::Replace { state: new.state };
    let applied = state
        .store
        .apply(&name, &change, Some(0), &attribution(&caller, &headers))
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("feature {:?} already exists", name.as_str()),
            )
            .with_field("name"),
            other => other.into(),
        })?;
    Ok(with_event_header(
        feature_response(StatusCode::CREATED, &applied.feature),
        applied.event.as_ref(),
    ))
}

/// Applies a change, honouring `If-Match`.
pub async fn apply_change(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    name: &str,
    change: Change,
) -> ApiResult<Response> {
    let attribution = attribution(caller, headers);
    apply_change_attributed(state, headers, name, change, attribution, None).await
}

/// `apply_change` with the attribution given (a stage change's `reason` is its comment).
/// A move to `graduated` is checked by `graduation_guard` first, then a stage move by
/// `wip_guard` (which `override_reason` lets past a full stage, noted in the comment).
pub async fn apply_change_attributed(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    change: Change,
    attribution: ramp_core::Attribution,
    override_reason: Option<&str>,
) -> ApiResult<Response> {
    let name = feature_name(name)?;
    let expected = if_match(headers)?;
    let expected =
        crate::graduation_guard::check(state, &name, &change, expected, &attribution).await?;
    // The pass is kept until the write is done: it holds other stage moves' WIP counts.
    let pass = crate::wip_guard::check(state, &name, &change, override_reason, attribution).await?;
    let applied = match state
        .store
        .apply(&name, &change, expected, &pass.attribution)
        .await
    {
        Ok(applied) => applied,
        Err(error) => return Err(stale_or(error, state, &name).await),
    };
    Ok(with_event_header(
        feature_response(StatusCode::OK, &applied.feature),
        applied.event.as_ref(),
    ))
}

/// The header naming the history event a write recorded; absent when nothing changed.
pub const EVENT_HEADER: &str = "x-ramp-event";

/// Adds `X-Ramp-Event: ID`, so a client can fetch exactly the event its write recorded.
pub fn with_event_header(
    mut response: Response,
    event: Option<&ramp_core::HistoryEvent>,
) -> Response {
    if let Some(event) = event {
        response
            .headers_mut()
            .insert(EVENT_HEADER, axum::http::HeaderValue::from(event.id));
    }
    response
}

/// A `Conflict` from an `If-Match` write is a 412 naming who changed the feature since;
/// anything else maps as usual.
async fn stale_or(error: StoreError, state: &AppState, name: &FeatureName) -> ApiError {
    if matches!(
        error,
        StoreError::Unavailable { .. } | StoreError::OutcomeUnknown { .. }
    ) {
        state.metrics.store_error();
    }
    match error {
        StoreError::Conflict { expected: 0, .. } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "version_mismatch",
            "the feature exists, but If-Match said it should not",
        ),
        StoreError::Conflict {
            expected, actual, ..
        } => stale_write(state, name, expected, actual).await,
        other => other.into(),
    }
}

/// Applies any change (`{"op": "add_users", "users": [...]}`, see `Change`). Honours `If-Match`.
#[utoipa::path(post, path = "/api/v1/features/{name}/changes", tag = "features",
    params(("name" = String, Path, description = "The feature")),
    request_body(content = serde_json::Value, description = "A change: {\"op\": \"set_percentage\", \"percentage\": 25}"),
    responses((status = 200, body = serde_json::Value), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn change_feature(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(change): ApiJson<Change>,
) -> ApiResult<Response> {
    apply_change(&state, &caller, &headers, &name, change).await
}

/// `?confirm=true` on a deletion.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even though code still names the feature or applications checked it recently.
    #[serde(default)]
    pub confirm: bool,
}

/// Deletes a feature (its history is kept). Honours `If-Match`. A feature that code still
/// names, or that applications checked in the last 7 days, is deleted only with
/// `?confirm=true`: otherwise 409 `confirmation_required` says why.
#[utoipa::path(delete, path = "/api/v1/features/{name}", tag = "features",
    params(("name" = String, Path, description = "The feature"), DeleteQuery),
    responses((status = 200, description = "The history event recording the deletion", body = serde_json::Value),
        (status = 404, body = ErrorBody),
        (status = 409, body = crate::deletion_check::ConfirmationRequired),
        (status = 412, body = ErrorBody)))]
pub async fn delete_feature(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let name = feature_name(&name)?;
    let expected = if_match(&headers)?;
    if !query.confirm {
        if let Some(reasons) = crate::deletion_check::reasons(&state, &name).await? {
            return Ok(crate::deletion_check::refusal(&name, reasons));
        }
    }
    let event = match state
        .store
        .delete(&name, expected, &attribution(&caller, &headers))
        .await
    {
        Ok(event) => event,
        Err(error) => return Err(stale_or(error, &state, &name).await),
    };
    Ok(Json(event).into_response())
}
