//! `check` and `states` as of a past time (`?at=` or `at` in the body): answers replayed from
//! the store's history, the time echoed, and bad times refused naming the field.

mod common;

use chrono::{DateTime, SecondsFormat, Utc};
use common::TestServer;
use ramp_core::{Attribution, Change, FeatureName, Percentage, UserId};
use reqwest::Method;
use serde_json::{json, Value};

/// The event time of a write made directly on the store, as the API writes `at`.
async fn write(server: &TestServer, change: Change) -> DateTime<Utc> {
    let applied = server
        .store
        .apply(
            &FeatureName::new("chat").unwrap(),
            &change,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    applied.event.unwrap().time
}

fn encoded(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[tokio::test]
async fn check_and_states_answer_as_of_a_past_time() {
    let server = TestServer::memory().await;
    let listed = write(
        &server,
        Change::AddUsers {
            users: vec![UserId::new("7").unwrap()],
        },
    )
    .await;
    let everyone = write(
        &server,
        Change::SetPercentage {
            percentage: Percentage::ALL,
        },
    )
    .await;
    write(
        &server,
        Change::ExcludeUsers {
            users: vec![UserId::new("7").unwrap()],
        },
    )
    .await;

    let served = &server;
    let check = |query: String, body: Value| {
        let path = format!("/api/v1/features/chat/check{query}");
        async move { served.send_json(Method::POST, &path, body).await }
    };
    let at = |time: DateTime<Utc>| format!("?at={}", urlencoding(&encoded(time)));
    let (status, answer) = check(at(listed), json!({"user_id": "7"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"feature": "chat", "active": true, "reason": "user", "at": encoded(listed)})
    );
    let (_, answer) = check(
        String::new(),
        json!({"user_id": "7", "at": encoded(everyone)}),
    )
    .await;
    assert_eq!(
        (answer["active"].clone(), answer["reason"].clone()),
        (json!(true), json!("everyone"))
    );
    let (_, answer) = check(
        String::new(),
        json!({"user_id": "8", "at": encoded(everyone)}),
    )
    .await;
    assert_eq!(answer["reason"], "everyone");
    assert_eq!(answer["at"], encoded(everyone));
    // Before the first event the feature did not exist; a date means its first instant.
    let (_, answer) = check("?at=2001-01-01".into(), json!({"user_id": "7"})).await;
    assert_eq!(answer["reason"], "not_found");
    assert_eq!(answer["at"], "2001-01-01T00:00:00Z");

    let (status, states) = server
        .send_json(
            Method::POST,
            &format!("/api/v1/states{}", at(listed)),
            json!({"user_id": "7"}),
        )
        .await;
    assert_eq!(status, 200, "{states}");
    assert_eq!(states["at"], encoded(listed));
    assert_eq!(
        states["states"],
        json!([{"feature": "chat", "active": true, "reason": "user"}])
    );
    let (_, states) = server
        .send_json(Method::POST, "/api/v1/states?at=2001-01-01", json!({}))
        .await;
    assert_eq!(states["states"], json!([]));
    // Without `at`, nothing changes: no `at` in the answer.
    let (_, states) = server
        .send_json(Method::POST, "/api/v1/states", json!({"user_id": "7"}))
        .await;
    assert!(states.get("at").is_none(), "{states}");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_time_is_refused_naming_the_field() {
    let server = TestServer::memory().await;
    for (path, body) in [
        ("/api/v1/features/chat/check?at=yesterday", json!({})),
        ("/api/v1/features/chat/check", json!({"at": "3 Nov"})),
        ("/api/v1/states?at=2026-13-01", json!({})),
        ("/api/v1/states", json!({"at": "soon"})),
        (
            "/api/v1/states?at=2026-11-03",
            json!({"at": "2026-11-04T00:00:00Z"}),
        ),
    ] {
        let (status, answer) = server.send_json(Method::POST, path, body.clone()).await;
        assert_eq!(status, 422, "{path} {body}: {answer}");
        assert_eq!(answer["field"], "at", "{path} {body}: {answer}");
        assert_eq!(answer["error"], "invalid", "{path} {body}: {answer}");
    }
    // The same time twice is fine.
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/states?at=2026-11-03",
            json!({"at": "2026-11-03T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 200);
    server.stop().await;
}

/// `+` in an offset must be escaped in a query string (the answers here are in UTC: `Z`).
fn urlencoding(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
