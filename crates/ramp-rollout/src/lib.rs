//! The library an application embeds: a handle over any Ramp store with the Ruby `rollout`
//! gem's vocabulary, plus what the gem lacks (exclusions, stages, history and revert,
//! export/import, reasons for every decision).
//!
//! ```
//! use ramp_core::Context;
//! use ramp_rollout::Rollout;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let rollout = Rollout::connect("memory://", "docs").await?;
//! rollout.activate_percentage("chat", 20.0).await?;
//! rollout.activate_user("chat", "1").await?;
//! rollout.define_group("staff", |context: &Context| context.user_id().is_some_and(|id| id.ends_with("@corp.com")));
//! rollout.activate_group("chat", "staff").await?;
//!
//! assert!(rollout.is_active("chat", &Context::user("1")).await?); // listed
//! assert!(rollout.is_active("chat", &Context::user("2")).await?); // in the first 20 %
//! assert!(rollout.is_active("chat", &Context::user("ana@corp.com")).await?); // staff
//! assert!(!rollout.is_active("chat", &Context::anonymous()).await?); // only 100 % is on for nobody
//! assert_eq!(rollout.explain("chat", &Context::user("2")).await?.reason.as_str(), "percentage");
//! # Ok::<(), ramp_rollout::RolloutError>(())
//! # }).unwrap();
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod as_of;
mod copy;
mod error;
mod open;
mod reading;
mod revert;
mod revert_group;
mod rollout;
mod transfer;
mod undone;

pub use as_of::MAX_REPLAYED_EVENTS;
pub use copy::{copy_store, CopyReport, CopyStep};
pub use error::RolloutError;
pub use open::{open_server, open_store, DEFAULT_STORE_URL};
pub use revert::{RevertScope, Reverted};
pub use rollout::Rollout;
pub use transfer::{Export, EXPORT_FORMAT};
pub use undone::{own_comment, undo_link, undone_by, UndoLink};
