//! Who a request comes from and what it may do: an API token (`Authorization: Bearer` or
//! `X-API-Key`) or a web-UI session cookie (whose state-changing requests must carry the CSRF
//! token), and the role each route needs.
//!
//! A token is 32 random bytes, shown once; the store keeps only its SHA-256, which is enough for
//! a secret with that much entropy (passwords, which have little, get argon2 in
//! `credentials.rs`). Every request's token is hashed and compared with every known hash in
//! constant time.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ramp_store::{Credential, CredentialKind, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::session::{self, CsrfProblem};
use crate::state::AppState;

/// Every token starts with this, so a leaked one is easy to recognise (secret scanners).
pub const TOKEN_PREFIX: &str = "ramp_";

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The credential's name: what history records as the actor. Shared, not copied, per
    /// request.
    pub name: Arc<str>,
    /// What it may do.
    pub role: Role,
}

/// A new random token.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A credential record for a new token.
pub fn token_credential(name: &str, role: Role, token: &str, created_by: &str) -> Credential {
    Credential {
        name: name.to_owned(),
        kind: CredentialKind::Token,
        role,
        secret_hash: hash_token(token),
        created_at: chrono::Utc::now(),
        created_by: created_by.to_owned(),
    }
}

/// Routes a reader may call with a method other than GET: evaluations, which change nothing,
/// and reports of what applications and code do (exposure counts, code references), which
/// change no feature: an SDK's or a CI job's token needs no admin role.
const READ_ONLY_POSTS: &[&str] = &[
    "/api/v1/features/{name}/check",
    "/api/v1/states",
    "/api/v1/code-groups",
    "/api/v1/exposures",
    "/api/v1/code-references/{repository}",
];

/// The role a route needs.
pub fn required_role(method: &Method, route: &str) -> Role {
    if route.starts_with("/api/v1/tokens") || route.starts_with("/api/v1/accounts") {
        return Role::Admin;
    }
    // A migrator reports with the token its application has, like exposure counts; only
    // admins delete a report (the same route's DELETE).
    let migration_report =
        method == Method::PUT && route == crate::routes::migrations::REPORT_ROUTE;
    if method == Method::GET
        || method == Method::HEAD
        || route.starts_with("/ofrep/")
        || READ_ONLY_POSTS.contains(&route)
        || migration_report
    {
        Role::Reader
    } else {
        Role::Admin
    }
}

fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim());
    }
    headers.get("x-api-key")?.to_str().ok().map(str::trim)
}

/// Why a request has no caller.
enum Refusal {
    /// No credential, or one that is not (or no longer) known.
    Unknown,
    /// A session cookie on a state-changing request without the right CSRF token.
    Csrf(CsrfProblem),
}

impl Refusal {
    fn into_response(self, ofrep: bool) -> Response {
        match self {
            Refusal::Unknown if ofrep => StatusCode::UNAUTHORIZED.into_response(),
            Refusal::Unknown => ApiError::unauthorized().into_response(),
            Refusal::Csrf(problem) => {
                let (code, message) = match problem {
                    CsrfProblem::Missing => (
                        "csrf_token_missing",
                        "this request changes something and came with the session cookie but without the X-CSRF-Token header",
                    ),
                    CsrfProblem::Mismatch => (
                        "csrf_token_mismatch",
                        "the X-CSRF-Token header does not match this session's token",
                    ),
                };
                ApiError::new(StatusCode::FORBIDDEN, code, message).into_response()
            }
        }
    }
}

/// The caller of a request that came with a session cookie and no token.
async fn identify_session(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Caller, Refusal> {
    let id = session::session_id(headers).ok_or(Refusal::Unknown)?;
    let session = session::find(state, &id).await.ok_or(Refusal::Unknown)?;
    // The role is read afresh, so a deleted account or a changed role takes effect at once.
    let caller = state
        .credentials
        .current(&session.username)
        .ok_or(Refusal::Unknown)?;
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        session.check_csrf(headers).map_err(Refusal::Csrf)?;
    }
    Ok(caller)
}

/// Middleware: finds the caller and refuses what its role does not allow. OFREP answers 401
/// and 403 with no body, as its specification says; the admin API explains in JSON.
pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // A clone of the matched path shares its text rather than copying it.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("", MatchedPath::as_str);
    let ofrep = route.starts_with("/ofrep/");
    let token = presented_token(request.headers());
    let from_token = token.is_some();
    let identified = match token {
        // Tokens (every SDK and OFREP call) are checked without waiting on anything.
        Some(token) => state
            .credentials
            .authenticate(token)
            .ok_or(Refusal::Unknown),
        None => {
            // A request cannot be held across a wait; its headers can.
            let (headers, method) = (request.headers().clone(), request.method().clone());
            identify_session(&state, &headers, &method).await
        }
    };
    let caller = match identified {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(ofrep),
    };
    let needed = required_role(request.method(), route);
    if needed == Role::Admin && caller.role != Role::Admin {
        return if ofrep {
            StatusCode::FORBIDDEN.into_response()
        } else {
            // Tokens have roles admin and reader; web-UI accounts are admins and viewers.
            let message = if from_token {
                format!(
                    "token {:?} has role {}; this needs {}",
                    caller.name, caller.role, needed
                )
            } else {
                format!(
                    "{} is a {}; only an admin can change this",
                    caller.name,
                    role_name(caller.role)
                )
            };
            ApiError::forbidden(message).into_response()
        };
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// A role as the web UI names it: readers are "viewers" there.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Reader => "viewer",
    }
}
