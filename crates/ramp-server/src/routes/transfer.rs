//! Export and import of every feature and stored group as one JSON document (the same format
//! as `ramp export`). Import checks the whole document first and writes all or nothing.

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ramp_rollout::{Export, Rollout};
use ramp_store::ImportSummary;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::body_deadline::{timed, BodyTimeouts};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{attribution, body_read_error, too_large};
use crate::state::AppState;

/// Every feature and stored group.
#[utoipa::path(get, path = "/api/v1/export", tag = "transfer",
    responses((status = 200, body = serde_json::Value)))]
pub async fn export(State(state): State<AppState>) -> ApiResult<Json<Export>> {
    let rollout = Rollout::new(state.store.clone(), "export");
    Ok(Json(rollout.export(chrono::Utc::now()).await?))
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Features created.
    pub created: usize,
    /// Features changed.
    pub updated: usize,
    /// Features already as imported.
    pub unchanged: usize,
    /// Stored groups written.
    pub groups: usize,
}

impl From<ImportSummary> for ImportResult {
    fn from(summary: ImportSummary) -> Self {
        Self {
            created: summary.created,
            updated: summary.updated,
            unchanged: summary.unchanged,
            groups: summary.groups,
        }
    }
}

/// Imports a document written by export; nothing is written unless all of it is valid.
#[utoipa::path(post, path = "/api/v1/import", tag = "transfer",
    request_body(content = serde_json::Value, description = "An export document"),
    responses((status = 200, body = ImportResult), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportResult>> {
    // Exports of large stores outgrow the JSON body limit; imports get the user-list limit.
    let body = timed(body, BodyTimeouts::from_ref(&state));
    let bytes = axum::body::to_bytes(body, state.config.user_list_limit)
        .await
        .map_err(|error| body_read_error(&error, too_large))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("the import document is not UTF-8"))?;
    let export = Export::parse(text)?;
    let attribution = attribution(&caller, &headers);
    let mut rollout = Rollout::new(state.store.clone(), attribution.actor);
    if let Some(comment) = attribution.comment {
        rollout = rollout.with_comment(comment);
    }
    Ok(Json(rollout.import(&export).await?.into()))
}
