//! The lifecycle settings: `GET /api/v1/settings/lifecycle` (any token) and `PUT` (admins):
//! each stage's WIP limit, each kind's expected life and the windows health is computed with.
//! The body names the parts it replaces (`{"wip_limits": {"beta": 3}, "expected_life_days":
//! {"release": 20, "operational": null}, "unused_after_days": 60}`): within `wip_limits` a stage
//! left out has no limit, within `expected_life_days` a kind left out has its default life, a
//! window given as `null` has its default. A part the body leaves out keeps its stored value, so
//! a client that knows only WIP limits (an older board or command line) never erases the
//! expected lives. `If-Match: "VERSION"` makes the write conditional (412 when someone changed
//! the settings since); without it the write is still made against the version it merged into,
//! and tried again if that changed. `X-Ramp-Comment` is the history event's comment.
//!
//! Every value is checked before anything is written and a bad one is a 422 naming its field
//! (`wip_limits.beta`, `expected_life_days.release`, `unused_after_days`), so bad input never
//! half-writes the settings. The answer also gives every kind's effective and default life, so
//! a screen or the command line never needs to know the defaults.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ramp_core::{
    FeatureKind, HealthWindow, HistoryEvent, LifecycleSettings, Stage, MAX_LIFECYCLE_DAYS,
    MAX_WIP_LIMIT,
};
use ramp_store::{StoreError, VersionedSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, etag, if_match, ApiJson};
use crate::state::AppState;

/// The parts of the settings to replace; a part left out keeps its stored value. Values are
/// read as JSON first so a bad one is refused by its field name rather than by a serde message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleBody {
    /// Per stage name, the most features it may hold at once (0 to 10,000); a stage left out
    /// (or `null`) has no limit.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub wip_limits: Option<Map<String, Value>>,
    /// Per kind name (release, experiment, operational, kill_switch, permission), how many
    /// days a feature of that kind is expected to live (1 to 3,650); `null` is permanent; a
    /// kind left out has its default.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub expected_life_days: Option<Map<String, Value>>,
    /// Days a feature on for everyone must stay unchanged to be ready to graduate (1 to
    /// 3,650); `null`: the default, 14.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub ready_to_graduate_after_days: Option<Value>,
    /// Days without checks that make a feature unused (1 to 3,650); default 30.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub unused_after_days: Option<Value>,
    /// Days a graduated feature must go unchecked and unreferenced to be safe to delete (1 to
    /// 3,650); default 30.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub safe_to_delete_after_days: Option<Value>,
}

/// A field given, even as `null` (which serde's `Option` would read as absent): `null` asks
/// for the default, absent keeps the stored value.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The settings with their version (also the `ETag`), and after a write the history event it
/// recorded (`null` when nothing changed).
#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleView {
    /// Per stage name, its WIP limit; stages without one are absent.
    #[schema(value_type = Object)]
    pub wip_limits: BTreeMap<Stage, u32>,
    /// The admins' expected life per kind, in days (`null`: permanent); kinds absent keep
    /// their default.
    #[schema(value_type = Object)]
    pub expected_life_days: BTreeMap<FeatureKind, Option<u32>>,
    /// Every kind's expected life as it applies now, in days (`null`: permanent).
    #[schema(value_type = Object)]
    pub effective_expected_life_days: BTreeMap<FeatureKind, Option<u32>>,
    /// Every kind's expected life when the admins have not set it (`null`: permanent).
    #[schema(value_type = Object)]
    pub default_expected_life_days: BTreeMap<FeatureKind, Option<u32>>,
    /// Days on for everyone and unchanged before a feature is ready to graduate.
    pub ready_to_graduate_after_days: u32,
    /// Days without checks before a feature is unused.
    pub unused_after_days: u32,
    /// Days a graduated feature goes unchecked and unreferenced before it is safe to delete.
    pub safe_to_delete_after_days: u32,
    /// How many writes changed the settings (0: never written).
    pub version: u64,
    /// The event a write recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub event: Option<HistoryEvent>,
}

impl LifecycleView {
    fn response(stored: VersionedSettings, event: Option<HistoryEvent>) -> Response {
        let settings = stored.settings;
        let per_kind = |life: &dyn Fn(FeatureKind) -> Option<u32>| -> BTreeMap<_, _> {
            FeatureKind::ALL
                .into_iter()
                .map(|kind| (kind, life(kind)))
                .collect()
        };
        let view = LifecycleView {
            effective_expected_life_days: per_kind(&|kind| settings.expected_life_days(kind)),
            default_expected_life_days: per_kind(&FeatureKind::default_expected_life_days),
            ready_to_graduate_after_days: settings.ready_to_graduate_after_days,
            unused_after_days: settings.unused_after_days,
            safe_to_delete_after_days: settings.safe_to_delete_after_days,
            wip_limits: settings.wip_limits,
            expected_life_days: settings.expected_life_days,
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

/// How many times a write without `If-Match` merges again because another write came first.
/// Settings writes are rare: twice is already a coincidence.
const MERGE_ATTEMPTS: usize = 5;

/// The settings the body asks for, given the stored ones: the parts it names replaced, the
/// rest kept. Refuses the first bad value by its field name.
fn settings_of(body: &LifecycleBody, stored: &LifecycleSettings) -> ApiResult<LifecycleSettings> {
    let mut settings = stored.clone();
    let defaults = LifecycleSettings::default();
    if let Some(limits) = &body.wip_limits {
        settings.wip_limits = wip_limits_of(limits)?;
    }
    if let Some(lives) = &body.expected_life_days {
        settings.expected_life_days = expected_lives_of(lives)?;
    }
    let windows = [
        (
            HealthWindow::ReadyToGraduate,
            &body.ready_to_graduate_after_days,
        ),
        (HealthWindow::Unused, &body.unused_after_days),
        (HealthWindow::SafeToDelete, &body.safe_to_delete_after_days),
    ];
    for (window, days) in windows {
        let days = match days {
            None => continue,
            Some(Value::Null) => defaults.window(window),
            Some(days) => whole_days(window.as_str(), days, "")?,
        };
        match window {
            HealthWindow::ReadyToGraduate => settings.ready_to_graduate_after_days = days,
            HealthWindow::Unused => settings.unused_after_days = days,
            HealthWindow::SafeToDelete => settings.safe_to_delete_after_days = days,
        }
    }
    // The core's own check, should it ever be stricter than the reading above.
    settings
        .validate()
        .map_err(|error| ApiError::invalid(error.to_string()))?;
    Ok(settings)
}

/// `wip_limits`: per stage, a limit or `null` (none).
fn wip_limits_of(limits: &Map<String, Value>) -> ApiResult<BTreeMap<Stage, u32>> {
    let mut parsed = BTreeMap::new();
    for (stage_name, limit) in limits {
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
        parsed.insert(stage, limit as u32);
    }
    Ok(parsed)
}

/// `expected_life_days`: per kind, days or `null` (permanent).
fn expected_lives_of(lives: &Map<String, Value>) -> ApiResult<BTreeMap<FeatureKind, Option<u32>>> {
    let mut parsed = BTreeMap::new();
    for (kind_name, days) in lives {
        let field = format!("expected_life_days.{kind_name}");
        let kind: FeatureKind = kind_name.parse().map_err(|error: ramp_core::CoreError| {
            ApiError::invalid(format!("{field}: {error}")).with_field(field.clone())
        })?;
        let days = match days {
            Value::Null => None,
            days => Some(whole_days(&field, days, " (or null for permanent)")?),
        };
        parsed.insert(kind, days);
    }
    Ok(parsed)
}

/// A number of days from 1 to `MAX_LIFECYCLE_DAYS`, or a 422 naming `field`.
fn whole_days(field: &str, days: &Value, or: &str) -> ApiResult<u32> {
    days.as_u64()
        .filter(|days| (1..=u64::from(MAX_LIFECYCLE_DAYS)).contains(days))
        .map(|days| days as u32)
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "{field}: a number of days is a whole number from 1 to {MAX_LIFECYCLE_DAYS}{or}, not {days}"
            ))
            .with_field(field.to_owned())
        })
}

/// The lifecycle settings: each stage's WIP limit, each kind's expected life (and the
/// effective and default ones) and the health windows. The ETag is their version.
#[utoipa::path(get, path = "/api/v1/settings/lifecycle", tag = "settings",
    responses((status = 200, body = LifecycleView)))]
pub async fn lifecycle_settings(State(state): State<AppState>) -> ApiResult<Response> {
    let stored = state.store.lifecycle_settings().await?;
    Ok(LifecycleView::response(stored, None))
}

/// Replaces the parts of the lifecycle settings the body names (admins). Honours `If-Match: "VERSION"`; the change is
/// recorded in history (subject `settings: lifecycle`) under the caller's name.
#[utoipa::path(put, path = "/api/v1/settings/lifecycle", tag = "settings",
    request_body = LifecycleBody,
    responses((status = 200, body = LifecycleView), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_lifecycle_settings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LifecycleBody>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let attribution = attribution(&caller, &headers);
    for _ in 0..MERGE_ATTEMPTS {
        let stored = state.store.lifecycle_settings().await?;
        let settings = settings_of(&body, &stored.settings)?;
        // With If-Match the caller's version decides; without, the version merged into, so
        // a part another admin changed meanwhile is never written back with its old value.
        let against = expected.unwrap_or(stored.version);
        match state
            .store
            .put_lifecycle_settings(&settings, Some(against), &attribution)
            .await
        {
            Ok(applied) => {
                let stored = VersionedSettings {
                    settings,
                    version: applied.version,
                };
                return Ok(LifecycleView::response(stored, applied.event));
            }
            Err(StoreError::Conflict { .. }) if expected.is_none() => continue,
            Err(StoreError::Conflict {
                expected, actual, ..
            }) => {
                return Err(ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "version_mismatch",
                    format!(
                        "the lifecycle settings changed since they were read (version {actual}, you had {expected}); reload them before saving again"
                    ),
                ))
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "contended",
        "other admins kept changing the lifecycle settings; try again",
    ))
}
