//! A Ramp store that is a Ramp server: [`HttpStore`] implements [`ramp_store::Store`] by
//! calling `ramp serve`'s API under `/api/v1`, so everything built on a store (the library
//! handle, the command line's `ramp --server URL --token T ...`) can act through a server.
//!
//! What differs from a store opened directly, by design of the server:
//!
//! - **The actor is the token.** The server records every change as made by the name of the
//!   token that sent it; `Attribution::actor` is ignored. The comment is sent as the
//!   `X-Ramp-Comment` header (characters an HTTP header cannot carry are escaped as `\u{..}`).
//! - **Writes without an expected version** read the version first (a `HEAD`, which carries the
//!   version in its `ETag` but not the user lists), so that [`ramp_store::Applied::event`] can
//!   say whether the change changed anything; when it did, the event is read back from the
//!   feature's history. Writes with an expected version send it as `If-Match`.
//! - **Credentials are made by the server**, which never accepts a secret's hash: create
//!   tokens with [`HttpStore::create_token`] and web-UI accounts with
//!   [`HttpStore::create_account`]; `Store::create_credential` is refused. Listing gives
//!   tokens and accounts without their hashes; sessions are not reachable at all.
//! - **Stage moves with reasons** go through [`HttpStore::move_stage`], which carries a
//!   graduation reason and a WIP-limit override reason the way the web UI sends them.
//! - **History cannot be copied in** (`import_history` is refused): copy between stores.
//! - **Notices** come from the server's `/api/v1/stream`, read by a task started on the first
//!   [`subscribe`](ramp_store::Store::subscribe); it reconnects with `Last-Event-ID`.
//!
//! Errors keep the server's message. A refused token (401, 403), an unreachable server and a
//! failing server are `StoreError::Unavailable` whose source is an [`HttpError`] saying which.
//!
//! ```no_run
//! # async fn run() -> Result<(), ramp_store::StoreError> {
//! use ramp_store::Store;
//! let store = ramp_store_http::HttpStore::new("http://127.0.0.1:4242", "ramp_0123...")?;
//! store.check().await?;
//! println!("{} features", store.snapshot().await?.features.len());
//! # Ok(())
//! # }
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod accounts;
mod api;
mod code_references;
mod error;
mod feed;
mod groups;
mod health;
mod migration_progress;
mod settings;
mod stages;
mod store;
mod tokens;
mod writes;

pub use error::HttpError;
pub use store::HttpStore;
pub use tokens::CreatedToken;
