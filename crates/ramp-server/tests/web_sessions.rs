//! The web UI's server side over real HTTP: logins and sessions, the CSRF token, accounts and
//! the viewer role, and the UI files' headers. (The browser itself is driven in browser.rs.)

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{json_of, TestServer};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;
use ramp_store::CredentialKind;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// A logged-in browser, as the server sees it: a cookie and a CSRF token.
struct Browser<'a> {
    server: &'a TestServer,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    async fn log_in(server: &'a TestServer, username: &str, password: &str) -> (Self, Value) {
        let response = server
            .client
            .post(format!("{}/api/v1/session", server.base))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        let set_cookie = response
            .headers()
            .get(SET_COOKIE)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let (status, body) = json_of(response).await;
        assert_eq!(status, 200, "{body}");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        (
            Self {
                server,
                cookie,
                csrf,
            },
            body,
        )
    }

    /// A request with the cookie only (what a forged cross-site form would carry at best).
    fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.server
            .client
            .request(method, format!("{}{path}", self.server.base))
            .header(COOKIE, &self.cookie)
    }

    /// A request as the UI makes it: cookie and CSRF token.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path).header("x-csrf-token", &self.csrf)
    }
}

#[tokio::test]
async fn a_session_needs_its_csrf_token_for_every_change_and_ends_at_logout() {
    let server = TestServer::memory().await;
    let wrong = server
        .client
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "username": "admin", "password": "not the token" }))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(wrong).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );

    // The first-start admin logs in with the printed token as password.
    let (browser, body) = Browser::log_in(&server, "admin", &server.admin_token).await;
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "admin");
    let (status, body) = json_of(
        browser
            .bare(Method::GET, "/api/v1/session")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["username"].as_str()), (200, Some("admin")));

    let create = json!({ "name": "csrf-check" });
    let (status, body) = json_of(
        browser
            .bare(Method::POST, "/api/v1/features")
            .json(&create)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("csrf_token_missing"))
    );
    let forged = browser
        .bare(Method::POST, "/api/v1/features")
        .header("x-csrf-token", "0".repeat(64))
        .json(&create)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(forged).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("csrf_token_mismatch"))
    );
    // An HTML form's post carries no header at all.
    let form = browser
        .bare(Method::POST, "/api/v1/features/csrf-check/activate")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    let (status, _) = server.get_json("/api/v1/features/csrf-check").await;
    assert_eq!(status, 404, "nothing was created without the token");

    let (status, _) = json_of(
        browser
            .request(Method::POST, "/api/v1/features")
            .json(&create)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let (_, history) = server.get_json("/api/v1/features/csrf-check/history").await;
    assert_eq!(
        history["events"][0]["actor"], "admin",
        "the session's user is the actor"
    );

    let logout = browser
        .bare(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 403, "logging out needs the CSRF token too");
    let logout = browser
        .request(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert!(logout.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = browser
        .request(Method::GET, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    let after = browser
        .request(Method::PUT, "/api/v1/features/csrf-check/percentage")
        .json(&json!({ "percentage": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn accounts_log_in_with_passwords_and_viewers_cannot_edit() {
    let server = TestServer::memory().await;
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/accounts",
            json!({ "name": "vera", "password": "short", "role": "viewer" }),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("password")));
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/accounts",
            json!({ "name": "vera", "password": "long enough", "role": "viewer" }),
        )
        .await;
    assert_eq!(
        (status, body["role"].as_str()),
        (201, Some("viewer")),
        "{body}"
    );
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/accounts",
            json!({ "name": "vera", "password": "another one", "role": "admin" }),
        )
        .await;
    assert_eq!(status, 409);
    let (status, body) = server.get_json("/api/v1/accounts").await;
    assert_eq!(status, 200);
    assert_eq!(body["accounts"][0]["name"], "vera");
    assert!(
        !body.to_string().contains("argon2"),
        "no hash is listed: {body}"
    );
    let stored = server.store.credentials().await.unwrap();
    let vera = stored
        .iter()
        .find(|credential| credential.name == "vera")
        .unwrap();
    assert!(
        vera.secret_hash.starts_with("$argon2id$"),
        "stored as argon2"
    );

    let reader = server.token("ci", "reader").await;
    let listed = server
        .request_as(&reader, Method::GET, "/api/v1/accounts")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 403, "readers cannot see accounts");

    server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({ "name": "viewed" }),
        )
        .await;
    let (viewer, body) = Browser::log_in(&server, "vera", "long enough").await;
    assert_eq!(body["role"], "viewer");
    let (status, _) = json_of(
        viewer
            .request(Method::GET, "/api/v1/features/viewed")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "viewers read");
    let check = viewer
        .request(Method::POST, "/api/v1/features/viewed/check")
        .json(&json!({ "user_id": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200, "and check users");
    let (status, body) = json_of(
        viewer
            .request(Method::PUT, "/api/v1/features/viewed/percentage")
            .json(&json!({ "percentage": 50 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("is a viewer") && !message.contains("reader"),
        "a viewer is called a viewer: {message}"
    );
    let (_, feature) = server.get_json("/api/v1/features/viewed").await;
    assert_eq!(
        feature["percentage"], 0.0,
        "the refused edit changed nothing"
    );

    let wrong = server
        .client
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "username": "vera", "password": "long enougH" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let deleted = server
        .request(Method::DELETE, "/api/v1/accounts/vera")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let after = viewer
        .request(Method::GET, "/api/v1/features")
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        401,
        "a deleted account's session ends at once"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_ui_files_are_served_with_a_strict_content_security_policy() {
    let server = TestServer::memory().await;
    let index = server
        .client
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    let etag = index.headers()["etag"].clone();
    let html = index.text().await.unwrap();
    assert!(html.contains("/ui/app.js"), "the shell loads the app");

    let again = server
        .client
        .get(format!("{}/", server.base))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let script = server
        .client
        .get(format!("{}/ui/app.js", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    for hidden in ["/ui/README.md", "/ui/nothing.js", "/ui/../Cargo.toml"] {
        let response = server
            .client
            .get(format!("{}{hidden}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{hidden}");
    }
    server.stop().await;
}

/// A server over a memory store whose clock stands still at a fixed date until moved.
async fn server_with_manual_clock() -> (TestServer, Arc<ManualClock>) {
    let start = DateTime::parse_from_rfc3339("2026-03-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let clock = Arc::new(ManualClock::new(start));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock.clone()).await;
    (server, clock)
}

async fn stored_sessions(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = server
        .store
        .credentials()
        .await
        .unwrap()
        .into_iter()
        .filter(|credential| credential.kind == CredentialKind::Session)
        .map(|credential| credential.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_session_lasts_twelve_hours_and_expired_ones_are_swept_from_the_store() {
    let (server, clock) = server_with_manual_clock().await;
    let (morning, _) = Browser::log_in(&server, "admin", &server.admin_token).await;
    assert_eq!(stored_sessions(&server).await.len(), 1);
    let session_status = |browser: &Browser<'_>| {
        let request = browser.request(Method::GET, "/api/v1/session");
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(session_status(&morning).await, 200);

    clock.advance(Duration::from_secs(12 * 60 * 60 - 1));
    assert_eq!(session_status(&morning).await, 200, "a second before 12 h");
    let (evening, _) = Browser::log_in(&server, "admin", &server.admin_token).await;
    assert_eq!(
        stored_sessions(&server).await.len(),
        2,
        "nothing has expired yet, so the sweep after this login keeps both"
    );

    clock.advance(Duration::from_secs(1));
    assert_eq!(session_status(&morning).await, 401, "12 h after login");
    assert_eq!(session_status(&evening).await, 200);
    let edit = morning
        .request(Method::PUT, "/api/v1/features/late/percentage")
        .json(&json!({ "percentage": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 401, "an expired session changes nothing");
    assert_eq!(
        server
            .store
            .feature(&"late".parse().unwrap())
            .await
            .unwrap(),
        None
    );

    // The next login sweeps expired sessions out of the store (in the background).
    let before = stored_sessions(&server).await;
    let (_night, _) = Browser::log_in(&server, "admin", &server.admin_token).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let left = loop {
        let left = stored_sessions(&server).await;
        if left.len() == 2 || tokio::time::Instant::now() > deadline {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(left.len(), 2, "the morning session is gone: {left:?}");
    let swept: Vec<&String> = before.iter().filter(|name| !left.contains(name)).collect();
    assert_eq!(
        swept.len(),
        1,
        "exactly one session was swept: {before:?} -> {left:?}"
    );
    assert_eq!(session_status(&evening).await, 200, "live sessions stay");
    server.stop().await;
}

#[tokio::test]
async fn repeated_wrong_passwords_for_one_name_are_throttled() {
    let (server, clock) = server_with_manual_clock().await;
    let login = |password: &'static str| {
        server
            .client
            .post(format!("{}/api/v1/session", server.base))
            .json(&json!({ "username": "admin", "password": password }))
            .send()
    };
    for _ in 0..10 {
        assert_eq!(login("guess").await.unwrap().status(), 401);
    }
    let refused = login("guess").await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let (_, body) = json_of(refused).await;
    assert_eq!(body["error"], "too_many_attempts");
    // Even the right password waits: the guesser must not learn it from a different answer.
    let right = server
        .client
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "username": "admin", "password": server.admin_token }))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429);
    // Tokens are not passwords: the API keeps working for the admin's token.
    let (status, _) = server.get_json("/api/v1/features").await;
    assert_eq!(status, 200);
    // The five-minute window is counted from the first wrong password.
    clock.advance(Duration::from_secs(5 * 60 - 1));
    assert_eq!(login("guess").await.unwrap().status(), 429);
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        login("guess").await.unwrap().status(),
        401,
        "the window is over"
    );
    server.stop().await;
}
