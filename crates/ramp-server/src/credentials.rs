//! The credentials the server knows, re-read from the store every few seconds: API tokens
//! (checked on every request), web-UI accounts (checked at login, with argon2) and web-UI
//! sessions (so a browser logged in through one server is known to all of them).
//!
//! A token has 32 random bytes, so its SHA-256 is enough to store; a password has little
//! entropy, so it is stored as an argon2id hash that is slow to guess from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use ramp_store::{Credential, CredentialKind, Role, Store, StoreError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::auth::Caller;
use crate::password_memory::CheckMemory;

/// How often credentials are re-read, so one revoked through another node stops working.
const REFRESH: Duration = Duration::from_secs(1);

/// The shortest password an account may have.
pub const MIN_PASSWORD_LENGTH: usize = 8;

#[derive(Debug, Clone)]
struct TokenEntry {
    name: Arc<str>,
    role: Role,
    hash: [u8; 32],
}

#[derive(Debug, Clone)]
struct AccountEntry {
    name: Arc<str>,
    role: Role,
    /// The argon2 hash in PHC form (`$argon2id$v=19$...`).
    password_hash: String,
}

/// A logged-in browser, as every server reads it from the store.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    /// The account (or token) name that logged in.
    pub username: Arc<str>,
    /// When it logged in.
    pub started: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Default)]
struct Known {
    tokens: Vec<TokenEntry>,
    accounts: Vec<AccountEntry>,
    /// By the SHA-256 (hex) of the session cookie.
    sessions: HashMap<String, SessionEntry>,
}

/// The shortest time between two re-reads asked for by an unknown session cookie: a browser
/// that just logged in through another server is found at once, and random cookies cannot
/// make this server read the store on every request.
const MISS_REFRESH_INTERVAL: Duration = Duration::from_millis(250);

/// The known tokens, accounts and sessions.
#[derive(Debug)]
pub struct CredentialCache {
    known: ArcSwap<Known>,
    last_refresh: Mutex<Instant>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self {
            known: ArcSwap::default(),
            last_refresh: Mutex::new(Instant::now()),
        }
    }
}

impl CredentialCache {
    /// Re-reads the credentials from the store.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), StoreError> {
        let mut known = Known::default();
        for credential in store.credentials().await? {
            match credential.kind {
                CredentialKind::Token => {
                    let mut hash = [0u8; 32];
                    if hex::decode_to_slice(&credential.secret_hash, &mut hash).is_ok() {
                        known.tokens.push(TokenEntry {
                            name: credential.name.into(),
                            role: credential.role,
                            hash,
                        });
                    }
                }
                CredentialKind::Password => known.accounts.push(AccountEntry {
                    name: credential.name.into(),
                    role: credential.role,
                    password_hash: credential.secret_hash,
                }),
                CredentialKind::Session => {
                    known.sessions.insert(
                        credential.name,
                        SessionEntry {
                            username: credential.created_by.into(),
                            started: credential.created_at,
                        },
                    );
                }
            }
        }
        self.known.store(Arc::new(known));
        *self
            .last_refresh
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Instant::now();
        Ok(())
    }

    /// Re-reads the store for a session cookie this server does not know yet, at most once per
    /// `MISS_REFRESH_INTERVAL`: a caller arriving sooner waits for the interval's end and uses
    /// that re-read (its own, or one another caller made meanwhile).
    pub async fn refresh_for_unknown_session(&self, store: &dyn Store) {
        let since = |cache: &Self| {
            cache
                .last_refresh
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .elapsed()
        };
        let elapsed = since(self);
        if elapsed < MISS_REFRESH_INTERVAL {
            tokio::time::sleep(MISS_REFRESH_INTERVAL - elapsed).await;
            if since(self) < MISS_REFRESH_INTERVAL {
                return;
            }
        }
        if let Err(error) = self.refresh(store).await {
            tracing::warn!(%error, "could not re-read credentials for an unknown session");
        }
    }

    /// The session stored under this key (the SHA-256 of its cookie), if any.
    pub fn session(&self, key: &str) -> Option<SessionEntry> {
        self.known.load().sessions.get(key).cloned()
    }

    /// The keys of sessions that started at or before `cutoff` (see `session::expiry_cutoff`).
    pub fn expired_sessions(&self, cutoff: chrono::DateTime<chrono::Utc>) -> Vec<String> {
        self.known
            .load()
            .sessions
            .iter()
            .filter(|(_, session)| session.started <= cutoff)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Whether no token and no account exists.
    pub fn is_empty(&self) -> bool {
        let known = self.known.load();
        known.tokens.is_empty() && known.accounts.is_empty()
    }

    /// The caller a token belongs to, if any.
    pub fn authenticate(&self, presented: &str) -> Option<Caller> {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let known = self.known.load();
        let mut found = None;
        // Look at every entry whatever matches, so timing says nothing about which one did.
        for entry in &known.tokens {
            if bool::from(entry.hash.ct_eq(&hash)) {
                found = Some(Caller {
                    name: entry.name.clone(),
                    role: entry.role,
                });
            }
        }
        found
    }

    /// The caller named `name` as it stands now, if the credential still exists: a session
    /// ends when its account is deleted or its role changes.
    pub fn current(&self, name: &str) -> Option<Caller> {
        let known = self.known.load();
        let account = known
            .accounts
            .iter()
            .map(|account| (&account.name, account.role));
        let token = known.tokens.iter().map(|token| (&token.name, token.role));
        account
            .chain(token)
            .find(|(known_name, _)| known_name.as_ref() == name)
            .map(|(name, role)| Caller {
                name: name.clone(),
                role,
            })
    }

    /// Checks a login: an account's password, or (so the first-start admin can log in) a
    /// token presented as the password of the token's name. Every call runs argon2 exactly
    /// once, against a stand-in hash when the name has no account, so the answer's timing does
    /// not tell which names exist.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        memory: Arc<CheckMemory>,
    ) -> Option<Caller> {
        let known = self.known.load_full();
        let account = known.accounts.iter().find(|a| a.name.as_ref() == username);
        let hash = account.map_or_else(
            || stand_in_hash().to_owned(),
            |account| account.password_hash.clone(),
        );
        let presented = password.to_owned();
        // argon2 takes tens of milliseconds of CPU on purpose: keep it off the request
        // threads.
        let verified = tokio::task::spawn_blocking(move || memory.verify(&presented, &hash))
            .await
            .unwrap_or(false);
        if let Some(account) = account {
            return verified.then(|| Caller {
                name: account.name.clone(),
                role: account.role,
            });
        }
        self.authenticate(password)
            .filter(|caller| caller.name.as_ref() == username)
    }

    /// Re-reads the credentials every few seconds until `shutdown`.
    pub async fn follow(self: Arc<Self>, store: Arc<dyn Store>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    if let Err(error) = self.refresh(store.as_ref()).await {
                        tracing::warn!(%error, "could not re-read credentials; keeping the known ones");
                    }
                }
            }
        }
    }
}

/// A hash no password is checked against successfully in practice (its password is random and
/// forgotten), with the same cost parameters as real ones: what a login for an unknown name
/// is checked against.
fn stand_in_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&crate::auth::generate_token()))
}

/// The argon2id hash (PHC string) of a password, with a fresh random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        // Only an over-long salt or output can fail, and the defaults are neither.
        .unwrap_or_default()
}

/// A credential record for a new web-UI account; `None` when the password is too short.
pub fn account_credential(
    name: &str,
    role: Role,
    password: &str,
    created_by: &str,
) -> Option<Credential> {
    (password.chars().count() >= MIN_PASSWORD_LENGTH).then(|| Credential {
        name: name.to_owned(),
        kind: CredentialKind::Password,
        role,
        secret_hash: hash_password(password),
        created_at: chrono::Utc::now(),
        created_by: created_by.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    /// The argon2 crate's own verifier, as the reference logins are checked against
    /// (`password_memory.rs` checks with reused memory).
    fn verify_password(password: &str, phc: &str) -> bool {
        PasswordHash::new(phc).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(
            hash,
            hash_password("correct horse"),
            "each hash has its own salt"
        );
    }

    #[test]
    fn short_passwords_make_no_account() {
        assert!(account_credential("vera", Role::Reader, "short", "admin").is_none());
        let account = account_credential("vera", Role::Reader, "long enough", "admin").unwrap();
        assert_eq!(account.kind, CredentialKind::Password);
        assert!(verify_password("long enough", &account.secret_hash));
    }
}
