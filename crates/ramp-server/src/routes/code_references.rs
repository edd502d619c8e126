//! Code references: `ramp scan --upload` replaces a repository's references
//! (`PUT /api/v1/code-references/{repository}`), a feature page lists its own
//! (`GET /api/v1/features/{name}/references`) and, once graduated, the removal checklist built
//! from them (`GET /api/v1/features/{name}/checklist`, routing code first); every feature's
//! count at once is `GET /api/v1/code-references` (health, the HTTP store).
//!
//! Readers may upload: a scan reports what code says, like an SDK's exposure counts, and
//! changes no feature, so a CI job needs no admin token. Everything a client sends is bounded:
//! the body by the server's body limit, the number of references (413), and each text field
//! (422 naming the field, from `CodeScan::validate`); a refused upload stores nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use ramp_core::{
    removal_checklist, ChecklistFile, CodeReference, CodeScan, FeatureReference, MAX_REFERENCES,
};
use ramp_store::CodeReferenceSummary;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::json_errors::ApiPath;
use crate::routes::features::feature_name;
use crate::state::AppState;

/// One repository's scan, as `ramp scan --upload` sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeScanBody {
    /// The commit scanned.
    pub commit: String,
    /// Every reference found (at most 20,000).
    #[schema(value_type = Vec<Object>)]
    pub references: Vec<CodeReference>,
}

/// What the server stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeScanReceipt {
    /// The repository.
    pub repository: String,
    /// The commit.
    pub commit: String,
    /// When the server received the scan (its clock).
    #[schema(value_type = String, format = DateTime)]
    pub scanned_at: DateTime<Utc>,
    /// How many references it holds.
    pub references: usize,
}

/// A feature's references in the latest scan of every repository.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeatureReferences {
    /// The feature.
    pub feature: String,
    /// By repository, file and line.
    #[schema(value_type = Vec<Object>)]
    pub references: Vec<FeatureReference>,
}

/// The code to remove for a feature, routing code first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RemovalChecklist {
    /// The feature.
    pub feature: String,
    /// Its stage (the checklist is meant for `graduated`, but shows for any stage).
    pub stage: String,
    /// References the latest scans still find: the checklist is done at 0.
    pub remaining: usize,
    /// Files still naming the feature, in the order to clean them.
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<ChecklistFile>,
}

/// Replaces a repository's code references with a new scan (the latest upload wins).
#[utoipa::path(put, path = "/api/v1/code-references/{repository}", tag = "code references",
    params(("repository" = String, Path, description = "The repository's name (percent-encode a `/`)")),
    request_body = CodeScanBody,
    responses((status = 200, body = CodeScanReceipt), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_code_references(
    State(state): State<AppState>,
    ApiPath(repository): ApiPath<String>,
    ApiJson(body): ApiJson<CodeScanBody>,
) -> ApiResult<Json<CodeScanReceipt>> {
    if body.references.len() > MAX_REFERENCES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_references",
            format!(
                "a scan may carry at most {MAX_REFERENCES} references, not {}",
                body.references.len()
            ),
        )
        .with_field("references"));
    }
    let scan = CodeScan {
        repository,
        commit: body.commit,
        scanned_at: state.clock.now(),
        references: body.references,
    };
    // Checked here for the field-naming 422; the store checks again before writing.
    scan.validate()?;
    state.store.put_code_references(&scan).await?;
    Ok(Json(CodeScanReceipt {
        references: scan.references.len(),
        repository: scan.repository,
        commit: scan.commit,
        scanned_at: scan.scanned_at,
    }))
}

/// The feature's references in every repository's latest scan.
#[utoipa::path(get, path = "/api/v1/features/{name}/references", tag = "code references",
    params(("name" = String, Path, description = "The feature")),
    responses((status = 200, body = FeatureReferences), (status = 422, body = ErrorBody)))]
pub async fn feature_references(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<FeatureReferences>> {
    // A valid name, though the feature need not exist: code may name a deleted flag.
    let name = feature_name(&name)?;
    let references = state.store.code_references(name.as_str()).await?;
    Ok(Json(FeatureReferences {
        feature: name.to_string(),
        references,
    }))
}

/// The removal checklist: the files still naming the feature, routing code first.
#[utoipa::path(get, path = "/api/v1/features/{name}/checklist", tag = "code references",
    params(("name" = String, Path, description = "The feature")),
    responses((status = 200, body = RemovalChecklist), (status = 404, body = ErrorBody)))]
pub async fn removal_checklist_of(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<RemovalChecklist>> {
    let name = feature_name(&name)?;
    let feature = state
        .store
        .feature(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("feature {:?} not found", name.as_str())))?;
    let references = state.store.code_references(name.as_str()).await?;
    Ok(Json(RemovalChecklist {
        feature: name.to_string(),
        stage: feature.stage.as_str().to_owned(),
        remaining: references.len(),
        files: removal_checklist(&references),
    }))
}

/// Every feature's reference count over every repository's latest scan, and how many
/// repositories have one (what health reads; the HTTP store's `code_reference_summary`).
#[utoipa::path(get, path = "/api/v1/code-references", tag = "code references",
    responses((status = 200, body = Object)))]
pub async fn reference_summary(
    State(state): State<AppState>,
) -> ApiResult<Json<CodeReferenceSummary>> {
    Ok(Json(state.store.code_reference_summary().await?))
}
