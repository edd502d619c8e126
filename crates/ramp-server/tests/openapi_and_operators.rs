//! The OpenAPI document covers every route, and the operators' endpoints answer.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use reqwest::Method;
use serde_json::json;

/// Every route the server answers, method and path, as written in `routes/mod.rs`. The test
/// asks the server itself: a route missing from the document, or a documented route the
/// server does not answer, fails.
#[tokio::test]
async fn every_route_is_in_the_openapi_document() {
    let server = TestServer::memory().await;
    let response = server
        .client
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    // Every documented operation is answered by a route (not the 404 fallback, not 405).
    for (method, path) in &documented {
        let concrete = path
            .replace("{name}", "doc-check")
            .replace("{key}", "doc-check")
            .replace("{id}", "1");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = server
            .request(method.clone(), &concrete)
            .timeout(std::time::Duration::from_secs(2))
            .send()
            .await;
        let Ok(response) = response else {
            // The event stream stays open: it answered.
            assert!(path.ends_with("/stream"), "{method} {path} did not answer");
            continue;
        };
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path} is documented but not routed");
        assert!(
            !(status == 404 && body.contains("no_route")),
            "{method} {path} is documented but not routed"
        );
    }
    // And the document misses no route: count the handlers in the route table of
    // routes/mod.rs (each is one method on one path).
    let source = include_str!("../src/routes/mod.rs");
    let routed_operations: usize = source
        .split("routes!(")
        .skip(1)
        .map(|call| {
            let handlers = call.split(')').next().unwrap_or_default();
            handlers
                .split(',')
                .filter(|handler| !handler.trim().is_empty())
                .count()
        })
        .sum();
    assert_eq!(
        documented.len(),
        routed_operations,
        "documented: {documented:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::memory().await;
    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = server
        .client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["store"], "reachable");

    server
        .send_json(
            Method::POST,
            "/api/v1/features/secret-feature/users",
            json!({"users": ["user-4242"]}),
        )
        .await;
    server
        .request(Method::POST, "/ofrep/v1/evaluate/flags/secret-feature")
        .json(&json!({"context": {"targetingKey": "user-4242"}}))
        .send()
        .await
        .unwrap();
    let metrics = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "ramp_http_requests_total{method=\"POST\",route=\"/api/v1/features/{name}/users\",status=\"200\"} 1",
        "ramp_http_request_duration_seconds_bucket",
        "ramp_evaluations_total{source=\"ofrep\"",
        "ramp_snapshot_version",
        "ramp_snapshot_age_seconds",
        "ramp_stream_subscribers",
        "ramp_store_errors_total",
    ] {
        assert!(metrics.contains(expected), "missing {expected} in\n{metrics}");
    }
    assert!(
        !metrics.contains("secret-feature"),
        "no feature names in labels"
    );
    assert!(!metrics.contains("user-4242"), "no user ids in labels");
    server.stop().await;
}
