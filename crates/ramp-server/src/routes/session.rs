//! Logging in and out of the web UI: a username and password (or, for the first-start admin,
//! the printed token as password) become a session cookie plus a CSRF token for the page.
//! Repeated wrong passwords for one name are throttled (`login_throttle.rs`).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::role_name;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::login_throttle::{Refusal, QUEUE_DEADLINE};
use crate::session::{
    self, cookie_header, csrf_token_for, new_session_id, removal_header, session_credential,
    session_id, session_key, Session,
};
use crate::state::AppState;

/// `{"username": "alice", "password": "..."}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The account's (or token's) name.
    pub username: String,
    /// The account's password, or the token itself.
    pub password: String,
}

/// Who is logged in, and the token the page must send as `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// The name history records for this session's changes.
    pub username: String,
    /// `admin` or `viewer`.
    pub role: &'static str,
    /// Echo it in `X-CSRF-Token` on every request that changes something.
    pub csrf_token: String,
}

/// Deletes sessions older than their lifetime, so the store does not fill with them. Best
/// effort: another server may be sweeping the same ones.
async fn sweep_expired_sessions(state: AppState) {
    let cutoff = session::expiry_cutoff(state.clock.now());
    let expired = state.credentials.expired_sessions(cutoff);
    for key in &expired {
        let _ = state
            .store
            .delete_credential(ramp_store::CredentialKind::Session, key)
            .await;
    }
    if !expired.is_empty() {
        let _ = state.credentials.refresh(state.store.as_ref()).await;
    }
}

fn info(session: &Session, role: ramp_store::Role) -> SessionInfo {
    SessionInfo {
        username: session.username.clone(),
        role: role_name(role),
        csrf_token: session.csrf_token.clone(),
    }
}

/// Logs in: sets the HttpOnly session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = Login,
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn log_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(login): ApiJson<Login>,
) -> ApiResult<Response> {
    // A name no credential can have is wrong without any work (and is never remembered).
    if !ramp_store::credential::is_possible_name(&login.username) {
        return Err(wrong_username_or_password());
    }
    // Counted before the password is checked: concurrent guesses cannot slip past the limit.
    let turn = match state
        .login_throttle
        .attempt(&login.username, state.clock.instant())
    {
        Ok(()) => state.login_throttle.turn(QUEUE_DEADLINE).await,
        Err(refusal) => Err(refusal),
    };
    let _turn = match turn {
        Ok(turn) => turn,
        Err(refusal) => {
            state.metrics.login_refused();
            return Ok(refused(refusal));
        }
    };
    state.metrics.password_check();
    let Some(caller) = state
        .credentials
        .login(
            &login.username,
            &login.password,
            state.login_throttle.memory(),
        )
        .await
    else {
        tracing::warn!(user = %ramp_store::log_text(&login.username), "failed login");
        return Err(wrong_username_or_password());
    };
    state.login_throttle.succeeded(&login.username);
    let id = new_session_id();
    state
        .store
        .create_credential(&session_credential(
            &id,
            &caller.name,
            caller.role,
            state.clock.now(),
        ))
        .await?;
    // Known here at once; other servers find it on their next read of the store.
    state.credentials.refresh(state.store.as_ref()).await?;
    tokio::spawn(sweep_expired_sessions(state.clone()));
    let session = Session {
        username: caller.name.to_string(),
        csrf_token: csrf_token_for(&id),
    };
    tracing::info!(user = %ramp_store::log_text(&caller.name), "logged in");
    Ok((
        [(header::SET_COOKIE, cookie_header(&id, &headers))],
        Json(info(&session, caller.role)),
    )
        .into_response())
}

/// The logged-in user, or 401.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
pub async fn current_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<SessionInfo>> {
    let id = session_id(&headers).ok_or_else(not_logged_in)?;
    let session = session::find(&state, &id).await.ok_or_else(not_logged_in)?;
    let caller = state
        .credentials
        .current(&session.username)
        .ok_or_else(not_logged_in)?;
    Ok(Json(info(&session, caller.role)))
}

/// Logs out: ends the session and removes the cookie. Needs the CSRF token, so another page
/// cannot log a user out.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn log_out(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(id) = session_id(&headers) {
        if let Some(session) = session::find(&state, &id).await {
            session.check_csrf(&headers).map_err(|_| {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_token_missing",
                    "logging out needs the X-CSRF-Token header",
                )
            })?;
            match state
                .store
                .delete_credential(ramp_store::CredentialKind::Session, &session_key(&id))
                .await
            {
                Ok(()) | Err(ramp_store::StoreError::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
            state.credentials.refresh(state.store.as_ref()).await?;
        }
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, removal_header())],
    )
        .into_response())
}

fn wrong_username_or_password() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong username or password",
    )
    .with_field("password")
}

/// 429 for a throttled name, 503 when too many logins are in progress.
fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Throttled(wait) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            (
                [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!(
                        "too many wrong passwords for this name; try again in {minutes} minute(s)"
                    ),
                ),
            )
                .into_response()
        }
        Refusal::Busy => (
            [(header::RETRY_AFTER, "1")],
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_logins",
                "too many logins in progress; try again in a moment",
            ),
        )
            .into_response(),
    }
}

fn not_logged_in() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "not_logged_in", "not logged in")
}
