//! Checks of API credentials: they round-trip, are unique per kind and name even under
//! concurrent creates, refuse bad input, and stay out of snapshots, versions and notices.

use chrono::{DateTime, SubsecRound, Utc};

use super::*;
use crate::{Credential, CredentialKind, Role};

/// A well-formed credential, created at a time PostgreSQL keeps exactly (whole microseconds).
fn credential(kind: CredentialKind, name: &str, role: Role) -> Credential {
    Credential {
        name: name.to_owned(),
        kind,
        role,
        secret_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${kind}-{name}"),
        created_at: DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        created_by: "ana".into(),
    }
}

/// A session is named by the SHA-256 (hex) of its cookie.
const SESSION_NAME: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn is_conflict(error: &StoreError) -> bool {
    matches!(error, StoreError::Conflict { .. })
}

/// Created credentials are listed sorted by kind then name, every field as written; one name
/// may be used once per kind.
pub async fn credentials_round_trip_sorted(store: Arc<dyn Store>) {
    assert!(store.credentials().await.unwrap().is_empty());
    let mut created = vec![
        credential(CredentialKind::Token, "deploy.bot-1", Role::Admin),
        credential(CredentialKind::Password, "ana@example.com", Role::Admin),
        credential(CredentialKind::Token, "ana@example.com", Role::Reader),
        credential(CredentialKind::Token, "Zed_reader", Role::Reader),
        credential(CredentialKind::Session, SESSION_NAME, Role::Admin),
    ];
    created[1].created_by = "ramp-cli on host-1 (bootstrap)".into();
    created[3].created_at = Utc::now().trunc_subsecs(6);
    for credential in &created {
        store.create_credential(credential).await.unwrap();
    }
    created.sort_by(|left, right| left.sort_key().cmp(&right.sort_key()));
    let listed = store.credentials().await.unwrap();
    let order: Vec<(&str, &str)> = listed.iter().map(Credential::sort_key).collect();
    assert_eq!(
        order,
        [
            ("password", "ana@example.com"),
            ("session", SESSION_NAME),
            ("token", "Zed_reader"),
            ("token", "ana@example.com"),
            ("token", "deploy.bot-1"),
        ]
    );
    assert_eq!(listed, created);
}

/// Creating a credential that exists is a `Conflict` and leaves the first one as it was.
pub async fn duplicate_credential_is_a_conflict(store: Arc<dyn Store>) {
    let original = credential(CredentialKind::Token, "ci", Role::Reader);
    store.create_credential(&original).await.unwrap();
    let mut impostor = credential(CredentialKind::Token, "ci", Role::Admin);
    impostor.secret_hash = "another-hash".into();
    impostor.created_by = "mallory".into();
    let error = store.create_credential(&impostor).await.unwrap_err();
    assert!(is_conflict(&error), "{error:?}");
    assert_eq!(store.credentials().await.unwrap(), vec![original]);
}

/// A credential that breaks the rules is `Invalid` and nothing is stored.
pub async fn invalid_credential_stores_nothing(store: Arc<dyn Store>) {
    let good = || credential(CredentialKind::Token, "ci", Role::Admin);
    let mut bad = Vec::new();
    for name in ["", "has space", "a:b", "a/b", "naïve", &"n".repeat(101)] {
        bad.push(Credential {
            name: name.to_owned(),
            ..good()
        });
    }
    for hash in ["", "line\nbreak", "nul\0", &"h".repeat(1001)] {
        bad.push(Credential {
            secret_hash: hash.to_owned(),
            ..good()
        });
    }
    for creator in ["", "tab\there", &"c".repeat(201)] {
        bad.push(Credential {
            created_by: creator.to_owned(),
            ..good()
        });
    }
    for credential in &bad {
        let error = store.create_credential(credential).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Invalid(_)),
            "{:?}: {error:?}",
            credential.name
        );
    }
    assert!(store.credentials().await.unwrap().is_empty());
}

/// Deleting removes only that kind's credential; deleting a missing one is `NotFound`.
pub async fn delete_credential_removes_it(store: Arc<dyn Store>) {
    let token = credential(CredentialKind::Token, "ana", Role::Admin);
    let password = credential(CredentialKind::Password, "ana", Role::Admin);
    store.create_credential(&token).await.unwrap();
    store.create_credential(&password).await.unwrap();
    store
        .delete_credential(CredentialKind::Token, "ana")
        .await
        .unwrap();
    assert_eq!(store.credentials().await.unwrap(), vec![password]);
    for (kind, name) in [
        (CredentialKind::Token, "ana"),
        (CredentialKind::Token, "nobody"),
        (CredentialKind::Password, "has space"),
    ] {
        let error = store.delete_credential(kind, name).await.unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::NotFound {
                    kind: "credential",
                    ..
                }
            ),
            "{error:?}"
        );
    }
    // Deleted, the name is free again.
    store.create_credential(&token).await.unwrap();
    assert_eq!(store.credentials().await.unwrap().len(), 2);
}

/// Of 8 concurrent creates of one kind and name, exactly one succeeds and 7 are `Conflict`.
pub async fn concurrent_credential_creates_have_one_winner(store: Arc<dyn Store>) {
    const CREATORS: usize = 8;
    let start = Arc::new(tokio::sync::Barrier::new(CREATORS));
    let mut tasks = Vec::new();
    for creator in 0..CREATORS {
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            let mut credential = credential(CredentialKind::Token, "contended", Role::Admin);
            credential.secret_hash = format!("hash-{creator}");
            start.wait().await;
            (creator, store.create_credential(&credential).await)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (creator, Ok(())) => winners.push(creator),
            (_, Err(error)) => assert!(is_conflict(&error), "{error:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let stored = store.credentials().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].secret_hash, format!("hash-{}", winners[0]));
}

/// Credentials are not features: no snapshot shows them, they change no version and send no
/// notice.
pub async fn credentials_stay_out_of_snapshots(store: Arc<dyn Store>) {
    let mut notices = store.subscribe();
    let before = store.snapshot().await.unwrap();
    for name in ["chat", "feature", "__features__", "ramp"] {
        store
            .create_credential(&credential(CredentialKind::Token, name, Role::Admin))
            .await
            .unwrap();
    }
    store
        .delete_credential(CredentialKind::Token, "ramp")
        .await
        .unwrap();
    let after = store.snapshot().await.unwrap();
    assert_eq!(after.version, before.version);
    assert!(after.features.is_empty() && after.groups.is_empty());
    assert!(store.feature(&name("chat")).await.unwrap().is_none());
    assert!(store
        .history(&HistoryQuery::default())
        .await
        .unwrap()
        .is_empty());
    // Notices arrive in order: had a credential write sent one, it would come before this.
    store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let notice = tokio::time::timeout(std::time::Duration::from_secs(5), notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(notice.feature, Some(name("chat")));
    assert_eq!(notice.version, store.snapshot().await.unwrap().version);
    assert_eq!(store.credentials().await.unwrap().len(), 3);
}
