//! Web-UI sessions: a random id in an HttpOnly, SameSite=Strict cookie, and a CSRF token the
//! page must echo in `X-CSRF-Token` on every request that changes something.
//!
//! A session is kept in the store as a credential of kind `session` named by the SHA-256 of
//! its id, so every server on the store knows it (a browser may land on any node behind a
//! load balancer) and none keeps the cookie itself. The CSRF token is derived from the id, so
//! it needs no storage: only a holder of the cookie's value can compute it, and the cookie is
//! out of reach of scripts. SameSite already keeps other sites' forms from carrying the
//! cookie; the CSRF token also covers older browsers and same-site pages that are not Ramp's.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::CookieJar;
use ramp_store::{Credential, CredentialKind, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The cookie's name.
pub const COOKIE: &str = "ramp_session";

/// The header the page sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts from login.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The credential's name.
    pub username: String,
    /// Echoed by the page in `X-CSRF-Token`.
    pub csrf_token: String,
}

/// Why a state-changing request with a session cookie was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfProblem {
    /// No `X-CSRF-Token` header.
    Missing,
    /// A token that is not this session's.
    Mismatch,
}

/// A new session id: 32 random bytes, in hex.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store knows a session by.
pub fn session_key(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The CSRF token of a session.
pub fn csrf_token_for(id: &str) -> String {
    hex::encode(Sha256::digest(format!("ramp csrf token\n{id}").as_bytes()))
}

/// The stored record of a session that starts at `started`. Its role is informational: every
/// request reads the account's current role.
pub fn session_credential(
    id: &str,
    username: &str,
    role: Role,
    started: chrono::DateTime<chrono::Utc>,
) -> Credential {
    let key = session_key(id);
    Credential {
        name: key.clone(),
        kind: CredentialKind::Session,
        role,
        // The secret is the cookie's value; its hash is also the name the session is found by.
        secret_hash: key,
        created_at: started,
        created_by: username.to_owned(),
    }
}

/// The live session a cookie's id names, if any: from this server's copy of the credentials,
/// re-read once when the id is unknown (it may have logged in through another server).
pub async fn find(state: &AppState, id: &str) -> Option<Session> {
    let key = session_key(id);
    let entry = match state.credentials.session(&key) {
        Some(entry) => entry,
        None => {
            state
                .credentials
                .refresh_for_unknown_session(state.store.as_ref())
                .await;
            state.credentials.session(&key)?
        }
    };
    (entry.started > expiry_cutoff(state.clock.now())).then(|| Session {
        username: entry.username.to_string(),
        csrf_token: csrf_token_for(id),
    })
}

impl Session {
    /// Checks the CSRF header of a state-changing request.
    pub fn check_csrf(&self, headers: &HeaderMap) -> Result<(), CsrfProblem> {
        let presented = headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .ok_or(CsrfProblem::Missing)?;
        if bool::from(presented.as_bytes().ct_eq(self.csrf_token.as_bytes())) {
            Ok(())
        } else {
            Err(CsrfProblem::Mismatch)
        }
    }
}

/// Sessions that started at or before this time have expired at `now`.
pub fn expiry_cutoff(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now - chrono::Duration::from_std(LIFETIME).unwrap_or(chrono::Duration::MAX)
}

/// The session id a request's cookie carries.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|id| !id.is_empty())
}

/// The `Set-Cookie` value for a new session; `Secure` when the request came over HTTPS
/// through a proxy that says so.
pub fn cookie_header(id: &str, request_headers: &HeaderMap) -> HeaderValue {
    let secure = if came_over_https(request_headers) {
        "; Secure"
    } else {
        ""
    };
    let max_age = LIFETIME.as_secs();
    // The id is hex, so the value needs no quoting.
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn removal_header() -> HeaderValue {
    HeaderValue::from_static("ramp_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

fn came_over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_belongs_to_one_session_and_is_checked_exactly() {
        let id = new_session_id();
        let session = Session {
            username: "alice".into(),
            csrf_token: csrf_token_for(&id),
        };
        assert_ne!(csrf_token_for(&id), csrf_token_for(&new_session_id()));
        assert_ne!(
            session_key(&id),
            id,
            "the store never holds the cookie's value"
        );
        let mut headers = HeaderMap::new();
        assert_eq!(session.check_csrf(&headers), Err(CsrfProblem::Missing));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("wrong"));
        assert_eq!(session.check_csrf(&headers), Err(CsrfProblem::Mismatch));
        headers.insert(CSRF_HEADER, session.csrf_token.parse().unwrap());
        assert_eq!(session.check_csrf(&headers), Ok(()));
        let stored = session_credential(&id, "alice", Role::Admin, chrono::Utc::now());
        assert!(stored.validate().is_ok(), "{stored:?}");
        assert_eq!(stored.kind, CredentialKind::Session);
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site_strict() {
        let text = cookie_header("abc", &HeaderMap::new());
        let text = text.to_str().unwrap();
        assert!(text.starts_with("ramp_session=abc"), "{text}");
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Strict"),
            "{text}"
        );
        assert!(!text.contains("Secure"), "{text}");
        let mut https = HeaderMap::new();
        https.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(cookie_header("abc", &https)
            .to_str()
            .unwrap()
            .contains("Secure"));
    }
}
