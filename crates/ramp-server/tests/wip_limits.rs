//! WIP limits and time in stage, through the API: the lifecycle settings are read by any token
//! and written by admins only, bad limits are 422s naming their field and change nothing, a
//! stale `If-Match` is a 412; a stage move into a full column is a 409 `wip_limit_reached`
//! naming the stage, count and limit, and goes through with an override reason that history
//! records; settings changes show in the global history; `stage_since` comes from history and
//! is measured against the server's (manual) clock. The same settings hold each kind's
//! expected life and the health windows (`lifecycle_fields_*`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;

use common::{json_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn create(server: &TestServer, name: &str, stage: &str) {
    let (status, answer) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": name, "stage": stage}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

async fn move_to(server: &TestServer, name: &str, body: Value) -> (u16, Value) {
    server
        .send_json(Method::PUT, &format!("/api/v1/features/{name}/stage"), body)
        .await
}

async fn put_limits(server: &TestServer, limits: Value) -> (u16, Value) {
    server
        .send_json(
            Method::PUT,
            "/api/v1/settings/lifecycle",
            json!({ "wip_limits": limits }),
        )
        .await
}

#[tokio::test]
async fn settings_are_validated_versioned_and_admin_only() {
    let server = TestServer::memory().await;
    let (status, fresh) = server.get_json("/api/v1/settings/lifecycle").await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(
        (&fresh["wip_limits"], &fresh["version"]),
        (&json!({}), &json!(0))
    );

    let (status, written) = put_limits(&server, json!({"beta": 2, "rolling_out": 5})).await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(written["wip_limits"], json!({"beta": 2, "rolling_out": 5}));
    assert_eq!(written["version"], 1);
    assert_eq!(written["event"]["settings"], "lifecycle");

    for (limits, field) in [
        (json!({"beta": -1}), "wip_limits.beta"),
        (json!({"beta": 10_001}), "wip_limits.beta"),
        (json!({"beta": 2.5}), "wip_limits.beta"),
        (json!({"beta": "3"}), "wip_limits.beta"),
        (json!({"beta": 1, "done": 3}), "wip_limits.done"),
    ] {
        let (status, error) = put_limits(&server, limits.clone()).await;
        assert_eq!(status, 422, "{limits}: {error}");
        assert_eq!(error["field"], field, "{error}");
    }
    let (_, unchanged) = server.get_json("/api/v1/settings/lifecycle").await;
    assert_eq!(unchanged["version"], 1, "bad input wrote nothing");
    assert_eq!(
        unchanged["wip_limits"],
        json!({"beta": 2, "rolling_out": 5})
    );

    // A stale If-Match is refused; the current one goes through.
    let stale = server
        .request(Method::PUT, "/api/v1/settings/lifecycle")
        .header("If-Match", "\"0\"")
        .json(&json!({"wip_limits": {"beta": 9}}))
        .send()
        .await
        .unwrap();
    let (status, error) = json_of(stale).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (412, Some("version_mismatch"))
    );
    let current = server
        .request(Method::PUT, "/api/v1/settings/lifecycle")
        .header("If-Match", "\"1\"")
        .json(&json!({"wip_limits": {"beta": 3}}))
        .send()
        .await
        .unwrap();
    let (status, written) = json_of(current).await;
    assert_eq!((status, &written["version"]), (200, &json!(2)), "{written}");

    let reader = server.token("dashboard", "reader").await;
    let read = server
        .request_as(&reader, Method::GET, "/api/v1/settings/lifecycle")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let refused = server
        .request_as(&reader, Method::PUT, "/api/v1/settings/lifecycle")
        .json(&json!({"wip_limits": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // The global history shows both changes, newest first.
    let (status, history) = server.get_json("/api/v1/history").await;
    assert_eq!(status, 200, "{history}");
    let settings: Vec<&Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["settings"] == "lifecycle")
        .collect();
    assert_eq!(settings.len(), 2, "{history}");
    assert_eq!(
        settings[0]["changes"],
        json!([{"kind": "value", "field": "wip_limits.beta", "before": 2, "after": 3},
               {"kind": "value", "field": "wip_limits.rolling_out", "before": 5, "after": null}])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_move_into_a_full_stage_needs_an_override_that_history_records() {
    let server = TestServer::memory().await;
    create(&server, "one", "beta").await;
    create(&server, "two", "beta").await;
    create(&server, "three", "development").await;
    let (status, _) = put_limits(&server, json!({"beta": 2})).await;
    assert_eq!(status, 200);

    let (status, refused) = move_to(&server, "three", json!({"stage": "beta"})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "wip_limit_reached");
    assert_eq!(
        refused["wip_limit"],
        json!({"stage": "beta", "count": 2, "limit": 2})
    );
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("beta stage is full") && message.contains("limit is 2"),
        "{message}"
    );
    let (_, three) = server.get_json("/api/v1/features/three").await;
    assert_eq!(three["stage"], "development", "nothing moved");

    // Moving within the stage or out of it is never refused.
    let (status, answer) = move_to(&server, "one", json!({"stage": "beta"})).await;
    assert_eq!(status, 200, "{answer}");

    let (status, moved) = move_to(
        &server,
        "three",
        json!({"stage": "beta", "override_reason": "launch demo on Friday"}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["stage"], "beta");
    let (_, history) = server.get_json("/api/v1/features/three/history").await;
    let comment = history["events"][0]["comment"].as_str().unwrap();
    assert_eq!(
        comment,
        "WIP limit override (beta had 2 of 2): launch demo on Friday"
    );

    let long = "x".repeat(1_001);
    let (status, error) = move_to(
        &server,
        "two",
        json!({"stage": "everyone", "override_reason": long}),
    )
    .await;
    assert_eq!(
        (status, error["field"].as_str()),
        (422, Some("override_reason"))
    );
    server.stop().await;
}

#[tokio::test]
async fn stage_since_comes_from_history_and_the_server_clock() {
    let start = Utc::now();
    let clock = Arc::new(ManualClock::new(start));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock.clone()).await;
    create(&server, "steady", "beta").await;
    create(&server, "moved", "development").await;
    let (status, _) = move_to(&server, "moved", json!({"stage": "beta"})).await;
    assert_eq!(status, 200);
    // A later change that is not a move keeps the time of the move.
    let (status, _) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/moved/percentage",
            json!({"percentage": 5}),
        )
        .await;
    assert_eq!(status, 200);
    clock.advance(Duration::from_secs(12 * 24 * 3600));

    let (status, list) = server.get_json("/api/v1/features?with=stage_since").await;
    assert_eq!(status, 200, "{list}");
    let server_time: DateTime<Utc> = list["server_time"].as_str().unwrap().parse().unwrap();
    assert!(server_time - start >= chrono::Duration::days(12));
    let since = |name: &str| -> DateTime<Utc> {
        let feature = list["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|feature| feature["name"] == name)
            .unwrap();
        feature["stage_since"].as_str().unwrap().parse().unwrap()
    };
    let history = |events: &Value| -> DateTime<Utc> {
        events["events"][0]["time"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (_, moved_history) = server.get_json("/api/v1/features/moved/history").await;
    let move_time: DateTime<Utc> = moved_history["events"][1]["time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        since("moved"),
        move_time,
        "the move, not the percentage change"
    );
    let (_, steady_history) = server.get_json("/api/v1/features/steady/history").await;
    assert_eq!(since("steady"), history(&steady_history), "its creation");

    let (_, page) = server.get_json("/api/v1/features/moved").await;
    assert_eq!(page["stage_since"], list["features"][0]["stage_since"]);
    assert_eq!(page["server_time"], list["server_time"]);

    let (status, error) = server.get_json("/api/v1/features?with=stages").await;
    assert_eq!((status, error["field"].as_str()), (422, Some("with")));
    server.stop().await;
}

#[tokio::test]
async fn concurrent_moves_into_the_last_free_place_let_exactly_one_through() {
    let server = TestServer::memory().await;
    let names: Vec<String> = (0..8).map(|index| format!("card-{index}")).collect();
    for name in &names {
        create(&server, name, "development").await;
    }
    let (status, answer) = put_limits(&server, json!({"beta": 1})).await;
    assert_eq!(status, 200, "{answer}");
    let moves = names
        .iter()
        .map(|name| move_to(&server, name, json!({"stage": "beta"})));
    let answers = futures::future::join_all(moves).await;
    let passed = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused = answers
        .iter()
        .filter(|(status, answer)| *status == 409 && answer["error"] == "wip_limit_reached")
        .count();
    assert_eq!((passed, refused), (1, 7), "{answers:?}");
    let (_, list) = server.get_json("/api/v1/features").await;
    let in_beta = list["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|feature| feature["stage"] == "beta")
        .count();
    assert_eq!(in_beta, 1, "{list}");
}

#[tokio::test]
async fn lifecycle_fields_show_effective_lives_validate_and_are_recorded() {
    let server = TestServer::memory().await;
    let (status, fresh) = server.get_json("/api/v1/settings/lifecycle").await;
    assert_eq!(status, 200, "{fresh}");
    let defaults = json!({"release": 40, "experiment": 40, "operational": 7,
        "kill_switch": null, "permission": null});
    assert_eq!(fresh["effective_expected_life_days"], defaults);
    assert_eq!(fresh["default_expected_life_days"], defaults);
    assert_eq!(fresh["expected_life_days"], json!({}));
    assert_eq!(
        (
            &fresh["ready_to_graduate_after_days"],
            &fresh["unused_after_days"],
            &fresh["safe_to_delete_after_days"]
        ),
        (&json!(14), &json!(30), &json!(30))
    );

    let (status, written) = server
        .send_json(
            Method::PUT,
            "/api/v1/settings/lifecycle",
            json!({"wip_limits": {"beta": 2},
                   "expected_life_days": {"release": 20, "operational": null, "permission": 365},
                   "unused_after_days": 60}),
        )
        .await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(
        written["effective_expected_life_days"],
        json!({"release": 20, "experiment": 40, "operational": null,
               "kill_switch": null, "permission": 365})
    );
    assert_eq!(
        written["expected_life_days"],
        json!({"release": 20, "operational": null, "permission": 365})
    );
    assert_eq!(written["default_expected_life_days"], defaults);
    assert_eq!(
        (
            &written["unused_after_days"],
            &written["ready_to_graduate_after_days"]
        ),
        (&json!(60), &json!(14))
    );
    assert_eq!(
        written["event"]["changes"],
        json!([
            {"kind": "value", "field": "wip_limits.beta", "before": null, "after": 2},
            {"kind": "value", "field": "expected_life_days.release", "before": 40, "after": 20},
            {"kind": "value", "field": "expected_life_days.operational", "before": 7, "after": null},
            {"kind": "value", "field": "expected_life_days.permission", "before": null, "after": 365},
            {"kind": "value", "field": "health.unused_after_days", "before": 30, "after": 60}
        ])
    );

    for (body, field) in [
        (
            json!({"expected_life_days": {"release": 0}}),
            "expected_life_days.release",
        ),
        (
            json!({"expected_life_days": {"release": 3651}}),
            "expected_life_days.release",
        ),
        (
            json!({"expected_life_days": {"release": "40"}}),
            "expected_life_days.release",
        ),
        (
            json!({"expected_life_days": {"flag": 10}}),
            "expected_life_days.flag",
        ),
        (json!({"unused_after_days": 0}), "unused_after_days"),
        (
            json!({"ready_to_graduate_after_days": 1.5}),
            "ready_to_graduate_after_days",
        ),
        (
            json!({"safe_to_delete_after_days": -3}),
            "safe_to_delete_after_days",
        ),
    ] {
        let (status, error) = server
            .send_json(Method::PUT, "/api/v1/settings/lifecycle", body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error["field"], field, "{error}");
    }
    let (_, unknown_kind) = server
        .send_json(
            Method::PUT,
            "/api/v1/settings/lifecycle",
            json!({"expected_life_days": {"flag": 10}}),
        )
        .await;
    let message = unknown_kind["message"].as_str().unwrap();
    assert!(
        message.contains("kill_switch") && message.contains("permission"),
        "{message}"
    );
    let (_, unchanged) = server.get_json("/api/v1/settings/lifecycle").await;
    assert_eq!(unchanged["version"], 1, "bad input wrote nothing");
    assert_eq!(unchanged["effective_expected_life_days"]["release"], 20);
    assert_eq!(unchanged["unused_after_days"], 60);

    // A part left out is kept (a client that knows only WIP limits erases nothing); within
    // `expected_life_days` a kind left out goes back to its default, and a null window too.
    let (status, limits_only) = put_limits(&server, json!({"beta": 4})).await;
    assert_eq!(status, 200, "{limits_only}");
    assert_eq!(limits_only["effective_expected_life_days"]["release"], 20);
    assert_eq!(limits_only["unused_after_days"], 60);
    let (status, reset) = server
        .send_json(
            Method::PUT,
            "/api/v1/settings/lifecycle",
            json!({"expected_life_days": {"operational": null}, "unused_after_days": null}),
        )
        .await;
    assert_eq!(status, 200, "{reset}");
    assert_eq!(reset["wip_limits"], json!({"beta": 4}));
    assert_eq!(reset["effective_expected_life_days"]["release"], 40);
    assert_eq!(
        reset["effective_expected_life_days"]["operational"],
        json!(null)
    );
    assert_eq!(reset["unused_after_days"], 30);

    // The OpenAPI document describes the new fields and the feature's kind.
    let (status, document) = server.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let schemas = &document["components"]["schemas"];
    for field in [
        "expected_life_days",
        "effective_expected_life_days",
        "default_expected_life_days",
        "unused_after_days",
    ] {
        assert!(
            schemas["LifecycleView"]["properties"][field].is_object(),
            "LifecycleView lacks {field}"
        );
    }
    assert!(schemas["LifecycleBody"]["properties"]["safe_to_delete_after_days"].is_object());
    assert!(schemas["FeatureSummary"]["properties"]["kind"].is_object());
    server.stop().await;
}
