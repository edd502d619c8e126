//! Several `ramp serve` processes on one PostgreSQL or Redis store stay in step: a change made
//! through one node reaches the stream subscribers and evaluations of the others, a token
//! revoked through one stops working on all, a web-UI session works on every node, and of
//! simultaneous creates of one stored group through both nodes exactly one wins.

mod common;

use std::time::Duration;

use common::{service_available, unique, SseReader, TestServer};
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::json;

async fn two_nodes(url: &str) -> (TestServer, TestServer) {
    let first = TestServer::over(ramp_rollout::open_store(url).await.unwrap()).await;
    let second = TestServer::with_config(
        ramp_rollout::open_store(url).await.unwrap(),
        ServerConfig::default(),
        Some(first.admin_token.clone()),
    )
    .await;
    (first, second)
}

/// Whether `node` answers `status` to a read with `token` before `limit` passes (tokens reach
/// other nodes when they next re-read the store's credentials).
async fn answers_within(node: &TestServer, token: &str, status: u16, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        let answer = node
            .request_as(token, Method::GET, "/api/v1/features")
            .send()
            .await
            .unwrap()
            .status();
        if answer.as_u16() == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn nodes_stay_in_step(url: &str) {
    let (first, second) = two_nodes(url).await;
    let mut on_second = SseReader::new(
        second
            .request(Method::GET, "/api/v1/stream")
            .send()
            .await
            .unwrap(),
    );
    let (_, kind, _) = on_second.next_event(5).await.unwrap();
    assert_eq!(kind, "reload");

    let (status, written) = first
        .send_json(
            Method::PUT,
            "/api/v1/features/checkout/percentage",
            json!({"percentage": 40}),
        )
        .await;
    assert_eq!(status, 200, "{written}");
    let (_, kind, event) = on_second.next_event(10).await.unwrap();
    assert_eq!(kind, "changed", "{event}");
    assert_eq!(event["features"][0]["name"], "checkout");
    assert_eq!(event["features"][0]["percentage"], 40.0);

    // The second node evaluates with the change.
    let response = second
        .request(Method::POST, "/ofrep/v1/evaluate/flags/checkout")
        .json(&json!({"context": {"targetingKey": "1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A token made on the first node works on the second; revoked on the first, it stops.
    let reader = first.token("metrics-bot", "reader").await;
    assert!(
        answers_within(&second, &reader, 200, Duration::from_secs(5)).await,
        "the second node learned the new token"
    );
    first
        .request(Method::DELETE, "/api/v1/tokens/metrics-bot")
        .send()
        .await
        .unwrap();
    assert!(
        answers_within(&second, &reader, 401, Duration::from_secs(5)).await,
        "the second node forgot the revoked token"
    );
    a_session_works_on_every_node(&first, &second).await;
    first.stop().await;
    second.stop().await;
}

/// A browser that logged in through one node may land on the other (a load balancer without
/// sticky sessions): the session is in the store. Logging out through one ends it on both.
async fn a_session_works_on_every_node(first: &TestServer, second: &TestServer) {
    let login = first
        .client
        .post(format!("{}/api/v1/session", first.base))
        .json(&json!({"username": "admin", "password": first.admin_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let csrf = login.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let on_second = |method: Method, path: &str| {
        second
            .client
            .request(method, format!("{}{path}", second.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
    };
    let session = on_second(Method::GET, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200, "known to the other node at once");
    let created = on_second(Method::POST, "/api/v1/features")
        .json(&json!({"name": "made-in-a-browser"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let logout = first
        .client
        .delete(format!("{}/api/v1/session", first.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = on_second(Method::GET, "/api/v1/session")
            .send()
            .await
            .unwrap()
            .status();
        if status == 401 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the other node still honours the session"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Simultaneous `If-None-Match: *` creates of one group, half through each node, round after
/// round with a fresh name: exactly one wins each round (the others get 412), and the group
/// stored is the winner's.
async fn one_group_creator_wins(url: &str) {
    const ROUNDS: usize = 20;
    const CREATORS: usize = 16;
    let (first, second) = two_nodes(url).await;
    for round in 0..ROUNDS {
        let path = format!("/api/v1/groups/race-{round}");
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(CREATORS));
        let creates = (0..CREATORS).map(|creator| {
            let node = if creator % 2 == 0 { &first } else { &second };
            let request = node
                .request(Method::PUT, &path)
                .header("if-none-match", "*")
                .json(&json!({ "description": format!("creator {creator}") }));
            let start = std::sync::Arc::clone(&start);
            async move {
                start.wait().await;
                (creator, request.send().await.unwrap().status().as_u16())
            }
        });
        let answers = futures::future::join_all(creates).await;
        let winners: Vec<usize> = answers
            .iter()
            .filter(|(_, status)| (200..300).contains(status))
            .map(|(creator, _)| *creator)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|(creator, status)| winners.contains(creator) || *status == 412),
            "round {round}: {answers:?}"
        );
        let (_, stored) = second.get_json(&path).await;
        assert_eq!(
            stored["description"],
            format!("creator {}", winners[0]),
            "round {round}"
        );
    }
    first.stop().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_group_creator_wins_on_postgres() {
    if !service_available("PostgreSQL", 5432) {
        return;
    }
    let schema = unique("ramp_group_race");
    one_group_creator_wins(&format!(
        "postgres://postgres@127.0.0.1:5432/test?schema={schema}"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_group_creator_wins_on_redis() {
    if !service_available("Redis", 6379) {
        return;
    }
    let prefix = unique("ramp-group-race");
    one_group_creator_wins(&format!("redis://127.0.0.1:6379/12?prefix={prefix}:")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_group_creator_wins_on_one_sqlite_file() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("ramp.db").display());
    one_group_creator_wins(&url).await;
}

#[tokio::test]
async fn two_nodes_on_postgres() {
    if !service_available("PostgreSQL", 5432) {
        return;
    }
    let schema = unique("ramp_nodes");
    nodes_stay_in_step(&format!(
        "postgres://postgres@127.0.0.1:5432/test?schema={schema}"
    ))
    .await;
}

#[tokio::test]
async fn two_nodes_on_redis() {
    if !service_available("Redis", 6379) {
        return;
    }
    let prefix = unique("ramp-nodes");
    nodes_stay_in_step(&format!("redis://127.0.0.1:6379/12?prefix={prefix}:")).await;
}

#[tokio::test]
async fn two_nodes_on_one_sqlite_file() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("ramp.db").display());
    nodes_stay_in_step(&url).await;
}
