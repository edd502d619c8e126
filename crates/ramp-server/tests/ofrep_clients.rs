//! OFREP end to end: the real OpenFeature npm clients (`tests/ofrep-clients`: the server SDK's
//! OFREP provider, one request per flag, and the web SDK's provider, bulk with ETags) against
//! a running server, checked against the server's own admin API (`/check`) for every reason
//! Ramp gives; and the protocol's edges straight over HTTP (error bodies, 401, ETag and 304).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

const SINGLE: &str = "/ofrep/v1/evaluate/flags";

/// Where the npm clients live (the workspace's `tests/ofrep-clients`).
fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ofrep-clients")
}

/// Whether `node` and the clients' `node_modules` are there; under CI=true they must be.
fn clients_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let modules = clients_dir()
        .join("node_modules/@openfeature/ofrep-provider")
        .is_dir()
        && clients_dir()
            .join("node_modules/@openfeature/ofrep-web-provider")
            .is_dir();
    let missing = match (node, modules) {
        (true, true) => return true,
        (false, _) => "node is not installed",
        (true, false) => {
            "tests/ofrep-clients/node_modules is missing (npm ci --prefix tests/ofrep-clients)"
        }
    };
    assert!(!common::services_required(), "{missing} and CI=true");
    eprintln!("SKIPPED: {missing}");
    false
}

/// Waits until the live snapshot the server evaluates from has caught up with the store.
async fn settle(server: &TestServer) {
    for _ in 0..250 {
        let (_, fresh) = server.get_json("/api/v1/snapshot?fresh=true").await;
        let live = server
            .request(Method::GET, "/api/v1/snapshot")
            .send()
            .await
            .expect("snapshot");
        let tag = live.headers()["etag"].to_str().expect("etag").to_owned();
        if tag == format!("\"{}\"", fresh["version"]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the live snapshot did not catch up with the store in 5 s");
}

/// The admin API's check body for an OFREP context.
fn check_body(context: &Value) -> Value {
    let mut attributes = context.as_object().cloned().unwrap_or_default();
    let user_id = attributes.remove("targetingKey");
    json!({ "user_id": user_id, "attributes": attributes })
}

/// What a client should report for a case, from `/check`: (Ramp's reason, expected line).
async fn expected(server: &TestServer, flag: &str, context: &Value) -> (String, Value) {
    let (status, check) = server
        .send_json(
            Method::POST,
            &format!("/api/v1/features/{flag}/check"),
            check_body(context),
        )
        .await;
    assert_eq!(status, 200, "{check}");
    let ramp_reason = check["reason"].as_str().expect("reason").to_owned();
    let line = match ramp_reason.as_str() {
        "not_found" => json!({
            "flag": flag, "value": false, "reason": "ERROR", "errorCode": "FLAG_NOT_FOUND"
        }),
        reason => {
            let reason = match reason {
                "everyone" => "STATIC",
                "user" | "group" => "TARGETING_MATCH",
                // Outside the percentage is the other side of the same split.
                "percentage" | "outside_percentage" => "SPLIT",
                "off" | "excluded" => "DISABLED",
                other => panic!("unknown reason {other}"),
            };
            json!({
                "flag": flag, "value": check["active"], "reason": reason, "errorCode": null
            })
        }
    };
    (ramp_reason, line)
}

/// Runs one client script with the cases on stdin; its stdout lines as JSON.
async fn run_client(script: &'static str, base: &str, token: &str, cases: &Value) -> Vec<Value> {
    let base = base.to_owned();
    let token = token.to_owned();
    let input = cases.to_string();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("node")
            .arg(script)
            .current_dir(clients_dir())
            .env("RAMP_URL", base)
            .env("RAMP_TOKEN", token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("cases written");
        child.wait_with_output().expect("node ran")
    })
    .await
    .expect("client task");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("{script}: {line}")))
        .collect()
}

/// Compares a client's lines with the expected ones, case by case.
fn compare(script: &str, cases: &Value, expected: &[Value], actual: &[Value]) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{script}: {} lines for {} cases: {actual:?}",
        actual.len(),
        expected.len()
    );
    for (index, (want, got)) in expected.iter().zip(actual).enumerate() {
        assert_eq!(
            got, want,
            "{script}, case {index} {}: the client disagrees with /check",
            cases[index]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_openfeature_clients_agree_with_ramp() {
    if !clients_available() {
        return;
    }
    let server = TestServer::memory().await;
    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/groups/pro",
            json!({ "rules": ["plan in [pro]"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for feature in [
        json!({ "name": "everyone-on", "percentage": 100 }),
        json!({ "name": "listed", "users": ["alice"] }),
        json!({ "name": "pro-only", "groups": ["pro"] }),
        json!({ "name": "half", "percentage": 50 }),
        json!({ "name": "excluding", "percentage": 100, "excluded_users": ["mallory"] }),
    ] {
        let (status, body) = server
            .send_json(Method::POST, "/api/v1/features", feature)
            .await;
        assert_eq!(status, 201, "{body}");
    }
    settle(&server).await;

    // A user inside the 50 % and one outside it, as Ramp buckets them.
    let (mut inside, mut outside) = (None, None);
    for n in 0..200 {
        let user = format!("user-{n}");
        let (reason, _) = expected(&server, "half", &json!({ "targetingKey": user })).await;
        match reason.as_str() {
            "percentage" => inside = inside.or(Some(user)),
            "outside_percentage" => outside = outside.or(Some(user)),
            other => panic!("half: unexpected reason {other}"),
        }
        if inside.is_some() && outside.is_some() {
            break;
        }
    }
    let (inside, outside) = (inside.expect("a user in"), outside.expect("a user out"));

    let cases = json!([
        { "flag": "everyone-on", "context": { "targetingKey": "user-1" } },
        { "flag": "listed", "context": { "targetingKey": "alice" } },
        { "flag": "listed", "context": { "targetingKey": "bob" } },
        // Same targetingKey, different attributes, one after the other: a bulk ETag that
        // ignored attributes would get the second a 304 and the first one's answer.
        { "flag": "pro-only", "context": { "targetingKey": "carol", "plan": "pro" } },
        { "flag": "pro-only", "context": { "targetingKey": "carol", "plan": "free" } },
        { "flag": "half", "context": { "targetingKey": inside } },
        { "flag": "half", "context": { "targetingKey": outside } },
        { "flag": "excluding", "context": { "targetingKey": "mallory" } },
        { "flag": "excluding", "context": { "targetingKey": "user-1" } },
        { "flag": "no-such-flag", "context": { "targetingKey": "user-1" } },
        // What clients send when the application gave no context.
        { "flag": "everyone-on", "context": {} },
    ]);
    let mut reasons = BTreeSet::new();
    let mut want = Vec::new();
    for case in cases.as_array().expect("cases") {
        let flag = case["flag"].as_str().expect("flag");
        let (reason, line) = expected(&server, flag, &case["context"]).await;
        reasons.insert(reason);
        want.push(line);
    }
    let every: BTreeSet<String> = [
        "everyone",
        "user",
        "group",
        "percentage",
        "outside_percentage",
        "off",
        "excluded",
        "not_found",
    ]
    .map(String::from)
    .into();
    assert_eq!(reasons, every, "the cases must cover every reason");
    // The pair that shares a targetingKey really answers differently, and `{}` is on.
    assert_eq!(want[3]["value"], true);
    assert_eq!(want[4]["value"], false);
    assert_eq!(
        want[10],
        json!({
            "flag": "everyone-on", "value": true, "reason": "STATIC", "errorCode": null
        })
    );

    let reader = server.token("ofrep-e2e", "reader").await;
    let single = run_client("evaluate.js", &server.base, &reader, &cases).await;
    compare("evaluate.js", &cases, &want, &single);

    let mut bulk = run_client("evaluate-bulk.js", &server.base, &reader, &cases).await;
    let counts = bulk.pop().expect("the counts line");
    compare("evaluate-bulk.js", &cases, &want, &bulk);
    let requests = counts["bulkRequests"].as_u64().expect("bulkRequests");
    let not_modified = counts["notModified"].as_u64().expect("notModified");
    assert!(requests > not_modified, "{counts}");
    assert!(
        not_modified >= 1,
        "the web provider's re-polls with If-None-Match never got a 304: {counts}"
    );
    server.stop().await;
}

/// POSTs an OFREP body with a token (or none); status, headers and raw body.
async fn post(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    body: &str,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = server
        .client
        .post(format!("{}{path}", server.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn etag_of(headers: &reqwest::header::HeaderMap) -> String {
    headers["etag"].to_str().expect("etag").to_owned()
}

#[tokio::test]
async fn ofrep_errors_auth_and_bulk_etags() {
    let server = TestServer::memory().await;
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({ "name": "checkout", "percentage": 100 }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    settle(&server).await;
    let reader = server.token("ofrep-direct", "reader").await;
    let token = Some(reader.as_str());
    let flag = format!("{SINGLE}/checkout");

    // Malformed JSON: 400 with the key, PARSE_ERROR and details.
    let (status, _, body) = post(&server, &flag, token, "{\"context\": ", None).await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(body["key"], "checkout");
    assert_eq!(body["errorCode"], "PARSE_ERROR");
    assert!(
        body["errorDetails"]
            .as_str()
            .is_some_and(|text| !text.is_empty()),
        "{body}"
    );

    // No token (and a wrong one): 401 with an empty body, on both endpoints.
    for (path, presented) in [
        (flag.as_str(), None),
        (SINGLE, None),
        (SINGLE, Some("ramp_nope")),
    ] {
        let (status, _, body) = post(&server, path, presented, "{\"context\": {}}", None).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body, "", "{path}: OFREP's 401 has no body");
    }

    // Bulk: the ETag covers the context (attributes too) and the data.
    let carol_pro = r#"{"context": {"targetingKey": "carol", "plan": "pro"}}"#;
    let carol_free = r#"{"context": {"targetingKey": "carol", "plan": "free"}}"#;
    let (status, headers, body) = post(&server, SINGLE, token, carol_pro, None).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("bulk JSON");
    assert_eq!(body["flags"][0]["key"], "checkout");
    assert_eq!(body["flags"][0]["value"], true);
    let pro_tag = etag_of(&headers);
    let (_, headers, _) = post(&server, SINGLE, token, carol_pro, None).await;
    assert_eq!(
        etag_of(&headers),
        pro_tag,
        "same context, same data: same ETag"
    );
    let (status, headers, _) = post(&server, SINGLE, token, carol_free, None).await;
    assert_eq!(status, 200);
    let free_tag = etag_of(&headers);
    assert_ne!(
        free_tag, pro_tag,
        "other attributes, same targetingKey: another ETag"
    );
    let (status, _, _) = post(&server, SINGLE, token, carol_free, Some(&pro_tag)).await;
    assert_eq!(status, 200, "another context's ETag must not get a 304");

    let (status, headers, body) = post(&server, SINGLE, token, carol_pro, Some(&pro_tag)).await;
    assert_eq!(status, 304);
    assert_eq!(body, "", "304 has no body");
    assert_eq!(etag_of(&headers), pro_tag);

    // A flag changes: the ETag for the same context changes and the old one gets a 200.
    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/checkout/percentage",
            json!({ "percentage": 0 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    settle(&server).await;
    let (status, headers, body) = post(&server, SINGLE, token, carol_pro, Some(&pro_tag)).await;
    assert_eq!(status, 200, "changed data must not get a 304");
    assert_ne!(etag_of(&headers), pro_tag);
    let body: Value = serde_json::from_str(&body).expect("bulk JSON");
    assert_eq!(body["flags"][0]["value"], false);
    assert_eq!(body["flags"][0]["reason"], "DISABLED");
    server.stop().await;
}
