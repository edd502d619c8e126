//! What only a shared, server-backed store can get wrong: surviving a reopen, two stores (as two
//! processes would) sharing one schema and hearing of each other's writes, migrations run twice
//! or at once, schemas it must refuse, and an unreachable server. Stored data PostgreSQL
//! treats differently from memory is in `data.rs`, URLs in `urls.rs`, a server that stops and
//! starts again in `restart.rs`.

use std::time::{Duration, Instant};

use ramp_core::{Change, GroupName, StoredGroup, UserId};
use ramp_store::{ChangeNotice, HistoryQuery, Store, StoreError};
use ramp_store_postgres::{schema_version, PostgresStore, MIGRATION_TABLE};
use serde_json::json;

mod common;

use common::{add_users, ana, assert_corrupt, name};

#[tokio::test]
async fn data_survives_close_and_reopen() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    store
        .apply(&name("chat"), &add_users(&["1", "2"]), None, &ana())
        .await
        .unwrap();
    let mut data = serde_json::Map::new();
    data.insert("ratio".into(), json!(0.1 + 0.2));
    data.insert("tiny".into(), json!(1e-7));
    data.insert("whole".into(), json!(5.0));
    data.insert("big".into(), json!(u64::MAX));
    store
        .apply(&name("chat"), &Change::SetData { data }, None, &ana())
        .await
        .unwrap();
    let group = StoredGroup {
        name: GroupName::new("staff").unwrap(),
        description: "Employees".into(),
        members: vec![UserId::new("7").unwrap()],
        rules: vec!["score >= 0.30000000000000004".parse().unwrap()],
    };
    store.put_group(&group, None, &ana()).await.unwrap();
    let before = store.snapshot().await.unwrap();
    let history = store.history(&HistoryQuery::default()).await.unwrap();
    drop(store);

    let reopened = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    assert_eq!(
        reopened.snapshot().await.unwrap(),
        before,
        "floats and times read back exactly"
    );
    assert_eq!(
        reopened.history(&HistoryQuery::default()).await.unwrap(),
        history
    );
    let next = reopened
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert!(
        next.event.unwrap().id > history[0].id,
        "ids keep growing after a reopen"
    );
    assert_eq!(
        reopened.snapshot().await.unwrap().version,
        before.version + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_schema_see_each_others_writes_and_notices() {
    let Some((server, guard)) = common::temporary_store().await else {
        return;
    };
    let cli = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    let mut heard_by_server = server.listen().await.unwrap();
    let mut heard_by_cli = cli.listen().await.unwrap();

    let applied = cli
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert_eq!(
        server.feature(&name("chat")).await.unwrap(),
        Some(applied.feature)
    );
    let expected = ChangeNotice {
        version: 1,
        feature: Some(name("chat")),
    };
    let notice = tokio::time::timeout(Duration::from_secs(5), heard_by_server.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        notice, expected,
        "NOTIFY names the feature another process changed"
    );
    let own = tokio::time::timeout(Duration::from_secs(5), heard_by_cli.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own, expected);
    // A later write through the other store is the next thing the writer hears: its own
    // write's NOTIFY, which came back before this one's, was not announced a second time.
    server
        .apply(&name("marker"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let next = tokio::time::timeout(Duration::from_secs(5), heard_by_cli.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        next,
        ChangeNotice {
            version: 2,
            feature: Some(name("marker")),
        },
        "a store's own write is announced once, not again when its NOTIFY comes back"
    );

    // Writers through both stores interleave without losing an update.
    let writes = |store: PostgresStore, prefix: &'static str| async move {
        for index in 0..40 {
            store
                .apply(
                    &name("shared"),
                    &add_users(&[format!("{prefix}{index}").as_str()]),
                    None,
                    &ana(),
                )
                .await
                .unwrap();
        }
        store
    };
    let (server, cli) = tokio::join!(
        tokio::spawn(writes(server, "s")),
        tokio::spawn(writes(cli, "c"))
    );
    let (server, _cli) = (server.unwrap(), cli.unwrap());
    let shared = server.feature(&name("shared")).await.unwrap().unwrap();
    assert_eq!((shared.users.len(), shared.version), (80, 80));
    let history = server
        .history(&HistoryQuery {
            feature: Some(name("shared")),
            limit: 100,
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(history.len(), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_even_when_processes_open_a_new_schema_together() {
    if !common::server_is_reachable().await {
        return;
    }
    let schema = common::unique_schema();
    let _guard = common::DropSchema::on_test_server(&schema);
    let url = common::url(&schema);
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::open_url(&url).await.map(drop) })
        })
        .collect();
    for opener in openers {
        opener.await.unwrap().unwrap();
    }
    let store = PostgresStore::open_url(&url).await.unwrap();
    store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    drop(store);
    let reopened = PostgresStore::open_url(&url).await.unwrap();
    assert_eq!(reopened.snapshot().await.unwrap().features.len(), 1);
    let applied = common::query(&schema, &format!("SELECT count(*) FROM {MIGRATION_TABLE}")).await;
    let count: i64 = applied[0].get(0);
    assert_eq!(
        count,
        i64::from(schema_version()),
        "each migration recorded once"
    );
}

#[tokio::test]
async fn a_schema_from_a_newer_ramp_is_refused_clearly() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    drop(store);
    let future = schema_version() + 1;
    common::tamper(
        &guard.schema,
        &format!(
            "INSERT INTO {MIGRATION_TABLE} (version, name, applied_on, checksum)
             VALUES ({future}, 'from_the_future', '2030-01-01T00:00:00Z', '0')"
        ),
    )
    .await;
    let error = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap_err();
    assert_corrupt(error, &["upgrade Ramp", &guard.schema]);
}

#[tokio::test]
async fn a_schema_holding_another_programs_tables_is_refused() {
    if !common::server_is_reachable().await {
        return;
    }
    let schema = common::unique_schema();
    let guard = common::DropSchema::on_test_server(&schema);
    common::tamper(
        "public",
        &format!("CREATE SCHEMA {schema}; CREATE TABLE {schema}.features (invoice int);"),
    )
    .await;
    let error = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap_err();
    assert_corrupt(error, &[&guard.schema]);
    let untouched = common::query(&schema, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'features'").await;
    assert_eq!(
        untouched[0].get::<_, i64>(0),
        1,
        "only refinery's own table was added"
    );
}

#[tokio::test]
async fn the_listener_stops_with_its_store() {
    let Some((store, _guard)) = common::temporary_store().await else {
        return;
    };
    let mut notices = store.listen().await.unwrap();
    drop(store);
    let closed = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .unwrap();
    assert!(
        matches!(
            closed,
            Err(tokio::sync::broadcast::error::RecvError::Closed)
        ),
        "{closed:?}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_within_seconds() {
    // A port nothing listens on: bind one, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let error = PostgresStore::open_url(&format!("postgres://postgres@127.0.0.1:{port}/test"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Unavailable {
                backend: "postgres",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.to_string().contains("postgres store unavailable"),
        "{error}"
    );
}
