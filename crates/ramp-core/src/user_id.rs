//! `UserId`: the id of one user as the rollout gem sees it, a non-empty string.
//!
//! The gem joins ids with `,` and fields with `|`, so ids containing either would be split or
//! make the feature unreadable; they are rejected here, once.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::name::string_conversions;
use crate::CoreError;

/// The longest user id accepted, in bytes.
pub const MAX_USER_ID_BYTES: usize = 256;

/// A user's id: 1 to 256 bytes, without `,`, `|` or control characters. An integer id is its
/// decimal string, as in the gem.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(Box<str>);

impl UserId {
    /// Checks `id` against the rules for ids.
    pub fn new(id: impl Into<String>) -> Result<Self, CoreError> {
        let id = id.into();
        check_user_id(&id).map_err(|reason| CoreError::InvalidUserId {
            id: shorten(&id),
            reason,
        })?;
        Ok(Self(id.into_boxed_str()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks an id without building one; used where ids are parsed in bulk.
pub fn check_user_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("must not be empty");
    }
    if id.len() > MAX_USER_ID_BYTES {
        return Err("must be at most 256 bytes");
    }
    if id.contains(',') {
        return Err("must not contain ','");
    }
    if id.contains('|') {
        return Err("must not contain '|'");
    }
    if id.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

/// Keeps error messages readable when someone pastes a megabyte as an id.
fn shorten(id: &str) -> String {
    const SHOWN: usize = 64;
    if id.chars().count() <= SHOWN {
        return id.to_owned();
    }
    let mut short: String = id.chars().take(SHOWN).collect();
    short.push('…');
    short
}

string_conversions!(UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for id in [
            "1",
            "user-72",
            "alice@example.com",
            "ümlaut",
            "with space",
            &"x".repeat(256),
        ] {
            assert!(UserId::new(id).is_ok(), "{id:?}");
        }
    }

    #[test]
    fn rejects_ids_that_break_the_gem_format() {
        for id in ["", "a,b", "a|b", "line\nbreak", "nul\0", &"x".repeat(257)] {
            assert!(UserId::new(id).is_err(), "{id:?} was accepted");
        }
    }

    #[test]
    fn long_ids_are_shortened_in_errors() {
        let error = UserId::new(format!("{},", "x".repeat(1000)))
            .unwrap_err()
            .to_string();
        assert!(error.len() < 200, "{error}");
    }
}
