//! `StoreError`: every way a store operation can fail, typed so callers can match on it (the CLI
//! picks its message and exit code, the server its HTTP status).

use ramp_core::CoreError;

use crate::CredentialKind;

/// A boxed source error from a backend's driver.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store operation failed. Whatever the variant but `OutcomeUnknown`, nothing already
/// stored was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The feature, group or credential does not exist.
    #[error("{kind} {name:?} not found")]
    NotFound {
        /// `feature`, `group`, `event` or `credential`.
        kind: &'static str,
        /// Its name or id.
        name: String,
    },
    /// A write expected another version (someone else changed it first); version 0 means
    /// "does not exist". Creating a credential that exists is one too: it expected none
    /// (version 0) and found one. So are stored-group writes (see
    /// [`StoreError::group_conflict`]).
    #[error(
        "feature {feature:?} is at version {actual}, not {expected}: it changed since it was read"
    )]
    Conflict {
        /// The feature (for a credential `KIND:NAME`, for a stored group `group:NAME`).
        feature: String,
        /// The version the writer read.
        expected: u64,
        /// The version stored now.
        actual: u64,
    },
    /// The input broke one of the model's rules.
    #[error(transparent)]
    Invalid(#[from] CoreError),
    /// The store could not be reached or did not answer in time. Retrying later may work.
    #[error("{backend} store unavailable: {source}")]
    Unavailable {
        /// Which backend.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: Source,
    },
    /// A write was sent but its answer never came (the store hung, or the connection broke
    /// after the request left): it may or may not have been stored. Read the data again before
    /// retrying; a retry that names the version it read (`If-Match`) is always safe.
    #[error("the {backend} store did not confirm the write, so it may or may not have been stored ({source}); read it again before retrying")]
    OutcomeUnknown {
        /// Which backend.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: Source,
    },
    /// Stored data that cannot be read (a damaged row, an unknown schema version).
    #[error("{backend} store holds unreadable data: {detail}")]
    Corrupt {
        /// Which backend.
        backend: &'static str,
        /// What could not be read.
        detail: String,
    },
    /// A store URL that names no backend or is malformed. Build it with
    /// [`StoreError::invalid_url`], which hides the URL's secrets; the message hides them again
    /// in case a URL was put here whole.
    #[error("invalid store URL {:?}: {reason}", crate::redact_url(url))]
    InvalidUrl {
        /// The URL as given, without its secrets (see [`crate::redact_url`]).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl StoreError {
    /// An `InvalidUrl` for `url`, which is kept only with its secrets replaced by `***`.
    pub fn invalid_url(url: &str, reason: impl Into<String>) -> Self {
        StoreError::InvalidUrl {
            url: crate::redact_url(url),
            reason: reason.into(),
        }
    }

    /// A `NotFound` for a feature.
    pub fn feature_not_found(name: &str) -> Self {
        StoreError::NotFound {
            kind: "feature",
            name: name.to_owned(),
        }
    }

    /// A `NotFound` for a stored group.
    pub fn group_not_found(name: &str) -> Self {
        StoreError::NotFound {
            kind: "group",
            name: name.to_owned(),
        }
    }

    /// A `NotFound` for a credential, named `KIND:NAME`.
    pub fn credential_not_found(kind: CredentialKind, name: &str) -> Self {
        StoreError::NotFound {
            kind: "credential",
            name: format!("{kind}:{name}"),
        }
    }

    /// The `Conflict` for creating a credential that exists: it expected none (version 0)
    /// and found one (version 1). Built in one place so that every store answers alike.
    pub fn credential_exists(kind: CredentialKind, name: &str) -> Self {
        StoreError::Conflict {
            feature: format!("{kind}:{name}"),
            expected: 0,
            actual: 1,
        }
    }

    /// The `Conflict` of a stored-group write that expected version `expected` (0: that
    /// the group does not exist) and found `actual` (0: no group).
    pub fn group_conflict(name: &str, expected: u64, actual: u64) -> Self {
        StoreError::Conflict {
            feature: format!("group:{name}"),
            expected,
            actual,
        }
    }

    /// The `Invalid` (naming `migration`) of a report of one migration more than a feature
    /// may keep ([`ramp_core::MAX_MIGRATIONS_PER_FEATURE`]). Built in one place so that every
    /// store answers alike.
    pub fn too_many_migrations(feature: &str) -> Self {
        StoreError::Invalid(CoreError::InvalidMigrationProgress {
            field: "migration",
            reason: format!(
                "is new, and feature {feature:?} already has the most migrations it may report \
                 ({}): delete a finished one's report first",
                ramp_core::MAX_MIGRATIONS_PER_FEATURE
            ),
        })
    }

    /// The `Conflict` of a lifecycle-settings write that expected version `expected` and found
    /// `actual`, named `settings:lifecycle`.
    pub fn settings_conflict(expected: u64, actual: u64) -> Self {
        StoreError::Conflict {
            feature: "settings:lifecycle".to_owned(),
            expected,
            actual,
        }
    }
}
