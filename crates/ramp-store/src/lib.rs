//! Where Ramp keeps its data: the `Store` trait every backend implements, the typed
//! `StoreError`, the API credentials every store keeps (`credential`), the in-memory backend,
//! and (feature `conformance`) the suite of tests every backend must pass.
//!
//! Stores never decide what a change means: they call the core's `Change::apply` inside their
//! own atomic read-modify-write, so every backend behaves alike.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod credential;
pub mod daily_users;
mod error;
pub mod exposure;
pub mod import;
pub mod list_column;
mod log_text;
mod memory;
mod memory_exposures;
mod memory_migrations;
mod memory_state;
pub mod prepare;
mod redact;
pub mod settings;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use credential::{Credential, CredentialKind, Role};
pub use error::{Source, StoreError};
pub use log_text::{log_text, LogText, MAX_LOGGED_CHARS};
pub use memory::MemoryStore;
pub use redact::redact_url;
pub use settings::{AppliedSettings, VersionedSettings};
pub use store::{
    Applied, AppliedGroup, ChangeNotice, CodeReferenceSummary, HistoryQuery, ImportSummary,
    ImportedFeature, Store, VersionedGroup,
};
