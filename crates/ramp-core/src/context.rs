//! `Context`: who is asking. A user id (optional) plus free-form attributes that stored groups'
//! rules look at.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The evaluation context: the user (if any) and their attributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The user's id; `None` for anonymous checks, which only `100 %` makes active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Attributes such as `plan`, `country`, `email`, `age`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Value>,
}

impl Context {
    /// A context with no user: only features at 100 % are active for it.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A context for one user id and no attributes.
    pub fn user(user_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()),
            attributes: BTreeMap::new(),
        }
    }

    /// Adds an attribute, builder style.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// The user id. Like the gem, an empty string is still a user (its checksum is 0, so it is
    /// in every percentage above 0); only `None` is anonymous.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
}
