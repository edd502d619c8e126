//! The OpenAPI document covers every route, the operators' endpoints answer, and large answers
//! are compressed when the client asks (never the event stream).

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
    // And the document misses no route: count the handlers in the route tables of
    // routes/mod.rs and of the routers with a layer of their own (each handler is one method
    // on one path).
    let source = [
        include_str!("../src/routes/mod.rs"),
        include_str!("../src/routes/migrations.rs"),
    ]
    .concat();
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

async fn document(server: &TestServer) -> serde_json::Value {
    server
        .client
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The `{name}` segments of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Every documented parameter is where the route reads it: path parameters are exactly the
/// path's `{}` segments, and nothing else is declared `in: path`.
#[tokio::test]
async fn every_documented_parameter_is_where_the_route_reads_it() {
    let server = TestServer::memory().await;
    let document = document(&server).await;
    let mut query_parameters = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let mut in_path = BTreeSet::new();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap().to_owned();
                match parameter["in"].as_str().unwrap() {
                    "path" => {
                        in_path.insert(name);
                    }
                    "query" => {
                        query_parameters += 1;
                        assert!(
                            !template_names(path).contains(&name),
                            "{method} {path}: {name} is a path segment but documented as a query parameter"
                        );
                    }
                    other => panic!("{method} {path}: {name} documented in {other}"),
                }
            }
            assert_eq!(
                in_path,
                template_names(path),
                "{method} {path}: the documented path parameters differ from the path's segments"
            );
        }
    }
    assert!(
        query_parameters >= 20,
        "{query_parameters} query parameters"
    );
    server.stop().await;
}

/// Bad values in paths and query strings, and methods a route does not have, get JSON errors
/// like every other error (the framework's own answers are plain text).
#[tokio::test]
async fn bad_path_and_query_values_get_json_errors() {
    let server = TestServer::memory().await;
    let document = document(&server).await;
    let mut checked = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        if path.ends_with("/stream") && !path.contains("users") {
            continue; // the event stream stays open
        }
        for (method, operation) in operations.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path
                .replace("{name}", "doc-check")
                .replace("{key}", "doc-check")
                .replace("{id}", "not-a-number");
            let mut requests = vec![concrete.clone()];
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "query" {
                    let name = parameter["name"].as_str().unwrap();
                    requests.push(format!("{concrete}?{name}=%ZZ-not-valid&{name}=twice"));
                }
            }
            for target in requests {
                let response = server
                    .request(method.clone(), &target)
                    .timeout(std::time::Duration::from_secs(5))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                if status < 400 {
                    continue;
                }
                let content_type = response
                    .headers()
                    .get("content-type")
                    .map(|value| value.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let body = response.text().await.unwrap();
                assert!(
                    content_type.starts_with("application/json"),
                    "{method} {target}: {status} {content_type} {body}"
                );
                let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert!(
                    parsed["error"].is_string() && parsed["message"].is_string(),
                    "{method} {target}: {body}"
                );
                checked += 1;
            }
        }
        // A method the path does not have.
        let response = server
            .request(
                Method::PATCH,
                &path
                    .replace("{name}", "x")
                    .replace("{key}", "x")
                    .replace("{id}", "1"),
            )
            .send()
            .await
            .unwrap();
        if response.status() == 405 {
            let (_, body) = common::json_of(response).await;
            assert_eq!(body["error"], "method_not_allowed", "{path}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} error answers checked");
    // A path parameter of the wrong type names itself.
    let (status, body) = server.get_json("/api/v1/history/abc").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("id")),
        "{body}"
    );
    // A path that is not UTF-8 once decoded, on the API and on the web UI's files.
    for path in ["/api/v1/features/%FF", "/ui/%FF.js"] {
        let response = server.request(Method::GET, path).send().await.unwrap();
        let status = response.status().as_u16();
        let (_, body) = common::json_of(response).await;
        assert!(
            (400..500).contains(&status) && body["error"].is_string(),
            "{path}: {status} {body}"
        );
    }
    // A query parameter of the wrong type names itself.
    let (status, body) = server.get_json("/api/v1/history?limit=many").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("limit")),
        "{body}"
    );
    server.stop().await;
}

/// `GET path` asking for `encoding`: the status, the `Content-Encoding` and the raw body.
async fn fetch_encoded(server: &TestServer, path: &str, encoding: &str) -> (u16, String, Vec<u8>) {
    let response = server
        .request(Method::GET, path)
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let used = response
        .headers()
        .get("content-encoding")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, used, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn large_answers_are_compressed_as_asked_and_the_stream_never() {
    use std::io::Read;
    let server = TestServer::memory().await;
    for index in 0..200 {
        let (status, body) = server
            .send_json(
                Method::PUT,
                &format!("/api/v1/features/compressed-{index}/percentage"),
                json!({"percentage": 25}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, plain, uncompressed) =
        fetch_encoded(&server, "/api/v1/features", "identity").await;
    assert_eq!((status, plain.as_str()), (200, ""));
    // The features, not the answer's `server_time`, which moves between the requests.
    let features = |bytes: &[u8]| {
        let mut answer: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        answer["features"].take()
    };
    let expected = features(&uncompressed);
    assert_eq!(expected.as_array().map(Vec::len), Some(200));

    let (status, used, gzipped) = fetch_encoded(&server, "/api/v1/features", "gzip").await;
    assert_eq!((status, used.as_str()), (200, "gzip"));
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut text)
        .unwrap();
    assert!(features(&text) == expected, "the gzip answer differs");
    assert!(
        gzipped.len() * 4 < uncompressed.len(),
        "{} of {}",
        gzipped.len(),
        uncompressed.len()
    );

    let (status, used, brotli) =
        fetch_encoded(&server, "/api/v1/features", "br;q=1, gzip;q=0.5").await;
    assert_eq!((status, used.as_str()), (200, "br"));
    let mut text = Vec::new();
    brotli::Decompressor::new(&brotli[..], 4096)
        .read_to_end(&mut text)
        .unwrap();
    assert!(features(&text) == expected, "the Brotli answer differs");

    // A small answer is not worth compressing.
    let (status, used, _) = fetch_encoded(&server, "/api/v1/features/compressed-7", "gzip").await;
    assert_eq!((status, used.as_str()), (200, ""));

    // The stream's events leave at once, uncompressed, even when the client would take gzip.
    let response = server
        .request(Method::GET, "/api/v1/stream")
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-encoding").is_none());
    let mut events = common::SseReader::new(response);
    let (_, event, _) = events.next_event(10).await.expect("the first event");
    assert_eq!(event, "reload");
    server.stop().await;
}
