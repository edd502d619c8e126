//! Exposure counts: SDKs post how often each feature was checked (`POST /api/v1/exposures`),
//! and a feature's page reads them per minute (`GET /api/v1/features/{name}/exposures`).
//!
//! The counts live in this server's memory (`crate::exposures`), NOT in the store yet: a
//! restart forgets them and servers sharing a store do not share them. Readers may post
//! (an SDK's token is a reader's); a retried batch (same `batch_id`) is counted once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use ramp_core::ReasonKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::exposures::{Added, Report};
use crate::extract::ApiJson;
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::features::feature_name;
use crate::state::AppState;

/// The most counts one batch may carry (SDKs send at most 2,000).
pub const MAX_COUNTS: usize = 20_000;
/// The longest application, instance, batch id or feature name accepted, in bytes.
const MAX_TEXT: usize = 200;

/// A batch of counts from one SDK instance.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposureBatchBody {
    /// The application's name.
    pub application: String,
    /// Its running instance (e.g. `HOSTNAME-PID`).
    pub instance: String,
    /// Unique per batch; a retry repeats it, and is then ignored.
    pub batch_id: String,
    /// Start of the period counted.
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<Utc>,
    /// End of the period: the counts are added to this minute.
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<Utc>,
    /// Counts per feature and reason (unknown names have reason `not_found`).
    pub counts: Vec<ExposureCountBody>,
    /// Checks of unknown names the SDK could not count by name.
    #[serde(default)]
    pub unknown_overflow: u64,
    /// Checks whose counts the SDK had to drop while it could not reach a server.
    #[serde(default)]
    pub dropped: u64,
}

/// How many checks of one feature gave one answer for one reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposureCountBody {
    /// The feature name as checked.
    pub feature: String,
    /// Whether the checks answered active.
    pub active: bool,
    /// off, excluded, everyone, user, group, percentage or not_found.
    #[schema(value_type = String)]
    pub reason: ReasonKind,
    /// How many checks.
    pub count: u64,
}

/// What the server did with a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureReceipt {
    /// The batch id.
    pub batch_id: String,
    /// True when the id was seen before and the batch was ignored.
    pub duplicate: bool,
}

fn check_text(value: &str, field: &str) -> ApiResult<()> {
    if value.is_empty() || value.len() > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "{field} must be 1 to {MAX_TEXT} bytes without control characters"
        ))
        .with_field(field));
    }
    Ok(())
}

/// Adds an SDK's counts of checks to this server's in-memory aggregate (not stored yet).
#[utoipa::path(post, path = "/api/v1/exposures", tag = "evaluation",
    request_body = ExposureBatchBody,
    responses((status = 200, body = ExposureReceipt), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn report_exposures(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ExposureBatchBody>,
) -> ApiResult<Json<ExposureReceipt>> {
    if body.counts.len() > MAX_COUNTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_exposures",
            format!(
                "a batch may carry at most {MAX_COUNTS} counts, not {}",
                body.counts.len()
            ),
        )
        .with_field("counts"));
    }
    check_text(&body.application, "application")?;
    check_text(&body.instance, "instance")?;
    check_text(&body.batch_id, "batch_id")?;
    for count in &body.counts {
        check_text(&count.feature, "counts.feature")?;
        if count.active != count.reason.is_active() {
            return Err(ApiError::invalid(format!(
                "a check decided by {} is never {}",
                count.reason,
                if count.active { "active" } else { "inactive" }
            ))
            .with_field("counts.active"));
        }
    }
    let report = Report {
        batch_id: &body.batch_id,
        application: &body.application,
        instance: &body.instance,
        to: body.to,
        counts: body
            .counts
            .iter()
            .map(|count| (count.feature.as_str(), count.reason, count.count))
            .collect(),
        unknown_overflow: body.unknown_overflow,
        dropped: body.dropped,
    };
    let added = state
        .exposures
        .lock()
        .unwrap_or_else(|error| error.into_inner())
        .add(&report, state.clock.now());
    Ok(Json(ExposureReceipt {
        batch_id: body.batch_id,
        duplicate: added == Added::Duplicate,
    }))
}

/// This server's exposure totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureSummary {
    /// Checks SDKs reported dropping (they could not reach a server for too long).
    pub dropped: u64,
    /// Checks SDKs counted without a name (past their table of unknown names, or past this
    /// server's bound on feature names).
    pub unnamed: u64,
    /// Always false for now: the counts are in this server's memory only.
    pub persisted: bool,
}

/// What this server's SDKs reported beyond per-feature counts: checks dropped and unnamed.
#[utoipa::path(get, path = "/api/v1/exposures", tag = "evaluation",
    responses((status = 200, body = ExposureSummary)))]
pub async fn exposure_summary(State(state): State<AppState>) -> Json<ExposureSummary> {
    let aggregate = state
        .exposures
        .lock()
        .unwrap_or_else(|error| error.into_inner());
    Json(ExposureSummary {
        dropped: aggregate.dropped,
        unnamed: aggregate.unnamed,
        persisted: false,
    })
}

/// Which minutes to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExposureParams {
    /// Start (RFC 3339; default: an hour before `to`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// End, exclusive (RFC 3339; default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
}

/// A feature's checks in one minute.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureMinute {
    /// The minute's start.
    #[schema(value_type = String, format = DateTime)]
    pub minute: DateTime<Utc>,
    /// Checks that answered active.
    pub active: u64,
    /// Checks that answered inactive.
    pub inactive: u64,
    /// Checks per reason (only reasons with checks).
    #[schema(value_type = Object)]
    pub reasons: std::collections::BTreeMap<&'static str, u64>,
}

/// An application instance that reported checks of the feature.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureApplication {
    /// The application's name.
    pub application: String,
    /// The instance.
    pub instance: String,
    /// When it last reported the feature.
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: DateTime<Utc>,
}

/// A feature's checks per minute, and who checked it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureExposures {
    /// The feature.
    pub feature: String,
    /// Start of the period.
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<Utc>,
    /// End of the period.
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<Utc>,
    /// Minutes with checks, oldest first.
    pub minutes: Vec<ExposureMinute>,
    /// Instances that reported the feature, most recent first.
    pub applications: Vec<ExposureApplication>,
    /// Always false for now: the counts are in this server's memory only.
    pub persisted: bool,
}

/// A feature's checks per minute (active, inactive, per reason) as SDKs reported them to this
/// server, and the applications that reported it. In memory only, for the last 48 hours.
#[utoipa::path(get, path = "/api/v1/features/{name}/exposures", tag = "evaluation",
    params(("name" = String, Path, description = "The feature"), ExposureParams),
    responses((status = 200, body = FeatureExposures), (status = 422, body = ErrorBody)))]
pub async fn feature_exposures(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<ExposureParams>,
) -> ApiResult<Json<FeatureExposures>> {
    let name = feature_name(&name)?;
    let to = params.to.unwrap_or_else(|| state.clock.now());
    let from = params.from.unwrap_or(to - Duration::hours(1));
    if from > to {
        return Err(ApiError::invalid("from must not be after to").with_field("from"));
    }
    let aggregate = state
        .exposures
        .lock()
        .unwrap_or_else(|error| error.into_inner());
    let minutes = aggregate
        .series(name.as_str(), from, to)
        .into_iter()
        .map(|(minute, counts)| {
            let mut minute = ExposureMinute {
                minute,
                active: 0,
                inactive: 0,
                reasons: Default::default(),
            };
            for (kind, count) in ReasonKind::ALL.into_iter().zip(counts) {
                if count == 0 {
                    continue;
                }
                if kind.is_active() {
                    minute.active += count;
                } else {
                    minute.inactive += count;
                }
                minute.reasons.insert(kind.as_str(), count);
            }
            minute
        })
        .collect();
    let applications = aggregate
        .applications(name.as_str())
        .into_iter()
        .map(|(application, instance, last_seen)| ExposureApplication {
            application,
            instance,
            last_seen,
        })
        .collect();
    Ok(Json(FeatureExposures {
        feature: name.to_string(),
        from,
        to,
        minutes,
        applications,
        persisted: false,
    }))
}
