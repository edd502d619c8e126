//! Undo as the web UI uses it: history marks the events a later undo took back
//! (`undone_by`) and says what each undo took back (`undoes`); undoing an event twice is
//! refused with 409 `already_undone` naming who undid it, while undoing the undo puts the
//! event back in effect; an undone deletion reads as a restore.

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
