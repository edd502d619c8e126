//! API tokens: how they are made, stored (hashed) and checked, and which role each route needs.
//!
//! A token is 32 random bytes, shown once; the store keeps only its SHA-256, which is enough for
//! a secret with that much entropy (passwords, which have little, get argon2 elsewhere). Every
//! request's token is hashed and compared with every known hash in constant time.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ramp_store::{Credential, CredentialKind, Role, Store, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::state::AppState;

/// How often credentials are re-read, so a token revoked through another node stops working.
const REFRESH: Duration = Duration::from_secs(2);

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

#[derive(Debug, Clone)]
struct TokenEntry {
    name: Arc<str>,
    role: Role,
    hash: [u8; 32],
}

/// The known tokens, re-read from the store now and then.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: ArcSwap<Vec<TokenEntry>>,
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

impl TokenCache {
    /// Re-reads the tokens from the store.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), StoreError> {
        let credentials = store.credentials().await?;
        let tokens = credentials
            .into_iter()
            .filter(|credential| credential.kind == CredentialKind::Token)
            .filter_map(|credential| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&credential.secret_hash, &mut hash).ok()?;
                Some(TokenEntry {
                    name: credential.name.into(),
                    role: credential.role,
                    hash,
                })
            })
            .collect();
        self.tokens.store(Arc::new(tokens));
        Ok(())
    }

    /// How many tokens are known.
    pub fn len(&self) -> usize {
        self.tokens.load().len()
    }

    /// Whether no token is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The caller a token belongs to, if any.
    pub fn authenticate(&self, presented: &str) -> Option<Caller> {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let tokens = self.tokens.load();
        let mut found = None;
        // Look at every entry whatever matches, so timing says nothing about which one did.
        for entry in tokens.iter() {
            if bool::from(entry.hash.ct_eq(&hash)) {
                found = Some(Caller {
                    name: entry.name.clone(),
                    role: entry.role,
                });
            }
        }
        found
    }

    /// Re-reads the tokens every few seconds until `shutdown`.
    pub async fn follow(self: Arc<Self>, store: Arc<dyn Store>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    if let Err(error) = self.refresh(store.as_ref()).await {
                        tracing::warn!(%error, "could not re-read tokens; keeping the known ones");
                    }
                }
            }
        }
    }
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

/// Routes a reader may call with a method other than GET: evaluations, which change nothing.
const READ_ONLY_POSTS: &[&str] = &[
    "/api/v1/features/{name}/check",
    "/api/v1/states",
    "/api/v1/code-groups",
];

/// The role a route needs.
pub fn required_role(method: &Method, route: &str) -> Role {
    if route.starts_with("/api/v1/tokens") {
        return Role::Admin;
    }
    if method == Method::GET
        || method == Method::HEAD
        || route.starts_with("/ofrep/")
        || READ_ONLY_POSTS.contains(&route)
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
    let caller =
        presented_token(request.headers()).and_then(|token| state.tokens.authenticate(token));
    let Some(caller) = caller else {
        return if ofrep {
            StatusCode::UNAUTHORIZED.into_response()
        } else {
            ApiError::unauthorized().into_response()
        };
    };
    let needed = required_role(request.method(), route);
    if needed == Role::Admin && caller.role != Role::Admin {
        return if ofrep {
            StatusCode::FORBIDDEN.into_response()
        } else {
            ApiError::forbidden(format!(
                "token {:?} has role {}; this needs {}",
                caller.name, caller.role, needed
            ))
            .into_response()
        };
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}
