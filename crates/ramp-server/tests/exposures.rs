//! Exposure counts through the API: batches stored and read back per bin, a retried batch
//! counted once even across a server restart, every feature's activity and the features
//! nothing checks, bad parameters refused, the server's own checks counted, Prometheus totals,
//! stamps of two changes made in one millisecond told apart.
//!
//! The server reads a manual clock: nothing here depends on today's date.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::TestServer;
use ramp_core::{Attribution, Change, FeatureName, Percentage, Stamp};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn create(server: &TestServer, name: &str, percentage: f64) {
    server
        .store
        .apply(
            &FeatureName::new(name).unwrap(),
            &Change::SetPercentage {
                percentage: Percentage::new(percentage).unwrap(),
            },
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
}

fn batch(id: &str, to: &str, counts: Value) -> Value {
    json!({
        "application": "shop", "instance": "web-1", "batch_id": id,
        "from": to, "to": to, "counts": counts,
    })
}

async fn post(server: &TestServer, body: &Value) -> (u16, Value) {
    server
        .send_json(Method::POST, "/api/v1/exposures", body.clone())
        .await
}

async fn metrics(server: &TestServer) -> String {
    let response = server
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

#[tokio::test]
async fn counts_are_stored_binned_and_a_retry_after_a_restart_counts_once() {
    let clock = Arc::new(ManualClock::new(at("2026-03-01T09:00:40Z")));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server =
        TestServer::with_clock(store.clone(), ServerConfig::default(), None, clock.clone()).await;
    create(&server, "chat", 50.0).await;
    create(&server, "quiet", 10.0).await;
    let first = batch(
        "web-1:1",
        "2026-03-01T09:00:30Z",
        json!([
            {"feature": "chat", "active": true, "reason": "percentage", "count": 5},
            {"feature": "chat", "active": false, "reason": "off", "count": 2},
        ]),
    );
    assert_eq!(
        post(&server, &first).await,
        (200, json!({"batch_id": "web-1:1", "duplicate": false}))
    );
    clock.advance(Duration::from_secs(60));
    let second = batch(
        "web-1:2",
        "2026-03-01T09:01:30Z",
        json!([
            {"feature": "chat", "active": true, "reason": "percentage", "count": 3},
            {"feature": "typo-flag", "active": false, "reason": "not_found", "count": 4},
        ]),
    );
    assert_eq!(post(&server, &second).await.0, 200);

    let path = "/api/v1/features/chat/exposures?from=2026-03-01T09:00:00Z&to=2026-03-01T09:05:00Z";
    let (status, minutes) = server.get_json(&format!("{path}&step=60")).await;
    assert_eq!(status, 200, "{minutes}");
    assert_eq!(minutes["step_seconds"], 60);
    assert_eq!(minutes["resolutions"], json!(["minute"]));
    let bins = minutes["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 2, "{minutes}");
    assert_eq!(bins[0]["start"], "2026-03-01T09:00:00Z");
    assert_eq!(
        (bins[0]["active"].as_u64(), bins[0]["inactive"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(bins[0]["reasons"], json!({"off": 2, "percentage": 5}));
    assert_eq!(bins[1]["active"], 3);
    assert_eq!(
        (minutes["active"].as_u64(), minutes["inactive"].as_u64()),
        (Some(8), Some(2))
    );
    assert_eq!(minutes["last_seen"], "2026-03-01T09:01:40Z");
    assert_eq!(minutes["applications"][0]["instance"], "web-1");
    let (_, five) = server.get_json(&format!("{path}&step=300")).await;
    assert_eq!(five["bins"].as_array().unwrap().len(), 1);
    assert_eq!(five["bins"][0]["active"], 8);

    // The counts are in the store: a new server over it has them, and a retry of a batch the
    // first server stored is not counted again.
    let admin = server.admin_token.clone();
    server.stop().await;
    let server =
        TestServer::with_clock(store, ServerConfig::default(), Some(admin), clock.clone()).await;
    assert_eq!(post(&server, &first).await.1["duplicate"], true);
    let (_, again) = server.get_json(&format!("{path}&step=300")).await;
    assert_eq!(again["bins"][0]["active"], 8, "{again}");

    let (status, activity) = server
        .get_json("/api/v1/exposures/features?from=2026-03-01T09:00:00Z&to=2026-03-01T11:00:00Z&step=3600")
        .await;
    assert_eq!(status, 200, "{activity}");
    let features = activity["features"].as_array().unwrap();
    assert_eq!(features.len(), 2, "{activity}");
    assert_eq!(features[0]["feature"], "chat", "most checks first");
    assert_eq!(features[0]["exists"], true);
    assert_eq!(features[0]["series"], json!([10, 0]));
    assert_eq!(features[1]["feature"], "typo-flag");
    assert_eq!(features[1]["exists"], false);
    assert_eq!(features[1]["inactive"], 4);
    let (_, top) = server
        .get_json(
            "/api/v1/exposures/features?from=2026-03-01T09:00:00Z&to=2026-03-01T11:00:00Z&limit=1",
        )
        .await;
    assert_eq!(top["features"].as_array().unwrap().len(), 1);

    let (status, unchecked) = server
        .get_json("/api/v1/exposures/unchecked?since=2026-03-01T09:00:00Z")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        unchecked["features"],
        json!([{"feature": "quiet", "last_seen": null}])
    );
    let (_, later) = server
        .get_json("/api/v1/exposures/unchecked?since=2026-03-01T10:00:00Z")
        .await;
    let names: Vec<&str> = later["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| feature["feature"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["chat", "quiet"], "chat was last seen before 10:00");

    let text = metrics(&server).await;
    assert!(
        !text.contains("ramp_feature_exposures_total"),
        "per-feature series only when asked for"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_periods_and_batches_are_refused_naming_the_field() {
    let server = TestServer::memory().await;
    for (query, field) in [
        ("from=2026-03-01T10:00:00Z&to=2026-03-01T09:00:00Z", "from"),
        ("step=61", "step"),
        ("step=0", "step"),
        (
            "from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=60",
            "step",
        ),
    ] {
        let (status, body) = server
            .get_json(&format!("/api/v1/features/chat/exposures?{query}"))
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    for (query, field) in [("step=60", "step"), ("limit=0", "limit")] {
        let (status, body) = server
            .get_json(&format!("/api/v1/exposures/features?{query}"))
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    let wrong = batch(
        "x:1",
        "2026-03-01T09:00:30Z",
        json!([{"feature": "chat", "active": true, "reason": "off", "count": 1}]),
    );
    let (status, body) = post(&server, &wrong).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("counts.active"))
    );
    let (_, summary) = server.get_json("/api/v1/exposures").await;
    assert_eq!(
        (summary["unnamed"].as_u64(), summary["dropped"].as_u64()),
        (Some(0), Some(0))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_servers_own_checks_are_counted_and_exported_per_feature_when_asked() {
    let config = ServerConfig {
        exposure_flush_seconds: 1,
        exposure_metrics_per_feature: true,
        ..ServerConfig::default()
    };
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_config(store, config, None).await;
    create(&server, "chat", 100.0).await;
    for _ in 0..2 {
        let (status, body) = server
            .send_json(
                Method::POST,
                "/ofrep/v1/evaluate/flags/chat",
                json!({"context": {"targetingKey": "7"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        // OFREP answers carry the stamp too, for applications in other languages.
        let stamp = body["metadata"]["stamp"].as_str().unwrap();
        let (status, resolved) = server.get_json(&format!("/api/v1/stamps/{stamp}")).await;
        assert_eq!(status, 200, "{resolved}");
        assert_eq!(resolved["state"]["percentage"], 100.0, "{resolved}");
    }
    let (status, checked) = server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/check",
            json!({"user_id": "7"}),
        )
        .await;
    assert_eq!(status, 200);
    // A check now carries a stamp that resolves to the version that answered.
    let stamp = checked["stamp"].as_str().unwrap().to_owned();
    assert!(
        stamp.starts_with("chat@") && stamp.ends_with("-on"),
        "{stamp}"
    );
    let (status, resolved) = server.get_json(&format!("/api/v1/stamps/{stamp}")).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["state"]["percentage"], 100.0, "{resolved}");
    assert_eq!(resolved["event"]["actor"], "ana");
    // Written on the next flush (every second here): wait for it, with a deadline.
    let deadline = Instant::now() + Duration::from_secs(20);
    let exposures = loop {
        let (_, exposures) = server.get_json("/api/v1/features/chat/exposures").await;
        if exposures["active"] == 3 || Instant::now() > deadline {
            break exposures;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(exposures["active"], 3, "{exposures}");
    assert_eq!(exposures["bins"][0]["reasons"], json!({"everyone": 3}));
    assert_eq!(exposures["applications"][0]["application"], "ramp-server");
    let text = metrics(&server).await;
    for expected in [
        "ramp_exposures_total{answer=\"active\",reason=\"everyone\"} 3",
        "ramp_feature_exposures_total{feature=\"chat\",answer=\"active\"} 3",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
    server.stop().await;
}

/// Sets the percentage of `name` straight in the store and returns the feature as stored.
async fn stored_percentage(server: &TestServer, name: &str, percentage: f64) -> ramp_core::Feature {
    let change = Change::SetPercentage {
        percentage: Percentage::new(percentage).unwrap(),
    };
    let name = FeatureName::new(name).unwrap();
    let attribution = Attribution::new("ana");
    let applied = server.store.apply(&name, &change, None, &attribution).await;
    applied.unwrap().feature
}

#[tokio::test]
async fn stamps_of_two_changes_in_one_millisecond_resolve_to_their_own_versions() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_config(store, ServerConfig::default(), None).await;
    // Two writes straight to the memory store take microseconds; retry until a pair
    // shares a millisecond (the first try nearly always does).
    let mut pair = None;
    for _ in 0..1_000 {
        let first = stored_percentage(&server, "new-form", 100.0).await;
        let second = stored_percentage(&server, "new-form", 0.0).await;
        if first.updated_at.timestamp_millis() == second.updated_at.timestamp_millis() {
            pair = Some((first, second));
            break;
        }
    }
    let (first, second) = pair.expect("no two writes in one millisecond in 1,000 tries");
    for (feature, percentage) in [(&first, 100.0), (&second, 0.0)] {
        let stamp = Stamp::of(feature, percentage > 0.0);
        let (status, resolved) = server.get_json(&format!("/api/v1/stamps/{stamp}")).await;
        assert_eq!(status, 200, "{resolved}");
        assert_eq!(resolved["state"]["percentage"], percentage, "{resolved}");
        assert_eq!(resolved["version"], feature.version);
        assert_eq!(resolved["current_version"], second.version);
        let after = &resolved["event"]["changes"][0]["after"];
        assert_eq!(after, percentage, "{resolved}");
    }
    server.stop().await;
}
