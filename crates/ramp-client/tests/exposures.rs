//! Counting checks: concurrent checks add up exactly, counting can be switched off, a
//! snapshot swap loses no count, and against a real server: counts arrive, the pending bound
//! drops and reports while the server is down, a repeated batch counts once, `close` flushes;
//! and a stamp resolves to the feature's state at the version that answered.
//!
//! Times come from a fixed clock; waits are for conditions with a deadline, never sleeps.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::{eventually, quick_policy, TestServer};
use ramp_client::{Client, ExposureBatch, ReasonKind};
use ramp_core::Context;
use ramp_rollout::Rollout;
use reqwest::Method;

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

/// Checks per (feature, reason) in a batch.
fn tally(batches: &[ExposureBatch]) -> BTreeMap<(String, ReasonKind), u64> {
    let mut tally = BTreeMap::new();
    for batch in batches {
        for count in &batch.counts {
            assert_eq!(count.active, count.reason.is_active());
            *tally
                .entry((count.feature.clone(), count.reason))
                .or_default() += count.count;
        }
    }
    tally
}

async fn direct_client(count: bool) -> (Client, Rollout) {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let rollout = Rollout::new(store.clone(), "test");
    rollout.activate_percentage("on", 100.0).await.unwrap();
    rollout.activate_percentage("off", 0.0).await.unwrap();
    let client = Client::with_store(store)
        .refresh_policy(quick_policy())
        .count_checks(count)
        .application("shop")
        .instance("web-1")
        .exposure_clock(fixed_time)
        .connect()
        .await
        .unwrap();
    (client, rollout)
}

#[tokio::test]
async fn eight_threads_checking_at_once_add_up_exactly() {
    let (client, _rollout) = direct_client(true).await;
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let client = client.clone();
            std::thread::spawn(move || {
                let user = Context::user(thread.to_string());
                for _ in 0..10_000 {
                    client.is_active("on", &user);
                    client.is_active("off", &user);
                    client.is_active("missing", &user);
                }
                client.explain("on", &user);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let batch = client.exposure_counts();
    assert_eq!(
        (batch.application.as_str(), batch.instance.as_str()),
        ("shop", "web-1")
    );
    assert!(batch.batch_id.starts_with("web-1:"));
    assert_eq!(batch.to, fixed_time());
    let counted = tally(std::slice::from_ref(&batch));
    let expected = BTreeMap::from([
        (("missing".to_owned(), ReasonKind::NotFound), 80_000),
        (("off".to_owned(), ReasonKind::Off), 80_000),
        (("on".to_owned(), ReasonKind::Everyone), 80_008),
    ]);
    assert_eq!(counted, expected);
    // Drained: the next batch is empty and has a new id.
    let next = client.exposure_counts();
    assert!(next.counts.is_empty());
    assert_ne!(next.batch_id, batch.batch_id);
    client.close().await;
}

#[tokio::test]
async fn counting_switched_off_records_nothing() {
    let (client, _rollout) = direct_client(false).await;
    for _ in 0..100 {
        assert!(client.is_active("on", &Context::user("1")));
        assert!(!client.is_active("missing", &Context::user("1")));
    }
    assert!(client.exposure_counts().is_empty());
    client.close().await;
}

#[tokio::test]
async fn a_snapshot_swap_mid_counting_loses_nothing() {
    let (client, rollout) = direct_client(true).await;
    let stop = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let (client, stop, checked) = (client.clone(), stop.clone(), checked.clone());
            std::thread::spawn(move || {
                let user = Context::user(format!("user-{thread}"));
                let mut mine = 0;
                while !stop.load(Ordering::Relaxed) {
                    client.is_active("on", &user);
                    mine += 1;
                }
                checked.fetch_add(mine, Ordering::Relaxed);
            })
        })
        .collect();
    let mut batches = Vec::new();
    for round in 0..6 {
        // A new feature (every feature's position moves) and a new percentage: new tables.
        let version = client.version();
        let name = format!("added-{round}");
        rollout.activate_percentage(&name, 50.0).await.unwrap();
        rollout
            .activate_percentage("on", if round % 2 == 0 { 50.0 } else { 100.0 })
            .await
            .unwrap();
        assert!(eventually(10, || client.version() >= version + 2).await);
        batches.push(client.exposure_counts());
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    batches.push(client.exposure_counts());
    let counted: u64 = tally(&batches)
        .iter()
        .filter(|((feature, _), _)| feature == "on")
        .map(|(_, count)| count)
        .sum();
    let checked = checked.load(Ordering::Relaxed);
    assert!(checked > 0);
    assert_eq!(counted, checked);
    client.close().await;
}

/// The last hour of a feature's counts (batches sent by the background task carry the
/// real time).
async fn exposures_of(server: &TestServer, feature: &str) -> serde_json::Value {
    let (status, body) = server
        .send(
            Method::GET,
            &format!("/api/v1/features/{feature}/exposures"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn total(exposures: &serde_json::Value) -> u64 {
    exposures["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|minute| minute["active"].as_u64().unwrap() + minute["inactive"].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn close_flushes_and_a_repeated_batch_counts_once() {
    let server = TestServer::memory().await;
    server.set_percentage("chat", 100.0).await;
    let token = server.reader_token("shop").await;
    let client = Client::builder(&server.base, &token)
        .refresh_policy(quick_policy())
        .application("shop")
        .instance("web-1")
        .exposure_interval(Duration::from_secs(3600))
        .connect()
        .await
        .unwrap();
    for _ in 0..5 {
        assert!(client.is_active("chat", &Context::user("1")));
    }
    client.close().await;
    let exposures = exposures_of(&server, "chat").await;
    assert_eq!(total(&exposures), 5, "{exposures}");
    assert_eq!(exposures["bins"][0]["reasons"]["everyone"], 5);
    assert_eq!(exposures["applications"][0]["application"], "shop");
    assert_eq!(exposures["applications"][0]["instance"], "web-1");
    assert_eq!(
        exposures["last_seen"],
        exposures["applications"][0]["last_seen"]
    );

    // The same batch twice (a retry whose first answer was lost) is counted once.
    let (client, _rollout) = direct_client(true).await;
    client.is_active("chat", &Context::user("1"));
    let mut batch = serde_json::to_value(client.exposure_counts()).unwrap();
    batch["to"] = serde_json::json!(Utc::now());
    for duplicate in [false, true] {
        let (status, body) = server
            .send(Method::POST, "/api/v1/exposures", Some(batch.clone()))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["duplicate"], duplicate);
    }
    assert_eq!(total(&exposures_of(&server, "chat").await), 6);
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn while_the_server_is_down_the_pending_bound_drops_and_reports_what_it_dropped() {
    let server = TestServer::memory().await;
    for index in 0..10 {
        server
            .set_percentage(&format!("feature-{index}"), 100.0)
            .await;
    }
    let token = server.reader_token("shop").await;
    // Rounds only when asked (`flush_exposures`), so each round's contents are known.
    let client = Client::builder(&server.base, &token)
        .refresh_policy(quick_policy())
        .exposure_interval(Duration::from_secs(3600))
        .exposure_pending_limit(10)
        .connect()
        .await
        .unwrap();
    let (address, store, admin) = (
        server.address,
        server.store.clone(),
        server.admin_token.clone(),
    );
    server.stop().await;

    let client = &client;
    let round = |range: std::ops::Range<usize>| {
        for index in range {
            client.is_active(&format!("feature-{index}"), &Context::user("1"));
        }
        let done = client.exposure_status().rounds + 1;
        client.flush_exposures();
        eventually(10, move || client.exposure_status().rounds >= done)
    };
    // Five entries and a header: six of the ten allowed, kept while the server is down.
    assert!(round(0..5).await);
    let status = client.exposure_status();
    assert_eq!((status.pending_batches, status.pending_entries), (1, 6));
    // Six more do not fit: the oldest batch (five checks) goes, and is counted.
    assert!(round(5..10).await);
    let status = client.exposure_status();
    assert_eq!((status.pending_batches, status.dropped), (1, 5));

    let server = TestServer::restart(address, store, admin).await;
    let sent = || async {
        client.flush_exposures();
        eventually(1, || client.exposure_status().pending_batches == 0).await
    };
    let mut delivered = false;
    for _ in 0..10 {
        delivered = delivered || sent().await;
    }
    assert!(delivered);
    assert!(client.exposure_status().sent_batches >= 1);
    let (status, summary) = server.send(Method::GET, "/api/v1/exposures", None).await;
    assert_eq!(status, 200);
    assert_eq!(summary["dropped"], 5, "{summary}");
    assert_eq!(total(&exposures_of(&server, "feature-7").await), 1);
    assert_eq!(total(&exposures_of(&server, "feature-2").await), 0);
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_stamp_resolves_to_the_version_that_gave_the_answer() {
    let server = TestServer::memory().await;
    server.set_percentage("new-form", 100.0).await;
    let token = server.reader_token("shop").await;
    let client = Client::builder(&server.base, &token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    let user = Context::user("42");
    let before = client.stamp("new-form", &user).unwrap();
    assert!(before.active);
    server.set_percentage("new-form", 0.0).await;
    let first_version = before.version;
    assert!(
        eventually(10, || client
            .stamp("new-form", &user)
            .is_some_and(|stamp| stamp.version > first_version))
        .await
    );
    let after = client.stamp("new-form", &user).unwrap();
    assert!(!after.active);
    // The text form is what an application stores; it reads back whole.
    let stored = before.to_string();
    assert_eq!(stored.parse::<ramp_client::Stamp>().unwrap(), before);

    let resolve = |stamp: String| {
        let server = &server;
        async move {
            let (status, body) = server
                .send(Method::GET, &format!("/api/v1/stamps/{stamp}"), None)
                .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let then = resolve(stored).await;
    assert_eq!(then["active"], true);
    assert_eq!(then["state"]["percentage"], 100.0, "{then}");
    assert_eq!(then["version"], before.version);
    assert_eq!(then["current_version"], after.version);
    assert_eq!(then["event"]["feature"], "new-form");
    let now = resolve(after.to_string()).await;
    assert_eq!(now["state"]["percentage"], 0.0, "{now}");
    assert_ne!(now["event"]["id"], then["event"]["id"]);

    let missing = client.stamp("no-such-feature", &user).unwrap();
    let gone = resolve(missing.to_string()).await;
    assert_eq!(
        (gone["version"].as_u64(), gone["state"].is_null()),
        (Some(0), true)
    );
    assert!(client.stamp("not a name", &user).is_none());
    let (status, body) = server
        .send(Method::GET, "/api/v1/stamps/new-form@x-1-on", None)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("stamp")),
        "{body}"
    );
    client.close().await;
    server.stop().await;
}
