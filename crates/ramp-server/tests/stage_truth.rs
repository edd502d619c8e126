//! Stages that match what users get, through the API: a user outside a percentage is
//! `outside_percentage` (check, states, OFREP's SPLIT, exposure counts read back), a feature
//! that reaches nobody stays `off`; the Everyone action (`activate`) moves the stage in the same
//! history event; `graduated` is refused below 100 % or with exclusions unless a reason is
//! given, and the reason is what history records.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

/// User "1" is outside 20 % with the gem's bucketing; user "2" is inside.
const OUTSIDE: &str = "1";

async fn create(server: &TestServer, body: Value) {
    let (status, answer) = server
        .send_json(Method::POST, "/api/v1/features", body)
        .await;
    assert_eq!(status, 201, "{answer}");
}

/// The check's answer once the live snapshot has `feature` (it follows the store within
/// milliseconds); waits for the condition with a deadline, never for a fixed time.
async fn check_once_live(server: &TestServer, feature: &str, user: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, answer) = server
            .send_json(
                Method::POST,
                &format!("/api/v1/features/{feature}/check"),
                json!({ "user_id": user }),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        if answer["reason"] != "not_found" || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn history(server: &TestServer, feature: &str) -> Vec<Value> {
    let (status, body) = server
        .get_json(&format!("/api/v1/features/{feature}/history"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn outside_the_percentage_is_its_own_reason_everywhere() {
    let server = TestServer::memory().await;
    create(&server, json!({"name": "twenty", "percentage": 20})).await;
    create(
        &server,
        json!({"name": "nobody", "users": ["7"], "groups": ["staff"]}),
    )
    .await;

    let outside = check_once_live(&server, "twenty", json!(OUTSIDE)).await;
    assert_eq!(
        (&outside["active"], &outside["reason"]),
        (&json!(false), &json!("outside_percentage"))
    );
    let inside = check_once_live(&server, "twenty", json!("2")).await;
    assert_eq!(inside["reason"], "percentage");
    // Without a user id only 100 % counts: that is `off`, not a matter of buckets.
    let anonymous = check_once_live(&server, "twenty", Value::Null).await;
    assert_eq!(anonymous["reason"], "off");
    // 0 % with users and groups the user is not in reaches nobody by percentage: `off`.
    let nobody = check_once_live(&server, "nobody", json!(OUTSIDE)).await;
    assert_eq!(nobody["reason"], "off");

    let (status, states) = server
        .send_json(Method::POST, "/api/v1/states", json!({"user_id": OUTSIDE}))
        .await;
    assert_eq!(status, 200, "{states}");
    let reasons: Vec<(&str, &str)> = states["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|state| {
            (
                state["feature"].as_str().unwrap(),
                state["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [("nobody", "off"), ("twenty", "outside_percentage")]
    );

    let (status, ofrep) = server
        .send_json(
            Method::POST,
            "/ofrep/v1/evaluate/flags/twenty",
            json!({"context": {"targetingKey": OUTSIDE}}),
        )
        .await;
    assert_eq!(status, 200, "{ofrep}");
    assert_eq!(
        (
            &ofrep["value"],
            &ofrep["reason"],
            &ofrep["metadata"]["rampReason"]
        ),
        (&json!(false), &json!("SPLIT"), &json!("outside_percentage"))
    );
    let (_, ofrep) = server
        .send_json(
            Method::POST,
            "/ofrep/v1/evaluate/flags/nobody",
            json!({"context": {"targetingKey": OUTSIDE}}),
        )
        .await;
    assert_eq!(ofrep["reason"], "DISABLED", "{ofrep}");
    server.stop().await;
}

#[tokio::test]
async fn exposure_counts_keep_the_new_reason_apart() {
    // The server reads a manual clock, so the batch's minute is never too old to keep.
    let clock = Arc::new(ManualClock::new(
        "2026-03-01T09:00:40Z".parse::<DateTime<Utc>>().unwrap(),
    ));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock).await;
    create(&server, json!({"name": "twenty", "percentage": 20})).await;
    let to = "2026-03-01T09:00:30Z";
    let (status, answer) = server
        .send_json(
            Method::POST,
            "/api/v1/exposures",
            json!({
                "application": "shop", "instance": "web-1", "batch_id": "web-1:1",
                "from": to, "to": to, "counts": [
                    {"feature": "twenty", "active": true, "reason": "percentage", "count": 2},
                    {"feature": "twenty", "active": false, "reason": "outside_percentage", "count": 8},
                    {"feature": "twenty", "active": false, "reason": "off", "count": 1},
                ],
            }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, read) = server
        .get_json(
            "/api/v1/features/twenty/exposures?from=2026-03-01T09:00:00Z&to=2026-03-01T09:05:00Z&step=60",
        )
        .await;
    assert_eq!(status, 200, "{read}");
    let bins = read["bins"].as_array().unwrap();
    assert_eq!(
        bins[0]["reasons"],
        json!({"off": 1, "outside_percentage": 8, "percentage": 2}),
        "{read}"
    );
    assert_eq!(
        (bins[0]["active"].as_u64(), bins[0]["inactive"].as_u64()),
        (Some(2), Some(9))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_everyone_action_moves_the_stage_in_one_event() {
    let server = TestServer::memory().await;
    create(
        &server,
        json!({"name": "chat", "percentage": 30, "stage": "beta"}),
    )
    .await;
    let before = history(&server, "chat").await.len();
    let (status, feature) = server
        .send_json(Method::POST, "/api/v1/features/chat/activate", json!(null))
        .await;
    assert_eq!(status, 200, "{feature}");
    assert_eq!(
        (&feature["percentage"], &feature["stage"]),
        (&json!(100.0), &json!("everyone"))
    );
    assert_eq!(feature.get("stage_mismatch"), None, "{feature}");
    let events = history(&server, "chat").await;
    assert_eq!(events.len(), before + 1, "one event: {events:?}");
    let fields: Vec<&str> = events[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["percentage", "stage"]);

    // A graduated feature stays graduated: the Everyone action does not move it back.
    create(
        &server,
        json!({"name": "done", "percentage": 50, "stage": "graduated"}),
    )
    .await;
    let (_, feature) = server
        .send_json(Method::POST, "/api/v1/features/done/activate", json!(null))
        .await;
    assert_eq!(
        (&feature["percentage"], &feature["stage"]),
        (&json!(100.0), &json!("graduated"))
    );
    server.stop().await;
}

#[tokio::test]
async fn graduating_needs_everyone_or_a_recorded_reason() {
    let server = TestServer::memory().await;
    create(
        &server,
        json!({"name": "chat", "percentage": 25, "stage": "everyone"}),
    )
    .await;
    let stage = "/api/v1/features/chat/stage";
    let (status, refusal) = server
        .send_json(Method::PUT, stage, json!({"stage": "graduated"}))
        .await;
    assert_eq!(status, 422, "{refusal}");
    assert_eq!(
        (&refusal["error"], &refusal["field"]),
        (&json!("reason_required"), &json!("reason"))
    );
    let message = refusal["message"].as_str().unwrap();
    assert!(message.contains("25 %, not 100 %"), "{message}");
    // A blank reason is no reason; the general change route is guarded too.
    let (status, _) = server
        .send_json(
            Method::PUT,
            stage,
            json!({"stage": "graduated", "reason": "  "}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/changes",
            json!({"op": "set_stage", "stage": "graduated"}),
        )
        .await;
    assert_eq!(status, 422);
    // A reason longer than history should keep is refused, naming it.
    let (status, refusal) = server
        .send_json(
            Method::PUT,
            stage,
            json!({"stage": "graduated", "reason": "x".repeat(1_001)}),
        )
        .await;
    assert_eq!(
        (status, &refusal["field"]),
        (422, &json!("reason")),
        "{refusal}"
    );
    let (_, feature) = server.get_json("/api/v1/features/chat").await;
    assert_eq!(feature["stage"], "everyone", "nothing changed");

    // With a reason it graduates, and history records the reason.
    let reason = "the last 25 % are a region we are dropping";
    let (status, feature) = server
        .send_json(
            Method::PUT,
            stage,
            json!({"stage": "graduated", "reason": reason}),
        )
        .await;
    assert_eq!(status, 200, "{feature}");
    assert_eq!(feature["stage"], "graduated");
    let events = history(&server, "chat").await;
    assert_eq!(events[0]["comment"], reason, "{:?}", events[0]);

    // Excluded users need a reason too, also through `X-Ramp-Comment` on the change route.
    create(
        &server,
        json!({"name": "dark", "percentage": 100, "excluded_users": ["9"]}),
    )
    .await;
    let (status, refusal) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/dark/stage",
            json!({"stage": "graduated"}),
        )
        .await;
    assert_eq!(status, 422, "{refusal}");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("1 user is excluded"),
        "{refusal}"
    );
    let response = server
        .request(Method::POST, "/api/v1/features/dark/changes")
        .header("X-Ramp-Comment", "user 9 is a test account")
        .json(&json!({"op": "set_stage", "stage": "graduated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        history(&server, "dark").await[0]["comment"],
        "user 9 is a test account"
    );

    // At 100 % without exclusions no reason is needed.
    create(&server, json!({"name": "ready", "percentage": 100})).await;
    let (status, feature) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/ready/stage",
            json!({"stage": "graduated"}),
        )
        .await;
    assert_eq!((status, &feature["stage"]), (200, &json!("graduated")));
    assert_eq!(history(&server, "ready").await[0].get("comment"), None);
    server.stop().await;
}
