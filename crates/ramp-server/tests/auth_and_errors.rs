//! Tokens and roles, and the shape of every kind of error answer.

mod common;

use common::{json_of, TestServer};
use ramp_server::{Server, ServerConfig};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn no_token_is_401_and_a_reader_cannot_write() {
    let server = TestServer::memory().await;
    let anonymous = server
        .client
        .get(format!("{}/api/v1/features", server.base))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(anonymous).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");
    let wrong = server
        .request_as("ramp_not-a-token", Method::GET, "/api/v1/features")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let reader = server.token("dashboard", "reader").await;
    let read = server
        .request_as(&reader, Method::GET, "/api/v1/features")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    // X-API-Key works as well as Bearer.
    let by_key = server
        .client
        .get(format!("{}/api/v1/snapshot", server.base))
        .header("X-API-Key", &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(by_key.status(), 200);
    let write = server
        .request_as(&reader, Method::POST, "/api/v1/features/x/activate")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(write).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    let (status, _) = server.get_json("/api/v1/features/x").await;
    assert_eq!(status, 404, "the refused write changed nothing");
    let tokens = server
        .request_as(&reader, Method::GET, "/api/v1/tokens")
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), 403, "readers cannot list tokens");
    let check = server
        .request_as(&reader, Method::POST, "/api/v1/features/x/check")
        .json(&json!({"user_id": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200, "a reader may evaluate");

    // Changes are recorded under the token's name.
    let writer = server.token("deploy-bot", "admin").await;
    server
        .request_as(&writer, Method::POST, "/api/v1/features/x/activate")
        .header("X-Ramp-Comment", "launch")
        .send()
        .await
        .unwrap();
    let (_, history) = server.get_json("/api/v1/features/x/history").await;
    assert_eq!(history["events"][0]["actor"], "deploy-bot");
    assert_eq!(history["events"][0]["comment"], "launch");

    // Revoked: refused at once.
    let revoke = server
        .request(Method::DELETE, "/api/v1/tokens/deploy-bot")
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let after = server
        .request_as(&writer, Method::POST, "/api/v1/features/x/deactivate")
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    let (_, listed) = server.get_json("/api/v1/tokens").await;
    let names: Vec<_> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("admin"), json!("dashboard")]);
    assert!(
        !listed.to_string().contains(&reader),
        "secrets are never listed"
    );
    server.stop().await;
}

#[tokio::test]
async fn errors_name_the_problem() {
    let server = TestServer::memory().await;
    let malformed = server
        .request(Method::PUT, "/api/v1/features/a/percentage")
        .header("content-type", "application/json")
        .body("{\"percentage\": 5,,}")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(malformed).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "malformed_json");
    assert!(
        body["message"].as_str().unwrap().contains("line 1 column"),
        "{body}"
    );

    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/a/percentage",
            json!({"percentage": 101}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "percentage");

    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "bad,name"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "name");

    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/a/stage",
            json!({"stage": "done"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "stage");

    let not_json = server
        .request(Method::PUT, "/api/v1/features/a/percentage")
        .header("content-type", "text/plain")
        .body("5")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);

    let huge = format!("{{\"users\": [\"{}\"]}}", "x".repeat(2 * 1024 * 1024));
    let too_large = server
        .request(Method::POST, "/api/v1/features/a/users")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(too_large).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "body_too_large");

    let (status, body) = server.get_json("/api/v1/features/missing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    let (status, body) = server.get_json("/api/v1/nothing-here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no_route");
    let (status, _) = server.get_json("/api/v1/features").await;
    assert_eq!(status, 200);
    let (_, list) = server.get_json("/api/v1/features").await;
    assert_eq!(list["features"], json!([]), "no bad request wrote anything");
    server.stop().await;
}

#[tokio::test]
async fn first_start_creates_one_admin_token_and_public_addresses_need_one() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let mut config = ServerConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    let refused = Server::bind(config.clone(), store.clone())
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("no API token exists"),
        "{refused}"
    );
    assert!(store.credentials().await.unwrap().is_empty());

    config.bind = "127.0.0.1:0".parse().unwrap();
    let first = Server::bind(config.clone(), store.clone()).await.unwrap();
    assert!(first
        .first_admin_token()
        .is_some_and(|token| token.starts_with("ramp_")));
    drop(first);
    let second = Server::bind(config.clone(), store.clone()).await.unwrap();
    assert_eq!(second.first_admin_token(), None, "printed once only");
    drop(second);
    config.bind = "0.0.0.0:0".parse().unwrap();
    assert!(
        Server::bind(config, store).await.is_ok(),
        "with a token a public address is fine"
    );
}
