//! Code references through the API: a reader's token uploads a repository's scan (the latest
//! wins, stamped with the server's clock), every bound is refused with the field named and
//! nothing stored, a feature lists its references and its removal checklist (routes first),
//! and deleting a flag that code names or that was checked recently needs `?confirm=true`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};

use common::{json_of, TestServer};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn reference(feature: &str, file: &str, line: u32) -> Value {
    json!({"feature": feature, "file": file, "line": line, "context": format!("active?(:{feature})")})
}

async fn upload(server: &TestServer, token: &str, repository: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/v1/code-references/{}", repository.replace('/', "%2F"));
    json_of(
        server
            .request_as(token, Method::PUT, &path)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn create(server: &TestServer, name: &str, percentage: f64) {
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": name, "percentage": percentage}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_readers_upload_replaces_the_repositorys_references() {
    let clock = Arc::new(ManualClock::new(at("2026-03-01T09:00:00Z")));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock.clone()).await;
    let ci = server.token("ci", "reader").await;
    let (status, receipt) = upload(
        &server,
        &ci,
        "org/web",
        json!({"commit": "aaa", "references": [
            reference("chat", "app/models/chat.rb", 9),
            reference("chat", "config/routes.rb", 4),
            reference("search", "app/search.rb", 1),
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["references"], 3);
    assert_eq!(receipt["scanned_at"], "2026-03-01T09:00:00Z");

    let (status, listed) = server.get_json("/api/v1/features/chat/references").await;
    assert_eq!(status, 200, "{listed}");
    let files: Vec<&str> = listed["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reference| reference["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["app/models/chat.rb", "config/routes.rb"]);
    assert_eq!(listed["references"][0]["repository"], "org/web");
    assert_eq!(listed["references"][0]["commit"], "aaa");

    // A later scan no longer names chat in the model: it replaces the first one whole.
    clock.advance(Duration::from_secs(3600));
    let (status, _) = upload(
        &server,
        &ci,
        "org/web",
        json!({"commit": "bbb", "references": [reference("chat", "config/routes.rb", 5)]}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, listed) = server.get_json("/api/v1/features/chat/references").await;
    assert_eq!(listed["references"].as_array().unwrap().len(), 1);
    assert_eq!(listed["references"][0]["line"], 5);
    assert_eq!(listed["references"][0]["commit"], "bbb");
    assert_eq!(
        listed["references"][0]["scanned_at"],
        "2026-03-01T10:00:00Z"
    );
    let (_, search) = server.get_json("/api/v1/features/search/references").await;
    assert!(search["references"].as_array().unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn uploads_over_a_bound_name_the_field_and_store_nothing() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::over(store).await;
    let ci = server.token("ci", "reader").await;
    let (status, _) = upload(
        &server,
        &ci,
        "app",
        json!({"commit": "aaa", "references": [reference("chat", "a.rb", 1)]}),
    )
    .await;
    assert_eq!(status, 200);

    let long_context =
        json!({"feature": "chat", "file": "b.rb", "line": 2, "context": "x".repeat(500)});
    let cases = [
        (
            "app",
            json!({"commit": "bbb", "references": [reference("chat", "b.rb", 1), long_context]}),
            422,
            "references.context",
        ),
        (
            "app",
            json!({"commit": "", "references": []}),
            422,
            "commit",
        ),
        (
            "app",
            json!({"commit": "bbb", "references": [reference("chat", "b.rb", 0)]}),
            422,
            "references.line",
        ),
        (
            "app",
            json!({"commit": "bbb", "references": [reference("chat", &"d/".repeat(600), 1)]}),
            422,
            "references.file",
        ),
        (
            &*"r".repeat(201),
            json!({"commit": "bbb", "references": []}),
            422,
            "repository",
        ),
        (
            "app",
            json!({"commit": "bbb", "references": vec![reference("c", "f", 1); 20_001]}),
            413,
            "references",
        ),
    ];
    for (repository, body, expected, field) in cases {
        let (status, answer) = upload(&server, &ci, repository, body).await;
        assert_eq!(status, expected, "{field}: {answer}");
        if status == 413 && answer["field"].is_null() {
            // The body limit answered before the count could be checked: also a refusal.
            continue;
        }
        assert_eq!(answer["field"], field, "{answer}");
    }
    let (_, listed) = server.get_json("/api/v1/features/chat/references").await;
    let references = listed["references"].as_array().unwrap();
    assert_eq!(references.len(), 1, "{listed}");
    assert_eq!(references[0]["commit"], "aaa");
    server.stop().await;
}

#[tokio::test]
async fn the_checklist_lists_routing_code_first_and_counts_what_is_left() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::over(store).await;
    create(&server, "chat", 100.0).await;
    let admin = server.admin_token.clone();
    upload(
        &server,
        &admin,
        "web",
        json!({"commit": "aaa", "references": [
            reference("chat", "app/models/chat.rb", 9),
            reference("chat", "app/models/chat.rb", 2),
            reference("chat", "config/routes.rb", 4),
        ]}),
    )
    .await;
    let (status, _) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/chat/stage",
            json!({"stage": "graduated"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, checklist) = server.get_json("/api/v1/features/chat/checklist").await;
    assert_eq!(status, 200, "{checklist}");
    assert_eq!(checklist["stage"], "graduated");
    assert_eq!(checklist["remaining"], 3);
    assert_eq!(checklist["files"][0]["file"], "config/routes.rb");
    assert_eq!(checklist["files"][0]["routes"], true);
    assert_eq!(checklist["files"][1]["file"], "app/models/chat.rb");
    assert_eq!(checklist["files"][1]["lines"][0]["line"], 2);
    assert_eq!(checklist["files"][1]["lines"][1]["line"], 9);

    // The routes are gone in the next scan.
    upload(
        &server,
        &admin,
        "web",
        json!({"commit": "bbb", "references": [reference("chat", "app/models/chat.rb", 2)]}),
    )
    .await;
    let (_, checklist) = server.get_json("/api/v1/features/chat/checklist").await;
    assert_eq!(checklist["remaining"], 1);
    assert_eq!(checklist["files"].as_array().unwrap().len(), 1);
    let (status, _) = server.get_json("/api/v1/features/nothing/checklist").await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_flag_code_names_or_checked_lately_needs_confirmation() {
    let clock = Arc::new(ManualClock::new(at("2026-03-01T09:00:40Z")));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock.clone()).await;
    let admin = server.admin_token.clone();
    create(&server, "named", 100.0).await;
    create(&server, "checked", 100.0).await;
    create(&server, "forgotten", 0.0).await;
    upload(
        &server,
        &admin,
        "web",
        json!({"commit": "aaa", "references": [reference("named", "a.rb", 1)]}),
    )
    .await;
    let to = "2026-03-01T09:00:30Z";
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/exposures",
            json!({"application": "shop", "instance": "web-1", "batch_id": "b1",
                "from": to, "to": to,
                "counts": [{"feature": "checked", "active": true, "reason": "everyone", "count": 3}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let delete = |name: &str, confirm: bool| {
        let query = if confirm { "?confirm=true" } else { "" };
        server.request(Method::DELETE, &format!("/api/v1/features/{name}{query}"))
    };
    let (status, refusal) = json_of(delete("named", false).send().await.unwrap()).await;
    assert_eq!(status, 409, "{refusal}");
    assert_eq!(refusal["error"], "confirmation_required");
    assert_eq!(refusal["reasons"]["references"], 1);
    assert_eq!(refusal["reasons"]["repositories"], json!(["web"]));
    assert!(refusal["message"]
        .as_str()
        .unwrap()
        .contains("code still names it"));

    let (status, refusal) = json_of(delete("checked", false).send().await.unwrap()).await;
    assert_eq!(status, 409, "{refusal}");
    assert!(refusal["reasons"]["last_checked"].is_string(), "{refusal}");
    // Still there after the refusals.
    let (status, _) = server.get_json("/api/v1/features/named").await;
    assert_eq!(status, 200);

    // Nothing to say about a flag nobody names or checks.
    let (status, _) = json_of(delete("forgotten", false).send().await.unwrap()).await;
    assert_eq!(status, 200);
    // A week and a day later the checks are no longer recent.
    clock.advance(Duration::from_secs(8 * 24 * 3600));
    let (status, body) = json_of(delete("checked", false).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = json_of(delete("named", true).send().await.unwrap()).await;
    assert_eq!(status, 200);
    server.stop().await;
}

/// Applies a change as ana, straight to the store (the store stamps its own time).
async fn change(server: &TestServer, name: &str, change: ramp_core::Change) {
    server
        .store
        .apply(
            &ramp_core::FeatureName::new(name).unwrap(),
            &change,
            None,
            &ramp_core::Attribution::new("ana"),
        )
        .await
        .unwrap();
}

/// The names `GET /api/v1/cleanup{query}` lists, and the answer.
async fn cleanup(server: &TestServer, query: &str) -> (Vec<String>, Value) {
    let (status, body) = server.get_json(&format!("/api/v1/cleanup{query}")).await;
    assert_eq!(status, 200, "{body}");
    let names = body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| feature["name"].as_str().unwrap().to_owned())
        .collect();
    (names, body)
}

/// The states of `name` in a Cleanup answer.
fn states_of(report: &Value, name: &str) -> Vec<String> {
    report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|feature| feature["name"] == name)
        .map(|feature| {
            feature["health"]["states"]
                .as_array()
                .unwrap()
                .iter()
                .map(|finding| finding["state"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Health follows the server's clock: nothing at first; after 20 days a feature on for
/// everyone is ready to graduate; after 41 a release flag is stale, unchecked flags are unused
/// and a graduated flag no scan names is safe to delete, each with its evidence.
#[tokio::test]
async fn health_and_cleanup_follow_the_servers_clock() {
    use ramp_core::{Change, FeatureKind, Percentage, Stage};
    // The store stamps features with its own time; the server's clock starts an hour after it
    // (so whole days are whole) and moves only when told.
    let start = Utc::now() + chrono::Duration::hours(1);
    let clock = Arc::new(ManualClock::new(start));
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock.clone()).await;
    let percentage = |value| Change::SetPercentage {
        percentage: Percentage::new(value).unwrap(),
    };
    change(&server, "old-release", percentage(10.0)).await;
    change(&server, "everyone", Change::OpenToEveryone).await;
    change(&server, "gone", Change::OpenToEveryone).await;
    change(
        &server,
        "gone",
        Change::SetStage {
            stage: Stage::Graduated,
        },
    )
    .await;
    change(&server, "switch", percentage(10.0)).await;
    change(
        &server,
        "switch",
        Change::SetKind {
            kind: FeatureKind::KillSwitch,
        },
    )
    .await;
    let (names, report) = cleanup(&server, "").await;
    assert!(names.is_empty(), "{report}");
    assert_eq!(report["counts"]["stale"], 0);

    // The switch is checked, so the analytics is running; a scan names only the old release.
    let now = start.to_rfc3339();
    let batch = json!({
        "application": "shop", "instance": "web-1", "batch_id": "web-1:1", "from": now, "to": now,
        "counts": [{"feature": "switch", "active": true, "reason": "percentage", "count": 3}],
    });
    let (status, body) = server
        .send_json(Method::POST, "/api/v1/exposures", batch)
        .await;
    assert_eq!(status, 200, "{body}");
    let ci = server.token("ci", "reader").await;
    let scan = json!({"commit": "abc", "references": [reference("old-release", "app.rb", 3)]});
    assert_eq!(upload(&server, &ci, "org/web", scan).await.0, 200);
    let (status, summary) = server.get_json("/api/v1/code-references").await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary,
        json!({"repositories": 1, "counts": {"old-release": 1}})
    );

    clock.advance(Duration::from_secs(20 * 86_400));
    let (names, report) = cleanup(&server, "").await;
    assert_eq!(names, ["everyone"], "{report}");
    assert_eq!(states_of(&report, "everyone"), ["ready_to_graduate"]);
    assert_eq!(report["counts"]["ready_to_graduate"], 1);
    let (status, gone) = server.get_json("/api/v1/features/gone").await;
    assert_eq!(status, 200);
    assert_eq!(gone["health"]["states"], json!([]));
    let note = gone["health"]["notes"][0].as_str().unwrap();
    assert!(note.contains("created only 20 days ago"), "{note}");

    clock.advance(Duration::from_secs(21 * 86_400));
    let (names, report) = cleanup(&server, "").await;
    assert_eq!(
        names,
        ["everyone", "gone", "old-release", "switch"],
        "{report}"
    );
    assert_eq!(
        states_of(&report, "everyone"),
        ["ready_to_graduate", "stale", "unused"]
    );
    assert_eq!(states_of(&report, "gone"), ["safe_to_delete", "unused"]);
    assert_eq!(states_of(&report, "old-release"), ["stale", "unused"]);
    assert_eq!(states_of(&report, "switch"), ["unused"]);
    assert_eq!(report["counts"]["unused"], 4);
    let (_, safe) = cleanup(&server, "?state=safe_to_delete").await;
    assert_eq!(safe["features"].as_array().unwrap().len(), 1, "{safe}");
    let evidence = &safe["features"][0]["health"]["states"][0];
    assert_eq!(evidence["evidence"]["code_references"], 0);
    assert_eq!(evidence["evidence"]["repositories_scanned"], 1);
    let message = evidence["message"].as_str().unwrap();
    assert!(
        message.starts_with("graduated 41 days ago; no code references in 1 scanned repository"),
        "{message}"
    );
    let (status, refused) = server.get_json("/api/v1/cleanup?state=old").await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["field"], "state");

    // The list's `with=health`, combined with the other words, and a feature's own page.
    let (status, list) = server
        .get_json("/api/v1/features?with=stage_since,health,last_change")
        .await;
    assert_eq!(status, 200, "{list}");
    let old = list["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|feature| feature["name"] == "old-release")
        .unwrap();
    assert_eq!(
        old["health"]["states"][0]["message"],
        "created 41 days ago; release flags are expected to live 40 days"
    );
    assert_eq!(old["kind"], "release");
    let (_, plain) = server.get_json("/api/v1/features").await;
    assert!(plain["features"][0].get("health").is_none(), "{plain}");
    let (_, switch) = server.get_json("/api/v1/features/switch").await;
    assert_eq!(
        switch["health"]["states"][0]["message"],
        "last checked 41 days ago (unused after 30 days)"
    );
    server.stop().await;
}
