//! The client against a real server: changes made through the API reach it; it keeps
//! answering through an outage and catches up after a restart; code groups evaluate locally
//! and are reported to the server.

mod common;

use std::sync::{Arc, Mutex};

use common::{eventually, quick_policy, TestServer};
use ramp_client::{ChangeEvent, Client, Source};
use ramp_core::{Context, Reason};
use ramp_rollout::Rollout;
use reqwest::Method;

#[tokio::test]
async fn a_change_through_the_api_reaches_the_client() {
    let server = TestServer::memory().await;
    server.set_percentage("chat", 0.0).await;
    let token = server.reader_token("app").await;
    let client = Client::builder(&server.base, token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert_eq!(client.source(), Source::Server);
    assert!(client.is_ready());
    let user = Context::user("42");
    assert!(!client.is_active("chat", &user));
    assert_eq!(client.explain("chat", &user).reason, Reason::Off);

    let changes: Arc<Mutex<Vec<ChangeEvent>>> = Arc::default();
    let recorder = changes.clone();
    client.on_change(move |change| recorder.lock().unwrap().push(change.clone()));

    server.set_percentage("chat", 100.0).await;
    assert!(eventually(5, || client.is_active("chat", &user)).await);
    assert_eq!(client.explain("chat", &user).reason, Reason::Everyone);
    let seen = changes.lock().unwrap().clone();
    assert_eq!(seen.last().unwrap().features, ["chat"]);
    assert_eq!(seen.last().unwrap().source, Source::Server);

    // A new feature, a user list and a deletion travel as `changed` events too.
    let (status, _) = server
        .send(
            Method::POST,
            "/api/v1/features/search/users",
            Some(serde_json::json!({ "users": ["7"] })),
        )
        .await;
    assert_eq!(status, 200);
    assert!(eventually(5, || client.is_active("search", &Context::user("7"))).await);
    assert_eq!(
        client.explain("search", &Context::user("7")).reason,
        Reason::User
    );
    assert_eq!(
        client.active_features(&Context::user("7")),
        ["chat", "search"]
    );
    let (status, _) = server
        .send(Method::DELETE, "/api/v1/features/search", None)
        .await;
    assert_eq!(status, 200);
    assert!(eventually(5, || !client.contains("search")).await);
    assert_eq!(
        client.explain("search", &Context::user("7")).reason,
        Reason::NotFound
    );
    assert_eq!(
        client.version(),
        server.store.snapshot().await.unwrap().version
    );

    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn checks_survive_a_server_restart_and_the_client_catches_up() {
    let server = TestServer::memory().await;
    server.set_percentage("chat", 100.0).await;
    let (address, store, admin) = (
        server.address,
        server.store.clone(),
        server.admin_token.clone(),
    );
    let token = server.reader_token("app").await;
    let client = Client::builder(&server.base, token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    let user = Context::user("42");
    assert!(client.is_active("chat", &user));

    assert!(eventually(5, || client.sync_status().connected).await);
    server.stop().await;
    // Down: once the client has found out (and failed to reconnect), the last state answers,
    // from memory.
    assert!(eventually(5, || client.sync_status().failed_attempts >= 2).await);
    assert!(!client.sync_status().connected);
    assert!(client.is_active("chat", &user));
    assert_eq!(client.source(), Source::Server);

    // A change made while the server is down, straight into the store: the client tries again
    // and still answers from what it had.
    let rollout = Rollout::new(store.clone(), "test");
    rollout.deactivate("chat").await.unwrap();
    rollout.activate_percentage("beta", 100.0).await.unwrap();
    let failed = client.sync_status().failed_attempts;
    assert!(eventually(5, || client.sync_status().failed_attempts >= failed + 2).await);
    assert!(client.is_active("chat", &user));

    let server = TestServer::restart(address, store, admin).await;
    assert!(eventually(5, || !client.is_active("chat", &user)).await);
    assert!(client.is_active("beta", &user));

    // And it follows the stream again afterwards.
    server.set_percentage("chat", 100.0).await;
    assert!(eventually(5, || client.is_active("chat", &user)).await);
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_server_whose_store_was_reset_replaces_the_clients_snapshot() {
    // A server over a memory store restarts empty: its versions start again from 0, below
    // the client's. Resuming the stream from the client's version would skip everything.
    let server = TestServer::memory().await;
    for percentage in [10.0, 20.0, 30.0, 100.0] {
        server.set_percentage("old", percentage).await;
    }
    let address = server.address;
    let token = server.reader_token("app").await;
    let client = Client::builder(&server.base, &token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert!(client.contains("old"));
    server.stop().await;

    let fresh = ramp_rollout::open_store("memory://").await.unwrap();
    let credential =
        ramp_server::auth::token_credential("app", ramp_store::Role::Reader, &token, "test");
    fresh.create_credential(&credential).await.unwrap();
    Rollout::new(fresh.clone(), "test")
        .activate("new")
        .await
        .unwrap();
    let admin = ramp_server::auth::generate_token();
    let credential =
        ramp_server::auth::token_credential("admin", ramp_store::Role::Admin, &admin, "test");
    fresh.create_credential(&credential).await.unwrap();
    let server = TestServer::restart(address, fresh, admin).await;
    assert!(eventually(5, || client.contains("new")).await);
    assert!(!client.contains("old"));
    assert_eq!(client.version(), 1);
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn code_groups_evaluate_locally_and_are_reported_to_the_server() {
    let server = TestServer::memory().await;
    let (status, _) = server
        .send(
            Method::POST,
            "/api/v1/features/admin-panel/groups",
            Some(serde_json::json!({ "groups": ["staff", "beta"] })),
        )
        .await;
    assert_eq!(status, 200);
    let token = server.reader_token("app").await;
    let client = Client::builder(&server.base, token)
        .refresh_policy(quick_policy())
        .code_group("beta", |context: &Context| context.user_id() == Some("b"))
        .connect()
        .await
        .unwrap();
    let staff = Context::user("ada@corp.com");
    assert!(!client.is_active("admin-panel", &staff));
    assert!(client.is_active("admin-panel", &Context::user("b")));

    client.define_group("staff", |context: &Context| {
        context
            .user_id()
            .is_some_and(|id| id.ends_with("@corp.com"))
    });
    assert!(client.is_active("admin-panel", &staff));
    assert_eq!(
        client.explain("admin-panel", &staff).reason,
        Reason::Group("staff".into())
    );
    assert!(!client.is_active("admin-panel", &Context::user("x@example.com")));

    // A predicate that panics is "not a member", never a panic in the application.
    client.define_group("beta", |_: &Context| panic!("an application bug"));
    assert!(!client.is_active("admin-panel", &Context::user("b")));

    let mut names = serde_json::Value::Null;
    for _ in 0..100 {
        names = server
            .send(Method::GET, "/api/v1/code-groups", None)
            .await
            .1;
        if names["names"] == serde_json::json!(["beta", "staff"]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(names["names"], serde_json::json!(["beta", "staff"]));
    client.close().await;
    server.stop().await;
}
