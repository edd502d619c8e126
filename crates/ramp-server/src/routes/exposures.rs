//! Exposure counts coming in: SDKs post how often each feature was checked
//! (`POST /api/v1/exposures`); the answer comes once the store has the batch. Readers may post
//! (an SDK's token is a reader's); a retried batch (same `batch_id`) is counted once.
//! `GET /api/v1/exposures` gives the totals reported without a feature.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use ramp_core::ReasonKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::exposures::admission::Report;
use crate::exposures::writer::WriteRefused;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The most counts one batch may carry (SDKs send at most 2,000).
pub const MAX_COUNTS: usize = 20_000;
/// The most user sketches one batch may carry (SDKs send at most 200).
pub const MAX_SKETCHES: usize = 1_000;
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
    /// The users checked in the period, per feature and answer, as HyperLogLog sketches of
    /// their hashed ids (`ramp_core::UserSketch`, hexadecimal); merged into distinct users per
    /// UTC day, for features that exist.
    #[serde(default)]
    pub users: Vec<ExposureUsersBody>,
}

/// The users one feature answered one way.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposureUsersBody {
    /// The feature name.
    pub feature: String,
    /// The answer.
    pub active: bool,
    /// The sketch: hexadecimal of a format byte (1 dense, 2 sparse) and registers.
    #[schema(value_type = String)]
    pub sketch: ramp_core::UserSketch,
}

/// How many checks of one feature gave one answer for one reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposureCountBody {
    /// The feature name as checked.
    pub feature: String,
    /// Whether the checks answered active.
    pub active: bool,
    /// off, excluded, everyone, user, group, percentage, outside_percentage or not_found.
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

/// Stores an SDK's counts of checks (answered once the store has them).
#[utoipa::path(post, path = "/api/v1/exposures", tag = "evaluation",
    request_body = ExposureBatchBody,
    responses((status = 200, body = ExposureReceipt), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
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
    if body.users.len() > MAX_SKETCHES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_exposures",
            format!(
                "a batch may carry at most {MAX_SKETCHES} user sketches, not {}",
                body.users.len()
            ),
        )
        .with_field("users"));
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
        unnamed: body.unknown_overflow,
        dropped: body.dropped,
        users: body
            .users
            .iter()
            .map(|users| (users.feature.as_str(), users.active, &users.sketch))
            .collect(),
    };
    let now = state.clock.now();
    let loaded = state.live.current();
    let exists = |name: &str| loaded.compiled.contains(name);
    let oldest_minute = state.exposures.oldest_minute(now);
    let admission = &state.exposures.admission;
    let batch = admission.batch(&report, exists, now, oldest_minute);
    let users = admission.users(&report, exists, now, oldest_minute);
    drop(report);
    let tally = state.metrics.exposure_tally(&batch);
    let counted = state
        .exposures
        .writer
        .write(batch, users)
        .await
        .map_err(refused_answer)?;
    if counted {
        state.metrics.exposures_stored(tally);
    }
    Ok(Json(ExposureReceipt {
        batch_id: body.batch_id,
        duplicate: !counted,
    }))
}

/// 503 for every refusal: the SDK keeps its counts and tries again later.
fn refused_answer(refused: WriteRefused) -> ApiError {
    let code = match refused {
        WriteRefused::Busy => "busy",
        WriteRefused::Store(_) => "store_unavailable",
        WriteRefused::Stopped => "shutting_down",
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, refused.to_string())
}

/// Exposure totals not kept per feature.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureSummary {
    /// Checks SDKs reported dropping (they could not reach a server for too long), and checks
    /// reported for minutes older than the minute buckets' window.
    pub dropped: u64,
    /// Checks counted without a name: past an SDK's table of unknown names, or past the
    /// server's bound on names of features that do not exist.
    pub unnamed: u64,
    /// True: the counts are in the store, shared by every server using it.
    pub persisted: bool,
}

/// Checks reported without a feature: dropped and unnamed, since the store began.
#[utoipa::path(get, path = "/api/v1/exposures", tag = "evaluation",
    responses((status = 200, body = ExposureSummary), (status = 503, body = ErrorBody)))]
pub async fn exposure_summary(State(state): State<AppState>) -> ApiResult<Json<ExposureSummary>> {
    let totals = state.store.exposure_totals().await?;
    Ok(Json(ExposureSummary {
        dropped: totals.dropped,
        unnamed: totals.unnamed,
        persisted: true,
    }))
}
