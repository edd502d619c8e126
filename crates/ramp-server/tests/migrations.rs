//! Migration progress through the API: a reader's token (an application's) reports, stamped
//! with the server's clock; a newer report replaces the older; the path and the body must
//! agree; every bound is refused with the field named and nothing stored; an unknown feature is
//! 404; a feature keeps at most 50 migrations; only admins delete a report; the routes are in
//! the OpenAPI document.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};

use common::{json_of, TestServer};

fn report(feature: &str, migration: &str, migrated: u64) -> Value {
    json!({
        "feature": feature, "migration": migration, "instance": "worker-1", "phase": "running",
        "records": 10_000, "covered": 1_250, "migrated": migrated,
        "pending_forward": 1_250 - migrated, "pending_back": 3, "failures": 1,
        "target_percentage": 12.5, "last_error": "record 17: deadlock",
        // Ignored: the server sets the time.
        "reported_at": "2001-01-01T00:00:00Z",
    })
}

async fn put(server: &TestServer, token: &str, path: &str, body: &Value) -> (u16, Value) {
    json_of(
        server
            .request_as(token, Method::PUT, path)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn started() -> (TestServer, Arc<ManualClock>) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock.clone()).await;
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "orders", "percentage": 12.5}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (server, clock)
}

const ORDERS: &str = "/api/v1/features/orders/migrations";

#[tokio::test]
async fn a_readers_report_is_kept_and_replaced_with_the_servers_time() {
    let (server, clock) = started().await;
    let app = server.token("app", "reader").await;
    let (status, stored) = put(
        &server,
        &app,
        &format!("{ORDERS}/orders-v2"),
        &report("orders", "orders-v2", 100),
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["reported_at"], "2026-03-01T09:00:00Z");
    let (status, _) = put(
        &server,
        &app,
        &format!("{ORDERS}/invoices-v2"),
        &report("orders", "invoices-v2", 5),
    )
    .await;
    assert_eq!(status, 200);

    clock.advance(Duration::from_secs(60));
    let mut done = report("orders", "orders-v2", 1_250);
    done["phase"] = json!("done");
    let (status, _) = put(&server, &app, &format!("{ORDERS}/orders-v2"), &done).await;
    assert_eq!(status, 200);

    let (status, listed) = server.get_json(ORDERS).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["feature"], "orders");
    let migrations = listed["migrations"].as_array().unwrap();
    let names: Vec<&str> = migrations
        .iter()
        .map(|report| report["migration"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["invoices-v2", "orders-v2"]);
    assert_eq!(migrations[1]["phase"], "done");
    assert_eq!(migrations[1]["migrated"], 1_250);
    assert_eq!(migrations[1]["target_percentage"], 12.5);
    assert_eq!(migrations[1]["reported_at"], "2026-03-01T09:01:00Z");
    // A reader reads them too.
    let (status, _) = json_of(
        server
            .request_as(&app, Method::GET, ORDERS)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field_and_store_nothing() {
    let (server, _clock) = started().await;
    let app = server.token("app", "reader").await;
    let path = format!("{ORDERS}/orders-v2");
    let mut cases = Vec::new();
    let mut covered = report("orders", "orders-v2", 1);
    covered["covered"] = json!(10_001);
    cases.push(("covered", path.clone(), covered));
    let mut error = report("orders", "orders-v2", 1);
    error["last_error"] = json!("e".repeat(1_001));
    cases.push(("last_error", path.clone(), error));
    let mut instance = report("orders", "orders-v2", 1);
    instance["instance"] = json!("a\nb");
    cases.push(("instance", path.clone(), instance));
    let long = "m".repeat(101);
    cases.push((
        "migration",
        format!("{ORDERS}/{long}"),
        report("orders", &long, 1),
    ));
    cases.push(("migration", path.clone(), report("orders", "other", 1)));
    cases.push(("feature", path.clone(), report("billing", "orders-v2", 1)));
    for (field, path, body) in cases {
        let (status, answer) = put(&server, &app, &path, &body).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert_eq!(answer["field"], field, "{answer}");
    }
    // Not a number where one is expected: the body's shape is refused too.
    let mut shape = report("orders", "orders-v2", 1);
    shape["records"] = json!("many");
    let (status, answer) = put(&server, &app, &path, &shape).await;
    assert_eq!(status, 422, "{answer}");

    let big = json!({"padding": "x".repeat(20_000)});
    let (status, answer) = put(&server, &app, &path, &big).await;
    assert_eq!(status, 413, "{answer}");

    let (_, listed) = server.get_json(ORDERS).await;
    assert_eq!(listed["migrations"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_feature_is_404_and_a_missing_token_401() {
    let (server, _clock) = started().await;
    let app = server.token("app", "reader").await;
    let (status, answer) = put(
        &server,
        &app,
        "/api/v1/features/ghost/migrations/ghost-v2",
        &report("ghost", "ghost-v2", 1),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let (status, _) = json_of(
        server
            .request_as("wrong", Method::PUT, &format!("{ORDERS}/orders-v2"))
            .json(&report("orders", "orders-v2", 1))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let (_, listed) = server.get_json(ORDERS).await;
    assert_eq!(listed["migrations"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn a_feature_keeps_at_most_fifty_migrations() {
    let (server, _clock) = started().await;
    let app = server.token("app", "reader").await;
    for index in 0..ramp_core::MAX_MIGRATIONS_PER_FEATURE {
        let migration = format!("m{index:02}");
        let (status, answer) = put(
            &server,
            &app,
            &format!("{ORDERS}/{migration}"),
            &report("orders", &migration, 1),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = put(
        &server,
        &app,
        &format!("{ORDERS}/one-too-many"),
        &report("orders", "one-too-many", 1),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["field"], "migration");
    assert!(
        answer["message"].as_str().unwrap().contains("50"),
        "{answer}"
    );
    // A known migration still reports.
    let (status, _) = put(
        &server,
        &app,
        &format!("{ORDERS}/m07"),
        &report("orders", "m07", 9),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn only_admins_delete_a_report_and_deleting_the_feature_forgets_them() {
    let (server, _clock) = started().await;
    let app = server.token("app", "reader").await;
    let path = format!("{ORDERS}/orders-v2");
    let (status, _) = put(&server, &app, &path, &report("orders", "orders-v2", 1)).await;
    assert_eq!(status, 200);
    let (status, answer) = json_of(
        server
            .request_as(&app, Method::DELETE, &path)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    let deleted = server.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, answer) =
        json_of(server.request(Method::DELETE, &path).send().await.unwrap()).await;
    assert_eq!(status, 404, "{answer}");

    let (status, _) = put(&server, &app, &path, &report("orders", "orders-v2", 1)).await;
    assert_eq!(status, 200);
    let gone = server
        .request(Method::DELETE, "/api/v1/features/orders")
        .send()
        .await
        .unwrap();
    assert!(gone.status().is_success(), "{}", gone.status());
    let (status, listed) = server.get_json(ORDERS).await;
    assert_eq!(status, 200);
    assert_eq!(listed["migrations"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let server = TestServer::memory().await;
    let (status, document) = server.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let paths = &document["paths"];
    let report = &paths["/api/v1/features/{name}/migrations/{migration}"];
    assert!(report["put"].is_object(), "{report}");
    assert!(report["delete"].is_object(), "{report}");
    assert!(paths["/api/v1/features/{name}/migrations"]["get"].is_object());
    server.stop().await;
}
