//! Distinct users of a feature (`GET /api/v1/features/{name}/exposures/users`): per UTC day
//! and answer, estimated from the HyperLogLog sketches applications and this server merged
//! (no user id is kept anywhere), and over the whole period, by merging the days' sketches, so
//! a user seen on three days counts once.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use ramp_core::UserSketch;
use ramp_store::daily_users::day_of;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::features::feature_name;
use crate::state::AppState;

/// The most days one answer covers (sketches are kept 90 days by default).
const MAX_DAYS: i64 = 400;

/// The period: every UTC day it touches is read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersParams {
    /// Start (RFC 3339; default: a day before `to`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// End, exclusive (RFC 3339; default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
}

/// Distinct users on one UTC day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyUsersBody {
    /// The day (UTC).
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// Users the feature answered active (estimated).
    pub active: u64,
    /// Users it answered inactive (estimated).
    pub inactive: u64,
}

/// A feature's distinct users.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureUsers {
    /// The feature.
    pub feature: String,
    /// The first UTC day read.
    #[schema(value_type = String, format = Date)]
    pub from_day: NaiveDate,
    /// The last UTC day read.
    #[schema(value_type = String, format = Date)]
    pub to_day: NaiveDate,
    /// Days with users, oldest first.
    pub days: Vec<DailyUsersBody>,
    /// Distinct users answered active over all the days (each user once).
    pub active: u64,
    /// Distinct users answered inactive over all the days. A user who got both answers (the
    /// feature changed, or a percentage grew) counts in both.
    pub inactive: u64,
    /// The estimates' relative standard error (about 0.032).
    pub standard_error: f64,
}

/// Distinct users per UTC day and answer, and over the period: estimates from sketches of
/// hashed user ids sent by SDKs and made by this server's own checks.
#[utoipa::path(get, path = "/api/v1/features/{name}/exposures/users", tag = "exposures",
    params(("name" = String, Path, description = "The feature"), UsersParams),
    responses((status = 200, body = FeatureUsers), (status = 422, body = ErrorBody)))]
pub async fn feature_users(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<UsersParams>,
) -> ApiResult<Json<FeatureUsers>> {
    let name = feature_name(&name)?;
    let to = params.to.unwrap_or_else(|| state.clock.now());
    let from = params.from.unwrap_or(to - Duration::days(1));
    if from >= to {
        return Err(ApiError::invalid("from must be before to").with_field("from"));
    }
    let (from_day, to_day) = (day_of(from), day_of(to - Duration::nanoseconds(1)));
    if (to_day - from_day).num_days() >= MAX_DAYS {
        return Err(
            ApiError::invalid(format!("a period may cover at most {MAX_DAYS} days"))
                .with_field("from"),
        );
    }
    let sketches = state
        .store
        .user_sketches(name.as_str(), from_day, to_day)
        .await?;
    let mut days: Vec<DailyUsersBody> = Vec::new();
    let (mut active, mut inactive) = (UserSketch::new(), UserSketch::new());
    for daily in &sketches {
        if days.last().map(|last| last.day) != Some(daily.day) {
            days.push(DailyUsersBody {
                day: daily.day,
                active: 0,
                inactive: 0,
            });
        }
        let estimate = daily.sketch.estimate();
        if let Some(last) = days.last_mut() {
            if daily.active {
                last.active = estimate;
            } else {
                last.inactive = estimate;
            }
        }
        let total = if daily.active {
            &mut active
        } else {
            &mut inactive
        };
        total.merge(&daily.sketch);
    }
    Ok(Json(FeatureUsers {
        feature: name.as_str().to_owned(),
        from_day,
        to_day,
        days,
        active: active.estimate(),
        inactive: inactive.estimate(),
        standard_error: UserSketch::standard_error(),
    }))
}
