//! Conformance checks for code references: a repository's scan replaces its previous one whole
//! (the latest upload wins), repositories stay apart, a scan over a bound stores nothing, and
//! concurrent uploads of one repository leave exactly one of them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ramp_core::{CodeReference, CodeScan, CoreError, MAX_CONTEXT_CHARS};

use crate::{Store, StoreError};

fn time(minutes: i64) -> DateTime<Utc> {
    // A fixed time: the checks never read the wall clock.
    DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
}

/// A scan of `repository` at `commit` holding `references` as (feature, file, line).
pub fn code_scan(
    repository: &str,
    commit: &str,
    minutes: i64,
    references: &[(&str, &str, u32)],
) -> CodeScan {
    CodeScan {
        repository: repository.to_owned(),
        commit: commit.to_owned(),
        scanned_at: time(minutes),
        references: references
            .iter()
            .map(|(feature, file, line)| CodeReference {
                feature: (*feature).to_owned(),
                file: (*file).to_owned(),
                line: *line,
                context: format!("if active?(:{feature}) # {file}:{line}"),
            })
            .collect(),
    }
}

fn places(store_references: &[ramp_core::FeatureReference]) -> Vec<(String, String, u32)> {
    store_references
        .iter()
        .map(|reference| {
            (
                reference.repository.clone(),
                reference.file.clone(),
                reference.line,
            )
        })
        .collect()
}

/// The latest scan of a repository replaces the previous one; other repositories keep theirs.
pub async fn latest_code_scan_replaces_the_previous(store: Arc<dyn Store>) {
    assert!(store.code_references("chat").await.unwrap().is_empty());
    let version = store.snapshot().await.unwrap().version;
    store
        .put_code_references(&code_scan(
            "org/web",
            "aaa",
            0,
            &[
                ("chat", "config/routes.rb", 4),
                ("chat", "app/models/chat.rb", 9),
                ("search", "app/models/chat.rb", 10),
            ],
        ))
        .await
        .unwrap();
    store
        .put_code_references(&code_scan(
            "org/api",
            "bbb",
            1,
            &[("chat", "src/chat.rs", 2)],
        ))
        .await
        .unwrap();
    let chat = store.code_references("chat").await.unwrap();
    assert_eq!(
        places(&chat),
        vec![
            ("org/api".to_owned(), "src/chat.rs".to_owned(), 2),
            ("org/web".to_owned(), "app/models/chat.rb".to_owned(), 9),
            ("org/web".to_owned(), "config/routes.rb".to_owned(), 4),
        ]
    );
    assert_eq!(chat[1].commit, "aaa");
    assert_eq!(chat[1].scanned_at, time(0));
    assert_eq!(chat[1].context, "if active?(:chat) # app/models/chat.rb:9");

    // A later scan of org/web no longer names chat in the model.
    store
        .put_code_references(&code_scan(
            "org/web",
            "ccc",
            5,
            &[("chat", "config/routes.rb", 4)],
        ))
        .await
        .unwrap();
    let chat = store.code_references("chat").await.unwrap();
    assert_eq!(
        places(&chat),
        vec![
            ("org/api".to_owned(), "src/chat.rs".to_owned(), 2),
            ("org/web".to_owned(), "config/routes.rb".to_owned(), 4),
        ]
    );
    assert_eq!(chat[1].commit, "ccc");
    assert_eq!(chat[1].scanned_at, time(5));
    assert!(store.code_references("search").await.unwrap().is_empty());

    // An empty scan clears the repository.
    store
        .put_code_references(&code_scan("org/api", "ddd", 6, &[]))
        .await
        .unwrap();
    assert_eq!(store.code_references("chat").await.unwrap().len(), 1);
    // References are not features: the snapshot's version did not move.
    assert_eq!(store.snapshot().await.unwrap().version, version);
}

/// A scan that breaks a bound is refused and leaves the stored scan as it was.
pub async fn invalid_code_scan_stores_nothing(store: Arc<dyn Store>) {
    store
        .put_code_references(&code_scan("org/web", "aaa", 0, &[("chat", "a.rb", 1)]))
        .await
        .unwrap();
    let mut bad = code_scan(
        "org/web",
        "bbb",
        1,
        &[("chat", "b.rb", 1), ("chat", "c.rb", 2)],
    );
    bad.references[1].context = "x".repeat(MAX_CONTEXT_CHARS + 1);
    match store.put_code_references(&bad).await {
        Err(StoreError::Invalid(CoreError::InvalidCodeScan { field, .. })) => {
            assert_eq!(field, "references.context");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let chat = store.code_references("chat").await.unwrap();
    assert_eq!(
        places(&chat),
        vec![("org/web".to_owned(), "a.rb".to_owned(), 1)]
    );
    assert_eq!(chat[0].commit, "aaa");
}

/// Of concurrent uploads of one repository, exactly one scan is left whole.
pub async fn concurrent_code_scans_leave_one_whole(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for writer in 0..8u32 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let files: Vec<String> = (0..20)
                .map(|file| format!("w{writer}/f{file}.rb"))
                .collect();
            let references: Vec<(&str, &str, u32)> = files
                .iter()
                .map(|file| ("chat", file.as_str(), 1))
                .collect();
            let scan = code_scan("org/web", &format!("commit{writer}"), 0, &references);
            store.put_code_references(&scan).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let chat = store.code_references("chat").await.unwrap();
    assert_eq!(chat.len(), 20, "one scan's 20 references, not a mix");
    let commit = &chat[0].commit;
    let prefix = format!("w{}/", &commit["commit".len()..]);
    assert!(chat
        .iter()
        .all(|reference| &reference.commit == commit && reference.file.starts_with(&prefix)));
}

/// The summary counts every feature's references over every repository's latest scan, and
/// the repositories scanned, a scan with no references included.
pub async fn code_reference_summary_counts_the_latest_scans(store: Arc<dyn Store>) {
    let empty = store.code_reference_summary().await.unwrap();
    assert_eq!(empty.repositories, 0);
    assert!(empty.counts.is_empty());
    let web = [
        ("chat", "a.rb", 1),
        ("chat", "b.rb", 2),
        ("search", "a.rb", 9),
    ];
    store
        .put_code_references(&code_scan("org/web", "aaa", 0, &web))
        .await
        .unwrap();
    store
        .put_code_references(&code_scan("org/api", "bbb", 1, &[("chat", "c.go", 3)]))
        .await
        .unwrap();
    store
        .put_code_references(&code_scan("org/docs", "ccc", 2, &[]))
        .await
        .unwrap();
    let summary = store.code_reference_summary().await.unwrap();
    assert_eq!(summary.repositories, 3);
    assert_eq!(summary.counts.get("chat"), Some(&3));
    assert_eq!(summary.counts.get("search"), Some(&1));
    assert_eq!(summary.counts.len(), 2);
    assert_eq!(summary.evidence("gone").references, 0);
    // A new scan of org/web replaces its counts: search is gone from the code.
    store
        .put_code_references(&code_scan("org/web", "ddd", 3, &[("chat", "a.rb", 1)]))
        .await
        .unwrap();
    let summary = store.code_reference_summary().await.unwrap();
    assert_eq!(summary.repositories, 3);
    assert_eq!(summary.counts.get("chat"), Some(&2));
    assert_eq!(summary.counts.get("search"), None);
}
