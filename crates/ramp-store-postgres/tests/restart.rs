//! The server goes away and comes back: a store on a private PostgreSQL server (started by the
//! test on a free port) must fail fast with `Unavailable` while it is down, never hang, and work
//! again by itself, without being reopened, once it is back; its subscribers must be told to
//! reload and then hear of other processes' writes again.

use std::time::{Duration, Instant};

use ramp_core::{Attribution, Change, FeatureName};
use ramp_store::{ChangeNotice, Store, StoreError};
use ramp_store_postgres::PostgresStore;
use tokio::sync::broadcast;

mod common;

use common::cluster::Cluster;

/// Generous: a stopped local server refuses connections at once, so this only catches hangs.
const FAIL_FAST: Duration = Duration::from_secs(10);

fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

fn ana() -> Attribution {
    Attribution::new("ana")
}

/// Creates and starts a private server, or explains loudly why it cannot (failing in CI).
async fn started_cluster() -> Option<Cluster> {
    let created = tokio::task::spawn_blocking(|| {
        let cluster = Cluster::create()?;
        cluster.start()?;
        Ok::<_, String>(cluster)
    })
    .await
    .unwrap();
    match created {
        Ok(cluster) => Some(cluster),
        Err(reason) => {
            let message = format!("SKIPPED: cannot start a private PostgreSQL server: {reason}");
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{message}; CI=true, so this is a failure");
            }
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n*** {message} ***\n");
            None
        }
    }
}

/// The next notice that satisfies `wanted`, skipping others, within `within`.
async fn notice_where(
    notices: &mut broadcast::Receiver<ChangeNotice>,
    within: Duration,
    wanted: impl Fn(&ChangeNotice) -> bool,
) -> ChangeNotice {
    tokio::time::timeout(within, async {
        loop {
            match notices.recv().await {
                Ok(notice) if wanted(&notice) => return notice,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the notices stopped"),
            }
        }
    })
    .await
    .expect("the expected notice came in time")
}

fn assert_unavailable<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    started: Instant,
    what: &str,
) {
    let elapsed = started.elapsed();
    assert!(
        matches!(
            result,
            Err(StoreError::Unavailable {
                backend: "postgres",
                ..
            })
        ),
        "{what} while the server is down gave {result:?}"
    );
    assert!(elapsed < FAIL_FAST, "{what} took {elapsed:?} to fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_survives_its_server_restarting() {
    let Some(cluster) = started_cluster().await else {
        return;
    };
    let url = cluster.url("ramp_restart");
    let store = PostgresStore::open_url(&url).await.unwrap();
    let other = PostgresStore::open_url(&url).await.unwrap();
    let mut notices = store.listen().await.unwrap();
    other
        .apply(&name("before"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    notice_where(&mut notices, Duration::from_secs(5), |notice| {
        notice.feature == Some(name("before"))
    })
    .await;

    let cluster = tokio::task::spawn_blocking(move || cluster.stop().map(|()| cluster))
        .await
        .unwrap()
        .unwrap();
    let started = Instant::now();
    let result = store
        .apply(&name("during"), &Change::Activate, None, &ana())
        .await;
    assert_unavailable(result, started, "a write");
    let started = Instant::now();
    assert_unavailable(store.feature(&name("before")).await, started, "a read");
    let started = Instant::now();
    assert_unavailable(store.snapshot().await, started, "a snapshot");
    let started = Instant::now();
    let opened = PostgresStore::open_url(&url).await;
    assert_unavailable(opened, started, "opening");

    let cluster = tokio::task::spawn_blocking(move || cluster.start().map(|()| cluster))
        .await
        .unwrap()
        .unwrap();
    // The pool discards the connections the restart broke: the first operation succeeds.
    let applied = store
        .apply(&name("after"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert_eq!(applied.feature.version, 1);
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.features.len(), 2, "{snapshot:?}");
    // The listener reconnects by itself and says "reload": notifications may have been missed.
    notice_where(&mut notices, Duration::from_secs(10), |notice| {
        notice.feature.is_none()
    })
    .await;
    other
        .apply(&name("heard"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    notice_where(&mut notices, Duration::from_secs(5), |notice| {
        notice.feature == Some(name("heard"))
    })
    .await;
    drop((store, other));
    drop(cluster);
}

/// A commit that reached PostgreSQL but whose answer was lost (the connection broke right after
/// `COMMIT` was sent) is `OutcomeUnknown`, not `Unavailable`: it was stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_answer_is_lost_is_outcome_unknown() {
    if !common::server_is_reachable().await {
        return;
    }
    let upstream = "127.0.0.1:5432".parse().unwrap();
    let proxy = ramp_store::conformance::CuttingProxy::start(upstream, b"COMMIT").await;
    let schema = common::unique_schema();
    let _guard = common::DropSchema::on_test_server(&schema);
    let direct = PostgresStore::open_url(&common::url(&schema))
        .await
        .unwrap();
    let through_proxy = PostgresStore::open_url(&format!(
        "postgres://postgres@{}/test?schema={schema}",
        proxy.address
    ))
    .await
    .unwrap();
    ramp_store::conformance::a_lost_commit_answer_is_outcome_unknown(
        std::sync::Arc::new(through_proxy),
        std::sync::Arc::new(direct),
        &proxy,
    )
    .await;
}
