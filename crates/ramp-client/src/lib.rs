//! Ramp's SDK: applications check features locally, in nanoseconds, from a snapshot that the
//! Ramp server keeps fresh, and keep answering when the server or the store is down.
//!
//! - [`Client::builder`] (server URL, reader token) loads `/api/v1/snapshot`, then follows
//!   `/api/v1/stream`, applying each change locally; a broken stream reconnects with jittered
//!   exponential backoff and resumes from its version, and while it keeps failing the client
//!   polls the snapshot with ETags ([`RefreshPolicy`]).
//! - [`Client::direct`] follows a store (SQLite file, Redis, PostgreSQL) with no server, through
//!   the store's change notices (cargo feature `direct`, on by default).
//! - With a [backup file](ClientBuilder::backup_file), every new snapshot is saved atomically,
//!   and a client that starts while the server is unreachable starts from it
//!   ([`Source::Backup`]). With neither, every feature is inactive and [`Client::is_ready`] is
//!   false: the application runs, it does not fail.
//!
//! Checks ([`Client::is_active`], [`Client::explain`], [`Client::feature_states`],
//! [`Client::active_features`]) read one atomically swapped snapshot: no lock, no I/O, no
//! panic, and `is_active` allocates nothing. Evaluation is `ramp_core`'s, so the client, the
//! server and the Ruby gem agree on every user's bucket.
//!
//! ```no_run
//! use ramp_client::Client;
//! use ramp_core::Context;
//!
//! # async fn run() -> Result<(), ramp_client::ClientError> {
//! let client = Client::connect("http://127.0.0.1:4242", "READER-TOKEN").await?;
//! client.on_change(|change| println!("ramp: {:?} changed", change.features));
//! let user = Context::user("42").with_attribute("plan", "pro");
//! if client.is_active("new-checkout", &user) { /* the new path */ }
//! println!("{}", client.explain("new-checkout", &user).reason);
//! # Ok(())
//! # }
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod backup;
mod client;
mod current;
mod error;
mod exposure;
mod feature_handle;
mod http;
pub mod migration;
mod migration_report;
mod policy;
mod server_sync;
mod stamp;
mod state;
#[cfg(feature = "direct")]
mod store_sync;
mod sync_status;

pub use client::{Client, ClientBuilder};
pub use error::ClientError;
pub use exposure::{ExposureBatch, ExposureClock, ExposureCount, ExposureStatus, ExposureUsers};
pub use feature_handle::FeatureHandle;
pub use policy::RefreshPolicy;
pub use ramp_core::{Context, Decision, Reason, ReasonKind, Stamp};
pub use state::{ChangeEvent, Source};
pub use sync_status::SyncStatus;
