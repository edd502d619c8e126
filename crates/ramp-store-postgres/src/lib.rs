//! Ramp's PostgreSQL store: every feature, stored group and history event in one schema of a
//! PostgreSQL database, behaving exactly like `ramp_store::MemoryStore` but shared by any number
//! of processes and surviving them all.
//!
//! - The schema (default `ramp`, or `?schema=NAME`) is created and migrated when the store
//!   opens, under an advisory lock so that processes opening it together do not race; a schema
//!   migrated by a newer Ramp is refused with `StoreError::Corrupt`.
//! - Every write is one transaction that locks the feature's (or stored group's) row, applies
//!   the core's rules, bumps the store version and records history: concurrent writers never
//!   lose updates, and each event starts from the version its write replaced.
//! - A feature's user lists are single text columns: a million ids load and save as one value.
//! - Commits notify `ramp_changes_<schema>`; subscribers hear of every process's writes through
//!   a `LISTEN`ing connection that reconnects by itself.
//! - Connections come from a pool that discards those a server restart broke. When the server
//!   is unreachable, operations fail within seconds with `StoreError::Unavailable`, and work
//!   again by themselves once it is back.
//!
//! The schema's tables (`migrations/V1__initial.sql` says why each looks as it does): `meta`
//! (one row: the store version), `features` (one row per feature, user lists as comma-joined
//! text, data as `jsonb`), `groups` (name, `jsonb` body and version), `history` (`bigint`
//! identity ids; `subject` is `feature` or `group` and the `feature` column holds that
//! feature's or group's name, `migrations/V5__group_history.sql`; indexed by
//! `(subject, feature, id DESC)` for one feature's or group's pages, by actor, by time, and by
//! its primary key for global pages), `credentials`
//! (API credentials, keyed by kind and name, outside the store version;
//! `migrations/V2__credentials.sql`), the exposure counts (`exposure_buckets`,
//! `exposure_batches`, `exposure_applications`, `exposure_totals`, outside the store version;
//! `migrations/V6__exposures.sql`, written by `exposures.rs`), distinct users' daily sketches
//! (`exposure_user_sketches`, keyed by feature, day number and answer, outside the store
//! version; `migrations/V7__user_sketches.sql`, written by `exposures/users.rs`), and
//! `ramp_schema_history` (the migrations applied).
//!
//! This crate never decides what a change means (that is `ramp_core::Change::apply`, through
//! `ramp_store::prepare`), and never blocks an async runtime thread: the driver is asynchronous
//! throughout, and big user lists are decoded on tokio's blocking pool.
//!
//! ```
//! use ramp_store_postgres::PostgresUrl;
//!
//! let url = PostgresUrl::parse("postgres://postgres@127.0.0.1:5432/test?schema=flags")?;
//! assert_eq!(url.schema(), "flags");
//! // let store = ramp_store_postgres::PostgresStore::open(&url).await?;
//! # Ok::<(), ramp_store::StoreError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod code_references;
mod connection;
mod credentials;
mod error;
mod exposures;
mod group_import;
mod groups;
mod history;
mod import;
mod listener;
mod migrate;
mod migration_progress;
mod pipelined;
mod reads;
mod rows;
mod settings;
mod shared;
mod store;
mod store_url;
mod writes;

pub use connection::{CONNECT_TIMEOUT, OPERATION_TIMEOUT, POOL_SIZE};
pub use migrate::{schema_version, MIGRATION_TABLE};
pub use store::PostgresStore;
pub use store_url::{PostgresUrl, DEFAULT_SCHEMA, MAX_SCHEMA_LENGTH, SCHEMES};
