//! The server's half of "deleting a flag that code still names, or that applications checked
//! recently, asks first": `DELETE /api/v1/features/{name}` answers 409 `confirmation_required`
//! with the reasons (references and their repositories from the latest uploaded scans, when the
//! flag was last checked) unless the request says `?confirm=true`. Deleting such a flag makes
//! every check of it answer "off", which is what people deleting it rarely mean.
//!
//! It reads only the store and the server's clock; a flag with neither reason is deleted at
//! once, as before.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use ramp_core::FeatureName;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// The code of the refusal; the UI and the CLI ask again when they see it.
pub const CONFIRMATION_REQUIRED: &str = "confirmation_required";

/// Checks within this long before now count as recent.
pub const RECENTLY_CHECKED_DAYS: i64 = 7;

/// Why deleting needs a confirmation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletionReasons {
    /// References in the latest uploaded scans.
    pub references: usize,
    /// The repositories they are in, by name.
    pub repositories: Vec<String>,
    /// When an application last checked the flag, if within the last 7 days.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_checked: Option<DateTime<Utc>>,
}

/// The 409 body: the usual error fields plus the reasons.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationRequired {
    /// Always `confirmation_required`.
    pub error: &'static str,
    /// The reasons in a sentence.
    pub message: String,
    /// The reasons, for a dialog to show.
    pub reasons: DeletionReasons,
}

/// The reasons to ask before deleting `name`, or `None` when there are none.
pub async fn reasons(state: &AppState, name: &FeatureName) -> ApiResult<Option<DeletionReasons>> {
    let references = state.store.code_references(name.as_str()).await?;
    let repositories: BTreeSet<String> = references
        .iter()
        .map(|reference| reference.repository.clone())
        .collect();
    let since = state.clock.now() - Duration::days(RECENTLY_CHECKED_DAYS);
    let last_checked = state
        .store
        .exposure_features()
        .await?
        .into_iter()
        .find(|seen| seen.feature == name.as_str())
        .map(|seen| seen.last_seen)
        .filter(|last_seen| *last_seen >= since);
    if references.is_empty() && last_checked.is_none() {
        return Ok(None);
    }
    Ok(Some(DeletionReasons {
        references: references.len(),
        repositories: repositories.into_iter().collect(),
        last_checked,
    }))
}

/// The 409 answer for `reasons`.
pub fn refusal(name: &FeatureName, reasons: DeletionReasons) -> Response {
    let mut parts = Vec::new();
    if reasons.references > 0 {
        parts.push(format!(
            "code still names it {} times (in {})",
            reasons.references,
            reasons.repositories.join(", ")
        ));
    }
    if let Some(last) = reasons.last_checked {
        parts.push(format!(
            "applications checked it at {}",
            last.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let message = format!(
        "{:?}: {}; deleting it makes every check answer off. Confirm to delete it anyway",
        name.as_str(),
        parts.join(", and ")
    );
    (
        StatusCode::CONFLICT,
        Json(ConfirmationRequired {
            error: CONFIRMATION_REQUIRED,
            message,
            reasons,
        }),
    )
        .into_response()
}
