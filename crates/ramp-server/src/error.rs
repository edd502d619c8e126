//! Errors: `ApiError` is what a request gets back (a status and a JSON body naming the
//! problem); `ServerError` is why the server could not start or keep running.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ramp_core::CoreError;
use ramp_rollout::RolloutError;
use ramp_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound or the connection loop failed.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A setting that cannot work (for example a public address with no credential).
    #[error("{0}")]
    Config(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `not_found` or `version_mismatch`.
    pub error: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The request field the problem concerns, when there is one.
    /// (A boxed `str`, not a `String`: every handler's `Result` carries this body, and clippy
    /// holds error types under 128 bytes.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub field: Option<Box<str>>,
    /// For `version_mismatch`: who made the change the request did not know about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    /// For `version_mismatch`: when (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
    /// For `wip_limit_reached`: `{"stage", "count", "limit"}` of the full stage (a small
    /// boxed value: every handler's `Result` carries this body, which must stay small).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub wip_limit: Option<Box<ramp_core::WipLimitReached>>,
}

/// An error answer: a status plus [`ErrorBody`].
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
}

impl ApiError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error,
                message: message.into(),
                field: None,
                changed_by: None,
                changed_at: None,
                wip_limit: None,
            },
        }
    }

    /// Names the request field the problem concerns.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into().into_boxed_str());
        self
    }

    /// Names who made the change a stale write did not know about, and when.
    pub fn with_change(mut self, actor: &str, time: chrono::DateTime<chrono::Utc>) -> Self {
        self.body.changed_by = Some(actor.to_owned());
        self.body.changed_at = Some(time.to_rfc3339());
        self
    }

    /// Describes the full stage of a `wip_limit_reached` refusal.
    pub fn with_wip_limit(mut self, details: ramp_core::WipLimitReached) -> Self {
        self.body.wip_limit = Some(Box::new(details));
        self
    }

    /// 500 with code `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// 400 with code `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422 with code `invalid`: well-formed input that breaks a rule of the model.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    /// 404 with code `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401: no credential, or an unknown one.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid token (Authorization: Bearer TOKEN or X-API-Key: TOKEN) or a web-UI login is required",
        )
    }

    /// 403: the credential's role does not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Every 503 here is a passing condition (busy, a store reconnecting): say when to
            // come back, so well-behaved clients do not retry at once.
            let retry_after = [(axum::http::header::RETRY_AFTER, "1")];
            return (self.status, retry_after, Json(self.body)).into_response();
        }
        (self.status, Json(self.body)).into_response()
    }
}

/// The request field a core validation error concerns, so clients can show it next to the
/// right input.
fn core_field(error: &CoreError) -> Option<&'static str> {
    match error {
        CoreError::InvalidFeatureName { .. } => Some("name"),
        CoreError::InvalidGroupName { .. } => Some("groups"),
        CoreError::InvalidUserId { .. } => Some("users"),
        CoreError::InvalidPercentage { .. } => Some("percentage"),
        CoreError::InvalidStage { .. } => Some("stage"),
        CoreError::InvalidRule { .. } => Some("rules"),
        CoreError::InvalidData { .. } => Some("data"),
        CoreError::InvalidStamp { .. } => Some("stamp"),
        CoreError::InvalidCodeScan { field, .. } => Some(field),
        CoreError::InvalidMigrationProgress { field, .. } => Some(field),
        _ => None,
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        let field = core_field(&error);
        let api = ApiError::invalid(error.to_string());
        match field {
            Some(field) => api.with_field(field),
            None => api,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => ApiError::not_found(error.to_string()),
            StoreError::Conflict { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                error.to_string(),
            ),
            StoreError::Invalid(core) => core.into(),
            StoreError::OutcomeUnknown { .. } => {
                tracing::warn!(%error, "a write's outcome is unknown");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "outcome_unknown",
                    error.to_string(),
                )
            }
            StoreError::Unavailable { .. } => {
                tracing::warn!(%error, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    error.to_string(),
                )
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store_error",
                    other.to_string(),
                )
            }
        }
    }
}

impl From<RolloutError> for ApiError {
    fn from(error: RolloutError) -> Self {
        match error {
            RolloutError::Invalid(core) => core.into(),
            RolloutError::Store(store) => store.into(),
            RolloutError::EventOfAnotherSubject { .. } => {
                ApiError::invalid(error.to_string()).with_field("event_id")
            }
            RolloutError::InvalidImport { .. } => ApiError::invalid(error.to_string()),
            RolloutError::HistoryTooLong { .. } => ApiError::invalid(error.to_string())
                .with_error("history_too_long")
                .with_field("at"),
            RolloutError::StoreKeptChanging { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_busy",
                error.to_string(),
            ),
            other => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                other.to_string(),
            ),
        }
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
