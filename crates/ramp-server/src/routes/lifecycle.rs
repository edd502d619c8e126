//! The lifecycle settings: `GET /api/v1/settings/lifecycle` (any token) and `PUT` (admins),
//! today the WIP limit of each stage. The body is the whole document (`{"wip_limits": {"beta":
//! 3}}`; a stage left out has no limit); `If-Match: "VERSION"` makes the write conditional (412
//! when someone changed the settings since), `X-Ramp-Comment` is the history event's comment.
//!
//! Every limit is checked before anything is written and a bad one is a 422 naming its field
//! (`wip_limits.beta`), so bad input never half-writes the settings.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ramp_core::{HistoryEvent, LifecycleSettings, Stage, MAX_WIP_LIMIT};
use ramp_store::{StoreError, VersionedSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, etag, if_match, ApiJson};
use crate::state::AppState;

/// `{"wip_limits": {"beta": 3, "rolling_out": 2}}`: the whole settings document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleBody {
    /// Per stage name, the most features it may hold at once (0 to 10,000); a stage left out
    /// (or `null`) has no limit.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub wip_limits: Map<String, Value>,
}

/// The settings with their version (also the `ETag`), and after a write the history event it
/// recorded (`null` when nothing changed).
#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleView {
    /// Per stage name, its WIP limit; stages without one are absent.
    #[schema(value_type = Object)]
    pub wip_limits: std::collections::BTreeMap<Stage, u32>,
    /// How many writes changed the settings (0: never written).
    pub version: u64,
    /// The event a write recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub event: Option<HistoryEvent>,
}

impl LifecycleView {
    fn response(stored: VersionedSettings, event: Option<HistoryEvent>) -> Response {
        let view = LifecycleView {
            wip_limits: stored.settings.wip_limits,
            version: stored.version,
            event,
        };
        (
            StatusCode::OK,
            [(header::ETAG, etag(stored.version))],
            Json(view),
        )
            .into_response()
    }
}

/// Reads the body's limits, refusing the first bad one by its field name.
fn settings_of(body: LifecycleBody) -> ApiResult<LifecycleSettings> {
    let mut settings = LifecycleSettings::default();
    for (stage_name, limit) in body.wip_limits {
        let field = format!("wip_limits.{stage_name}");
        let stage: Stage = stage_name.parse().map_err(|error: ramp_core::CoreError| {
            ApiError::invalid(format!("{field}: {error}")).with_field(field.clone())
        })?;
        if limit.is_null() {
            continue;
        }
        let limit = limit
            .as_u64()
            .filter(|limit| *limit <= u64::from(MAX_WIP_LIMIT))
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "{field}: a WIP limit is a whole number from 0 to {MAX_WIP_LIMIT} (or null for none), not {limit}"
                ))
                .with_field(field.clone())
            })?;
        settings.wip_limits.insert(stage, limit as u32);
    }
    Ok(settings)
}

/// The lifecycle settings: each stage's WIP limit. The ETag is their version.
#[utoipa::path(get, path = "/api/v1/settings/lifecycle", tag = "settings",
    responses((status = 200, body = LifecycleView)))]
pub async fn lifecycle_settings(State(state): State<AppState>) -> ApiResult<Response> {
    let stored = state.store.lifecycle_settings().await?;
    Ok(LifecycleView::response(stored, None))
}

/// Replaces the lifecycle settings (admins). Honours `If-Match: "VERSION"`; the change is
/// recorded in history (subject `settings: lifecycle`) under the caller's name.
#[utoipa::path(put, path = "/api/v1/settings/lifecycle", tag = "settings",
    request_body = LifecycleBody,
    responses((status = 200, body = LifecycleView), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_lifecycle_settings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LifecycleBody>,
) -> ApiResult<Response> {
    let settings = settings_of(body)?;
    let expected = if_match(&headers)?;
    let applied = state
        .store
        .put_lifecycle_settings(&settings, expected, &attribution(&caller, &headers))
        .await
        .map_err(|error| match error {
            StoreError::Conflict {
                expected, actual, ..
            } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                format!(
                    "the lifecycle settings changed since they were read (version {actual}, you had {expected}); reload them before saving again"
                ),
            ),
            other => other.into(),
        })?;
    let stored = VersionedSettings {
        settings,
        version: applied.version,
    };
    Ok(LifecycleView::response(stored, applied.event))
}
