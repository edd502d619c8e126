//! API tokens through the API (admins only): list, create (the token is shown once), revoke.

use crate::json_errors::ApiPath;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use ramp_store::{Credential, CredentialKind, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{generate_token, token_credential, Caller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// A token as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    /// Its name, recorded as the actor of its changes.
    pub name: String,
    /// `admin` or `reader`.
    pub role: String,
    /// When it was created.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
}

/// Every token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Sorted by name.
    pub tokens: Vec<TokenInfo>,
}

/// Lists tokens (names and roles only).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>) -> ApiResult<Json<TokenList>> {
    let tokens = state
        .store
        .credentials()
        .await?
        .into_iter()
        .filter(|credential| credential.kind == CredentialKind::Token)
        .map(|credential| TokenInfo {
            name: credential.name,
            role: credential.role.to_string(),
            created_at: credential.created_at.to_rfc3339(),
            created_by: credential.created_by,
        })
        .collect();
    Ok(Json(TokenList { tokens }))
}

/// `{"name": "ci", "role": "reader"}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name for the token (letters, digits, `_ - . @`).
    pub name: String,
    /// `admin` or `reader`.
    pub role: String,
}

/// A created token: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The secret, to pass as `Authorization: Bearer TOKEN`.
    pub token: String,
}

/// Creates a token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(new): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let role = parse_role(&new.role)?;
    let token = generate_token();
    let credential = token_credential(&new.name, role, &token, &caller.name);
    save_credential(&state, &credential).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            name: new.name,
            role: role.to_string(),
            token,
        }),
    ))
}

/// A role from a request body (`admin`, `reader` or its web-UI name `viewer`).
pub(crate) fn parse_role(text: &str) -> ApiResult<Role> {
    text.parse().map_err(|_| {
        ApiError::invalid(format!(
            "unknown role {text:?}: expected admin, reader or viewer"
        ))
        .with_field("role")
    })
}

/// Stores a new credential and reloads this server's cache, so it works on the next request.
pub(crate) async fn save_credential(state: &AppState, credential: &Credential) -> ApiResult<()> {
    let noun = match credential.kind {
        CredentialKind::Token => "token",
        CredentialKind::Password => "account",
        CredentialKind::Session => "session",
    };
    state
        .store
        .create_credential(credential)
        .await
        .map_err(|error| match error {
            ramp_store::StoreError::Conflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("a {noun} named {:?} already exists", credential.name),
            )
            .with_field("name"),
            ramp_store::StoreError::Invalid(_) => {
                ApiError::invalid(error.to_string()).with_field("name")
            }
            other => other.into(),
        })?;
    state.credentials.refresh(state.store.as_ref()).await?;
    Ok(())
}

/// Revokes a token at once on this server, within seconds on the others.
#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "tokens",
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_credential(CredentialKind::Token, &name)
        .await?;
    state.credentials.refresh(state.store.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
