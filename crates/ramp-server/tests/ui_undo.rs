//! Undo as the web UI uses it: history marks the events a later undo took back
//! (`undone_by`) and says what each undo took back (`undoes`); undoing an event twice is
//! refused with 409 `already_undone` naming who undid it, while undoing the undo puts the
//! event back in effect; an undone deletion reads as a restore. Stored groups' edits are
//! history too, undone through their own revert.

mod common;

use common::{json_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn events(server: &TestServer, feature: &str) -> Vec<Value> {
    let (status, body) = server
        .get_json(&format!("/api/v1/features/{feature}/history"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn event(events: &[Value], id: &Value) -> Value {
    events
        .iter()
        .find(|event| event["id"] == *id)
        .cloned()
        .unwrap_or_else(|| panic!("event {id} in {events:?}"))
}

async fn undo(server: &TestServer, feature: &str, id: &Value) -> (u16, Value) {
    server
        .send_json(
            Method::POST,
            &format!("/api/v1/features/{feature}/revert"),
            json!({ "event_id": id, "scope": "only_this_event" }),
        )
        .await
}

#[tokio::test]
async fn an_undone_event_is_marked_and_cannot_be_undone_again() {
    let server = TestServer::memory().await;
    let bob = server.token("bob", "admin").await;
    let (status, _) = server
        .send_json(Method::POST, "/api/v1/features", json!({ "name": "pay" }))
        .await;
    assert_eq!(status, 201);
    let (status, _) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/pay/percentage",
            json!({ "percentage": 10 }),
        )
        .await;
    assert_eq!(status, 200);
    let raised = events(&server, "pay").await[0]["id"].clone();
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/features/pay/users",
            json!({ "users": ["ana"] }),
        )
        .await;
    assert_eq!(status, 200);

    // Bob undoes the raise, with a comment of his own.
    let response = server
        .request_as(&bob, Method::POST, "/api/v1/features/pay/revert")
        .header("X-Ramp-Comment", "errors in checkout")
        .json(&json!({ "event_id": raised, "scope": "only_this_event" }))
        .send()
        .await
        .unwrap();
    let (status, answer) = json_of(response).await;
    assert_eq!(status, 200, "{answer}");
    let undo_id = answer["event"]["id"].clone();
    let history = events(&server, "pay").await;
    let undone = event(&history, &raised);
    assert_eq!(undone["undone_by"]["id"], undo_id, "{undone}");
    assert_eq!(undone["undone_by"]["actor"], "bob");
    let the_undo = event(&history, &undo_id);
    assert_eq!(the_undo["undoes"]["id"], raised, "{the_undo}");
    assert_eq!(the_undo["undoes"]["actor"], "admin");
    assert_eq!(the_undo["undoes"]["scope"], "only_this_event");
    assert!(
        the_undo["comment"]
            .as_str()
            .is_some_and(|comment| comment.ends_with("errors in checkout")),
        "the person's comment is kept: {the_undo}"
    );
    assert!(
        history
            .iter()
            .filter(|event| event["id"] != raised)
            .all(|event| event.get("undone_by").is_none()),
        "only the raise is undone: {history:?}"
    );

    // Again: refused, naming bob; nothing changes.
    let (_, before) = server.get_json("/api/v1/features/pay").await;
    let (status, answer) = undo(&server, "pay", &raised).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"], "already_undone");
    assert_eq!(answer["field"], "event_id");
    assert_eq!(answer["changed_by"], "bob");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("already undone by bob"),
        "{answer}"
    );
    let (_, after) = server.get_json("/api/v1/features/pay").await;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["percentage"], 0.0);

    // Undoing the undo puts the raise back in effect; then it can be undone again.
    let (status, answer) = undo(&server, "pay", &undo_id).await;
    assert_eq!(status, 200, "{answer}");
    let history = events(&server, "pay").await;
    assert!(
        event(&history, &raised).get("undone_by").is_none(),
        "{history:?}"
    );
    assert_eq!(
        event(&history, &undo_id)["undone_by"]["id"],
        answer["event"]["id"]
    );
    let (_, now) = server.get_json("/api/v1/features/pay").await;
    assert_eq!(now["percentage"], 10.0);
    let (status, answer) = undo(&server, "pay", &raised).await;
    assert_eq!(status, 200, "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn undoing_a_deletion_restores_and_says_what_it_undid() {
    let server = TestServer::memory().await;
    let (status, _) = server
        .send_json(Method::POST, "/api/v1/features", json!({ "name": "gone" }))
        .await;
    assert_eq!(status, 201);
    let response = server
        .request(Method::DELETE, "/api/v1/features/gone")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let deleted = events(&server, "gone").await[0].clone();
    assert_eq!(deleted["action"], "deleted");
    let (status, answer) = undo(&server, "gone", &deleted["id"]).await;
    assert_eq!(status, 200, "{answer}");
    let history = events(&server, "gone").await;
    let restore = &history[0];
    assert_eq!(restore["action"], "created");
    assert_eq!(restore["undoes"]["id"], deleted["id"]);
    assert_eq!(restore["undoes"]["action"], "deleted");
    assert_eq!(
        event(&history, &deleted["id"])["undone_by"]["id"],
        restore["id"]
    );
    // The global history carries the same links.
    let (_, global) = server.get_json("/api/v1/history?feature=gone").await;
    assert_eq!(global["events"][0]["undoes"]["id"], deleted["id"]);
    server.stop().await;
}

async fn group_events(server: &TestServer, group: &str) -> Vec<Value> {
    let (status, body) = server
        .get_json(&format!("/api/v1/groups/{group}/history"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

async fn undo_group(server: &TestServer, group: &str, id: &Value) -> (u16, Value) {
    server
        .send_json(
            Method::POST,
            &format!("/api/v1/groups/{group}/revert"),
            json!({ "event_id": id, "scope": "only_this_event" }),
        )
        .await
}

/// Stored groups' edits are history: attributed to the token with its comment, listed by the
/// group's own history and `?group=`, kept apart from a feature of the same name, and undone
/// one by one (a deletion too) through the group's revert, which refuses a feature's event,
/// a second undo and a stale `If-Match`.
#[tokio::test]
async fn group_edits_are_history_and_undo() {
    let server = TestServer::memory().await;
    let cy = server.token("cy", "admin").await;
    let path = "/api/v1/groups/beta";
    let (status, created) = json_of(
        server
            .request_as(&cy, Method::PUT, path)
            .header("X-Ramp-Comment", "for the beta")
            .json(&json!({ "description": "testers", "members": ["1", "2"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["event"]["action"], "created");
    assert_eq!(
        (&created["event"]["actor"], &created["event"]["comment"]),
        (&json!("cy"), &json!("for the beta"))
    );
    let (status, same) = server
        .send_json(
            Method::PUT,
            path,
            json!({ "description": "testers", "members": ["1", "2"] }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(same.get("event").is_none(), "an unchanged write: {same}");
    let (status, edited) = server
        .send_json(
            Method::PUT,
            path,
            json!({ "description": "testers", "members": ["1", "2", "3"], "rules": ["plan in [pro]"] }),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    let added = edited["event"]["id"].clone();
    // A feature of the same name has a history of its own.
    let (status, _) = server
        .send_json(Method::POST, "/api/v1/features", json!({ "name": "beta" }))
        .await;
    assert_eq!(status, 201);
    let (status, deleted) = server.send_json(Method::DELETE, path, json!({})).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        (&deleted["action"], &deleted["group"]),
        (&json!("deleted"), &json!("beta"))
    );

    let history = group_events(&server, "beta").await;
    let actions: Vec<&Value> = history.iter().map(|event| &event["action"]).collect();
    assert_eq!(
        actions,
        [&json!("deleted"), &json!("updated"), &json!("created")]
    );
    assert!(history.iter().all(|event| event.get("feature").is_none()));
    let (_, filtered) = server.get_json("/api/v1/history?group=beta").await;
    assert_eq!(filtered["events"].as_array().unwrap(), &history);
    let (status, both) = server
        .get_json("/api/v1/history?group=beta&feature=beta")
        .await;
    assert_eq!((status, &both["field"]), (422, &json!("group")), "{both}");
    assert_eq!(events(&server, "beta").await.len(), 1, "the feature's own");

    let (status, refused) =
        undo_group(&server, "beta", &events(&server, "beta").await[0]["id"]).await;
    assert_eq!(status, 422, "a feature's event: {refused}");
    let (status, restored) = undo_group(&server, "beta", &deleted["id"]).await;
    assert_eq!(
        (status, restored["outcome"].as_str()),
        (200, Some("restored")),
        "{restored}"
    );
    let (_, group) = server.get_json(path).await;
    assert_eq!(group["members"], json!(["1", "2", "3"]));
    assert_eq!(group["rule_texts"], json!(["plan in [pro]"]));
    let (status, stale) = json_of(
        server
            .request(Method::POST, "/api/v1/groups/beta/revert")
            .header("If-Match", "\"1\"")
            .json(&json!({ "event_id": added, "scope": "only_this_event" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 412, "{stale}");
    let (status, undone) = undo_group(&server, "beta", &added).await;
    assert_eq!(status, 200, "{undone}");
    let (_, group) = server.get_json(path).await;
    assert_eq!(
        (&group["members"], &group["rule_texts"]),
        (&json!(["1", "2"]), &json!([]))
    );
    let (status, again) = undo_group(&server, "beta", &added).await;
    assert_eq!(
        (status, &again["error"]),
        (409, &json!("already_undone")),
        "{again}"
    );
    let marked = group_events(&server, "beta").await;
    assert_eq!(
        event(&marked, &added)["undone_by"]["id"],
        undone["event"]["id"]
    );
}
