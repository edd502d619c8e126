//! Validated names: `FeatureName` and `GroupName`.
//!
//! The rollout gem stores names inside `,`-joined strings and Redis keys, so a `,` or `|` in a
//! name silently corrupts its data. Here such names can never be built: every name is checked
//! once, when it enters Ramp.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The longest name accepted, in characters.
pub const MAX_NAME_LENGTH: usize = 200;

fn is_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.' | ':')
}

fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err("must be at most 200 characters");
    }
    if name.contains(',') {
        return Err("must not contain ','");
    }
    if name.contains('|') {
        return Err("must not contain '|'");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters");
    }
    if !name.chars().all(is_name_character) {
        return Err("may only contain A-Z a-z 0-9 _ - . :");
    }
    // URL paths resolve `.` and `..` away (clients and proxies do it before sending), so
    // `/api/v1/features/..` can never reach a feature of that name.
    if name == "." || name == ".." {
        return Err("must not be . or .. (a URL cannot name it)");
    }
    Ok(())
}

/// A feature's name: 1 to 200 characters from `A-Z a-z 0-9 _ - . :`, never one of the rollout
/// gem's reserved key names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FeatureName(Box<str>);

impl FeatureName {
    /// Checks `name` against the naming rules.
    pub fn new(name: impl Into<String>) -> Result<Self, CoreError> {
        let name = name.into();
        let invalid = |reason| CoreError::InvalidFeatureName {
            name: name.clone(),
            reason,
        };
        check_name(&name).map_err(invalid)?;
        // These collide with the gem's own keys (`feature:__features__`, the history sets).
        if name == "__features__" || name == "_global_" {
            return Err(invalid("is reserved by the rollout gem's storage format"));
        }
        if name.ends_with(":logging:events") {
            return Err(invalid(
                "must not end with ':logging:events' (reserved for history)",
            ));
        }
        Ok(Self(name.into_boxed_str()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A group's name (stored, code-defined or the built-in `all`), with the same character rules as
/// feature names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupName(Box<str>);

impl GroupName {
    /// The name of the built-in group that holds every user.
    pub const ALL: &'static str = "all";

    /// Checks `name` against the naming rules.
    pub fn new(name: impl Into<String>) -> Result<Self, CoreError> {
        let name = name.into();
        check_name(&name).map_err(|reason| CoreError::InvalidGroupName {
            name: name.clone(),
            reason,
        })?;
        Ok(Self(name.into_boxed_str()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the built-in group `all`.
    pub fn is_all(&self) -> bool {
        &*self.0 == Self::ALL
    }
}

macro_rules! string_conversions {
    ($type:ty) => {
        impl TryFrom<String> for $type {
            type Error = CoreError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }
        impl TryFrom<&str> for $type {
            type Error = CoreError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }
        impl std::str::FromStr for $type {
            type Err = CoreError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::new(value)
            }
        }
        impl From<$type> for String {
            fn from(value: $type) -> String {
                value.0.into()
            }
        }
        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::borrow::Borrow<str> for $type {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_conversions;

string_conversions!(FeatureName);
string_conversions!(GroupName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_characters() {
        for name in [
            "chat",
            "new-checkout",
            "a.b:c_d",
            "X",
            "...",
            ".hidden",
            "v1..2",
            &"a".repeat(200),
        ] {
            assert!(FeatureName::new(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_names_that_would_corrupt_storage() {
        for name in [
            "",
            "a,b",
            "a|b",
            "a b",
            "tab\there",
            "new\nline",
            "é",
            "__features__",
            "_global_",
            "chat:logging:events",
            "nul\0",
            ".",
            "..",
            &"a".repeat(201),
        ] {
            assert!(FeatureName::new(name).is_err(), "{name:?} was accepted");
        }
    }

    #[test]
    fn error_names_the_problem() {
        let error = FeatureName::new("a,b").unwrap_err().to_string();
        assert!(error.contains("','"), "{error}");
    }

    #[test]
    fn group_names_follow_the_same_rules_but_all_is_fine() {
        assert!(GroupName::new("all").unwrap().is_all());
        assert!(GroupName::new("beta testers").is_err());
        assert!(GroupName::new("staff,admins").is_err());
        for unreachable in [".", ".."] {
            let error = GroupName::new(unreachable).unwrap_err().to_string();
            assert!(error.contains("URL"), "{error}");
            let error = FeatureName::new(unreachable).unwrap_err().to_string();
            assert!(error.contains("URL"), "{error}");
        }
    }

    #[test]
    fn deserializing_validates() {
        let bad: Result<FeatureName, _> = serde_json::from_str("\"a|b\"");
        assert!(bad.is_err());
        let good: FeatureName = serde_json::from_str("\"chat\"").unwrap();
        assert_eq!(good.as_str(), "chat");
    }
}
