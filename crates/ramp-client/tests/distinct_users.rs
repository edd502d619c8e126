//! Distinct users: checks with a user id add the user to a HyperLogLog sketch per feature and
//! answer (never the id itself). Eight threads checking 100,000 distinct users at once give
//! exactly the sketch those ids make, whose estimate is within its error bound; anonymous
//! checks and a client told not to count users add none; and two application instances with
//! overlapping users, reporting to a real server, count each user once there.
//!
//! Waits are for conditions with a deadline, never sleeps.

mod common;

use std::time::Duration;

use common::{quick_policy, TestServer};
use ramp_client::Client;
use ramp_core::{Context, UserSketch};
use ramp_rollout::Rollout;
use reqwest::Method;

async fn direct_client(count_users: bool) -> (Client, Rollout) {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let rollout = Rollout::new(store.clone(), "test");
    rollout.activate_percentage("on", 100.0).await.unwrap();
    let client = Client::with_store(store)
        .refresh_policy(quick_policy())
        .count_users(count_users)
        .connect()
        .await
        .unwrap();
    (client, rollout)
}

fn sketch_of(ids: impl Iterator<Item = u64>) -> UserSketch {
    let mut sketch = UserSketch::new();
    for id in ids {
        sketch.insert_user(&format!("user-{id}"));
    }
    sketch
}

#[tokio::test]
async fn eight_threads_sketch_100_000_users_exactly_and_within_the_error_bound() {
    let (client, _rollout) = direct_client(true).await;
    let threads: Vec<_> = (0..8u64)
        .map(|thread| {
            let client = client.clone();
            std::thread::spawn(move || {
                for id in thread * 12_500..(thread + 1) * 12_500 {
                    let user = Context::user(format!("user-{id}"));
                    assert!(client.is_active("on", &user));
                    assert!(!client.is_active("missing", &user));
                }
                assert!(client.is_active("on", &Context::anonymous()));
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let batch = client.exposure_counts();
    assert_eq!(
        batch.users.len(),
        1,
        "one sketch: (on, active); unknown names keep none"
    );
    let users = &batch.users[0];
    assert_eq!((users.feature.as_str(), users.active), ("on", true));
    assert_eq!(users.sketch, sketch_of(0..100_000));
    let error = (users.sketch.estimate() as f64 - 100_000.0).abs() / 100_000.0;
    assert!(
        error < 3.0 * UserSketch::standard_error(),
        "estimate {} is {error} off",
        users.sketch.estimate()
    );
    // The ids themselves are nowhere in what is sent.
    let sent = serde_json::to_string(&batch).unwrap();
    assert!(!sent.contains("user-4"), "an id leaked into the batch");
    assert!(client.exposure_counts().users.is_empty(), "drained");
    client.close().await;

    let (client, _rollout) = direct_client(false).await;
    client.is_active("on", &Context::user("1"));
    let batch = client.exposure_counts();
    assert_eq!(batch.counts.len(), 1, "checks are still counted");
    assert!(batch.users.is_empty(), "but not users");
    client.close().await;
}

#[tokio::test]
async fn two_instances_with_overlapping_users_count_each_user_once_on_the_server() {
    let server = TestServer::memory().await;
    server.set_percentage("chat", 100.0).await;
    let token = server.reader_token("shop").await;
    let mut clients = Vec::new();
    for instance in ["web-1", "web-2"] {
        let client = Client::builder(&server.base, &token)
            .refresh_policy(quick_policy())
            .application("shop")
            .instance(instance)
            .exposure_interval(Duration::from_secs(3600))
            .connect()
            .await
            .unwrap();
        clients.push(client);
    }
    // web-1 sees users 0..3000, web-2 users 2000..5000: 5,000 distinct in all.
    for id in 0..3_000u64 {
        assert!(clients[0].is_active("chat", &Context::user(format!("user-{id}"))));
    }
    for id in 2_000..5_000u64 {
        assert!(clients[1].is_active("chat", &Context::user(format!("user-{id}"))));
    }
    for client in clients {
        client.close().await;
    }
    let (status, users) = server
        .send(Method::GET, "/api/v1/features/chat/exposures/users", None)
        .await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["active"], sketch_of(0..5_000).estimate(), "{users}");
    assert_eq!(users["inactive"], 0, "{users}");
    server.stop().await;
}
