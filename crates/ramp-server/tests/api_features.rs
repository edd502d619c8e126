//! The admin API's feature operations through real HTTP: every edit, ETag/If-Match, history
//! and revert, evaluation, export/import and the streaming user list.

mod common;

use common::{json_of, TestServer};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_edit_and_read_a_feature() {
    let server = TestServer::memory().await;
    let (status, created) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "chat", "percentage": 10, "data": {"description": "Live chat"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["percentage"], 10.0);

    let (status, again) = server
        .send_json(Method::POST, "/api/v1/features", json!({"name": "chat"}))
        .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"], "already_exists");

    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/chat/percentage",
            json!({"percentage": 12.5}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["percentage"], 12.5);

    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/users",
            json!({"users": ["1", "2", "3"]}),
        )
        .await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/users/remove",
            json!({"users": ["2"]}),
        )
        .await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/exclusions",
            json!({"users": ["9"]}),
        )
        .await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/groups",
            json!({"groups": ["beta", "staff"]}),
        )
        .await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/groups/remove",
            json!({"groups": ["staff"]}),
        )
        .await;
    server
        .send_json(
            Method::PATCH,
            "/api/v1/features/chat/data",
            json!({"owner": "ana", "description": null}),
        )
        .await;
    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/chat/stage",
            json!({"stage": "beta"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let response = server
        .request(Method::GET, "/api/v1/features/chat")
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, feature) = json_of(response).await;
    assert_eq!(status, 200);
    assert_eq!(etag, format!("\"{}\"", feature["version"]));
    assert_eq!(feature["users"], json!(["1", "3"]));
    assert_eq!(feature["excluded_users"], json!(["9"]));
    assert_eq!(feature["groups"], json!(["beta"]));
    assert_eq!(feature["data"], json!({"owner": "ana"}));
    assert_eq!(feature["stage"], "beta");

    let (status, list) = server
        .get_json("/api/v1/features?stage=beta&search=CHA")
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["features"][0]["name"], "chat");
    assert_eq!(list["features"][0]["user_count"], 2);
    let (_, empty) = server.get_json("/api/v1/features?stage=graduated").await;
    assert_eq!(empty["features"], json!([]));

    // Every edit was recorded under the token's name.
    let (_, history) = server
        .get_json("/api/v1/features/chat/history?limit=100")
        .await;
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 9, "create and eight edits");
    assert!(events.iter().all(|event| event["actor"] == "admin"));

    let (status, _) = server
        .send_json(Method::POST, "/api/v1/features/chat/activate", json!(null))
        .await;
    assert_eq!(status, 200);
    let (_, feature) = server.get_json("/api/v1/features/chat").await;
    assert_eq!(feature["percentage"], 100.0);
    let (_, feature) = server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/deactivate",
            json!(null),
        )
        .await;
    assert_eq!(feature["percentage"], 0.0);
    assert_eq!(feature["users"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn a_stale_if_match_is_refused_and_changes_nothing() {
    let server = TestServer::memory().await;
    let (_, created) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "search", "percentage": 5}),
        )
        .await;
    let version = created["version"].as_u64().unwrap();
    let fresh = server
        .request(Method::PUT, "/api/v1/features/search/percentage")
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"percentage": 20}))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    let stale = server
        .request(Method::PUT, "/api/v1/features/search/percentage")
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"percentage": 50}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(stale).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["error"], "version_mismatch");
    let (_, feature) = server.get_json("/api/v1/features/search").await;
    assert_eq!(feature["percentage"], 20.0);

    let stale_delete = server
        .request(Method::DELETE, "/api/v1/features/search")
        .header("If-Match", format!("\"{version}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(stale_delete.status(), 412);
    let (status, _) = server.get_json("/api/v1/features/search").await;
    assert_eq!(status, 200, "still there");
    server.stop().await;
}

#[tokio::test]
async fn revert_restores_the_state_before_an_event() {
    let server = TestServer::memory().await;
    server
        .send_json(
            Method::PUT,
            "/api/v1/features/pay/percentage",
            json!({"percentage": 10}),
        )
        .await;
    server
        .send_json(
            Method::PUT,
            "/api/v1/features/pay/percentage",
            json!({"percentage": 25}),
        )
        .await;
    let (_, history) = server.get_json("/api/v1/history?feature=pay").await;
    let newest = history["events"][0]["id"].as_u64().unwrap();
    let (status, reverted) = server
        .send_json(
            Method::POST,
            "/api/v1/features/pay/revert",
            json!({"event_id": newest}),
        )
        .await;
    assert_eq!(status, 200, "{reverted}");
    assert_eq!(reverted["outcome"], "restored");
    let (_, feature) = server.get_json("/api/v1/features/pay").await;
    assert_eq!(feature["percentage"], 10.0);
    let (status, event) = server.get_json(&format!("/api/v1/history/{newest}")).await;
    assert_eq!(status, 200);
    assert_eq!(event["feature"], "pay");
    let (status, missing) = server
        .send_json(
            Method::POST,
            "/api/v1/features/pay/revert",
            json!({"event_id": 999_999}),
        )
        .await;
    assert_eq!(status, 404, "{missing}");
    server.stop().await;
}

#[tokio::test]
async fn check_and_states_explain_decisions() {
    let server = TestServer::memory().await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/users",
            json!({"users": ["7"]}),
        )
        .await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/groups",
            json!({"groups": ["pro"]}),
        )
        .await;
    let (status, group) = server
        .send_json(
            Method::PUT,
            "/api/v1/groups/pro",
            json!({"description": "Paying", "rules": ["plan in [pro, team]"]}),
        )
        .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["used_by"], json!(["chat"]));
    server
        .send_json(Method::POST, "/api/v1/features", json!({"name": "dark"}))
        .await;
    server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "everyone", "percentage": 100}),
        )
        .await;

    // Evaluations answer from the live snapshot, which follows the store within milliseconds.
    let mut answer = json!(null);
    for _ in 0..100 {
        (_, answer) = server
            .send_json(
                Method::POST,
                "/api/v1/features/chat/check",
                json!({"user_id": "8", "attributes": {"plan": "team"}}),
            )
            .await;
        if answer["active"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stamp = answer["stamp"].as_str().unwrap_or_default().to_owned();
    assert!(
        stamp.starts_with("chat@") && stamp.ends_with("-on"),
        "{answer}"
    );
    assert_eq!(
        answer,
        json!({"feature": "chat", "active": true, "reason": "group", "group": "pro", "stamp": stamp})
    );
    let (_, answer) = server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/check",
            json!({"user_id": "7"}),
        )
        .await;
    assert_eq!(answer["reason"], "user");
    let (_, answer) = server
        .send_json(Method::POST, "/api/v1/features/nope/check", json!({}))
        .await;
    assert_eq!(answer["reason"], "not_found");
    let (status, states) = server
        .send_json(Method::POST, "/api/v1/states", json!({"user_id": "1"}))
        .await;
    assert_eq!(status, 200);
    let reasons: Vec<_> = states["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|state| {
            (
                state["feature"].as_str().unwrap().to_owned(),
                state["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("chat".into(), "off".into()),
            ("dark".into(), "off".into()),
            ("everyone".into(), "everyone".into())
        ]
    );
    let (status, bad_rule) = server
        .send_json(
            Method::PUT,
            "/api/v1/groups/bad",
            json!({"rules": ["plan maybe pro"]}),
        )
        .await;
    assert_eq!(status, 422, "{bad_rule}");
    assert_eq!(bad_rule["field"], "rules[0]");
    server.stop().await;
}

#[tokio::test]
async fn a_hundred_thousand_users_stream_in_as_lines() {
    let server = TestServer::memory().await;
    let body: String = (0..100_000).map(|id| format!("user-{id}\n")).collect();
    assert!(body.len() > 1024 * 1024, "bigger than the JSON body limit");
    let response = server
        .request(Method::POST, "/api/v1/features/big/users/stream")
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, feature) = json_of(response).await;
    assert_eq!(status, 200, "{}", feature["message"]);
    assert_eq!(feature["users"].as_array().unwrap().len(), 100_000);

    let response = server
        .request(Method::POST, "/api/v1/features/big/users/stream?mode=set")
        .body("a\nb,c\nd\n")
        .send()
        .await
        .unwrap();
    let (status, error) = json_of(response).await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["message"].as_str().unwrap().starts_with("line 2:"),
        "{error}"
    );
    let (_, list) = server.get_json("/api/v1/features").await;
    assert_eq!(
        list["features"][0]["user_count"], 100_000,
        "a bad line changes nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn export_then_import_into_another_server() {
    let first = TestServer::memory().await;
    first
        .send_json(
            Method::PUT,
            "/api/v1/features/a/percentage",
            json!({"percentage": 33.3}),
        )
        .await;
    first
        .send_json(
            Method::PUT,
            "/api/v1/groups/staff",
            json!({"members": ["ana"]}),
        )
        .await;
    let (status, document) = first.get_json("/api/v1/export").await;
    assert_eq!(status, 200);
    let second = TestServer::memory().await;
    let (status, summary) = second
        .send_json(Method::POST, "/api/v1/import", document.clone())
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary,
        json!({"created": 1, "updated": 0, "unchanged": 0, "groups": 1})
    );
    let (_, feature) = second.get_json("/api/v1/features/a").await;
    assert_eq!(feature["percentage"], 33.3);

    let mut broken = document;
    broken["features"][0]["percentage"] = json!(101);
    let (status, error) = second
        .send_json(Method::POST, "/api/v1/import", broken)
        .await;
    assert_eq!(status, 422, "{error}");
    let (_, feature) = second.get_json("/api/v1/features/a").await;
    assert_eq!(feature["percentage"], 33.3, "nothing imported");
    first.stop().await;
    second.stop().await;
}

/// A stage the state contradicts is said by the list, the feature and every write's answer
/// (`stage_mismatch: {kind, message}`), and goes once they agree.
#[tokio::test]
async fn a_stage_that_contradicts_the_state_is_flagged() {
    let server = TestServer::memory().await;
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "form", "percentage": 25}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, moved) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/form/stage",
            json!({"stage": "everyone"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let moved = if moved.get("feature").is_some() {
        moved["feature"].clone()
    } else {
        moved
    };
    assert_eq!(
        moved["stage_mismatch"]["kind"], "everyone_below_full",
        "{moved}"
    );
    let (_, shown) = server.get_json("/api/v1/features/form").await;
    assert_eq!(shown["stage_mismatch"]["kind"], "everyone_below_full");
    assert!(shown["stage_mismatch"]["message"]
        .as_str()
        .unwrap()
        .contains("100 %"));
    let (_, list) = server.get_json("/api/v1/features").await;
    assert_eq!(
        list["features"][0]["stage_mismatch"]["kind"],
        "everyone_below_full"
    );
    let (status, _) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/form/percentage",
            json!({"percentage": 100}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, shown) = server.get_json("/api/v1/features/form").await;
    assert!(shown.get("stage_mismatch").is_none(), "{shown}");
    let (_, list) = server.get_json("/api/v1/features").await;
    assert!(list["features"][0].get("stage_mismatch").is_none());
}

/// A feature's kind: created with one, shown in the feature's and the list's JSON, changed by
/// `set_kind` (recorded in history, reverted like any field); an unknown kind is refused with
/// a message listing the kinds.
#[tokio::test]
async fn kinds_are_created_changed_listed_and_refused_when_unknown() {
    let server = TestServer::memory().await;
    let (status, created) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "checkout", "kind": "experiment"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["kind"], "experiment");
    let (_, plain) = server
        .send_json(Method::POST, "/api/v1/features", json!({"name": "search"}))
        .await;
    assert_eq!(plain["kind"], "release", "the default");

    let (status, changed) = server
        .send_json(
            Method::POST,
            "/api/v1/features/checkout/changes",
            json!({"op": "set_kind", "kind": "kill_switch"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["kind"], "kill_switch");
    let (_, shown) = server.get_json("/api/v1/features/checkout").await;
    assert_eq!(shown["kind"], "kill_switch");
    let (_, list) = server.get_json("/api/v1/features").await;
    let kinds: Vec<(&str, &str)> = list["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| {
            (
                feature["name"].as_str().unwrap(),
                feature["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("checkout", "kill_switch"), ("search", "release")]);

    let (_, history) = server.get_json("/api/v1/features/checkout/history").await;
    let newest = &history["events"][0];
    assert_eq!(
        newest["changes"],
        json!([{"kind": "value", "field": "kind", "before": "experiment", "after": "kill_switch"}])
    );
    let id = newest["id"].as_u64().unwrap();
    let (status, reverted) = server
        .send_json(
            Method::POST,
            "/api/v1/features/checkout/revert",
            json!({"event_id": id}),
        )
        .await;
    assert_eq!(status, 200, "{reverted}");
    let (_, shown) = server.get_json("/api/v1/features/checkout").await;
    assert_eq!(shown["kind"], "experiment");

    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/features/checkout/changes",
            json!({"op": "set_kind", "kind": "flag"}),
        ),
        (
            Method::POST,
            "/api/v1/features",
            json!({"name": "other", "kind": "flag"}),
        ),
    ] {
        let (status, error) = server.send_json(method, path, body).await;
        assert_eq!(status, 422, "{error}");
        let message = error["message"].as_str().unwrap();
        for kind in [
            "release",
            "experiment",
            "operational",
            "kill_switch",
            "permission",
        ] {
            assert!(message.contains(kind), "{message}");
        }
    }
    let (status, _) = server.get_json("/api/v1/features/other").await;
    assert_eq!(status, 404, "a refused create stores nothing");
    let (_, shown) = server.get_json("/api/v1/features/checkout").await;
    assert_eq!(
        shown["kind"], "experiment",
        "a refused change changes nothing"
    );
    server.stop().await;
}
