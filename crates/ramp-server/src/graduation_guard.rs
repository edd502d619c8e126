//! The server's half of "graduated requires 100 % and no exclusions, or a reason": a change
//! that moves a feature to `graduated` (`PUT .../stage`, or `set_stage` through
//! `.../changes`) is refused with 422 `reason_required` while the feature is not ready
//! (`Feature::graduation_problems`), unless it carries a reason; the reason is the change's
//! history comment (`{"reason"}` in the stage body, or `X-Ramp-Comment`), so history records it.
//!
//! The check reads the feature, then writes only if it is still that version (the store's own
//! `If-Match`), so a percentage lowered in between cannot slip a graduation past the rule: the
//! write then gets 412 and the client asks again. It never reads the clock or the live
//! snapshot: the admin API decides on what the store holds.

use ramp_core::{graduation_refusal, Attribution, Change, FeatureName, Stage};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The code of the refusal; the UI asks for a reason when it sees it.
pub const REASON_REQUIRED: &str = "reason_required";

/// The version the write must find (`expected` when the client sent one), or an error when
/// the change graduates a feature that is not ready and `attribution` carries no reason.
pub async fn check(
    state: &AppState,
    name: &FeatureName,
    change: &Change,
    expected: Option<u64>,
    attribution: &Attribution,
) -> ApiResult<Option<u64>> {
    if !matches!(
        change,
        Change::SetStage {
            stage: Stage::Graduated
        }
    ) {
        return Ok(expected);
    }
    let has_reason = attribution
        .comment
        .as_deref()
        .is_some_and(|reason| !reason.trim().is_empty());
    if has_reason {
        return Ok(expected);
    }
    let feature = state.store.feature(name).await?;
    // A feature that does not exist would be created at 0 %: not ready either.
    let (problems, version) = match &feature {
        Some(feature) if feature.stage == Stage::Graduated => return Ok(expected),
        Some(feature) => (feature.graduation_problems(), feature.version),
        None => (
            ramp_core::Feature::new(name.clone(), chrono::DateTime::UNIX_EPOCH)
                .graduation_problems(),
            0,
        ),
    };
    if problems.is_empty() {
        // Ready as read: write only if it is still what was read (or what the client expects,
        // which the store compares the same way).
        return Ok(Some(expected.unwrap_or(version)));
    }
    Err(ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        REASON_REQUIRED,
        format!(
            "{}; give a reason to graduate it anyway",
            graduation_refusal(name.as_str(), &problems)
        ),
    )
    .with_field("reason"))
}
