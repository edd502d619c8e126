//! API credentials (tokens now, web-UI logins later) as every store keeps them, so that all the
//! server processes sharing one store accept the same ones.
//!
//! The store never sees a secret: `secret_hash` is opaque to it (the server decides the hash).
//! This module only says what a well-formed credential is; it never hashes, compares or checks a
//! secret, and never puts `secret_hash` in an error message.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ramp_core::CoreError;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read and change everything.
    Admin,
    /// Read only. `viewer` is accepted as another name for it, on input only.
    #[serde(alias = "viewer")]
    Reader,
}

impl Role {
    /// The name stored and shown: `admin` or `reader`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reader => "reader",
        }
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "admin" => Ok(Role::Admin),
            // `viewer` is what other flag systems call a read-only role.
            "reader" | "viewer" => Ok(Role::Reader),
            _ => Err(invalid(format!(
                "unknown role {:?}: expected admin or reader",
                shortened(text)
            ))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How the secret is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A bearer token sent with API requests.
    Token,
    /// A password typed into the web UI.
    Password,
    /// A logged-in web-UI browser: the name is the SHA-256 of the session cookie, so every
    /// server on the store knows the session and none stores the cookie itself.
    Session,
}

impl CredentialKind {
    /// The name stored and shown: `token`, `password` or `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Token => "token",
            CredentialKind::Password => "password",
            CredentialKind::Session => "session",
        }
    }
}

impl FromStr for CredentialKind {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "token" => Ok(CredentialKind::Token),
            "password" => Ok(CredentialKind::Password),
            "session" => Ok(CredentialKind::Session),
            _ => Err(invalid(format!(
                "unknown credential kind {:?}: expected token, password or session",
                shortened(text)
            ))),
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One API token or login, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// 1 to 100 characters from `A-Z a-z 0-9 _ - . @` (so an e-mail address fits, and names
    /// need no quoting in URLs, logs or the Redis field `KIND:NAME`); unique per kind.
    pub name: String,
    /// How the secret is presented.
    pub kind: CredentialKind,
    /// What it may do.
    pub role: Role,
    /// The secret's hash (a SHA-256 hex digest, an argon2 PHC string...): opaque to the store.
    pub secret_hash: String,
    /// When it was created. PostgreSQL keeps microseconds: create it with a time truncated to
    /// the microsecond if it must read back equal.
    pub created_at: DateTime<Utc>,
    /// Who created it (an actor, like a history event's).
    pub created_by: String,
}

/// The longest credential name, in characters (all of them ASCII).
pub const MAX_NAME_LENGTH: usize = 100;
/// The longest `secret_hash`, in bytes: an argon2 PHC string is about 100.
pub const MAX_SECRET_HASH_BYTES: usize = 1000;
/// The longest `created_by`, in bytes.
pub const MAX_CREATED_BY_BYTES: usize = 200;

impl Credential {
    /// Checks the rules documented on each field; a broken one is `StoreError::Invalid`.
    /// Every store calls it before writing, so a stored credential is always well formed.
    pub fn validate(&self) -> Result<(), StoreError> {
        let name = &self.name;
        if !(1..=MAX_NAME_LENGTH).contains(&name.len()) {
            return Err(invalid(format!(
                "credential name {:?} must be 1 to {MAX_NAME_LENGTH} characters long",
                shortened(name)
            )));
        }
        if !name.bytes().all(is_name_byte) {
            return Err(invalid(format!(
                "credential name {:?} may only hold A-Z a-z 0-9 _ - . @",
                shortened(name)
            )));
        }
        // The hash itself is never quoted: it is derived from a secret.
        check_text(
            &self.secret_hash,
            MAX_SECRET_HASH_BYTES,
            &format!("the secret hash of credential {name:?}"),
        )?;
        check_text(
            &self.created_by,
            MAX_CREATED_BY_BYTES,
            &format!("created_by of credential {name:?}"),
        )
    }

    /// The order `Store::credentials` lists credentials in: kind (by name: `password` before
    /// `token`, as SQL sorts the stored text), then name, byte by byte.
    pub fn sort_key(&self) -> (&'static str, &str) {
        (self.kind.as_str(), &self.name)
    }
}

/// Whether `name` could be a credential's name (so a login naming anything else can be
/// refused without looking further).
pub fn is_possible_name(name: &str) -> bool {
    (1..=MAX_NAME_LENGTH).contains(&name.len()) && name.bytes().all(is_name_byte)
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'@')
}

/// Non-empty, at most `limit` bytes, and no control characters (they would break log lines and
/// HTTP headers, and PostgreSQL cannot store NUL).
fn check_text(text: &str, limit: usize, what: &str) -> Result<(), StoreError> {
    if text.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    if text.len() > limit {
        return Err(invalid(format!(
            "{what} is {} bytes long; at most {limit} are allowed",
            text.len()
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(format!("{what} holds a control character")));
    }
    Ok(())
}

/// `StoreError::Invalid` with `reason`. The core has no credential variant (credentials are
/// the store's, not the model's), and `InvalidChange` is the generic "this input is refused".
fn invalid(reason: String) -> StoreError {
    StoreError::Invalid(CoreError::InvalidChange { reason })
}

/// At most the first `MAX_NAME_LENGTH` characters, so that a megabyte of junk input does not
/// end up in a message.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME_LENGTH) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential() -> Credential {
        Credential {
            name: "ci-bot@example.com".into(),
            kind: CredentialKind::Token,
            role: Role::Reader,
            secret_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            created_at: DateTime::UNIX_EPOCH,
            created_by: "ana".into(),
        }
    }

    fn is_invalid(credential: &Credential) -> bool {
        matches!(credential.validate(), Err(StoreError::Invalid(_)))
    }

    #[test]
    fn roles_and_kinds_round_trip_through_text_and_json() {
        for role in [Role::Admin, Role::Reader] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert_eq!("viewer".parse::<Role>().unwrap(), Role::Reader);
        assert_eq!(
            serde_json::from_str::<Role>("\"viewer\"").unwrap(),
            Role::Reader
        );
        assert!("Admin".parse::<Role>().is_err());
        for kind in [CredentialKind::Token, CredentialKind::Password] {
            assert_eq!(kind.as_str().parse::<CredentialKind>().unwrap(), kind);
            assert_eq!(kind.to_string(), kind.as_str());
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<CredentialKind>(&json).unwrap(), kind);
        }
        assert!("login".parse::<CredentialKind>().is_err());
    }

    #[test]
    fn names_follow_the_rules() {
        assert!(credential().validate().is_ok());
        for good in ["a", "A_z-0.9@x", &"n".repeat(MAX_NAME_LENGTH)] {
            let mut credential = credential();
            credential.name = good.to_owned();
            assert!(credential.validate().is_ok(), "{good:?}");
        }
        let long = "n".repeat(MAX_NAME_LENGTH + 1);
        for bad in ["", "has space", "a/b", "a:b", "é", "a\n", &long] {
            let mut credential = credential();
            credential.name = bad.to_owned();
            assert!(is_invalid(&credential), "{bad:?}");
        }
    }

    #[test]
    fn hashes_and_creators_follow_the_rules() {
        let mut long_hash = credential();
        long_hash.secret_hash = "h".repeat(MAX_SECRET_HASH_BYTES);
        assert!(long_hash.validate().is_ok());
        long_hash.secret_hash.push('h');
        assert!(is_invalid(&long_hash));
        for bad in ["", "a\nb", "a\0b", "\u{7f}"] {
            let mut hash = credential();
            hash.secret_hash = bad.to_owned();
            assert!(is_invalid(&hash), "{bad:?}");
            let mut creator = credential();
            creator.created_by = bad.to_owned();
            assert!(is_invalid(&creator), "{bad:?}");
        }
        let mut creator = credential();
        creator.created_by = "ä".repeat(MAX_CREATED_BY_BYTES / 2);
        assert!(creator.validate().is_ok());
        creator.created_by.push('a');
        assert!(is_invalid(&creator));
    }

    #[test]
    fn messages_never_quote_the_hash_or_a_huge_name() {
        let mut credential = credential();
        credential.secret_hash = "hash-value\n".into();
        let message = credential.validate().unwrap_err().to_string();
        assert!(!message.contains("hash-value"), "{message}");
        credential.name = "x".repeat(100_000);
        let message = credential.validate().unwrap_err().to_string();
        assert!(message.len() < 300, "{message}");
    }
}
