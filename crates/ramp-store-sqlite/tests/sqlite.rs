//! What only a file-backed store can get wrong: surviving a reopen, two stores (as two
//! processes would) sharing one file, URLs, files it must refuse, damaged rows and a busy
//! file. The watcher's life is tested in `watcher.rs`.

use std::time::Duration;

use ramp_core::{Attribution, Change, FeatureName, GroupName, Percentage, StoredGroup, UserId};
use ramp_store::{ChangeNotice, HistoryQuery, Store, StoreError};
use ramp_store_sqlite::{SqliteStore, SqliteUrl, SCHEMA_VERSION};
use serde_json::json;

fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

fn ana() -> Attribution {
    Attribution::new("ana")
}

fn add_users(ids: &[&str]) -> Change {
    Change::AddUsers {
        users: ids.iter().map(|id| UserId::new(*id).unwrap()).collect(),
    }
}

/// Runs raw SQL on the file, as another program (or a damaged disk) would.
fn tamper(path: &std::path::Path, sql: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

fn assert_corrupt(error: StoreError, expected_words: &[&str]) {
    let StoreError::Corrupt {
        backend: "sqlite",
        detail,
    } = &error
    else {
        panic!("expected Corrupt, got {error:?}");
    };
    for word in expected_words {
        assert!(
            detail.contains(word),
            "{detail:?} does not mention {word:?}"
        );
    }
}

#[tokio::test]
async fn data_survives_close_and_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    store
        .apply(&name("chat"), &add_users(&["1", "2"]), None, &ana())
        .await
        .unwrap();
    let mut data = serde_json::Map::new();
    data.insert("ratio".into(), json!(0.1 + 0.2));
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

    let reopened = SqliteStore::open(&path, false).unwrap();
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
async fn two_stores_on_one_file_see_each_others_writes_and_notices() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let server = SqliteStore::open(&path, false).unwrap();
    let cli = SqliteStore::open(&path, false).unwrap();
    let mut notices = server.subscribe();

    let applied = cli
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert_eq!(
        server.feature(&name("chat")).await.unwrap(),
        Some(applied.feature)
    );
    let notice = tokio::time::timeout(Duration::from_secs(5), notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        notice,
        ChangeNotice {
            version: 1,
            feature: None
        },
        "another process's write has no feature name"
    );

    // Writers through both files interleave without losing an update.
    let writes = |store: SqliteStore, prefix: &'static str| async move {
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
    assert_eq!(
        server
            .feature(&name("shared"))
            .await
            .unwrap()
            .unwrap()
            .users
            .len(),
        80
    );
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

#[test]
fn urls_parse_paths_and_settings() {
    let parse = |url: &str| SqliteUrl::parse(url).unwrap();
    assert_eq!(
        parse("sqlite://ramp.db"),
        SqliteUrl {
            path: "ramp.db".into(),
            randomize_percentage: false
        }
    );
    assert_eq!(
        parse("sqlite://data/ramp.db").path,
        std::path::PathBuf::from("data/ramp.db")
    );
    assert_eq!(
        parse("sqlite:///var/lib/ramp/ramp.db").path,
        std::path::PathBuf::from("/var/lib/ramp/ramp.db")
    );
    assert!(parse("sqlite:///abs/ramp.db?randomize=true").randomize_percentage);
    assert!(!parse("sqlite://ramp.db?randomize=false").randomize_percentage);
    assert_eq!(
        parse("sqlite://my%20flags.db").path,
        std::path::PathBuf::from("my flags.db")
    );
}

#[test]
fn malformed_urls_are_invalid() {
    for url in [
        "",
        "ramp.db",
        "postgres://localhost/ramp",
        "sqlite:ramp.db",
        "sqlite://",
        "sqlite://?randomize=true",
        "sqlite://:memory:",
        "sqlite://ramp.db?randomize=yes",
        "sqlite://ramp.db?randomise=true",
        "sqlite://ramp%zz.db",
        "sqlite://ramp.db#top",
    ] {
        match SqliteUrl::parse(url) {
            Err(StoreError::InvalidUrl { url: given, reason }) => {
                assert_eq!(given, url);
                assert!(!reason.is_empty());
            }
            other => panic!("{url:?} gave {other:?}"),
        }
    }
}

#[tokio::test]
async fn open_url_opens_with_its_settings() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?randomize=true",
        directory.path().join("ramp.db").display()
    );
    let store = SqliteStore::open_url(&url).unwrap();
    assert!(store.snapshot().await.unwrap().randomize_percentage);
    assert!(matches!(
        SqliteStore::open_url("sqlite://"),
        Err(StoreError::InvalidUrl { .. })
    ));
}

#[test]
fn processes_creating_one_new_file_at_once_all_succeed() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(path, false).map(drop))
        })
        .collect();
    for opener in openers {
        opener.join().unwrap().unwrap();
    }
}

#[test]
fn a_newer_schema_is_refused_clearly() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    drop(SqliteStore::open(&path, false).unwrap());
    tamper(
        &path,
        &format!("PRAGMA user_version = {};", SCHEMA_VERSION + 1),
    );
    let error = SqliteStore::open(&path, false).unwrap_err();
    assert_corrupt(
        error,
        &["newer", "upgrade Ramp", &(SCHEMA_VERSION + 1).to_string()],
    );
}

#[test]
fn files_of_other_programs_are_refused() {
    let directory = tempfile::tempdir().unwrap();
    let foreign = directory.path().join("other.db");
    tamper(&foreign, "CREATE TABLE invoices (id INTEGER PRIMARY KEY);");
    assert_corrupt(
        SqliteStore::open(&foreign, false).unwrap_err(),
        &["another program"],
    );
    let text = directory.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, just text that is long enough ".repeat(20),
    )
    .unwrap();
    assert_corrupt(SqliteStore::open(&text, false).unwrap_err(), &["notes.txt"]);
}

#[test]
fn a_file_that_cannot_be_opened_is_unavailable() {
    let directory = tempfile::tempdir().unwrap();
    let error = SqliteStore::open(directory.path().join("missing/ramp.db"), false).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Unavailable {
                backend: "sqlite",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("missing/ramp.db"), "{error}");
}

#[tokio::test]
async fn a_damaged_row_is_corrupt_for_that_feature_only() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    for feature in ["good", "bad-data", "bad-users", "bad-stage"] {
        store
            .apply(&name(feature), &add_users(&["1"]), None, &ana())
            .await
            .unwrap();
    }
    tamper(
        &path,
        "UPDATE features SET data = 'not json' WHERE name = 'bad-data';
         UPDATE features SET users = '1,a|b' WHERE name = 'bad-users';
         UPDATE features SET stage = 'done' WHERE name = 'bad-stage';
         UPDATE history SET changes = '[{' WHERE feature = 'good';",
    );
    assert!(store.feature(&name("good")).await.unwrap().is_some());
    assert_corrupt(
        store.feature(&name("bad-data")).await.unwrap_err(),
        &["bad-data", "JSON"],
    );
    assert_corrupt(
        store.feature(&name("bad-users")).await.unwrap_err(),
        &["bad-users", "a|b"],
    );
    assert_corrupt(
        store.feature(&name("bad-stage")).await.unwrap_err(),
        &["bad-stage", "done"],
    );
    assert_corrupt(store.snapshot().await.unwrap_err(), &["bad-"]);
    assert_corrupt(
        store.history(&HistoryQuery::default()).await.unwrap_err(),
        &["good"],
    );
    // A write to a damaged feature fails too, and changes nothing.
    assert_corrupt(
        store
            .apply(&name("bad-data"), &Change::Activate, None, &ana())
            .await
            .unwrap_err(),
        &["bad-data"],
    );
}

#[tokio::test]
async fn a_file_locked_for_too_long_is_unavailable_and_unchanged() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let change = Change::SetPercentage {
        percentage: Percentage::new(5.0).unwrap(),
    };
    let error = store
        .apply(&name("chat"), &change, None, &ana())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Unavailable {
                backend: "sqlite",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() >= ramp_store_sqlite::BUSY_TIMEOUT / 2,
        "it waited for the lock first"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    // Readers are not blocked by a writer in WAL mode; the failed write left nothing behind.
    assert_eq!(
        store
            .feature(&name("chat"))
            .await
            .unwrap()
            .unwrap()
            .percentage,
        Percentage::ALL
    );
    assert_eq!(store.snapshot().await.unwrap().version, 1);
}

#[test]
fn a_store_works_without_an_async_runtime_to_open() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(directory.path().join("ramp.db"), true).unwrap();
    // Subscribing outside a runtime gives local notices only, and must not panic.
    let _notices = store.subscribe();
    assert!(store.path().is_absolute());
}
