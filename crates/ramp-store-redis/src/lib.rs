//! A Ramp store in Redis, in the Ruby `rollout` gem's exact format, so that Ruby applications
//! using the gem and Rust applications using Ramp share one set of flags and put every user in
//! the same bucket.
//!
//! - Features are the gem's `{prefix}feature:NAME` payload strings and its
//!   `{prefix}feature:__features__` registry, read as leniently as the gem reads them and written
//!   as the gem writes them (see `gem_format` and the README's key layout).
//! - What the gem has no field for (exclusions, stage, times, version) rides in the data JSON
//!   under the reserved key `__ramp`, which the gem keeps on every rewrite; stored groups, the
//!   store version and change detection live under `{prefix}ramp:`, which the gem never reads.
//! - API credentials are one hash, `{prefix}ramp:credentials`, outside the store version.
//! - Exposure counts (per feature, minute, hour and day, with batch ids and last seen per
//!   instance) live under `{prefix}ramp:exposures:`, outside the store version too, and so do
//!   daily distinct-user sketches (`{prefix}ramp:exposures:users:NAME`).
//! - Every write is atomic over all the keys it touches (WATCH on the payload it read, then one
//!   script in MULTI/EXEC), so Ramp writers never lose updates, to each other or to Ruby ones.
//! - History is the gem's logging format (`logging: { global: true }`), so the gem's tools list
//!   Ramp's changes and Ramp lists the gem's. Stored groups' edits, which the gem has no notion
//!   of, are recorded apart in `{prefix}ramp:group-events`, with ids unique across both.
//! - Subscribers hear of this process's changes at once, of other Ramp processes' through Pub/Sub,
//!   and of Ruby applications' within `POLL_INTERVAL`.
//!
//! This crate never decides what a change means (that is `ramp_core::Change::apply`, through
//! `ramp_store::prepare`), and never blocks an async runtime thread: I/O is async with timeouts,
//! and parsing megabytes of user ids moves to tokio's blocking pool.
//!
//! ```
//! use ramp_store_redis::RedisUrl;
//!
//! let url = RedisUrl::parse("redis://127.0.0.1:6379/0?prefix=development:")?;
//! assert_eq!(url.prefix, "development:");
//! # Ok::<(), ramp_store::StoreError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod code_references;
mod credentials;
mod error;
mod events;
mod exposure_records;
mod exposure_scripts;
mod exposures;
pub mod gem_format;
mod group_events;
mod groups;
mod history_copies;
mod history_reads;
mod imports;
mod keys;
mod migration_progress;
mod payload;
mod pool;
mod reads;
mod reason_numbers;
mod reply;
mod scripts;
mod settings;
mod store;
mod store_url;
mod user_sketch_scripts;
mod user_sketches;
mod watcher;
mod writes;

pub use events::{FULL_LIST_LIMIT, UNKNOWN_ACTOR};
pub use pool::{CONNECT_TIMEOUT, RESPONSE_TIMEOUT};
pub use store::RedisStore;
pub use store_url::{RedisUrl, DEFAULT_HISTORY_LIMIT};
pub use watcher::POLL_INTERVAL;
pub use writes::MAX_ATTEMPTS;
