//! Who changed a feature last, and when: the feature list's "last change" column and the
//! "changed by NAME at TIME" of a refused stale write both read it from history.

use axum::http::StatusCode;
use ramp_core::FeatureName;
use ramp_store::{HistoryQuery, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// The latest history event of a feature, in short.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastChange {
    /// Who made it.
    pub actor: String,
    /// When (RFC 3339).
    pub time: String,
}

/// The latest change of one feature, if its history has any.
pub async fn last_change(
    state: &AppState,
    name: &FeatureName,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, StoreError> {
    let events = state
        .store
        .history(&HistoryQuery {
            feature: Some(name.clone()),
            limit: 1,
            ..HistoryQuery::default()
        })
        .await?;
    Ok(events
        .into_iter()
        .next()
        .map(|event| (event.actor, event.time)))
}

/// The latest change of each feature, in the order given: one store query for them all.
pub async fn last_changes(
    state: &AppState,
    names: &[FeatureName],
) -> Result<Vec<Option<LastChange>>, StoreError> {
    let mut latest = state.store.latest_events(names).await?;
    Ok(names
        .iter()
        .map(|name| {
            latest.remove(name).map(|event| LastChange {
                actor: event.actor,
                time: event.time.to_rfc3339(),
            })
        })
        .collect())
}

/// The 412 for a write whose `If-Match` version is stale, naming who changed the feature
/// since and when, so the person can look before saving again.
pub async fn stale_write(
    state: &AppState,
    name: &FeatureName,
    expected: u64,
    actual: u64,
) -> ApiError {
    let base = ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
        format!(
            "{:?} changed since it was read (version {actual}, not {expected}); reload it to see the change before saving again",
            name.as_str()
        ),
    );
    match last_change(state, name).await {
        Ok(Some((actor, time))) => {
            let mut error = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                format!(
                    "changed by {actor} at {} (version {actual}, you had {expected}); reload to see their change before saving again",
                    time.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            );
            error = error.with_change(&actor, time);
            error
        }
        _ => base,
    }
}
