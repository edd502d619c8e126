//! The change stream: what `ramp serve` sends on `/api/v1/stream` and how it is followed.
//!
//! - [`StreamEvent`], the one event type the server sends and every follower reads (`changed`:
//!   the new state of each feature that changed and the names of those deleted; `reload`:
//!   fetch the snapshot again). Each event's SSE id is the version it brings a follower to.
//! - [`SseParser`], Server-Sent Events from bytes, in whatever chunks they arrive.
//! - With the `follow` feature: [`Follower`], which opens the stream, resumes it with
//!   `Last-Event-ID`, and takes a silent connection for a broken one; and [`Backoff`], the
//!   jittered wait between attempts. The SDK (`ramp-client`) and the HTTP store
//!   (`ramp-store-http`) follow the stream with these two.
//!
//! Without `follow` the crate does no I/O, so the server depends on it for the event type alone.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod event;
mod sse;

#[cfg(feature = "follow")]
mod backoff;
#[cfg(feature = "follow")]
mod error;
#[cfg(feature = "follow")]
mod follower;

pub use event::{NamedFeature, StreamEvent, MAX_CHANGED_FEATURES};
pub use sse::{SseEvent, SseParser};

#[cfg(feature = "follow")]
pub use backoff::Backoff;
#[cfg(feature = "follow")]
pub use error::StreamError;
#[cfg(feature = "follow")]
pub use follower::Follower;
