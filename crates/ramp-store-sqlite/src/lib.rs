//! Ramp's embedded default store: every feature, stored group and history event in one SQLite
//! file, behaving exactly like `ramp_store::MemoryStore` but surviving restarts and shared by
//! several processes (a server and the CLI) at once.
//!
//! - The file runs in WAL mode with a busy timeout; every write is one `BEGIN IMMEDIATE`
//!   transaction, so concurrent writers, in this process or others, never lose updates.
//! - The schema is migrated when the store opens; a file from a newer Ramp, or another
//!   program's database, is refused with `StoreError::Corrupt` rather than written to.
//! - A feature's user lists are single text columns: a million ids load and save as one value.
//! - Subscribers hear of this process's commits at once and of other processes' within ~200 ms.
//! - API credentials live in their own table, outside the store version (`credentials`).
//! - Exposure counts too (`exposures`): buckets keyed by time first, so that a batch of many
//!   features writes a few neighbouring pages, merged per call before they are written.
//! - Distinct users as HyperLogLog sketches per feature, day and answer (`user_sketches`),
//!   merged register by register inside one write transaction.
//!
//! This crate never decides what a change means (that is `ramp_core::Change::apply`, through
//! `ramp_store::prepare`), and never blocks an async runtime thread on SQLite.
//!
//! ```
//! use ramp_store_sqlite::SqliteStore;
//!
//! let directory = tempfile::tempdir().expect("a temporary directory");
//! let url = format!("sqlite://{}?randomize=true", directory.path().join("ramp.db").display());
//! let store = SqliteStore::open_url(&url)?;
//! assert!(store.path().ends_with("ramp.db"));
//! # Ok::<(), ramp_store::StoreError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod code_references;
mod connection;
mod credentials;
mod error;
mod exposure_reads;
mod exposures;
mod groups;
mod history;
mod migration_progress;
mod operations;
mod rows;
mod settings;
mod store;
mod store_url;
mod user_sketches;
mod watcher;

pub use connection::{migrate_to_version, BUSY_TIMEOUT, SCHEMA_VERSION};
pub use store::SqliteStore;
pub use store_url::{SqliteUrl, SCHEME};
pub use watcher::POLL_INTERVAL;
