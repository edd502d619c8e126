//! Web-UI accounts through the API (admins only): list, create with a password (stored as an
//! argon2 hash), delete. A deleted account's sessions stop working on its next request.

use crate::json_errors::ApiPath;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use ramp_store::CredentialKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{role_name, Caller};
use crate::credentials::{account_credential, MIN_PASSWORD_LENGTH};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::routes::tokens::{parse_role, save_credential};
use crate::state::AppState;

/// An account as listed (never its password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountInfo {
    /// The login name, recorded as the actor of its changes.
    pub name: String,
    /// `admin` or `viewer`.
    pub role: &'static str,
    /// When it was created.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
}

/// Every account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    /// Sorted by name.
    pub accounts: Vec<AccountInfo>,
}

/// Lists web-UI accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, body = AccountList), (status = 403, body = ErrorBody)))]
pub async fn list_accounts(State(state): State<AppState>) -> ApiResult<Json<AccountList>> {
    let mut accounts: Vec<AccountInfo> = state
        .store
        .credentials()
        .await?
        .into_iter()
        .filter(|credential| credential.kind == CredentialKind::Password)
        .map(|credential| AccountInfo {
            name: credential.name,
            role: role_name(credential.role),
            created_at: credential.created_at.to_rfc3339(),
            created_by: credential.created_by,
        })
        .collect();
    accounts.sort_by(|left, right| left.name.cmp(&right.name));
    Ok(Json(AccountList { accounts }))
}

/// `{"name": "vera", "password": "...", "role": "viewer"}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// The login name.
    pub name: String,
    /// At least 8 characters.
    pub password: String,
    /// `admin` or `viewer`.
    pub role: String,
}

/// Creates a web-UI account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, body = AccountInfo), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(new): ApiJson<NewAccount>,
) -> ApiResult<(StatusCode, Json<AccountInfo>)> {
    let role = parse_role(&new.role)?;
    let (name, password, created_by) = (new.name.clone(), new.password, caller.name.to_string());
    // Hashing is slow on purpose; keep it off the request threads.
    let credential = tokio::task::spawn_blocking(move || {
        account_credential(&name, role, &password, &created_by)
    })
    .await
    .map_err(|error| ApiError::internal(error.to_string()))?
    .ok_or_else(|| {
        ApiError::invalid(format!(
            "the password must have at least {MIN_PASSWORD_LENGTH} characters"
        ))
        .with_field("password")
    })?;
    save_credential(&state, &credential).await?;
    Ok((
        StatusCode::CREATED,
        Json(AccountInfo {
            name: credential.name,
            role: role_name(role),
            created_at: credential.created_at.to_rfc3339(),
            created_by: credential.created_by,
        }),
    ))
}

/// Deletes an account; its open sessions end at their next request.
#[utoipa::path(delete, path = "/api/v1/accounts/{name}", tag = "accounts",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_account(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_credential(CredentialKind::Password, &name)
        .await?;
    state.credentials.refresh(state.store.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
