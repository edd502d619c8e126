//! Migration progress: a migrator reports the latest state of one of a feature's data
//! migrations (`PUT /api/v1/features/{name}/migrations/{migration}`), the feature page and
//! `ramp migrate status` read them all (`GET /api/v1/features/{name}/migrations`), an admin
//! forgets a finished one (`DELETE .../migrations/{migration}`).
//!
//! Readers may report, like the exposure counts an SDK posts: the migrator runs beside the
//! application with its token, and a report changes no feature. Everything a client sends is
//! bounded: the body by [`MAX_REPORT_BYTES`] (413), each field by `MigrationProgress::validate`
//! (422 naming the field), a feature's migrations by `MAX_MIGRATIONS_PER_FEATURE` (422 naming
//! `migration`). The report's time is the server's clock, never the client's.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::Json;
use ramp_core::MigrationProgress;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::json_errors::ApiPath;
use crate::routes::features::feature_name;
use crate::state::AppState;

/// The largest report body: a report is a few hundred bytes, its longest field (`last_error`)
/// at most 1,000 characters, so 16 KiB leaves room without letting a client send megabytes.
pub const MAX_REPORT_BYTES: usize = 16 * 1024;

/// The route a reader may `PUT` to (see `auth.rs`).
pub const REPORT_ROUTE: &str = "/api/v1/features/{name}/migrations/{migration}";

/// Every report of one feature's migrations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeatureMigrations {
    /// The feature.
    pub feature: String,
    /// The latest report of each migration, by migration name.
    #[schema(value_type = Vec<Object>)]
    pub migrations: Vec<MigrationProgress>,
}

/// The report and delete routes, with their own body limit.
pub(crate) fn reports() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_migration_progress, delete_migration_progress))
        .layer(DefaultBodyLimit::max(MAX_REPORT_BYTES))
}

/// Keeps a migration's latest report (replacing the previous one whole); `reported_at` is set
/// to the server's time.
#[utoipa::path(put, path = "/api/v1/features/{name}/migrations/{migration}", tag = "migrations",
    params(("name" = String, Path, description = "The feature"),
        ("migration" = String, Path, description = "The migration")),
    request_body(content = Object, description = "A `MigrationProgress`: feature, migration, instance, phase (running, done, failed), records, covered, migrated, pending_forward, pending_back, failures, target_percentage, last_error"),
    responses((status = 200, body = Object, description = "The report as stored"),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_migration_progress(
    State(state): State<AppState>,
    ApiPath((name, migration)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MigrationProgress>,
) -> ApiResult<Json<MigrationProgress>> {
    let name = feature_name(&name)?;
    if body.feature != name {
        return Err(mismatch("feature", body.feature.as_str(), name.as_str()));
    }
    if body.migration != migration {
        return Err(mismatch("migration", &body.migration, &migration));
    }
    let report = MigrationProgress {
        reported_at: state.clock.now(),
        ..body
    };
    // Checked here for the field-naming 422; the store checks again before writing.
    report.validate()?;
    state.store.put_migration_progress(&report).await?;
    Ok(Json(report))
}

fn mismatch(field: &'static str, sent: &str, path: &str) -> ApiError {
    ApiError::invalid(format!(
        "the report's {field} is {sent:?} but the path names {path:?}: they must be the same"
    ))
    .with_field(field)
}

/// The latest report of each of the feature's migrations, by migration name (none for a
/// feature that has none, or does not exist).
#[utoipa::path(get, path = "/api/v1/features/{name}/migrations", tag = "migrations",
    params(("name" = String, Path, description = "The feature")),
    responses((status = 200, body = FeatureMigrations), (status = 422, body = ErrorBody)))]
pub async fn feature_migrations(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<FeatureMigrations>> {
    let name = feature_name(&name)?;
    let migrations = state.store.migration_progress(name.as_str()).await?;
    Ok(Json(FeatureMigrations {
        feature: name.to_string(),
        migrations,
    }))
}

/// Forgets a migration's report (admins): 204, or 404 when there is none.
#[utoipa::path(delete, path = "/api/v1/features/{name}/migrations/{migration}",
    tag = "migrations",
    params(("name" = String, Path, description = "The feature"),
        ("migration" = String, Path, description = "The migration")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_migration_progress(
    State(state): State<AppState>,
    ApiPath((name, migration)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let name = feature_name(&name)?;
    if state
        .store
        .delete_migration_progress(name.as_str(), &migration)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "feature {:?} has no report of migration {migration:?}",
            name.as_str()
        )))
    }
}
