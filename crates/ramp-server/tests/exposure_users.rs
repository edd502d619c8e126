//! Distinct users through the API: sketches two application instances post for overlapping
//! users merge into one count per UTC day and answer, users seen on two days count once over
//! both, the server's own checks (OFREP `targetingKey`, `states`) add theirs, names of features that do
//! not exist keep none, and malformed sketches are refused naming the field.
//!
//! The server reads a manual clock: nothing here depends on today's date. Expected numbers are
//! the estimates of sketches built here from the same ids, so a lost or doubled merge shows.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::TestServer;
use ramp_core::{Attribution, Change, FeatureName, Percentage, UserSketch};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn sketch(ids: std::ops::Range<u64>) -> UserSketch {
    let mut sketch = UserSketch::new();
    for id in ids {
        sketch.insert_user(&format!("user-{id}"));
    }
    sketch
}

fn merged(sketches: &[&UserSketch]) -> u64 {
    let mut all = UserSketch::new();
    for sketch in sketches {
        all.merge(sketch);
    }
    all.estimate()
}

fn batch(instance: &str, id: &str, to: &str, users: Value) -> Value {
    json!({
        "application": "shop", "instance": instance, "batch_id": id,
        "from": to, "to": to, "counts": [], "users": users,
    })
}

async fn post(server: &TestServer, body: Value) -> (u16, Value) {
    server
        .send_json(Method::POST, "/api/v1/exposures", body)
        .await
}

#[tokio::test]
async fn users_merge_across_instances_and_days_and_count_once_over_the_period() {
    let clock = Arc::new(ManualClock::new(at("2026-03-01T23:58:00Z")));
    let config = ServerConfig {
        exposure_flush_seconds: 1,
        ..ServerConfig::default()
    };
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store.clone(), config, None, clock.clone()).await;
    store
        .apply(
            &FeatureName::new("chat").unwrap(),
            &Change::SetPercentage {
                percentage: Percentage::new(50.0).unwrap(),
            },
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();

    // Day one: web-1 saw users 0..6000 on, web-2 saw 4000..10000 on (2000 in common) and
    // 20000..20500 off; a feature that does not exist keeps no users.
    let (web1, web2, off) = (
        sketch(0..6_000),
        sketch(4_000..10_000),
        sketch(20_000..20_500),
    );
    let day_one = "2026-03-01T23:57:30Z";
    let posted = [
        post(
            &server,
            batch(
                "web-1",
                "web-1:1",
                day_one,
                json!([
                    {"feature": "chat", "active": true, "sketch": web1},
                    {"feature": "typo", "active": true, "sketch": web1},
                ]),
            ),
        )
        .await,
        post(
            &server,
            batch(
                "web-2",
                "web-2:1",
                day_one,
                json!([
                    {"feature": "chat", "active": true, "sketch": web2},
                    {"feature": "chat", "active": false, "sketch": off},
                ]),
            ),
        )
        .await,
        // A retry merges again and changes nothing.
        post(
            &server,
            batch(
                "web-2",
                "web-2:1",
                day_one,
                json!([
                    {"feature": "chat", "active": true, "sketch": web2},
                ]),
            ),
        )
        .await,
    ];
    for (status, body) in &posted {
        assert_eq!(*status, 200, "{body}");
    }

    // Day two: users 9000..12000 on, from web-1.
    clock.advance(Duration::from_secs(5 * 60));
    let day_two = sketch(9_000..12_000);
    let (status, body) = post(
        &server,
        batch(
            "web-1",
            "web-1:2",
            "2026-03-02T00:02:10Z",
            json!([
                {"feature": "chat", "active": true, "sketch": day_two},
            ]),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let path =
        "/api/v1/features/chat/exposures/users?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z";
    let (status, users) = server.get_json(path).await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["from_day"], "2026-03-01");
    assert_eq!(users["to_day"], "2026-03-02");
    assert_eq!(
        users["days"],
        json!([
            {"day": "2026-03-01", "active": merged(&[&web1, &web2]), "inactive": off.estimate()},
            {"day": "2026-03-02", "active": day_two.estimate(), "inactive": 0},
        ]),
        "{users}"
    );
    // Over both days the 1,000 users seen on both count once.
    assert_eq!(
        users["active"],
        merged(&[&web1, &web2, &day_two]),
        "{users}"
    );
    let estimate = users["active"].as_u64().unwrap() as f64;
    assert!((estimate - 12_000.0).abs() / 12_000.0 < 0.1, "{users}");
    let (_, typo) = server
        .get_json("/api/v1/features/typo/exposures/users?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z")
        .await;
    assert_eq!(typo["days"], json!([]), "{typo}");

    // The server's own checks with a targeting key add users (on the next flush), under the
    // answer each got.
    let mut own = [UserSketch::new(), UserSketch::new()];
    for id in ["user-0", "user-50000", "user-50001", "user-50002"] {
        let (status, body) = server
            .send_json(
                Method::POST,
                "/ofrep/v1/evaluate/flags/chat",
                json!({"context": {"targetingKey": id}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let active = body["value"].as_bool().unwrap();
        own[usize::from(active)].insert_user(id);
    }
    // `states` answers every feature for a user: each answer counts too.
    let (status, states) = server
        .send_json(
            Method::POST,
            "/api/v1/states",
            json!({"user_id": "user-60000"}),
        )
        .await;
    assert_eq!(status, 200, "{states}");
    let chat = states["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|state| state["feature"] == "chat")
        .unwrap();
    own[usize::from(chat["active"].as_bool().unwrap())].insert_user("user-60000");
    let mut expected_active = day_two.clone();
    expected_active.merge(&own[1]);
    let expected_inactive = own[0].clone();
    let day_two_path =
        "/api/v1/features/chat/exposures/users?from=2026-03-02T00:00:00Z&to=2026-03-02T01:00:00Z";
    let deadline = Instant::now() + Duration::from_secs(20);
    let users = loop {
        let (_, users) = server.get_json(day_two_path).await;
        if users["days"][0]["active"] == expected_active.estimate()
            && users["days"][0]["inactive"] == expected_inactive.estimate()
            || Instant::now() > deadline
        {
            break users;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        users["days"],
        json!([{"day": "2026-03-02", "active": expected_active.estimate(), "inactive": expected_inactive.estimate()}]),
        "{users}"
    );
    server.stop().await;
}

#[tokio::test]
async fn malformed_sketches_and_periods_are_refused() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_config(store, ServerConfig::default(), None).await;
    for sketch in ["zz", "03", "", "01ff"] {
        let (status, body) = post(
            &server,
            batch(
                "web-1",
                "bad",
                "2026-03-01T00:00:00Z",
                json!([
                    {"feature": "chat", "active": true, "sketch": sketch},
                ]),
            ),
        )
        .await;
        assert!((400..500).contains(&status), "{sketch:?}: {status} {body}");
        assert!(body.to_string().contains("sketch"), "{sketch:?}: {body}");
    }
    let too_many: Vec<Value> = (0..1_001)
        .map(|_| json!({"feature": "chat", "active": true, "sketch": "02"}))
        .collect();
    let (status, body) = post(
        &server,
        batch("web-1", "many", "2026-03-01T00:00:00Z", json!(too_many)),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["field"], "users", "{body}");
    for query in [
        "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        "from=2024-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",
    ] {
        let (status, body) = server
            .get_json(&format!("/api/v1/features/chat/exposures/users?{query}"))
            .await;
        assert_eq!(status, 422, "{query}: {body}");
    }
    server.stop().await;
}
