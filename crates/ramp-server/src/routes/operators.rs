//! For operators: liveness, readiness and Prometheus metrics. These need no token, so probes
//! and scrapers work without one; they reveal no feature names or user ids.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "operators", responses((status = 200, body = serde_json::Value)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The store answers and a snapshot is loaded; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operators",
    responses((status = 200, body = serde_json::Value), (status = 503, body = serde_json::Value)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let loaded = state.live.current();
    // Ask the store itself: a snapshot loaded earlier says nothing about it being reachable now.
    let store = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        state.store.feature(&probe_name()),
    )
    .await;
    let store_ok = matches!(store, Ok(Ok(_)));
    if !store_ok {
        state.metrics.store_error();
    }
    let body = json!({
        "store": if store_ok { "reachable" } else { "unreachable" },
        "backend": state.store.backend(),
        "snapshot_version": loaded.snapshot.version,
        "following_changes": state.live.is_ready(),
    });
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

fn probe_name() -> ramp_core::FeatureName {
    // A valid name no one uses: reading it is a cheap round trip to the store.
    ramp_core::FeatureName::new("ramp.readiness-probe").unwrap_or_else(|_| unreachable!())
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operators", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(
        state.live.subscriber_count(),
        state.live.resume_buffer_bytes(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
