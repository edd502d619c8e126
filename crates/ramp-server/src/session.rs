//! Web-UI sessions: a random id in an HttpOnly, SameSite=Strict cookie, and a CSRF token the
//! page must echo in `X-CSRF-Token` on every request that changes something.
//!
//! SameSite already keeps other sites' forms from carrying the cookie; the CSRF token also
//! covers older browsers and same-site pages that are not Ramp's. Sessions live in this
//! server's memory: a restart logs everyone out, and behind a load balancer the balancer must
//! keep a browser on one node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::CookieJar;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie's name.
pub const COOKIE: &str = "ramp_session";

/// The header the page sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts from login.
const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The credential's name.
    pub username: String,
    /// Echoed by the page in `X-CSRF-Token`.
    pub csrf_token: String,
    expires: Instant,
}

/// Why a state-changing request with a session cookie was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfProblem {
    /// No `X-CSRF-Token` header.
    Missing,
    /// A token that is not this session's.
    Mismatch,
}

/// The sessions of this server, keyed by the SHA-256 of their ids so that the table holds
/// nothing a stolen memory dump could replay.
#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Starts a session; returns its id (for the cookie) and the session.
    pub fn start(&self, username: &str) -> (String, Session) {
        let id = random_hex();
        let session = Session {
            username: username.to_owned(),
            csrf_token: random_hex(),
            expires: Instant::now() + LIFETIME,
        };
        let mut table = self
            .by_hash
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let now = Instant::now();
        // Logins are rare; sweeping expired sessions then keeps the table small without a task.
        table.retain(|_, session| session.expires > now);
        table.insert(key(&id), session.clone());
        (id, session)
    }

    /// The live session a cookie names, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        let table = self
            .by_hash
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        table
            .get(&key(id))
            .filter(|session| session.expires > Instant::now())
            .cloned()
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        let mut table = self
            .by_hash
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        table.remove(&key(id));
    }
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

/// The session id a request's cookie carries.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(COOKIE)
        .map(|cookie| cookie.value().to_owned())
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
    fn a_session_is_found_by_its_id_and_gone_after_end() {
        let sessions = Sessions::default();
        let (id, session) = sessions.start("alice");
        assert_eq!(sessions.get(&id).unwrap().username, "alice");
        assert!(sessions.get("someone else's id").is_none());
        let mut headers = HeaderMap::new();
        assert_eq!(session.check_csrf(&headers), Err(CsrfProblem::Missing));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("wrong"));
        assert_eq!(session.check_csrf(&headers), Err(CsrfProblem::Mismatch));
        headers.insert(CSRF_HEADER, session.csrf_token.parse().unwrap());
        assert_eq!(session.check_csrf(&headers), Ok(()));
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
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
