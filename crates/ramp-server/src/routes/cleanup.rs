//! The Cleanup screen's data: `GET /api/v1/cleanup` lists every feature in at least one health
//! state (stale, ready to graduate, unused, safe to delete) with the evidence for each, the
//! count per state and the server's time; `?state=stale` keeps one state. Readers may ask.
//!
//! Bounded whatever the number of features: one snapshot, three reads of shared facts (see
//! `health_report.rs`), and stage times for the listed features only.

use axum::extract::State;
use axum::Json;
use ramp_core::HealthState;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::health_report::{cleanup_report, CleanupReport};
use crate::json_errors::ApiQuery;
use crate::state::AppState;

/// Which features to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CleanupFilters {
    /// Only features in this state: `stale`, `ready_to_graduate`, `unused` or `safe_to_delete`.
    pub state: Option<String>,
}

/// Features to clean up, with the evidence for each state.
#[utoipa::path(get, path = "/api/v1/cleanup", tag = "features", params(CleanupFilters),
    responses((status = 200, body = CleanupReport), (status = 422, body = ErrorBody)))]
pub async fn cleanup(
    State(state): State<AppState>,
    ApiQuery(filters): ApiQuery<CleanupFilters>,
) -> ApiResult<Json<CleanupReport>> {
    let only = filters
        .state
        .as_deref()
        .map(|text| {
            text.parse::<HealthState>()
                .map_err(|error| ApiError::invalid(error.to_string()).with_field("state"))
        })
        .transpose()?;
    let report = cleanup_report(state.store.as_ref(), state.clock.now(), only).await?;
    Ok(Json(report))
}
